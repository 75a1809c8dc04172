"""A viral peak, simulated: the real aggregator (``chalicelib.aggregate.counting.handle_records``)
fed the events stream of a campaign the size of Amanda Palmer's at 5,000 redirects per second,
several stream shards interleaved, on the bench's moto server; with redeliveries and a bisected
batch, as Lambda's at-least-once delivery makes them.

It reports whether every counter is exact, how many records per second one shard's
aggregator gets through against the rate the burst brings to a shard, the DynamoDB units
each click costs (request path and aggregator, measured, not assumed), and the cost per
million redirects those units make at list prices: the figures of ``docs/deploy.md``'s
cost table and capacity model. Baseline, measured in the same run on the same records: a
naive aggregator that adds each record to its three counters with one ``UpdateItem`` each.
"""
from __future__ import annotations

import math
import os
import random
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from bench.common import report
from bench.lambda_events import FakeContext, api_event, redirect_event
from harness.user_agents import HUMAN_AGENTS, PREVIEW_AGENTS

BURST_PER_SECOND = 5_000
SIMULATED_SECONDS = float(os.environ.get("RELAIS_BENCH_VIRAL_SECONDS", "2"))
SHARDS = 4
"""Stream shards the campaign's 16 lanes land on here (4 lanes each): a new on-demand table's
few partitions. A table grown or pre-warmed for the burst has more, each carrying less."""
PARALLELIZATION = 4  # infra.stack.STREAM_PARALLELIZATION: concurrent batches per shard, by partition key
BATCH_SIZE = 500  # infra.stack.STREAM_BATCH_SIZE (the bench does not import the CDK)
NAIVE_SAMPLE = 300
REFERRERS = 5_000
"""Amanda Palmer's Kickstarter had 24,883 backers; one in five sharing a link of their own."""
DAY = "2026-11-29"
CHANNELS = {"whatsapp": 30, "x": 20, "facebook": 20, "email": 10, "telegram": 8, "copy": 7, "qr": 5}
PERSON, BOT_GET, HEAD = 0.85, 0.10, 0.05
"""Of the redirects: people's clicks, link-preview fetchers' GETs, HEAD previews."""
PRIVATE = 0.04  # of people's clicks: DNT / Sec-GPC (no visitor hash: each counts as unique)
RETURNING = 0.20  # of people's clicks: a visitor already seen on that link, channel and day
LANDED = 0.60  # of people's clicks: the page loads the widget, which sends the landing beacon
SHARES_PER_REDIRECT = 0.02
REDELIVERED = 0.10  # of batches: delivered again whole (at least once)

# List prices, us-east-1, late 2024 (docs/deploy.md, "Cost per million": verify before quoting).
HTTP_API_PER_MILLION = 1.00
LAMBDA_REQUESTS_PER_MILLION = 0.20
LAMBDA_ARM_GB_SECOND = 0.0000133334
WRITE_UNITS_PER_MILLION = 0.625
READ_UNITS_PER_MILLION = 0.125
API_HANDLER_MS, API_HANDLER_GB = 25, 0.5
"""What a redirect bills on Lambda (512 MB), an assumption: one DynamoDB write and the
handler's own few milliseconds. ``make bench`` measures the handler locally, not on Lambda."""
AGGREGATOR_MS_PER_CALL, AGGREGATOR_GB = 5, 0.25
"""A DynamoDB call from Lambda in the same region, an assumption: the aggregator's calls are sequential."""


@dataclass
class Calls:
    """DynamoDB calls and items, counted from the client's own events (no proxy in between)."""

    operations: Counter = field(default_factory=Counter)
    items: Counter = field(default_factory=Counter)

    def __call__(self, params: dict, model: Any, **_: Any) -> None:
        operation = model.name
        self.operations[operation] += 1
        if operation == "BatchGetItem":
            self.items[operation] += sum(len(request["Keys"]) for request in params["RequestItems"].values())
        elif operation == "BatchWriteItem":
            self.items[operation] += sum(len(requests) for requests in params["RequestItems"].values())
        else:
            self.items[operation] += 1
        if operation == "UpdateItem" and params["Key"]["sk"]["S"].startswith("ref#"):
            self.items["referrer updates"] += 1
            # the leaderboard index projects the keys only: an update writes it when it may
            # change lb_pk or lb_score (a pledge, a new fan, hiding), never for a click
            if {"lb_pk", "lb_score"} & set(params.get("ExpressionAttributeNames", {}).values()):
                self.items["index writes"] += 1

    def total(self) -> int:
        return sum(self.operations.values())


