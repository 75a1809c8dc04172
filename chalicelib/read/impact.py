"""A fan's view of their own impact: their rollup item and the leaderboard item (two reads)."""
from __future__ import annotations

from chalicelib.domain import rewards
from chalicelib.hotpath import lookups
from chalicelib.read import widget_data
from chalicelib.store import rollups_table


def impact(code: str) -> tuple[dict, list[str]]:
    """The fan's counts (and rank when the leaderboard is on), rewards, with the campaign's origins."""
    _, campaign = lookups.resolve(code, "referrer")
    item = rollups_table.referrer(campaign.id, code)
    body = {"code": code, "campaign": campaign.id, **item.counters(), "amount": item.amounts}
    if campaign.leaderboard != "off":
        body["rank"] = widget_data.rank(rollups_table.board(campaign.id), code, item.hidden)
    body.update(rewards.progress(campaign, code, item.get("pledges")))  # reads only when it has rewards
    return body, list(campaign.allowed_origins)
