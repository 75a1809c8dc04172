"""Webhook events: what happened, with an id derived from the fact, and their announcement.

An event's id is a hash of its campaign, type and fact (a pledge id, a referrer's code, a
milestone's amount, a fan's reward and unlock generation): a replayed stream batch derives
the same id, and the event's claim (``store.webhook_records.claim_event``) makes it one event.
:func:`announce` is idempotent: claim, delivery, message, each safe to repeat.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from chalicelib.core import config
from chalicelib.core.validation import iso
from chalicelib.store import events_table, webhook_queue, webhook_records
from chalicelib.store.derived import Delivery, RewardState
from chalicelib.store.records import Campaign, Event, Milestone

TYPES = ("referrer.created", "pledge.created", "pledge.refunded", "milestone.reached", "reward.unlocked")


@dataclass(frozen=True)
class OutboundEvent:
    campaign_id: str
    type: str
    fact: str  # what makes it this event and no other, within its campaign and type
    data: dict[str, Any]

    @property
    def id(self) -> str:
        digest = hashlib.sha256(f"{self.campaign_id}\x1f{self.type}\x1f{self.fact}".encode()).hexdigest()
        return f"evt_{digest[:32]}"

    def body(self, created_ms: int) -> str:
        """The JSON a receiver gets, the same on every attempt."""
        return json.dumps({"id": self.id, "type": self.type, "created": created_ms // 1000,
                           "campaign": self.campaign_id, "data": self.data}, separators=(",", ":"),
                          ensure_ascii=False)


def _pledge(event: Event) -> dict[str, Any]:
    if event.amount is None or event.currency is None or event.status is None:
        raise ValueError("pledge without amount, currency or status")
    attribution = {"code": event.code, "channel": event.channel or "direct"} if event.code else None
    return {"pledge_id": events_table.pledge_id(event), "amount": event.amount, "currency": event.currency,
            "status": event.status, "occurred_at": iso(event.occurred_at), "attribution": attribution,
            "source": source(event)}


def source(event: Event) -> str:
    """Where a pledge came from: the pledges ``api``, ``stripe`` or a platform ``import``
    (a pledge stored before sources were recorded: ``stripe`` when it carries a payment intent)."""
    return event.source or ("stripe" if event.external_id else "api")


def from_change(name: str, new: Event, old: Event | None) -> OutboundEvent | None:
    """The event a stream change announces, if any: a new referrer, a new confirmed pledge,
    a confirmed pledge refunded or cancelled. ValueError for an unusable record."""
    if new.kind == "referrer" and name == "INSERT":
        if new.code is None:
            raise ValueError("referrer without code")
        return OutboundEvent(new.campaign_id, "referrer.created", new.code, {"referrer": {
            "code": new.code, "name": new.name, "referred_by": new.referred_by, "depth": new.depth,
            "created_at": iso(new.occurred_at)}})
    if new.kind != "pledge":
        return None
    if name == "INSERT" and new.status == "confirmed":
        return OutboundEvent(new.campaign_id, "pledge.created", events_table.pledge_id(new), {"pledge": _pledge(new)})
    if name == "MODIFY" and old is not None and old.status == "confirmed" and new.status in ("refunded", "cancelled"):
        return OutboundEvent(new.campaign_id, "pledge.refunded", events_table.pledge_id(new), {"pledge": _pledge(new)})
    return None


def milestone_reached(campaign: Campaign, milestone: Milestone, fan_amount: int) -> OutboundEvent:
    return OutboundEvent(campaign.id, "milestone.reached", str(milestone.amount), {
        "milestone": {"amount": milestone.amount, "label": milestone.label, "currency": campaign.goal_currency},
        "fan_amount": fan_amount})


def reward_unlocked(campaign: Campaign, state: RewardState, fan_pledges: int) -> OutboundEvent:
    return OutboundEvent(campaign.id, "reward.unlocked", f"{state.code}|{state.pledges}|{state.generation}", {
        "reward": {"pledges": state.pledges, "label": state.label},
        "referrer": {"code": state.code, "pledges": fan_pledges}})


def now_ms() -> int:
    return int(time.time() * 1000)


def announce(event: OutboundEvent, now: int | None = None) -> bool:
    """Make sure ``event`` has its delivery and that a message for it is queued. Repeating
    it (a replayed batch) finds the claim and the delivery, and queues again only a delivery
    that no attempt has touched yet (a message lost before its first attempt). ``True``
    when a message was queued."""
    created = webhook_records.claim_event(event.campaign_id, event.id, now_ms() if now is None else now)
    delivery = Delivery(campaign_id=event.campaign_id, event_id=event.id, type=event.type, created=created,
                        body=event.body(created), next_at=created,
                        deadline=created + int(config.webhook_give_up_seconds() * 1000))
    stored = webhook_records.insert_delivery(delivery)
    if stored is not None and (stored.status != "pending" or stored.attempts > 0):
        return False
    return webhook_queue.send(webhook_queue.Message(event.campaign_id, created, event.id))
