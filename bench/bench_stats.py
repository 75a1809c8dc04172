"""Stats: latency and read units for a campaign of 100,000 events ÷ one of 1,000 events.

The small campaign gets its 1,000 events through the real write path (redirects, shares,
pledges, the aggregator). The large one is seeded at the rollup level: a copy of the
small campaign's rollup items with every counter multiplied by 100 — the rollups that
100,000 events of the same shape (days, channels, referrers) would leave. The claim
measured: the stats cost depends on that shape, not on the number of events.
"""
from __future__ import annotations

import random

from bench.common import interleaved, median_ms, report
from bench.lambda_events import FakeContext, api_event, redirect_event
from bench.proxied import counted

CHROME = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133."
RESOURCE = "/v1/campaigns/{campaign_id}/stats"


def _small_campaign() -> tuple[str, str]:
    from app import aggregator, app
    from chalicelib.core.clock import utc_now
    from chalicelib.domain import campaigns, links, pledges
    from chalicelib.hotpath import lookups, tracking
    from dev.stream_poller import StreamPoller

    poller = StreamPoller(aggregator, start="LATEST")
    rng = random.Random(5)
    campaign, key = campaigns.create({"name": "Small", "target_url": "https://example.org/",
                                      "goal": {"amount": 100000, "currency": "EUR"}})
    codes = [links.create(campaign, links.parse({"name": f"Fan {i}"})).code for i in range(30)]
    for i in range(1000):
        code, channel = rng.choice(codes), rng.choice(["x", "whatsapp", "email", "telegram"])
        if i % 10 == 9:
            link = lookups.link(code)
            tracking.record_share(link, channel, tracking.Visit("POST", CHROME + str(i), f"203.0.113.{i % 200}", False))
        elif i % 25 == 0:
            pledges.record(campaign, pledges.PledgeRequest(f"p{i}", rng.randrange(100, 9000),
                                                           rng.choice(["EUR", "USD"]), "confirmed", utc_now()))
        else:
            app(redirect_event(code, f"203.0.113.{i % 200}", CHROME + str(i % 7), channel=channel), FakeContext())
    poller.drain()
    return campaign.id, key


def _scaled_copy(source_id: str, factor: int) -> tuple[str, str]:
    """A campaign whose rollups are the source's, every counter × ``factor``."""
    from chalicelib.domain import campaigns
    from chalicelib.store import clients, tables

    campaign, key = campaigns.create({"name": "Large", "target_url": "https://example.org/",
                                      "goal": {"amount": 100000, "currency": "EUR"}})
    client = clients.patient()
    for item in [item for item in tables.scan("rollups") if item["pk"]["S"] == source_id]:
        copy = {"pk": {"S": campaign.id}}
        for name, value in item.items():
            if name == "pk":
                continue
            if name == "lb_pk":
                copy[name] = {"S": campaign.id}
            elif "N" in value and name not in ("depth",):
                copy[name] = {"N": str(int(value["N"]) * factor)}
            else:
                copy[name] = value
        client.put_item(TableName=clients.table("rollups"), Item=copy)
    return campaign.id, key


def run(upstream: str) -> None:
    from app import app

    small, small_key = _small_campaign()
    large, large_key = _scaled_copy(small, 100)

    def request(campaign_id: str, key: str) -> None:
        event = api_event("GET", RESOURCE, {"campaign_id": campaign_id}, None, {"authorization": f"Bearer {key}"},
                          {"from": "2026-01-01", "to": "2026-12-31"})
        assert app(event, FakeContext())["statusCode"] == 200

    units = {}
    with counted(upstream) as proxy:
        for name, (campaign_id, key) in {"small": (small, small_key), "large": (large, large_key)}.items():
            request(campaign_id, key)
            proxy.reset()
            request(campaign_id, key)
            units[name] = (proxy.read_units, proxy.items_read, sum(proxy.calls.values()))
    interleaved(5, lambda: request(large, large_key), lambda: request(small, small_key))
    large_times, small_times = interleaved(40, lambda: request(large, large_key), lambda: request(small, small_key))
    report("Stats, 100,000 vs 1,000 events (365-day range), median",
           f"{median_ms(large_times):.1f} ms vs {median_ms(small_times):.1f} ms")
    report("Stats latency: 100,000 events ÷ 1,000 events", f"{median_ms(large_times) / median_ms(small_times):.2f}",
           "target: <= 1.2")
    report("Stats read units (items, requests): large | small",
           f"{units['large'][0]:g} ({units['large'][1]}, {units['large'][2]}) | "
           f"{units['small'][0]:g} ({units['small'][1]}, {units['small'][2]})", "target: equal")
