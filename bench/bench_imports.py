"""Imports of platforms' exports (``chalicelib.domain.imports``): what a 100,000-row pledges
file and 20,000 tag totals cost, and how long they would take on AWS.

On a local server of its own (:mod:`dev.indexed_moto`: ``make dev``'s moto, its S3 on the
same port, a Query reading its own partition only), the importer runs in this process
(``imports.run``), its DynamoDB calls through the metered proxy (:func:`bench.proxied.metered`:
calls, read units, write units as DynamoDB bills them):

1. a 100,000-row ``pledges`` file in the generic columns, about half its rows carrying the
   platform tag of one of 200 fans (signed up through the API, their tags from its
   answers), PUT to a presigned upload URL and imported; then uploaded and imported again
   (every row unchanged);
2. a dry run of a 20,000-row file whose every fifth row is an error: what the row errors
   cost (the first 1,000 kept, in items of their own beside the job's) and the job's
   progress writes once it has kept them;
3. 20,000 ``tag_totals`` rows, one per fan: first import, the same file again, then one
   with a tenth of the tags changed. One fan is made by ``domain.links`` and
   ``store.tag_registry``; the others are copies of its two links-table items (the link
   and its tag's: new code, name, token and tag), written in batches: signing 20,000 fans
   up one request at a time would take longer here than the whole benchmark. Their
   new-referrer facts (events the aggregator counts, which no import reads) are left out;
4. the projection for AWS: the first import's calls, one after another, at DynamoDB's
   documented per-call latency, against the importer function's 15 minutes.

The events table's stream is off here (moto keeps every record in memory; DynamoDB bills
no unit for a stream): the aggregator's counting of what an import writes is not measured.
``RELAIS_BENCH_IMPORT_ROWS`` and ``RELAIS_BENCH_IMPORT_TAGS`` shrink the files for a quick look.
"""
from __future__ import annotations

import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from bench.common import BENCH_ENV, environment, report
from bench.lambda_events import FakeContext, api_event
from bench.proxied import WRITE_UNIT_BYTES, metered
from dev.processes import free_port, spawn, wait_http

ROWS = int(os.environ.get("RELAIS_BENCH_IMPORT_ROWS", "100000"))
FANS = 200
TAGGED = 0.5  # of the pledge rows: carrying a fan's platform tag
ERROR_ROWS = 20_000
ERROR_EVERY = 5
TAGS = int(os.environ.get("RELAIS_BENCH_IMPORT_TAGS", "20000"))
CHANGED = 0.10  # of the tags, in the corrected tag_totals file
BUCKET = "relais-bench-imports"
PREFIX = "bench-imports-"
ULULE = {"name": "ulule", "tag_param": "utm_source"}
MS_PER_CALL = (5, 10)
"""DynamoDB's latency per call: "single-digit millisecond performance at any scale" (AWS,
"What is Amazon DynamoDB?", https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Introduction.html).
10 ms is the most that allows; 5 ms is what ``bench_viral`` and the runbook assume."""
LAMBDA_SECONDS = 900
"""``infra.stack.IMPORTER_TIMEOUT_SECONDS`` (Lambda's longest; the bench does not import the CDK)."""
WRITE_GOAL_NEW, WRITE_GOAL_UNCHANGED = 1.1, 0.05


@dataclass(frozen=True)
class Run:
    """One importer run of one job to its end, as the metered proxy saw it."""

    rows: int
    seconds: float
    cpu_seconds: float  # the importer's own thread: reading the file, botocore, the import's Python
    write_units: int
    write_units_by: Counter
    read_units: float
    calls: Counter
    job: dict

    @property
    def chunks(self) -> int:
        from chalicelib.domain import imports

        return math.ceil(self.rows / imports.CHUNK)

    def calls_per_chunk(self) -> float:
        return sum(self.calls.values()) / self.chunks

    def seconds_at(self, ms_per_call: float) -> float:
        """This run with every DynamoDB call taking ``ms_per_call``, plus its own CPU as measured here."""
        return sum(self.calls.values()) * ms_per_call / 1000 + self.cpu_seconds



