"""A fan's view of their own impact, from their rollup item."""
from __future__ import annotations

from chalicelib.domain import rewards
from chalicelib.hotpath import lookups
from chalicelib.store import rollups


def impact(code: str) -> tuple[dict, list[str]]:
    """The fan's counts (and rank when the leaderboard is on), rewards, with the campaign's origins."""
    _, campaign = lookups.resolve(code, "referrer")
    item = rollups.referrer(campaign.id, code)
    body = {"code": code, "campaign": campaign.id, **item.counters(), "amount": item.amounts}
    if campaign.leaderboard != "off":
        body["rank"] = rollups.rank(campaign.id, item.get("lb_score"))
    body.update(rewards.progress(campaign, code, item.get("pledges")))  # reads only when it has rewards
    return body, list(campaign.allowed_origins)