@contextmanager
def counted(client: Any) -> Iterator[Calls]:
    calls = Calls()
    client.meta.events.register("before-parameter-build.dynamodb", calls)
    try:
        yield calls
    finally:
        client.meta.events.unregister("before-parameter-build.dynamodb", calls)


@dataclass(frozen=True)
class Fact:
    kind: str  # visit | preview | share | landing
    code: str
    channel: str
    visitor: str | None
    person: bool


@dataclass
class Expected:
    """The counters the stream must produce, computed here from the facts alone."""

    items: dict[tuple, Counter] = field(default_factory=lambda: defaultdict(Counter))
    seen: set = field(default_factory=set)

    def add(self, fact: Fact) -> None:
        counters: Counter = Counter()
        if fact.kind == "visit" and fact.person:
            first = fact.visitor is None or ("visit", fact.code, fact.channel, fact.visitor) not in self.seen
            counters.update(clicks=1, unique_clicks=int(first))
        elif fact.kind in ("visit", "preview"):
            counters.update(previews=1)
        elif fact.kind == "share":
            counters.update(shares=1)
        else:
            first = fact.visitor is None or ("landing", fact.code, fact.channel, fact.visitor) not in self.seen
            counters.update(landed=int(first))
        if fact.visitor is not None:
            self.seen.add((fact.kind, fact.code, fact.channel, fact.visitor))
        for item in (("total",), ("day", DAY, fact.channel), ("referrer", fact.code)):
            self.items[item].update(counters)


def _facts(rng: random.Random, codes: list[str]) -> list[Fact]:
    """A burst's facts in arrival order: redirects, the landings that follow, some shares."""
    weights = [1 / (rank + 1) ** 1.1 for rank in range(len(codes))]  # a few fans bring most clicks
    channels, channel_weights = list(CHANNELS), list(CHANNELS.values())
    seen: dict[tuple[str, str], list[str]] = defaultdict(list)
    facts: list[Fact] = []
    for _ in range(int(BURST_PER_SECOND * SIMULATED_SECONDS)):
        code = rng.choices(codes, weights)[0]
        channel = rng.choices(channels, channel_weights)[0]
        roll = rng.random()
        if roll < PERSON:
            if rng.random() < PRIVATE:
                visitor = None
            elif seen[(code, channel)] and rng.random() < RETURNING:
                visitor = rng.choice(seen[(code, channel)])
            else:
                visitor = f"v{rng.getrandbits(120):030x}"[:22]
                seen[(code, channel)].append(visitor)
            facts.append(Fact("visit", code, channel, visitor, True))
            if rng.random() < LANDED:
                facts.append(Fact("landing", code, channel, visitor, True))
        elif roll < PERSON + BOT_GET:
            facts.append(Fact("visit", code, channel, f"b{rng.getrandbits(120):030x}"[:22], False))
        else:
            facts.append(Fact("preview", code, channel, None, False))
        if rng.random() < SHARES_PER_REDIRECT:
            facts.append(Fact("share", code, channel, None, False))
    return facts


