"""Aggregator: write requests for a batch of 1,000 clicks = rollup items it touches."""
from __future__ import annotations

import random

from bench.common import report


def run() -> None:
    from chalicelib.aggregate import counting
    from chalicelib.core import ids
    from harness.stream_records import click_record

    rng = random.Random(1)
    campaign = ids.campaign_id()
    codes = [ids.link_code() for _ in range(50)]
    records = [click_record(campaign, rng.choice(codes), rng.choice(["x", "whatsapp", "email"]), f"visitor{i}",
                            lane=f"{i % 16:02d}") for i in range(1000)]
    result = counting.handle_records(records)
    report("Aggregator: 1,000 clicks, 3 channels, 50 referrers",
           f"{result['writes']} writes / {result['items']} items", "target: writes = items touched")
    replay = counting.handle_records(records)
    report("Aggregator: the same batch replayed",
           f"{replay['changed']} items changed", f"({replay['writes']} conditional writes refused)")
