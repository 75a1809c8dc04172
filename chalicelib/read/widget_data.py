"""What the embedded widget shows: progress, leaderboard and milestones, from rollups only."""
from __future__ import annotations

import hashlib
import hmac

from chalicelib.store import rollups
from chalicelib.store.schema import Campaign
from chalicelib.hotpath.signing import derived_key

LEADERBOARD_SIZE = 10


def pseudonym(code: str) -> str:
    """A stable pseudonym for a referrer, unlinkable to the code without the server secret."""
    digest = hmac.new(derived_key("pseudonym"), code.encode(), hashlib.sha256).digest()
    return f"Fan #{int.from_bytes(digest[:3], 'big') % 9000 + 1000}"


def display_name(campaign: Campaign, code: str, name: str | None) -> str:
    return (name or pseudonym(code)) if campaign.leaderboard == "public" else pseudonym(code)


def leaderboard(campaign: Campaign, limit: int = LEADERBOARD_SIZE) -> list[dict]:
    """The top referrers (index order: amount in goal currency, then pledges); empty when off."""
    if campaign.leaderboard == "off":
        return []
    entries = []
    for rank, item in enumerate(rollups.top_referrers(campaign.id, limit), start=1):
        code = item["sk"]["S"][4:]
        entries.append({
            "rank": rank,
            "name": display_name(campaign, code, item.get("name", {}).get("S")),
            "clicks": rollups.number(item.get("clicks")),
            "pledges": rollups.number(item.get("pledges")),
            "amount": rollups.number(item.get("goal_amt")),
        })
    return entries


def widget(campaign: Campaign) -> dict:
    total = rollups.read(campaign.id, "total")
    fan_amount = rollups.number(total.get("fan_goal_amt"))
    return {
        "id": campaign.id,
        "name": campaign.name,
        "locale": campaign.locale,
        "channels": list(campaign.channels),
        "share_text": campaign.share_text or campaign.name,
        "goal": campaign.goal(),
        "raised": rollups.amounts(total),
        "pledges": rollups.number(total.get("pledges")),
        "referrers": rollups.number(total.get("referrers")),
        "attribution": {"model": campaign.attribution_model, "window_days": int(campaign.window_days)},
        "leaderboard_mode": campaign.leaderboard,
        "leaderboard": leaderboard(campaign),
        "fan_amount": fan_amount,
        "milestones": campaign.milestone_progress(fan_amount),
    }
