"""What a stranger's request makes Relais read: read units per public request, from 10 to
10,000 referrers in one campaign.

Each campaign gets a few fans through the real write path (links, clicks, a share, pledges,
the aggregator) and the rest at the rollup level: ``ref#`` items with a pledge's score each,
in the leaderboard index, as that many fans who all brought a pledge would leave them (the
worst case for a rank: every one of them ranks above a fan without a pledge). The aggregator
then rebuilds the campaign's leaderboard item, as it does after a batch. Measured through
the counting DynamoDB proxy (DynamoDB's rule: 4 KB per unit, half for an eventually
consistent read), each request once warm:

- the widget's data (``GET /v1/campaigns/{id}/widget``), the leaderboard included;
- a fan's impact with their rank (``GET /v1/referrers/{code}``), for a fan far below the top;
- the public stats (``GET /v1/campaigns/{id}/stats``, 7 days);
- and, for comparison, what the rank cost before: one index ``COUNT`` of the referrers
  scoring above that fan.

Target: the three public requests read the same at every size.
"""
from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import timedelta

from bench.common import report
from bench.lambda_events import FakeContext, api_event, redirect_event
from bench.proxied import counted

SIZES = (10, 100, 1_000, 10_000)
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


def _seed(size: int) -> tuple[str, str]:
    """A public campaign with ``size`` referrers; returns its id and a fan without a pledge."""
    from app import aggregator, app
    from chalicelib.aggregate import board
    from chalicelib.domain import campaigns, links
    from chalicelib.store import clients, codec, keys
    from dev.stream_poller import StreamPoller

    poller = StreamPoller(aggregator, start="LATEST")
    campaign, key = campaigns.create({"name": f"Bench {size}", "target_url": "https://example.org/",
                                      "goal": {"amount": 100_000, "currency": "EUR"}, "leaderboard": "public",
                                      "public_stats": True})
    real = [links.create(campaign, links.parse({"name": f"Real fan {n}"})).code for n in range(3)]
    for n, code in enumerate(real[:2]):
        location = app(redirect_event(code, f"203.0.113.{n}", CHROME), FakeContext())["headers"]["Location"]
        ref = location.split("ref=")[1].split("&")[0]
        body = json.dumps({"pledge_id": f"p{n}", "amount": 1000 * (n + 1), "currency": "EUR", "ref": ref})
        app(api_event("POST", "/v1/campaigns/{campaign_id}/pledges", {"campaign_id": campaign.id}, body,
                      {"authorization": f"Bearer {key}"}), FakeContext())
    poller.drain()
    rng = random.Random(size)
    table = clients.table("rollups")
    items = [{"pk": codec.s(campaign.id), "sk": codec.s(keys.referrer_rollup_sk(f"seed{n:07d}")),
              "lb_pk": codec.s(campaign.id), "lb_score": codec.n(rng.randrange(1, 5000) * 1_000_000 + 1),
              "name": codec.s(f"Seeded fan {n}"), "depth": codec.n(1), "pledges": codec.n(1),
              "clicks": codec.n(rng.randrange(1, 40)), "ver": codec.n(1)}
             for n in range(max(0, size - len(real)))]
    for start in range(0, len(items), 25):
        pending = {table: [{"PutRequest": {"Item": item}} for item in items[start:start + 25]]}
        while pending:
            pending = clients.patient().batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
    board.rebuild(campaign.id, {})
    return campaign.id, real[2]


def _units(proxy, call, forget: Callable[[], None] = lambda: None) -> float:
    call()  # warm: the link, the campaign and the day's salt are cached after this
    forget()
    proxy.reset()
    call()
    return proxy.read_units


def _old_rank_units(proxy, campaign_id: str) -> float:
    """What ``GET /v1/referrers/{code}`` read for the rank before the leaderboard item: one
    index COUNT over every referrer scoring above a fan without a pledge. DynamoDB bills a
    COUNT for the items it reads, which the proxy cannot see in a COUNT's answer: the same
    query returning the items is billed alike, and the proxy sizes them."""
    from chalicelib.store import clients, codec

    proxy.reset()
    kwargs: dict = {"TableName": clients.table("rollups"), "IndexName": "leaderboard", "Limit": 500,
                    "KeyConditionExpression": "lb_pk = :c AND lb_score > :s",
                    "ExpressionAttributeValues": {":c": codec.s(campaign_id), ":s": codec.n(0)}}
    while True:
        page = clients.patient().query(**kwargs)
        if "LastEvaluatedKey" not in page:
            return proxy.read_units
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def run(upstream: str) -> None:
    from app import app
    from chalicelib.core.clock import utc_now
    from chalicelib.read import stats

    seeded = {size: _seed(size) for size in SIZES}
    today = utc_now().date()
    week = {"from": (today - timedelta(days=6)).isoformat(), "to": today.isoformat()}
    rows: dict[str, list[float]] = {"widget": [], "impact": [], "stats": [], "cached": [], "old rank": []}
    with counted(upstream) as proxy:
        for size in SIZES:
            campaign_id, code = seeded[size]

            def get(resource: str, params: dict, query: dict | None = None) -> None:
                response = app(api_event("GET", resource, params, query=query), FakeContext())
                assert response["statusCode"] == 200, response

            rows["widget"].append(_units(proxy, lambda c=campaign_id: get(
                "/v1/campaigns/{campaign_id}/widget", {"campaign_id": c})))
            rows["impact"].append(_units(proxy, lambda c=code: get("/v1/referrers/{code}", {"code": c})))
            rows["stats"].append(_units(proxy, lambda c=campaign_id: get(
                "/v1/campaigns/{campaign_id}/stats", {"campaign_id": c}, week), stats._public_cache.clear))
            rows["cached"].append(_units(proxy, lambda c=campaign_id: get(
                "/v1/campaigns/{campaign_id}/stats", {"campaign_id": c}, week)))
            rows["old rank"].append(_old_rank_units(proxy, campaign_id))
    sizes = " | ".join(f"{size:,}" for size in SIZES)
    report("Public reads, read units per request, by referrers", sizes)
    for label, name in (("widget", "widget data (leaderboard)"), ("impact", "fan impact (rank)"),
                        ("stats", "public stats (7 days), computed"), ("cached", "public stats, within 30 s")):
        values = " | ".join(f"{value:g}" for value in rows[label])
        report(f"  {name}", values, "target: equal" if len(set(rows[label])) == 1 else "target: equal (NOT MET)")
    report("  the rank before the leaderboard item (index COUNT)",
           " | ".join(f"{value:g}" for value in rows["old rank"]), "grows with the referrers")