@contextmanager
def _server() -> Iterator[str]:
    """The benchmark's own local server, its tables (the events stream off) and bucket; yields its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = Path(tempfile.mkdtemp(prefix="relais-bench-imports-")) / "moto.log"
    server = spawn([sys.executable, "-m", "dev.indexed_moto", "-p", str(port)], {**os.environ, **BENCH_ENV},
                   own_session=True, log_file=log)
    try:
        wait_http(f"{url}/moto-api/")
        with environment(**{**BENCH_ENV, "RELAIS_DYNAMODB_ENDPOINT": url, "RELAIS_S3_ENDPOINT": url,
                           "RELAIS_IMPORT_BUCKET": BUCKET, "RELAIS_TABLE_PREFIX": PREFIX,
                           "RELAIS_FAN_CEILING": f"{FANS * 10}/60"}):
            from chalicelib.store import clients, tables
            from dev.local_dynamodb import LocalDynamoDB

            tables.create_tables()
            local = LocalDynamoDB(url, BENCH_ENV["AWS_DEFAULT_REGION"])
            local.drop_stream(clients.table("events"))
            local.close()
            clients.s3().create_bucket(Bucket=BUCKET)
            yield url
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:  # 100,000 pledges in memory can be slow to go
            server.kill()
            server.wait(10)


def _campaign(name: str) -> Any:
    from chalicelib.domain import campaigns

    campaign, _ = campaigns.create({"name": name, "target_url": "https://example.org/", "platform": ULULE,
                                    "goal": {"amount": 10_000_000, "currency": "EUR"}})
    return campaign


def _api_fans(campaign: Any, count: int) -> list[str]:
    """``count`` fans signing up through the API; their tags, as its answers give them, issued
    as the aggregator issues a new fan's (``store.tag_registry.issue``: the stream is off)."""
    from app import app
    from chalicelib.core.clock import utc_now
    from chalicelib.store import tag_registry

    tags = []
    for n in range(count):
        event = api_event("POST", "/v1/campaigns/{campaign_id}/referrers", {"campaign_id": campaign.id},
                          json.dumps({"name": f"Fan {n}"}), {"host": "127.0.0.1"})
        event["requestContext"]["identity"]["sourceIp"] = f"198.51.{n // 250}.{n % 250 + 1}"
        answer = app(event, FakeContext())
        assert answer["statusCode"] == 201, answer["body"]
        fan = json.loads(answer["body"])
        assert tag_registry.issue(campaign.id, fan["code"], {None: fan["platform_tag"]}, utc_now())
        tags.append(fan["platform_tag"])
    return tags


def _copied_fans(campaign: Any, url: str, count: int) -> list[str]:
    """``count`` fans' tags: one fan made as the API and the aggregator make one, the others
    copies of its link and tag items, written in batches."""
    from chalicelib.core import ids
    from chalicelib.core.clock import utc_now
    from chalicelib.domain import links
    from chalicelib.hotpath import platform_tags
    from chalicelib.store import clients, events_table, keys, tag_registry
    from dev.local_dynamodb import LocalDynamoDB

    first = links.create(campaign, links.parse({"name": "Fan 0"}))
    wanted = platform_tags.tags_of(first.code, campaign.platform.tag_per, list(campaign.channels))
    assert list(wanted) == [None], "one tag per fan (tag_per fan)"
    assert tag_registry.issue(campaign.id, first.code, wanted, utc_now())
    table = clients.table("links")
    local = LocalDynamoDB(url, BENCH_ENV["AWS_DEFAULT_REGION"])

    def stored(key: str) -> dict:
        request = {"TableName": table, "Key": {"code": {"S": key}}, "ConsistentRead": True}
        return local.checked("GetItem", request)["Item"]

    link_item, tag_item = stored(first.code), stored(keys.platform_tag_key(campaign.id, wanted[None]))
    assert link_item["platform_tags"] == {"SS": [wanted[None]]} and tag_item["target"] == {"S": first.code}
    tags, items = [wanted[None]], []
    for n in range(1, count):
        code = ids.link_code()
        tag = platform_tags.tag(code)
        assert tag is not None
        items.append((table, {**link_item, "code": {"S": code}, "name": {"S": f"Fan {n}"},
                              "rq": {"S": events_table.new_token()}, "platform_tags": {"SS": [tag]}}))
        items.append((table, {**tag_item, "code": {"S": keys.platform_tag_key(campaign.id, tag)},
                              "target": {"S": code}}))
        tags.append(tag)
    local.put_all(items)
    local.close()
    return tags


def _pledges_file(tags: list[str], rows: int, error_every: int = 0, prefix: str = "kb") -> bytes:
    """Generic pledge columns, amounts in minor units, made in the last 60 days."""
    rng = random.Random(24)
    now = datetime.now(UTC).replace(microsecond=0)
    lines = ["pledge_id,amount,currency,status,occurred_at,tag"]
    for n in range(rows):
        tag = rng.choice(tags) if rng.random() < TAGGED else ""
        moment = (now - timedelta(seconds=rng.randrange(60, 60 * 86400))).isoformat().replace("+00:00", "Z")
        amount = -rng.randrange(100, 9000) if error_every and n % error_every == 0 else rng.randrange(100, 50_000)
        lines.append(f"{prefix}-{n:06d},{amount},EUR,confirmed,{moment},{tag}")
    return ("\n".join(lines) + "\n").encode()


