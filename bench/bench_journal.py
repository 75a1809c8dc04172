"""The journal of ``make dev``: what persisting every write costs, and how long a restart takes.

1. Cost per write: the same concurrent workload (redirects and pledges over HTTP, one
   write each) against two local stacks started alike, one journaled (the default) and
   one with ``RELAIS_JOURNAL=off`` (plain moto, nothing persisted); rounds alternate so
   that machine noise hits both. The ratio of their times is the journal's cost.
2. Restart with 100,000 events in the data dir (a compacted snapshot plus a journal
   tail, written directly in the journal's format), against a restart of an empty one.
"""
from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from bench.common import environment, report
from dev.processes import ROOT, free_port
from harness.stack_process import LocalStack, start_stack, stop_stack
from harness.user_agents import HUMAN_AGENTS

CLIENTS = 8
ROUND = 320  # requests per round (3 redirects for 1 pledge)
ROUNDS = 4
EVENTS = 100_000
TAIL = 10_000  # of which in the journal's segments, not yet compacted
BROWSER = HUMAN_AGENTS["firefox-linux"]
CAMPAIGN = "BenchRestart"



def _data_dir(label: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"relais-bench-{label}-")) / "data"


class Workload:
    """A campaign with fans on one stack, and rounds of concurrent one-write requests."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        campaign, self.key = stack.create_campaign()
        self.campaign_id = campaign["id"]
        self.codes = [stack.new_fan(self.campaign_id, f"Fan {n}")["code"] for n in range(CLIENTS)]

    def round(self) -> float:
        """Seconds for ``ROUND`` requests from ``CLIENTS`` concurrent clients."""
        def client(index: int) -> None:
            session = requests.Session()
            for n in range(ROUND // CLIENTS):
                if n % 4 == 3:
                    response = session.post(
                        f"{self.stack.api}/v1/campaigns/{self.campaign_id}/pledges",
                        json={"pledge_id": uuid.uuid4().hex, "amount": 500, "currency": "EUR"},
                        headers={"Authorization": f"Bearer {self.key}"}, timeout=30)
                    assert response.status_code == 201, response.text
                else:
                    response = session.get(f"{self.stack.api}/r/{self.codes[index]}?c=x",
                                           headers={"User-Agent": f"{BROWSER} c{index}-{n}"},
                                           allow_redirects=False, timeout=30)
                    assert response.status_code == 302, response.status_code

        started = time.perf_counter()
        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(client, range(CLIENTS)))
        return time.perf_counter() - started


def write_cost() -> None:
    journaled = start_stack(_data_dir("journaled"), poller="on")
    try:
        with environment(RELAIS_JOURNAL="off"):
            plain = start_stack(_data_dir("plain"), poller="on")
        try:
            loads = {"journal": Workload(journaled), "plain": Workload(plain)}
            for load in loads.values():
                load.round()  # warm caches and connections
            times: dict[str, list[float]] = {name: [] for name in loads}
            cpu = {name: -_cpu_total(load.stack) for name, load in loads.items()}
            for _ in range(ROUNDS):
                for name, load in loads.items():
                    time.sleep(1.0)  # let the previous round's aggregation settle
                    times[name].append(load.round())
            time.sleep(2.0)
            cpu = {name: used + _cpu_total(loads[name].stack) for name, used in cpu.items()}
        finally:
            stop_stack(plain)
    finally:
        stop_stack(journaled)
    journal, baseline = statistics.median(times["journal"]), statistics.median(times["plain"])
    writes = ROUNDS * ROUND
    report(f"Journaled stack: {CLIENTS} clients, writes per second",
           f"{ROUND / journal:.0f} /s vs {ROUND / baseline:.0f} /s")
    report("Journal cost per write: journaled ÷ RELAIS_JOURNAL=off", f"{journal / baseline:.2f}", "target: <= 1.3")
    report("  CPU per write, every process of the stack (counting included)",
           f"{cpu['journal'] / writes * 1000:.1f} ms vs {cpu['plain'] / writes * 1000:.1f} ms")


def _cpu_total(stack: LocalStack) -> float:
    return sum(_cpu_seconds(stack.process.pid).values())


def _event(n: int, campaign: str) -> tuple[dict, dict]:
    day, code = f"2026-11-{1 + n % 28:02d}", f"code{n % 500:04d}"
    key = {"pk": {"S": f"{campaign}#{n % 16:02d}"}, "sk": {"S": f"v#{day}#{code}#x#{n:012x}"}}
    return key, {**key, "kind": {"S": "visit"}, "campaign_id": {"S": campaign}, "code": {"S": code},
                 "channel": {"S": "x"}, "day": {"S": day}, "hits": {"N": "1"},
                 "agent": {"S": BROWSER}, "token": {"S": f"{n:032x}"}, "expires_at": {"N": "1900000000"}}


def _fill(data_dir: Path, events: int, tail: int) -> str:
    """A data dir holding ``events`` events as a restart finds it: a snapshot, then ``tail``
    journaled changes, every one already consumed by the stream feeder."""
    from chalicelib.core import config
    from dev import journal

    table = config.table_name("events")
    directory = journal.private_directory(data_dir / "journal")
    journal.write_snapshot(directory, events - tail, [], (
        (table, *_event(n, CAMPAIGN)) for n in range(events - tail)))
    log = journal.Journal(directory, events - tail + 1)
    for start in range(events - tail, events, 25):
        changes = []
        for n in range(start, min(events, start + 25)):
            key, item = _event(n, CAMPAIGN)
            changes.append({"table": table, "key": key, "new": item, "old": None})
        log.append(changes)
    log.close()
    journal.write_position(directory, "aggregator", events)
    return table


def _all_there(stack: LocalStack, table: str) -> bool:
    """Every 1,000th event (snapshot and journal tail alike) is back, through the stack's endpoint."""
    from dev.local_dynamodb import LocalDynamoDB

    db = LocalDynamoDB(stack.dynamodb, "us-east-1")
    try:
        return all(db.checked("GetItem", {"TableName": table, "Key": _event(n, CAMPAIGN)[0]}).get("Item")
                   == _event(n, CAMPAIGN)[1] for n in [*range(0, EVENTS, 1000), EVENTS - 1])
    finally:
        db.close()


