"""What the embedded widget shows: progress, leaderboard and milestones, from rollups only."""
from __future__ import annotations

import hashlib
import hmac

from chalicelib.core.derived_keys import derived_key
from chalicelib.store import rollups_table
from chalicelib.store.derived import Board
from chalicelib.store.records import Campaign

LEADERBOARD_SIZE = 10
ERASED = "erased"
"""What shows in place of an erased fan's name."""


def pseudonym(code: str) -> str:
    """A stable pseudonym for a referrer, unlinkable to the code without the server secret."""
    digest = hmac.new(derived_key("pseudonym"), code.encode(), hashlib.sha256).digest()
    return f"Fan #{int.from_bytes(digest[:3], 'big') % 9000 + 1000}"


def display_name(campaign: Campaign, code: str, name: str | None, erased: bool = False) -> str:
    if erased:
        return ERASED
    return (name or pseudonym(code)) if campaign.leaderboard == "public" else pseudonym(code)


def leaderboard(campaign: Campaign, limit: int = LEADERBOARD_SIZE, board: Board | None = None) -> list[dict]:
    """The top fans with a pledge, hidden fans left out (amount in goal currency, then
    pledges), from the campaign's one leaderboard item; empty when off."""
    if campaign.leaderboard == "off":
        return []
    board = board if board is not None else rollups_table.board(campaign.id)
    return [{"rank": rank, "name": display_name(campaign, e.code, e.name, e.erased), "clicks": e.clicks,
             "pledges": e.pledges, "amount": e.goal_amount}
            for rank, e in enumerate(board.entries[:limit], start=1)]


def rank(board: Board, code: str, hidden: bool) -> int | None:
    """A fan's place on the leaderboard: their position when they are on it; just below its
    last fan while it is not full (a fan without a pledge yet); ``None`` for a hidden fan and
    below a full board (beyond its first ``BOARD_SIZE``): one item read, whatever the count."""
    from chalicelib.aggregate.board import BOARD_SIZE

    if code in board.order:
        return board.order.index(code) + 1
    if hidden or len(board.order) >= BOARD_SIZE:
        return None
    return len(board.order) + 1


def widget(campaign: Campaign) -> dict:
    total = rollups_table.total(campaign.id)
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
        "email": campaign.email is not None and campaign.email.enabled,  # "Already have a link?", reward e-mails
    }
