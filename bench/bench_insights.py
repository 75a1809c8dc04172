"""Platform insights: read units per campaign, and latency at 1,000 campaigns ÷ 10.

Two platforms, each on tables of its own (insights read every campaign of their tables):
10 campaigns and 1,000. Every campaign has a week of activity on three channels. A
template campaign gets its shares, clicks and pledges through the real write path and the
aggregator; each platform campaign is a real campaign item (``campaigns.create``) whose
rollups are copies of the template's ``total``, ``direct`` and day items, spread over seven
days and scaled per campaign (shares and money differently, so that the ranks differ).
The claim measured: the cost grows with the number of campaigns, linearly or better.
"""
from __future__ import annotations

import json
import math
import os
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bench.common import interleaved, median_ms, report
from bench.lambda_events import FakeContext, api_event, redirect_event
from bench.proxied import counted

CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
CHANNELS = ("x", "whatsapp", "email")
DAYS = 7
SIZES = (10, 1000)


def _on_tables(prefix: str) -> None:
    from chalicelib.store import tables

    os.environ["RELAIS_TABLE_PREFIX"] = prefix
    tables.create_tables()


def _call(method: str, resource: str, params: dict, body: dict | None = None, token: str = "bench-operator",
          query: dict | None = None) -> dict:
    """One request through the app's Lambda handler, as API Gateway would make it: its answer."""
    from app import app

    event = api_event(method, resource, params, json.dumps(body) if body is not None else None,
                      {"authorization": f"Bearer {token}", "user-agent": CHROME}, query)
    return app(event, FakeContext())


def _created(body: dict) -> dict:
    answer = _call("POST", "/v1/campaigns", {}, body)
    assert answer["statusCode"] == 201, answer["body"]
    return json.loads(answer["body"])


def _template() -> list[dict]:
    """A campaign's counter items after real traffic: shares, clicks and pledges on three channels."""
    from app import aggregator, app
    from chalicelib.store import tables
    from dev.stream_poller import StreamPoller

    _on_tables("bench-insights-template-")
    poller = StreamPoller(aggregator, start="LATEST")
    created = _created({"name": "Template", "target_url": "https://example.org/",
                        "goal": {"amount": 100000, "currency": "EUR"}})
    campaign_id, key = created["campaign"]["id"], created["api_key"]
    fan = _call("POST", "/v1/campaigns/{campaign_id}/referrers", {"campaign_id": campaign_id}, {"name": "Fan"})
    assert fan["statusCode"] == 201, fan["body"]
    code = json.loads(fan["body"])["code"]
    for i, channel in enumerate(CHANNELS * 4):
        assert _call("POST", "/v1/shares", {}, {"code": code, "channel": channel})["statusCode"] == 202
        visit = app(redirect_event(code, f"203.0.113.{i}", CHROME, channel=channel), FakeContext())
        ref = visit["headers"]["Location"].split("ref=")[1].split("&")[0]
        pledge = {"pledge_id": f"p{i}", "amount": 1000 + 100 * i, "currency": "EUR", **({"ref": ref} if i % 3 else {})}
        answer = _call("POST", "/v1/campaigns/{campaign_id}/pledges", {"campaign_id": campaign_id}, pledge, key)
        assert answer["statusCode"] == 201, answer["body"]
    poller.drain()
    return [item for item in tables.scan("rollups") if item["pk"]["S"] == campaign_id and
            (item["sk"]["S"] in ("total", "direct") or item["sk"]["S"].startswith("day#"))]


def _copy(item: dict, campaign_id: str, sk: str, shares: int, money: int) -> dict:
    copy = {**item, "pk": {"S": campaign_id}, "sk": {"S": sk}}
    for name, value in item.items():
        if "N" in value and name not in ("depth", "expires_at"):
            copy[name] = {"N": str(int(value["N"]) * (shares if name.endswith("shares") else money))}
    return copy