def _cpu_seconds(root: int) -> dict[str, float]:
    """CPU seconds used so far by a stack (``stack``), its moto (``moto``) and its other children."""
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    used: dict[str, float] = {}
    todo = [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        name = "stack" if pid == root else "moto" if b"moto.server" in command else "other"
        used[name] = used.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return used


def _timed_start(data_dir: Path, timeout: float = 300) -> tuple[LocalStack, float]:
    """Start a stack as ``harness.stack_process.start_stack`` does, but wait up to ``timeout`` s
    (a slow restart is a figure to report, not an error); returns it and its start time."""
    ports = {"RELAIS_PORT": free_port(), "RELAIS_DEMO_PORT": free_port(), "RELAIS_DYNAMODB_PORT": free_port()}
    env = {**os.environ, **{name: str(port) for name, port in ports.items()},
           "RELAIS_DATA_DIR": str(data_dir), "RELAIS_POLLER": "on"}
    for name in ("RELAIS_PUBLIC_URL", "RELAIS_ADMIN_TOKEN", "RELAIS_SECRET"):
        env.pop(name, None)
    api = f"http://127.0.0.1:{ports['RELAIS_PORT']}"
    started = time.monotonic()
    with open(data_dir.parent / f"{data_dir.name}-stack.log", "ab") as log:
        process = subprocess.Popen([sys.executable, "-m", "dev.local_stack"], cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
    while True:
        try:
            if requests.get(f"{api}/healthz", timeout=1).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        if process.poll() is not None or time.monotonic() - started > timeout:
            process.kill()
            raise RuntimeError(f"the stack did not come up; see {data_dir.parent}")
        time.sleep(0.2)
    elapsed = time.monotonic() - started
    return LocalStack(api=api, demo=f"http://127.0.0.1:{ports['RELAIS_DEMO_PORT']}",
                      dynamodb=f"http://127.0.0.1:{ports['RELAIS_DYNAMODB_PORT']}",
                      admin_token=(data_dir / "admin-token").read_text().strip(), data_dir=data_dir,
                      process=process), elapsed


def restart_time() -> None:
    empty = _data_dir("empty")
    empty.mkdir(parents=True)
    stop_stack(start_stack(empty, poller="on"))  # a data dir that has run once
    stack, baseline = _timed_start(empty)
    stop_stack(stack)

    full = _data_dir("restart")
    full.mkdir(parents=True)
    started = time.monotonic()
    table = _fill(full, EVENTS, TAIL)
    written = time.monotonic() - started
    stack, restart = _timed_start(full)
    try:
        cpu = _cpu_seconds(stack.process.pid)  # what the restart cost, however busy the machine was
        assert _all_there(stack, table), "the restarted stack lost events"
    finally:
        stop_stack(stack)
    log = (full.parent / f"{full.name}-stack.log").read_text()
    recovered = re.search(r"restored (\d+) items .* in ([\d.]+) s", log)
    report(f"Data dir with {EVENTS:,} events written (snapshot + {TAIL:,} journaled)", f"{written:.1f} s")
    report(f"Restart with {EVENTS:,} events, until the API answers", f"{restart:.1f} s vs {baseline:.1f} s empty",
           "target: <= 60 s on 2 cores")
    if recovered:
        report("  of which recovery (snapshot + journal into moto)",
               f"{recovered[2]} s for {int(recovered[1]):,} items")
    report("  CPU time it took: moto | the stack | chalice and the demo page",
           " | ".join(f"{cpu.get(name, 0.0):.1f} s" for name in ("moto", "stack", "other")))


def run() -> None:
    write_cost()
    restart_time()
