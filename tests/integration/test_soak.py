"""Sixteen concurrent fans on the real local stack: every answered click and pledge counted once."""
from __future__ import annotations

import requests

from harness import soak


def test_every_answered_click_and_pledge_is_counted_exactly_once_under_sixteen_concurrent_fans(stack, poller):
    campaign, key = stack.create_campaign()
    codes = [stack.new_fan(campaign["id"], f"Fan {i}")["code"] for i in range(8)]
    result = soak.run(stack.api, campaign["id"], key, codes, fans=16, seconds=8, max_requests=4_000)
    assert result.clicks > 100 and result.pledges > 10  # the load did run
    soak.wait_for_spool(stack.data_dir)
    poller.drain()
    totals = requests.get(f"{stack.api}/v1/campaigns/{campaign['id']}/stats",
                          headers={"Authorization": f"Bearer {key}"}, timeout=30).json()["totals"]
    assert (totals["clicks"], totals["pledges"], totals["amount"]) == \
        (result.clicks, result.pledges, {"EUR": result.amount})
