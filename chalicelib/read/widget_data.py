"""What the embedded widget shows: progress, leaderboard and milestones, from rollups only."""
from __future__ import annotations

import hashlib
import hmac

from chalicelib.store import rollups
from chalicelib.store.records import Campaign
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
    for rank, (code, item) in enumerate(rollups.top_referrers(campaign.id, limit), start=1):
        entries.append({
            "rank": rank,
            "name": display_name(campaign, code, item.name),
            "clicks": item.get("clicks"),
            "pledges": item.get("pledges"),
            "amount": item.get("goal_amt"),
        })
    return entries


def widget(campaign: Campaign) -> dict:
    total = rollups.total(campaign.id)
    fan_amount = total.get("fan_goal_amt")
    return {
        "id": campaign.id,
        "name": campaign.name,
        "locale": campaign.locale,
        "channels": list(campaign.channels),
        "share_text": campaign.share_text or campaign.name,
        "goal": campaign.goal(),
        "raised": total.amounts,
        "pledges": total.get("pledges"),
        "referrers": total.get("referrers"),
        "attribution": {"model": campaign.attribution_model, "window_days": campaign.window_days},
        "leaderboard_mode": campaign.leaderboard,
        "leaderboard": leaderboard(campaign),
        "fan_amount": fan_amount,
        "milestones": campaign.milestone_progress(fan_amount),
        "rewards": [{"pledges": r.pledges, "label": r.label} for r in campaign.rewards],
    }
