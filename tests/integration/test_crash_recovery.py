"""A power cut of the whole local stack under load loses nothing it acknowledged.

Fans click their short links and a creator's server records pledges against the real
stack (``make dev``, its own stream feeder on, small journal segments so that compaction
runs during the load); then every process of the stack is frozen and killed with
SIGKILL, the stack is started again on the same data dir, and the figures it serves
must hold exactly what was acknowledged. Only the HTTP contract is used.

A request in flight at the kill has no known outcome. A pledge's is settled the way a
creator's server would settle it: by sending it again after the restart (same
``pledge_id``: 201 if it was lost, 200 if it had landed). A click cannot be sent again
without being a new click, so each fan clicks its own link, one request at a time: its
link's count tells whether its one unanswered click landed (at most once).
"""
from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

from harness.stack_process import LocalStack, recount, start_stack, stop_stack
from harness.user_agents import HUMAN_AGENTS

FANS = 4
PLEDGERS = 2
LOAD_SECONDS = 4.0
MAX_REQUESTS = 400  # per client: the load is bounded in count as well as in time
BROWSER = HUMAN_AGENTS["firefox-linux"]


@dataclass
class Client:
    """One sequential client: what was acknowledged, and the request the kill cut off."""

    acknowledged: int = 0
    amounts: int = 0
    unanswered: dict | None = None
    refused: list[int] = field(default_factory=list)


