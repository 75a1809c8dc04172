"""A fan's view of their own impact, from their rollup item."""
from __future__ import annotations

from chalicelib import lookups, rollups
from chalicelib.errors import not_found


def impact(code: str) -> tuple[dict, list[str]]:
    """The fan's counts (and rank when the leaderboard is on), with the campaign's origins."""
    link = lookups.link(code)
    campaign = lookups.campaign(link.campaign_id) if link else None
    if link is None or campaign is None:
        raise not_found("referrer")
    item = rollups.read(campaign.id, f"ref#{code}")
    body = {"code": code, "campaign": campaign.id, **rollups.counters(item), "amount": rollups.amounts(item)}
    if campaign.leaderboard != "off":
        body["rank"] = rollups.rank(campaign.id, rollups.number(item.get("lb_score")))
    return body, list(campaign.allowed_origins)
