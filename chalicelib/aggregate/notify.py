"""What a batch tells creators, once its counters are applied: webhooks, milestones, rewards.

- **Webhook events** from the batch's changes (``referrer.created``, ``pledge.created``,
  ``pledge.refunded``), for campaigns with a ``webhook_url``.
- **Community milestones** the fans' amount (goal currency) has reached: each is recorded
  once, and announced (``milestone.reached``) if the campaign had a webhook then.
- **Fans' rewards**: a fan's count of confirmed attributed pledges unlocks a reward at its
  threshold and a refund re-locks it, unless it was fulfilled (``reward.unlocked``).
- **Platform tags** of new fans, and of every fan when the campaign's platform is set
  or changed (``aggregate.tagging``), with the campaign read here.

Nothing here runs on the request path, and nothing depends on how often it runs: every
step compares stored state with what the counters say and moves it with idempotent writes
(``store.webhook_records``, ``store.reward_states``), so a replayed batch, or one that failed half-way
and is retried, ends in the same state with the same events. Batches without pledges or
new referrers cost nothing here (no read at all).
"""
from __future__ import annotations

from collections import defaultdict

from chalicelib.aggregate import tagging
from chalicelib.core.observability import count, logger
from chalicelib.outbound import mailer, webhook_events
from chalicelib.store import campaigns_table, reward_states, rollups_table, webhook_records
from chalicelib.store.derived import RewardState
from chalicelib.store.records import Campaign
from chalicelib.store.stream import Change

NOTIFYING_KINDS = ("pledge", "referrer", "settings")
SETTLE_ATTEMPTS = 6


def after_batch(changes: list[Change]) -> int:
    """Announce what ``changes`` (one batch, counters applied) tell; returns events queued."""
    by_campaign: dict[str, list[Change]] = defaultdict(list)
    for change in changes:
        if change.new.kind in NOTIFYING_KINDS:
            by_campaign[change.campaign_id].append(change)
    announced = 0
    for campaign_id, its in sorted(by_campaign.items()):
        campaign = campaigns_table.get(campaign_id)
        if campaign is None:
            continue
        settings = [change for change in its if change.new.kind == "settings"]
        announced += _campaign(campaign, [change for change in its if change.new.kind != "settings"])
        tagging.new_fans(campaign, its)
        if settings:
            announced += _settings_changed(campaign)
            tagging.every_fan(campaign)
    if announced:
        count("WebhookEventsQueued", announced)
    return announced


def _campaign(campaign: Campaign, changes: list[Change]) -> int:
    hooks = campaign.webhook_url is not None
    announced = 0
    if hooks:
        for change in changes:
            try:
                event = webhook_events.from_change(change.name, change.new, change.old)
            except ValueError as exc:
                count("SkippedEvents")
                logger.warning("stream record skipped for webhooks", extra={"reason": str(exc)[:300]})
                continue
            if event is not None:
                announced += webhook_events.announce(event)
    fans = {code for change in changes for code in _counted_fans(change)}
    if fans and campaign.milestones and campaign.goal_currency:
        announced += _milestones(campaign, hooks)
    if fans and campaign.rewards:
        announced += _rewards(campaign, fans, hooks)
    return announced


def _settings_changed(campaign: Campaign) -> int:
    """Rewards or milestones were set or changed: every fan who has a confirmed attributed
    pledge, or a stored reward state, is settled again under the new rewards (an unlock dated
    now, when it became true under them; a fan no longer reaching a changed reward locked
    again unless fulfilled), and the milestones the fans' amount reaches are recorded.
    The same idempotent steps as after a pledge: a replayed record changes nothing more."""
    hooks = campaign.webhook_url is not None
    announced = _milestones(campaign, hooks) if campaign.milestones and campaign.goal_currency else 0
    if campaign.rewards:
        fans = {code for code, item in rollups_table.every_referrer(campaign.id) if item.get("pledges") > 0}
        fans |= {state.code for state in reward_states.every_state(campaign.id)}
        announced += _rewards(campaign, fans, hooks) if fans else 0
    return announced


def _counted_fans(change: Change) -> set[str]:
    """The fan whose confirmed pledges this change adds or takes away, if any."""
    new, old = change.new, change.old
    if new.kind != "pledge" or not new.code:
        return set()
    was = old is not None and old.status == "confirmed"
    return {new.code} if (new.status == "confirmed") != was else set()


def _milestones(campaign: Campaign, hooks: bool) -> int:
    fan_amount = rollups_table.total(campaign.id, consistent=True).get("fan_goal_amt")
    reached = {m.amount: m for m in reversed(campaign.milestones) if m.amount <= fan_amount}
    if not reached:
        return 0
    states = webhook_records.milestone_states(campaign.id, list(reached))
    announced = 0
    for amount, milestone in sorted(reached.items()):
        state = states.get(amount) or webhook_records.reach_milestone(
            campaign.id, amount, webhook_events.now_ms(), not hooks)
        if state.notified:
            continue
        if hooks:
            announced += webhook_events.announce(webhook_events.milestone_reached(campaign, milestone, fan_amount))
        webhook_records.milestone_notified(campaign.id, amount)
    return announced


def _rewards(campaign: Campaign, codes: set[str], hooks: bool) -> int:
    counts = reward_states.fans(campaign.id, codes)
    labels = {reward.pledges: reward.label for reward in reversed(campaign.rewards)}  # first label per count
    announced = 0
    for code in sorted(codes):
        pledges = counts.get(code, (0, None))[0]
        states = reward_states.states_of(campaign.id, code)
        for threshold, label in sorted(labels.items()):
            state, pledges = _settle(campaign.id, states.get(threshold) or RewardState(code, threshold, label),
                                     label, pledges)
            if not state.unlocked or state.notified >= state.generation:
                continue
            if hooks:
                announced += webhook_events.announce(webhook_events.reward_unlocked(campaign, state, pledges))
            mailer.reward_unlocked(campaign, state)  # the fan's e-mail, if they opted in (sent once per unlock)
            reward_states.mark_notified(campaign.id, code, threshold, state.generation)
    return announced


def _settle(campaign_id: str, state: RewardState, label: str, pledges: int) -> tuple[RewardState, int]:
    """Move the state to what the fan's count says (a fulfilled reward stays unlocked).

    A transition is refused when the count or the state changed since they were read
    (another shard counted another of the fan's pledges): read both again and decide again.
    """
    for _ in range(SETTLE_ATTEMPTS):
        wanted = pledges >= state.pledges or state.fulfilled_at is not None
        if wanted == state.unlocked:
            return state, pledges
        moved = reward_states.transition(campaign_id, state, wanted, label, webhook_events.now_ms())
        if moved is not None:
            return moved, pledges
        pledges = reward_states.fans(campaign_id, [state.code]).get(state.code, (0, None))[0]
        state = reward_states.states_of(campaign_id, state.code).get(state.pledges) or \
            RewardState(state.code, state.pledges, label)
    raise RuntimeError(f"reward state of {state.code} kept changing under us")