def _process_tree(root: int) -> list[int]:
    """``root`` and every process below it (the stack starts its children in their own sessions)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            children.setdefault(int(stat.rpartition(")")[2].split()[1]), []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def power_cut(stack: LocalStack) -> int:
    """Freeze every process of the stack, then SIGKILL them all; returns how many there were.

    Frozen first, so that no child sees its parent die (and no child is born unseen: the
    tree is listed again until it holds no process that is not frozen)."""
    pids: list[int] = []
    while fresh := [pid for pid in _process_tree(stack.process.pid) if pid not in pids]:
        for pid in fresh:
            with contextlib.suppress(ProcessLookupError):  # a short-lived child (a compaction) just ended
                os.kill(pid, signal.SIGSTOP)
        pids += fresh
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    stack.process.wait(10)
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in pids):
        assert time.monotonic() < deadline, "a process of the stack survived SIGKILL"
        time.sleep(0.05)
    return len(pids)


def clicker(stack: LocalStack, code: str, agent: str, client: Client, stop: threading.Event) -> None:
    for _ in range(MAX_REQUESTS):
        if stop.is_set():
            return
        try:
            response = requests.get(f"{stack.api}/r/{code}?c=whatsapp", headers={"User-Agent": agent},
                                    allow_redirects=False, timeout=10)
        except requests.RequestException:
            client.unanswered = {"code": code}
            return
        if response.status_code == 302:
            client.acknowledged += 1
        else:
            client.refused.append(response.status_code)


def pledger(stack: LocalStack, campaign_id: str, key: str, name: str, code: str, client: Client,
            stop: threading.Event) -> None:
    for n in range(MAX_REQUESTS):
        if stop.is_set():
            return
        pledge = {"pledge_id": f"{name}-{n}", "amount": 100 + n, "currency": "EUR"}
        if n % 2:
            pledge["ref"] = code  # a malformed ref makes a direct pledge: both paths are exercised
        try:
            response = requests.post(f"{stack.api}/v1/campaigns/{campaign_id}/pledges", json=pledge,
                                     headers={"Authorization": f"Bearer {key}"}, timeout=10)
        except requests.RequestException:
            client.unanswered = pledge
            return
        if response.status_code == 201:  # every pledge id is new: a 200 would be a wrong answer
            client.acknowledged += 1
            client.amounts += pledge["amount"]
        else:
            client.refused.append(response.status_code)


def settled_figures(stack: LocalStack, campaign_id: str, key: str, codes: list[str], pledges: int,
                    timeout: float = 45) -> tuple[dict, list[int]]:
    """The campaign's totals and each fan's clicks, once the feeder caught up and they hold still."""
    previous = None
    deadline = time.monotonic() + timeout
    while True:
        totals = requests.get(f"{stack.api}/v1/campaigns/{campaign_id}/stats",
                              headers={"Authorization": f"Bearer {key}"}, timeout=10).json()["totals"]
        clicks = [requests.get(f"{stack.api}/v1/referrers/{code}", timeout=10).json()["clicks"] for code in codes]
        current = (totals["clicks"], totals["pledges"], clicks)
        if current == previous and totals["pledges"] >= pledges and totals["clicks"] == sum(clicks):
            return totals, clicks
        if time.monotonic() > deadline:
            return totals, clicks
        previous = current
        time.sleep(1.0)


def test_a_sigkill_of_the_whole_stack_under_load_loses_no_acknowledged_click_or_pledge(tmp_path, monkeypatch):
    monkeypatch.setenv("RELAIS_JOURNAL_SEGMENT_BYTES", str(16 << 10))  # rotate and compact during the load
    monkeypatch.setenv("RELAIS_JOURNAL_COMPACT_BYTES", str(32 << 10))
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    first = start_stack(data_dir, poller="on")
    try:
        campaign, key = first.create_campaign(goal={"amount": 1_000_000, "currency": "EUR"})
        codes = [first.new_fan(campaign["id"], f"Fan {n}")["code"] for n in range(FANS)]
        fans, servers = [Client() for _ in codes], [Client() for _ in range(PLEDGERS)]
        stop = threading.Event()
        threads = [threading.Thread(target=clicker, args=(first, code, f"{BROWSER} fan-{n}", fans[n], stop))
                   for n, code in enumerate(codes)]
        threads += [threading.Thread(target=pledger, args=(first, campaign["id"], key, f"server{n}", codes[n],
                                                           servers[n], stop)) for n in range(PLEDGERS)]
        for thread in threads:
            thread.start()
        time.sleep(LOAD_SECONDS)
        killed = power_cut(first)  # mid-load: every client has a request in flight or about to be
        stop.set()
        for thread in threads:
            thread.join(30)
    except BaseException:
        if first.process.poll() is None:
            power_cut(first)
        raise
    assert killed >= 4  # the stack, moto, chalice local, the demo page
    assert not [c.refused for c in fans + servers if c.refused]
    acknowledged_clicks = sum(fan.acknowledged for fan in fans)
    assert acknowledged_clicks > 20 and sum(s.acknowledged for s in servers) > 5, "the load did not run"

    second = start_stack(data_dir, poller="on")
    try:
        for server in servers:  # settle the pledges the kill left without an answer
            if server.unanswered is not None:
                response = requests.post(f"{second.api}/v1/campaigns/{campaign['id']}/pledges",
                                         json=server.unanswered, headers={"Authorization": f"Bearer {key}"},
                                         timeout=10)
                # The kill decided whether the first attempt landed, which no route can tell
                # apart: landed, this retry is an exact replay (200); not landed, it creates
                # the pledge (201). Either way the figures below must count it exactly once.
                assert response.status_code in (200, 201), response.text
                server.acknowledged += 1
                server.amounts += server.unanswered["amount"]
        pledges = sum(server.acknowledged for server in servers)
        amount = sum(server.amounts for server in servers)
        totals, clicks = settled_figures(second, campaign["id"], key, codes, pledges)
    finally:
        stop_stack(second)
    log = (data_dir.parent / f"{data_dir.name}-stack.log").read_text()
    print(f"\nacknowledged before the kill: {acknowledged_clicks} clicks, "
          f"{pledges - sum(s.unanswered is not None for s in servers)} pledges; "
          f"unanswered: {sum(f.unanswered is not None for f in fans)} clicks, "
          f"{sum(s.unanswered is not None for s in servers)} pledges; counted after the restart: "
          f"{totals['clicks']} clicks, {totals['pledges']} pledges; "
          f"compactions: {log.count('journal compacted')}")
    for fan, counted in zip(fans, clicks, strict=True):
        landed = counted - fan.acknowledged
        assert landed in ((0, 1) if fan.unanswered else (0,)), (fan, counted)
    landed_unanswered = sum(counted - fan.acknowledged for fan, counted in zip(fans, clicks, strict=True))
    assert totals["clicks"] == acknowledged_clicks + landed_unanswered
    assert totals["unique_clicks"] == FANS
    assert totals["pledges"] == pledges
    assert totals["amount"] == {"EUR": amount}
    assert "STREAM BATCH SKIPPED" not in log


IMPORTED = 300  # pledges: three chunks of the importer's 100, time to kill it between two


def _job(stack: LocalStack, campaign_id: str, key: str, job: str) -> dict:
    response = requests.get(f"{stack.api}/v1/campaigns/{campaign_id}/imports/{job}",
                            headers={"Authorization": f"Bearer {key}"}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def _start_import(stack: LocalStack, campaign_id: str, key: str, body: bytes) -> str:
    response = requests.post(f"{stack.api}/v1/campaigns/{campaign_id}/imports", params={"kind": "pledges"}, data=body,
                             headers={"Authorization": f"Bearer {key}", "Content-Type": "text/csv"}, timeout=30)
    assert response.status_code == 202, response.text
    return response.json()["import"]


def _until_over(stack: LocalStack, campaign_id: str, key: str, job: str, timeout: float) -> dict:
    """The job once the stack's importer is done with it (done or failed), or as it stands
    after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while (state := _job(stack, campaign_id, key, job))["status"] not in ("done", "failed") and \
            time.monotonic() < deadline:
        time.sleep(0.2)
    return state