def _records(campaign_id: str, facts: list[Fact], rng: random.Random) -> tuple[list[list[dict]], list[int]]:
    """Each fact written as the request path writes it (``store.events_table.put_fact``: a known
    visitor's visits of the day join one item), and the stream records those writes made,
    read back from moto's stream, handed to the lane's processor: Lambda splits a shard's
    records by partition key over ``PARALLELIZATION`` concurrent batches. Returns the records
    per (shard, processor) stream, shard by shard, and the items' sizes."""
    from chalicelib.store import events_table
    from chalicelib.store.records import Fact as StoredFact
    from dev.dynamodb_proxy import item_size
    from dev.stream_poller import StreamPoller

    records: list[dict] = []
    poller = StreamPoller(lambda event, _: records.extend(event["Records"]), batch_size=1000, start="LATEST")
    people = list(HUMAN_AGENTS.values())
    bots = [agent for agent in PREVIEW_AGENTS.values() if agent]
    for fact in facts:
        agent = rng.choice(people if fact.person else bots) if fact.kind in ("visit", "landing") else None
        events_table.put_fact(StoredFact(fact.kind, campaign_id, fact.code, fact.channel, DAY, events_table.new_token(),
                                   fact.visitor, agent), request_path=False)
    poller.drain()
    shards: list[list[dict]] = [[] for _ in range(SHARDS * PARALLELIZATION)]
    for record in records:
        lane = int(record["dynamodb"]["Keys"]["pk"]["S"].rpartition("#")[2])
        shards[(lane % SHARDS) * PARALLELIZATION + (lane // SHARDS) % PARALLELIZATION].append(record)
    return shards, [item_size(record["dynamodb"]["NewImage"]) for record in records]


def _batches(streams: list[list[dict]]) -> list[tuple[int, list[dict]]]:
    """``(stream, batch)`` with every shard's concurrent batches interleaved, as they would land."""
    per_stream = [[records[i:i + BATCH_SIZE] for i in range(0, len(records), BATCH_SIZE)] for records in streams]
    order = []
    for round_ in range(max(len(batches) for batches in per_stream)):
        order += [(stream, batches[round_]) for stream, batches in enumerate(per_stream) if round_ < len(batches)]
    return order


def _stored(campaign_id: str) -> dict[tuple, Counter]:
    from chalicelib.store import rollups_table

    keys = {"total": lambda r: ("total",), "day": lambda r: ("day", r.day, r.channel),
            "referrer": lambda r: ("referrer", r.code)}
    return {keys[rollup.level](rollup): Counter({name: value for name, value in item.counts.items()
                                                 if name in ("clicks", "unique_clicks", "previews", "shares", "landed")
                                                 and value})
            for rollup, item in rollups_table.counter_items(campaign_id).items() if rollup.level in keys}


def _rollup_write_units(campaign_id: str) -> dict[str, float]:
    """Write units of one update of each rollup item (its size now, rounded up to 1 KB)."""
    from chalicelib.store import clients
    from dev.dynamodb_proxy import item_size

    def items(pk: str) -> Iterator[dict]:
        kwargs: dict = {"TableName": clients.table("rollups"), "KeyConditionExpression": "pk = :pk",
                        "ExpressionAttributeValues": {":pk": {"S": pk}}}
        while True:
            page = clients.patient().query(**kwargs)
            yield from page["Items"]
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    counters = [math.ceil(item_size(item) / 1024) for item in items(campaign_id)]
    return {"counter": sum(counters) / len(counters), "counter_max": max(counters)}


def _naive_baseline(records: list[dict]) -> float:
    """Seconds for the naive aggregator: one unconditional ``ADD`` per record and counter item."""
    from chalicelib.store import clients

    client, table = clients.patient(), clients.table("rollups")
    started = time.perf_counter()
    for record in records:
        image = record["dynamodb"]["NewImage"]
        for sk in ("total", f"day#{DAY}#{image['channel']['S']}", f"ref#{image['code']['S']}"):
            client.update_item(TableName=table, Key={"pk": {"S": "naive-baseline"}, "sk": {"S": sk}},
                               UpdateExpression="ADD hits :one", ExpressionAttributeValues={":one": {"N": "1"}})
    return time.perf_counter() - started


def _redirect_units(campaign_code: str) -> tuple[Calls, list[int]]:
    """The request path measured: DynamoDB calls of 100 redirects, and the sizes of the items they wrote."""
    from app import app
    from chalicelib.store import clients, events_table
    from dev.dynamodb_proxy import item_size

    campaign_id, code = campaign_code.split(":")
    chrome = HUMAN_AGENTS["chrome-windows"]
    app(redirect_event(code, "198.51.100.250", chrome), FakeContext())  # warm the caches
    with counted(clients.request()) as calls:
        for i in range(100):
            answer = app(redirect_event(code, f"203.0.113.{i}", chrome, channel="whatsapp"), FakeContext())
            assert answer["statusCode"] == 302, answer
    sizes = [item_size(image) for _, _, image in events_table.campaign_items(campaign_id)]
    return calls, sizes


def _seed_redirect_campaign() -> str:
    """A campaign and a fan's link, made through the API as a creator and a fan would."""
    import json

    from app import app
    from bench.common import BENCH_ENV

    local = {"host": "127.0.0.1"}  # a host the API serves without RELAIS_PUBLIC_URL
    created = app(api_event("POST", "/v1/campaigns", {}, json.dumps({
        "name": "Viral", "target_url": "https://example.org/viral"}),
        headers={**local, "authorization": f"Bearer {BENCH_ENV['RELAIS_ADMIN_TOKEN']}"}), FakeContext())
    campaign_id = json.loads(created["body"])["campaign"]["id"]
    fan = app(api_event("POST", "/v1/campaigns/{campaign_id}/referrers", {"campaign_id": campaign_id},
                        json.dumps({"name": "Viral fan"}), headers=local), FakeContext())
    return f"{campaign_id}:{json.loads(fan['body'])['code']}"


def _request_path_cost(write_units: float) -> float:
    """Dollars per million redirects for the front, the API handler and its write."""
    api_lambda = LAMBDA_REQUESTS_PER_MILLION + API_HANDLER_MS / 1000 * API_HANDLER_GB * LAMBDA_ARM_GB_SECOND * 1e6
    return HTTP_API_PER_MILLION + api_lambda + write_units * WRITE_UNITS_PER_MILLION


def _aggregator_cost(write_units: float, read_units: float, calls: float, batch_records: float) -> float:
    """Dollars per million records for what the aggregator does with each: its units, and
    its share of an invocation (``calls`` DynamoDB calls per record, one after another)."""
    seconds = calls * AGGREGATOR_MS_PER_CALL / 1000
    aggregator_lambda = (LAMBDA_REQUESTS_PER_MILLION / batch_records
                         + seconds * AGGREGATOR_GB * LAMBDA_ARM_GB_SECOND * 1e6)
    return write_units * WRITE_UNITS_PER_MILLION + read_units * READ_UNITS_PER_MILLION + aggregator_lambda


def run() -> None:
    from chalicelib.aggregate import counting
    from chalicelib.core import ids
    from chalicelib.store import clients

    rng = random.Random(15)
    calls, redirect_sizes = _redirect_units(_seed_redirect_campaign())
    writes = calls.operations["PutItem"] + calls.operations["UpdateItem"]
    report("Viral: DynamoDB calls per redirect (request path)",
           f"{writes / 100:.2f} write, {(calls.total() - writes) / 100:.2f} other", "target: 1 write, 0 reads")
    redirect_wru = max(math.ceil(size / 1024) for size in redirect_sizes)
    report("Viral: a redirect's events item", f"≤ {max(redirect_sizes)} B = {redirect_wru} write unit",
           "target: ≤ 1 KB")

    campaign_id = ids.campaign_id()
    codes = [ids.link_code() for _ in range(REFERRERS)]
    facts = _facts(rng, codes)
    shards, sizes = _records(campaign_id, facts, rng)
    report("Viral: every events item of the burst (visits, landings, shares)", f"≤ {max(sizes)} B",
           "target: ≤ 1 KB, 1 write unit each")
    expected = Expected()
    for fact in facts:
        expected.add(fact)
    batches = _batches(shards)
    redirects = int(BURST_PER_SECOND * SIMULATED_SECONDS)
    report(f"Viral: {redirects:,} redirects in {SIMULATED_SECONDS:g} s ({BURST_PER_SECOND:,}/s), {REFERRERS:,} fans",
           f"{len(facts):,} facts, {sum(map(len, shards)):,} records",
           f"{len(batches)} batches, {SHARDS} shards × {PARALLELIZATION}")

    streams = SHARDS * PARALLELIZATION
    spent = [0.0] * streams
    done = [0] * streams
    redelivered = 0
    with counted(clients.patient()) as first_pass:
        for stream, batch in batches:
            started = time.perf_counter()
            counting.handle_records(batch)
            spent[stream] += time.perf_counter() - started
            done[stream] += len(batch)
    with counted(clients.patient()) as replays:
        for _, batch in batches:
            if rng.random() < REDELIVERED:
                counting.handle_records(batch)
                redelivered += 1
        _, batch = batches[len(batches) // 2]
        counting.handle_records(batch[:len(batch) // 2])  # a bisected batch's first half, then it all again
        counting.handle_records(batch)
    stored = _stored(campaign_id)
    wanted = {item: Counter({name: value for name, value in counters.items() if value})
              for item, counters in expected.items.items()}
    exact = sum(stored.get(item) == counters for item, counters in wanted.items())
    report("Viral: counters exact after redeliveries and a bisected batch",
           f"{exact:,} of {len(wanted):,} items", f"({redelivered} batches delivered twice) target: all")
    report("Viral: clicks | unique | landed counted",
           f"{stored[('total',)]['clicks']:,} | {stored[('total',)]['unique_clicks']:,} | "
           f"{stored[('total',)]['landed']:,}",
           f"expected {wanted[('total',)]['clicks']:,} | {wanted[('total',)]['unique_clicks']:,} | "
           f"{wanted[('total',)]['landed']:,}")

    per_batch = [done[s] / spent[s] for s in range(streams)]
    # A shard's concurrent batches run side by side: the shard keeps pace with its slowest one.
    per_shard = [sum(done[s * PARALLELIZATION:(s + 1) * PARALLELIZATION])
                 / max(spent[s * PARALLELIZATION:(s + 1) * PARALLELIZATION]) for s in range(SHARDS)]
    records = sum(map(len, shards))
    needed = (records / SIMULATED_SECONDS) / SHARDS
    moto_ms = sum(spent) * 1000 / first_pass.total()
    report("Viral: records per second, one aggregator invocation (moto)",
           f"{min(per_batch):,.0f}–{max(per_batch):,.0f}", f"sequential calls, {moto_ms:.1f} ms each on moto")
    in_region = 1000 / (first_pass.total() / records * AGGREGATOR_MS_PER_CALL)
    report(f"  the same at {AGGREGATOR_MS_PER_CALL} ms per call (DynamoDB from Lambda, assumed)",
           f"{in_region:,.0f} /s", f"× {PARALLELIZATION} per shard = {in_region * PARALLELIZATION:,.0f}/s; "
           "a partition takes ≤ 1,000 writes/s")
    report(f"Viral: records per second per shard ({PARALLELIZATION} concurrent batches)",
           f"{min(per_shard):,.0f}–{max(per_shard):,.0f}", f"the burst brings {needed:,.0f}/s to each shard here")
    sample = shards[0][:NAIVE_SAMPLE]
    naive = len(sample) / _naive_baseline(sample)
    report("Viral: one invocation ÷ naive per-record ADD, records/s", f"{statistics.median(per_batch) / naive:.1f}",
           f"naive: {naive:,.0f}/s, 3 calls per record (and double counts on redelivery)")

    per_record = {op: first_pass.items[op] / records for op in first_pass.items}
    report("Viral: aggregator DynamoDB calls per 1,000 records",
           f"{first_pass.total() * 1000 / records:.0f}", f"naive: 3,000; redeliveries added {replays.total():,} calls")
    units = _rollup_write_units(campaign_id)
    reads = per_record.get("BatchGetItem", 0.0)
    counter_updates = first_pass.items["UpdateItem"] / records
    fan_updates = first_pass.items["referrer updates"] / records
    index_writes = first_pass.items["index writes"] / records
    report("Viral: per record: counter updates | items read | other writes",
           f"{counter_updates:.3f} | {reads:.3f} | {per_record.get('BatchWriteItem', 0.0):.3f}",
           f"counter item ≈ {units['counter']:.2f} WU (max {units['counter_max']}); reads: the leaderboard's "
           "fans; no unique-visitor marker")
    report("Viral: per record: fans' counter updates | of them writing the leaderboard index",
           f"{fan_updates:.3f} | {index_writes:.3f}", "keys-only index: only a score change writes it")
    counter_units = counter_updates * units["counter"] + index_writes

    aggregator_calls = first_pass.total() / records
    batch_records = records / len(batches)
    request_path = _request_path_cost(redirect_wru)
    per_redirect = request_path + _aggregator_cost(counter_units, reads, aggregator_calls, batch_records)
    report("Viral: $ per million redirects, request path alone (front, Lambda, 1 write)", f"{request_path:.2f}",
           "target: ≤ 2.10 (list prices)")
    report("Viral: $ per million redirects, counted (a click, new or returning, or a preview)",
           f"{per_redirect:.2f}",
           "with the aggregator's share; target: ≤ 2.10")
