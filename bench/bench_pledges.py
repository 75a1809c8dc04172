"""Pledges: DynamoDB writes per new pledge and per exact replay, and what a replay changes."""
from __future__ import annotations

import json

from bench.common import report
from bench.lambda_events import FakeContext, api_event
from bench.proxied import counted

RESOURCE = "/v1/campaigns/{campaign_id}/pledges"


def run(upstream: str) -> None:
    from app import aggregator, app
    from chalicelib.domain import campaigns
    from dev.stream_poller import StreamPoller

    campaign, key = campaigns.create({"name": "Bench pledges", "target_url": "https://example.org/"})
    poller = StreamPoller(aggregator, start="LATEST")

    def pledge(pledge_id: str) -> int:
        body = json.dumps({"pledge_id": pledge_id, "amount": 2500, "currency": "EUR"})
        event = api_event("POST", RESOURCE, {"campaign_id": campaign.id}, body, {"authorization": f"Bearer {key}"})
        return app(event, FakeContext())["statusCode"]

    with counted(upstream) as proxy:
        assert pledge("warm-up") == 201
        poller.drain()
        proxy.reset()
        assert all(pledge(f"p{i}") == 201 for i in range(20))
        new_writes, new_reads = proxy.writes() / 20, proxy.reads() / 20
        poller.drain()
        proxy.reset()
        assert all(pledge(f"p{i}") == 200 for i in range(20))
        replay_writes, replay_reads = proxy.writes() / 20, proxy.reads() / 20
    report("New pledge (synchronous path): DynamoDB calls",
           f"{new_writes:.2f} writes, {new_reads:.2f} reads", "target: <= 2 writes")
    report("Exact replay: DynamoDB calls", f"{replay_writes:.2f} writes, {replay_reads:.2f} reads",
           "target: 1 refused conditional write")
    report("Exact replay: stream records, rollup changes", f"{poller.drain()}, 0",
           "target: 0 rollup changes")
