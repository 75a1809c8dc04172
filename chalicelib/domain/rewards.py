"""Fan rewards: the creator's thresholds, a fan's progress, and the list to fulfil.

A fan unlocks a reward when that many confirmed pledges are attributed to their link; a
refund takes it back until the creator marks it fulfilled. The aggregator keeps one state
per fan and reward (``aggregate.notify``, ``store.reward_states``); a fan's own view reads their
counter and their fulfilled rewards, so it is exact the moment the counter is.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib.core import validation as v
from chalicelib.core.errors import ApiError, bad_request
from chalicelib.outbound.webhook_events import now_ms
from chalicelib.store import reward_states
from chalicelib.store.derived import RewardState
from chalicelib.store.records import Campaign, Reward

MAX_REWARDS = 20
MAX_PLEDGES = 1_000_000


def parse(value: Any) -> list[Reward]:
    """``[{"pledges": int > 0, "label": str}]``, at most 20, each count once; sorted by count."""
    if not isinstance(value, list) or len(value) > MAX_REWARDS:
        raise bad_request("invalid_rewards", f"rewards must be a list of at most {MAX_REWARDS}.")
    rewards = []
    for item in value:
        if not isinstance(item, dict) or set(item) != {"pledges", "label"}:
            raise bad_request("invalid_rewards", "Each reward is {\"pledges\": int > 0, \"label\": str}.")
        pledges = v.integer(item["pledges"], "invalid_rewards", "reward pledges", 1, MAX_PLEDGES)
        rewards.append(Reward(pledges, v.text(item["label"], "invalid_rewards", "reward label", 1, 120)))
    if len({reward.pledges for reward in rewards}) != len(rewards):
        raise bad_request("invalid_rewards", "Two rewards cannot need the same number of pledges.")
    return sorted(rewards, key=lambda reward: reward.pledges)


def progress(campaign: Campaign, code: str, fan_pledges: int) -> dict[str, Any]:
    """``rewards`` (each unlocked or not) and ``next_reward`` for the fan's own view."""
    if not campaign.rewards:
        return {"rewards": [], "next_reward": None}
    fulfilled = {pledges for pledges, state in reward_states.states_of(campaign.id, code).items()
                 if state.fulfilled_at is not None}
    unlocked = {reward.pledges for reward in campaign.rewards if fan_pledges >= reward.pledges} | fulfilled
    upcoming = next((reward for reward in campaign.rewards if reward.pledges not in unlocked), None)
    return {"rewards": [{"pledges": reward.pledges, "label": reward.label, "unlocked": reward.pledges in unlocked}
                        for reward in campaign.rewards],
            "next_reward": None if upcoming is None else {"pledges": upcoming.pledges, "label": upcoming.label,
                                                          "remaining": upcoming.pledges - fan_pledges}}


def _moment(ms: int | None) -> str | None:
    return v.iso(datetime.fromtimestamp(ms / 1000, tz=UTC)) if ms else None


def _row(campaign: Campaign, state: RewardState, fan: tuple[int, str | None]) -> dict[str, Any]:
    labels = {reward.pledges: reward.label for reward in campaign.rewards}
    return {"code": state.code, "name": fan[1], "pledges": state.pledges,
            "label": labels.get(state.pledges, state.label), "unlocked_at": _moment(state.unlocked_at),
            "fulfilled_at": _moment(state.fulfilled_at), "fan_pledges": fan[0]}


def unlocked(campaign: Campaign) -> dict[str, Any]:
    """Who unlocked what, to fulfil: rewards still to fulfil first, then by unlock time."""
    offered = {reward.pledges for reward in campaign.rewards}
    states = [state for state in reward_states.every_state(campaign.id) if state.unlocked and state.pledges in offered]
    fans = reward_states.fans(campaign.id, {state.code for state in states})
    states.sort(key=lambda s: (s.fulfilled_at is not None, s.unlocked_at or 0, s.code, s.pledges))
    return {"rewards": [_row(campaign, state, fans.get(state.code, (0, None))) for state in states]}


def _which(body: Any) -> tuple[str, int]:
    """``(code, pledges)``: which fan's reward a fulfilment (or its undoing) is about."""
    body = v.json_object(body)
    v.no_unknown_fields(body, {"code", "pledges"})
    code = body.get("code")
    if not isinstance(code, str) or not code.isascii() or not code.isalnum() or not 4 <= len(code) <= 16:
        raise bad_request("invalid_code", "code must be a fan's link code.")
    return code, v.integer(body.get("pledges"), "invalid_rewards", "pledges", 1, MAX_PLEDGES)


def fulfil(campaign: Campaign, body: Any) -> dict[str, Any]:
    """Mark a fan's unlocked reward fulfilled: a refund no longer takes it back."""
    code, pledges = _which(body)
    offered = any(reward.pledges == pledges for reward in campaign.rewards)
    state = reward_states.fulfil(campaign.id, code, pledges, now_ms()) if offered else None
    if state is None:
        raise ApiError(409, "reward_locked", "This fan has not unlocked this reward.")
    fan = reward_states.fans(campaign.id, [code]).get(code, (0, None))
    return {"reward": _row(campaign, state, fan)}


def unfulfil(campaign: Campaign, body: Any) -> dict[str, Any]:
    """Undo a fulfilment marked by mistake: the reward is unlocked and to fulfil again, and a
    refund may take it back. Relais tells the fan nothing when a reward is marked fulfilled (their
    only message is the unlock's), so there is no message to take back; but once pledges were
    refunded below the threshold, undoing would take the reward from the fan: ``409``."""
    code, pledges = _which(body)
    offered = any(reward.pledges == pledges for reward in campaign.rewards)
    state = reward_states.unfulfil(campaign.id, code, pledges) if offered else None
    if state is None:
        before = reward_states.states_of(campaign.id, code).get(pledges) if offered else None
        if before is not None and before.unlocked and before.fulfilled_at is not None:
            raise ApiError(409, "reward_refunded", "Pledges were refunded since this reward was marked fulfilled: "
                                                   "undoing would take it back from the fan, so it stays fulfilled.")
        raise ApiError(409, "reward_locked", "This fan has not unlocked this reward.")
    fan = reward_states.fans(campaign.id, [code]).get(code, (0, None))
    return {"reward": _row(campaign, state, fan)}