def _platform(size: int, template: list[dict]) -> None:
    """``size`` campaigns, each with the template's rollups over ``DAYS`` days."""
    from chalicelib.store import clients, keys

    _on_tables(f"bench-insights-{size}-")
    rng = random.Random(size)
    today = datetime.now(UTC).date()
    items = []
    for i in range(size):
        campaign_id = _created({"name": f"Campaign {i}", "target_url": "https://example.org/"})["campaign"]["id"]
        shares = rng.randint(1, 40)
        money = max(1, shares + rng.randint(-15, 15))
        for item in template:
            sk = item["sk"]["S"]
            if not sk.startswith("day#"):
                items.append(_copy(item, campaign_id, sk, shares * DAYS, money * DAYS))
                continue
            _, channel = keys.split_day_sk(sk)
            items += [_copy(item, campaign_id, keys.day_sk((today - timedelta(days=d)).isoformat(), channel),
                            shares, money) for d in range(DAYS)]
    table = clients.table("rollups")
    for start in range(0, len(items), 25):
        pending: dict = {table: [{"PutRequest": {"Item": item}} for item in items[start:start + 25]]}
        while pending:
            pending = clients.patient().batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def _drop_tables() -> None:
    """This benchmark's tables go once measured: 23,000 items make the local server slow to stop."""
    from chalicelib.store import clients

    client = clients.patient()
    for name in client.list_tables().get("TableNames", []):
        if name.startswith("bench-insights-"):
            client.delete_table(TableName=name)


def _scan_units_unseen(size: int) -> float:
    """What the counting proxy cannot see of the campaigns Scan: DynamoDB bills a Scan on the
    whole items it reads, the proxy sizes the projected items it returns (id, name, created_at)."""
    from chalicelib.store import tables
    from dev.dynamodb_proxy import item_size

    os.environ["RELAIS_TABLE_PREFIX"] = f"bench-insights-{size}-"
    items = list(tables.scan("campaigns"))
    whole = sum(item_size(item) for item in items)
    shown = sum(item_size({name: item[name] for name in ("id", "name", "created_at")}) for item in items)
    return (math.ceil(whole / 4096) - math.ceil(shown / 4096)) * 0.5


def _request(size: int, path: str) -> Callable[[], dict]:
    def call() -> dict:
        os.environ["RELAIS_TABLE_PREFIX"] = f"bench-insights-{size}-"
        answer = _call("GET", path, {})
        assert answer["statusCode"] == 200, answer["body"]
        return answer
    return call


def run(upstream: str) -> None:
    saved = {name: os.environ.get(name) for name in ("RELAIS_TABLE_PREFIX", "RELAIS_PUBLIC_URL")}
    os.environ["RELAIS_PUBLIC_URL"] = "https://go.example.org"  # the host of the bench's API events
    try:
        template = _template()
        for size in SIZES:
            _platform(size, template)
        insights = {size: _request(size, "/v1/insights") for size in SIZES}
        listing = _request(SIZES[-1], "/v1/campaigns")
        units = {}
        unseen = {size: _scan_units_unseen(size) for size in SIZES}
        with counted(upstream) as proxy:
            for size in SIZES:
                insights[size]()
                proxy.reset()
                insights[size]()
                units[size] = ((proxy.read_units + unseen[size]) / size, proxy.items_read / size,
                               sum(proxy.calls.values()))
            listing()
            proxy.reset()
            listing()
            page_units = proxy.read_units + unseen[SIZES[-1]] * 100 / SIZES[-1]
        interleaved(2, insights[SIZES[-1]], insights[SIZES[0]])
        large, small = interleaved(7, insights[SIZES[-1]], insights[SIZES[0]])
    finally:
        _drop_tables()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    report("Insights: 1,000 vs 10 campaigns (a week, 3 channels each)",
           f"{median_ms(large):.0f} ms vs {median_ms(small):.1f} ms", "target: < 2,000 ms at 1,000")
    report("Insights latency: 1,000 campaigns ÷ 10", f"{median_ms(large) / median_ms(small):.1f}",
           "target: <= 100 (linear)")
    report("Insights read units per campaign: 1,000 | 10", f"{units[1000][0]:.2f} | {units[10][0]:.2f}",
           "target: O(1) per campaign")
    report("Insights items read per campaign; requests: 1,000 | 10",
           f"{units[1000][1]:.0f}; {units[1000][2]} | {units[10][1]:.0f}; {units[10][2]}")
    report("Campaign listing: read units per page of 100", f"{page_units:.1f}")