def _stats(stack: LocalStack, campaign_id: str, key: str, pledges: int, timeout: float = 45) -> dict:
    """The campaign's stats once the stack's stream feeder has counted ``pledges`` pledges
    on every item: the total, and the fans' and direct items (a batch writes them one after
    another, so a read between two sees the total ahead)."""
    deadline = time.monotonic() + timeout
    while True:
        response = requests.get(f"{stack.api}/v1/campaigns/{campaign_id}/stats",
                                headers={"Authorization": f"Bearer {key}"}, timeout=10)
        assert response.status_code == 200, response.text
        figures = response.json()
        spread = sum(row["pledges"] for row in figures["referrers"]) + figures["direct"]["pledges"]
        if figures["totals"]["pledges"] >= pledges == spread or time.monotonic() > deadline:
            return figures
        time.sleep(0.2)


def test_a_sigkill_mid_import_fails_the_job_whose_file_was_lost_and_the_file_sent_again_counts_exactly(tmp_path):
    """The stack's importer is killed with the whole stack between two chunks of a pledges
    import. The local S3 server keeps files in memory: after the restart the job, put back on
    the queue, finds its file gone and fails (``file_missing``), as one would whose file
    expired. The creator sends the file again: the pledges the killed import stored are
    unchanged, the others applied, every fan's figures exactly the file's, and ``make
    recount`` finds nothing to correct."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    first = start_stack(data_dir, poller="on")
    try:
        campaign, key = first.create_campaign(platform={"name": "ulule", "tag_param": "utm_source"},
                                              goal={"amount": 10_000_000, "currency": "EUR"})
        cid = campaign["id"]
        fans = [first.new_fan(cid, f"Fan {n}") for n in range(3)]
        day = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
        rows = [(f"ul-{i}", 1000 + i, "refunded" if i % 50 == 7 else "confirmed", ([*fans, None])[i % 4])
                for i in range(IMPORTED)]
        body = ("pledge_id,amount,currency,status,occurred_at,tag\n" + "".join(
            f"{pid},{amount},EUR,{status},{day}T10:00:00Z,{fan['platform_tag'] if fan else ''}\n"
            for pid, amount, status, fan in rows)).encode()
        job = _start_import(first, cid, key, body)
        deadline = time.monotonic() + 60
        while not ((cut := _job(first, cid, key, job))["status"] == "running" and 0 < cut["rows_done"] < IMPORTED):
            assert cut["status"] in ("queued", "running"), f"the import ended before it could be killed: {cut}"
            assert time.monotonic() < deadline, cut
            time.sleep(0.02)
        power_cut(first)
    except BaseException:
        if first.process.poll() is None:
            power_cut(first)
        raise

    second = start_stack(data_dir, poller="on")
    try:
        again = _until_over(second, cid, key, _start_import(second, cid, key, body), timeout=90)
        crashed = _until_over(second, cid, key, job, timeout=10)  # its message was put back before the new one
        confirmed = [(amount, fan) for _, amount, status, fan in rows if status == "confirmed"]
        figures = _stats(second, cid, key, len(confirmed))
        recounted = recount(second, cid)
        after = _stats(second, cid, key, len(confirmed))
    finally:
        stop_stack(second)
    print(f"\nkilled at {cut['rows_done']} of {IMPORTED} rows; sent again: {again['applied']} applied, "
          f"{again['unchanged']} unchanged")
    assert (again["status"], again["rows_done"], again["errors_count"]) == ("done", IMPORTED, 0)
    assert again["applied"] + again["unchanged"] == IMPORTED
    assert again["unchanged"] >= cut["rows_done"]  # the chunks recorded before the kill were stored, once
    assert (figures["totals"]["pledges"], figures["totals"]["amount"]) == \
        (len(confirmed), {"EUR": sum(amount for amount, _ in confirmed)})
    assert figures["totals"]["reported"] == {"pledges": len(confirmed),
                                             "amount": {"EUR": sum(amount for amount, _ in confirmed)}}
    by_code = {row["code"]: (row["pledges"], row["amount"]) for row in figures["referrers"]}
    for fan in fans:
        own = [amount for amount, owner in confirmed if owner is fan]
        assert by_code[fan["code"]] == (len(own), {"EUR": sum(own)})
    direct = [amount for amount, owner in confirmed if owner is None]
    assert figures["direct"] == {"pledges": len(direct), "amount": {"EUR": sum(direct)}}
    assert recounted.returncode == 0, recounted.stdout + recounted.stderr
    assert "0 counters differ" in recounted.stdout and "nothing to correct." in recounted.stdout, recounted.stdout
    assert after == figures
    assert (crashed["status"], [error["code"] for error in crashed["errors"]]) == ("failed", ["file_missing"])