def _totals_file(tags: list[str], changed: float = 0.0) -> bytes:
    """Generic tag_totals columns: each tag's pledges and amount; ``changed`` of them one pledge more."""
    rng = random.Random(7)
    lines = ["tag,pledges,amount,currency"]
    for n, tag in enumerate(tags):
        pledges, more = 1 + n % 9, 1 if rng.random() < changed else 0
        lines.append(f"{tag},{pledges + more},{pledges * 2500 + more * 1500},EUR")
    return ("\n".join(lines) + "\n").encode()


def _upload(campaign: Any, data: bytes) -> str:
    """The file PUT to a presigned upload URL, as a creator's browser does; its upload id."""
    from chalicelib.domain import imports

    upload = imports.new_upload(campaign)
    answer = requests.put(upload["url"], data=data, headers={"Content-Type": "text/csv"}, timeout=120)
    assert answer.status_code == 200, answer.text[:300]
    return upload["upload"]


def _figures(job: dict) -> dict:
    return {name: job[name] for name in ("status", "rows", "rows_done", "applied", "unchanged", "errors_count")}


def _run(url: str, campaign: Any, query: dict[str, str], body: bytes | None) -> Run:
    """Start the job (not metered: the API's part), then run the importer on it to its end."""
    from chalicelib.domain import imports

    with metered(url) as proxy:
        job = imports.start(campaign, query, body)["import"]
        proxy.reset()
        started, cpu = time.perf_counter(), time.thread_time()
        assert imports.run(campaign.id, job) is True
        seconds, cpu = time.perf_counter() - started, time.thread_time() - cpu
        measured = (proxy.write_units, Counter(proxy.write_units_by), proxy.read_units, Counter(proxy.calls))
    status = imports.status(campaign, job)
    assert status["status"] == "done", _figures(status)
    return Run(status["rows"], seconds, cpu, *measured, status)


def _per_row(run: Run, units: float) -> str:
    return f"{units / run.rows:.3f}"


def _writes_by(run: Run) -> str:
    """Write units per row by the call and table that spent them (``refused``: a condition failed)."""
    parts = [f"{operation} {tables.removeprefix(PREFIX)}{' refused' if refused else ''} {_per_row(run, units)}"
             for (operation, tables, refused), units in run.write_units_by.most_common()]
    return "; ".join(parts) or "none"


def _calls(run: Run) -> str:
    return ", ".join(f"{operation} {count / run.chunks:.1f}" for operation, count in run.calls.most_common())


def _report(label: str, run: Run, write_goal: float | None = None) -> None:
    took = f"{run.seconds:,.0f} s" if run.seconds < 120 else f"{run.seconds / 60:,.1f} min"
    report(f"{label}: rows/s (moto)", f"{run.rows / run.seconds:,.0f}",
           f"{run.rows:,} rows in {took}, {run.seconds * 1000 / sum(run.calls.values()):.1f} ms per call")
    report("  DynamoDB write units per row", _per_row(run, run.write_units),
           f"goal: <= {write_goal}" if write_goal is not None else "")
    report("    spent by", "", _writes_by(run))
    report("  DynamoDB read units per row", _per_row(run, run.read_units),
           f"{run.calls_per_chunk():.1f} calls per chunk: {_calls(run)}")


def _job_item_bytes(campaign_id: str, job_id: str, url: str) -> int:
    from chalicelib.store import clients, keys
    from dev.dynamodb_proxy import item_size
    from dev.local_dynamodb import LocalDynamoDB

    local = LocalDynamoDB(url, BENCH_ENV["AWS_DEFAULT_REGION"])
    item = local.checked("GetItem", {"TableName": clients.table("rollups"), "ConsistentRead": True, "Key": {
        "pk": {"S": keys.imports_pk(campaign_id)}, "sk": {"S": job_id}}})["Item"]
    local.close()
    return item_size(item)


def _pledges(url: str) -> tuple[Run, Run]:
    campaign = _campaign("Bench imports: pledges")
    started = time.perf_counter()
    tags = _api_fans(campaign, FANS)
    setup = time.perf_counter() - started
    data = _pledges_file(tags, ROWS)
    report(f"Imports: {FANS} fans signed up through the API", f"{setup:,.1f} s",
           f"then a pledges file of {ROWS:,} rows, {len(data) / 1e6:.1f} MB, ~{TAGGED:.0%} tagged")
    first = _run(url, campaign, {"kind": "pledges", "upload": _upload(campaign, data)}, None)
    assert (first.job["applied"], first.job["unchanged"], first.job["errors_count"]) == (ROWS, 0, 0), \
        _figures(first.job)
    _report(f"Imports: {ROWS:,} new pledges, uploaded", first, WRITE_GOAL_NEW)
    again = _run(url, campaign, {"kind": "pledges", "upload": _upload(campaign, data)}, None)
    assert (again.job["applied"], again.job["unchanged"]) == (0, ROWS), _figures(again.job)
    _report("Imports: the same file again (all unchanged)", again, WRITE_GOAL_UNCHANGED)

    dry = _run(url, campaign, {"kind": "pledges", "dry_run": "1"}, _pledges_file(tags, ERROR_ROWS, ERROR_EVERY, "dr"))
    assert dry.job["errors_count"] == ERROR_ROWS // ERROR_EVERY and len(dry.job["errors"]) == 1000, _figures(dry.job)
    size = _job_item_bytes(campaign.id, dry.job["import"], url)
    report(f"Imports: a dry run of {ERROR_ROWS:,} rows, 1 in {ERROR_EVERY} an error",
           f"{_per_row(dry, dry.write_units)} WU, {_per_row(dry, dry.read_units)} RU",
           f"per row; {dry.job['errors_count']:,} errors, {len(dry.job['errors']):,} kept")
    report("    spent by", "", _writes_by(dry))
    report("  the job's item, rewritten by each progress write", f"{size:,} bytes",
           f"{math.ceil(size / WRITE_UNIT_BYTES)} write unit a chunk, errors kept or not")
    return first, again


def _tag_totals(url: str) -> Run:
    campaign = _campaign("Bench imports: tag totals")
    started = time.perf_counter()
    tags = _copied_fans(campaign, url, TAGS)
    report(f"Imports: {TAGS:,} fans with tags (1 made, the rest copied)", f"{time.perf_counter() - started:,.1f} s",
           "their links and tag items, in batches")
    first = _run(url, campaign, {"kind": "tag_totals"}, _totals_file(tags))
    assert (first.job["applied"], first.job["errors_count"]) == (TAGS, 0), _figures(first.job)
    _report(f"Imports: {TAGS:,} tag totals, first import", first, WRITE_GOAL_NEW)
    again = _run(url, campaign, {"kind": "tag_totals"}, _totals_file(tags))
    assert (again.job["applied"], again.job["unchanged"]) == (0, TAGS), _figures(again.job)
    _report("Imports: the same tag totals again", again, WRITE_GOAL_UNCHANGED)
    changed = _run(url, campaign, {"kind": "tag_totals"}, _totals_file(tags, CHANGED))
    moved = changed.job["applied"]
    assert moved + changed.job["unchanged"] == TAGS, _figures(changed.job)
    assert abs(moved - TAGS * CHANGED) < TAGS * CHANGED / 4, _figures(changed.job)
    _report(f"Imports: tag totals, {moved:,} of {TAGS:,} changed", changed)
    return first


def _projection(pledges: Run, unchanged: Run, totals: Run) -> None:
    """The first imports' calls, one after another, at DynamoDB's latency, plus the importer's
    own CPU as measured here, against what one invocation may spend before it queues the rest."""
    from chalicelib.domain import imports

    budget = LAMBDA_SECONDS - imports.SPARE_SECONDS
    for ms in MS_PER_CALL:
        seconds = pledges.seconds_at(ms)
        runs = "fits one run" if seconds <= budget else f"{math.ceil(seconds / budget)} runs"
        report(f"AWS: {pledges.rows:,} new pledges at {ms} ms per DynamoDB call", f"{seconds / 60:,.1f} min",
               f"{sum(pledges.calls.values()):,} calls + {pledges.cpu_seconds:,.0f} s CPU; {runs} of {budget} s")
    slow = max(MS_PER_CALL)
    report(f"AWS: the same {unchanged.rows:,} rows again at {slow} ms per call",
           f"{unchanged.seconds_at(slow) / 60:,.1f} min", f"{unchanged.calls_per_chunk():.0f} calls per chunk")
    report(f"AWS: {totals.rows:,} new tag totals at {slow} ms per call", f"{totals.seconds_at(slow) / 60:,.1f} min",
           f"{totals.calls_per_chunk():.0f} calls per chunk, one after another")
    chunk = pledges.seconds_at(slow) / pledges.chunks
    report(f"  a chunk of {imports.CHUNK} new pledges at {slow} ms per call", f"{chunk:.2f} s",
           f"the importer stops between chunks {imports.SPARE_SECONDS} s before its {LAMBDA_SECONDS} s "
           "and queues the rest: chunked, any size fits")


def run() -> None:
    started = time.perf_counter()
    with _server() as url:
        report("Imports: own local server (moto, S3, partition Query)", url)
        pledges, unchanged = _pledges(url)
        totals = _tag_totals(url)
    _projection(pledges, unchanged, totals)
    report("Imports: the whole benchmark, on this machine", f"{(time.perf_counter() - started) / 60:,.1f} min", "")
