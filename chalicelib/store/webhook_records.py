"""Outbound webhook items (rollups table, partition ``<campaign>#wh``): event claims,
deliveries, the campaign's send slots and the milestones its fans reached.

Every write gives the same result applied once or twice:
- an event claim is a conditional put under the event's id (derived from the fact): a
  replayed stream batch finds the claim, and with it the time the event was first seen;
- a delivery is a conditional put under that time and id: written once, then changed only
  by the dispatcher holding its lease, or re-armed by the creator while no attempt runs;
- an attempt starts with an update conditioned on the attempt count it read, and ends
  with an update conditioned on its own lease token (repeating it writes the same values);
- a send slot is taken by a conditional update that recognises its own token;
- a milestone reached is a put-if-absent, then a flag set.
"""
from __future__ import annotations

import json
from dataclasses import asdict, replace
from typing import Any

from chalicelib.store import clients, codec, keys
from chalicelib.store.derived import Attempt, Delivery, MilestoneState

TTL_DAYS = 30
"""Claims and deliveries expire a month after the event (the list shows the last 100)."""
HISTORY = 10
"""Attempts kept on a delivery (the count keeps counting)."""
_DAY_MS = 86_400_000


def _key(campaign_id: str, sk: str) -> dict:
    return {"pk": codec.s(keys.webhook_pk(campaign_id)), "sk": codec.s(sk)}


def _expiry(created_ms: int) -> dict:
    return codec.n((created_ms + TTL_DAYS * _DAY_MS) // 1000)


def _failed_condition(exc: BaseException) -> bool:
    return clients.error_code(exc) == "ConditionalCheckFailedException"


def _table() -> str:
    return clients.table("rollups")


# event claims ------------------------------------------------------------------------------

def claim_event(campaign_id: str, event_id: str, created_ms: int) -> int:
    """Record the event as seen at ``created_ms``; returns when it was first seen (this call's
    time, or an earlier call's when a replay finds its claim)."""
    try:
        clients.patient().put_item(
            TableName=_table(), Item={**_key(campaign_id, keys.event_claim_sk(event_id)),
                                      "created": codec.n(created_ms), "expires_at": _expiry(created_ms)},
            ConditionExpression="attribute_not_exists(pk)", ReturnValuesOnConditionCheckFailure="ALL_OLD")
        return created_ms
    except Exception as exc:
        if not _failed_condition(exc):
            raise
        stored = getattr(exc, "response", {}).get("Item") or _get(campaign_id, keys.event_claim_sk(event_id))
    return codec.number(stored["created"])


def claimed_at(campaign_id: str, event_id: str) -> int | None:
    item = _get(campaign_id, keys.event_claim_sk(event_id))
    return codec.number(item["created"]) if item else None


# deliveries --------------------------------------------------------------------------------

def _history(attempts: tuple[Attempt, ...]) -> dict:
    return codec.s(json.dumps([asdict(a) for a in attempts], separators=(",", ":")))


def _delivery_item(delivery: Delivery) -> dict:
    item = {**_key(delivery.campaign_id, keys.delivery_sk(delivery.created, delivery.event_id)),
            "event_id": codec.s(delivery.event_id), "type": codec.s(delivery.type), "body": codec.s(delivery.body),
            "status": codec.s(delivery.status), "attempts": codec.n(delivery.attempts),
            "next_at": codec.n(delivery.next_at), "deadline": codec.n(delivery.deadline),
            "history": _history(delivery.history), "lease_until": codec.n(delivery.lease_until),
            "expires_at": _expiry(delivery.created)}
    if delivery.lease:
        item["lease"] = codec.s(delivery.lease)
    return item


def _delivery(item: dict) -> Delivery:
    created, event_id = keys.split_delivery_sk(codec.text(item["sk"]) or "")
    campaign_id = keys.campaign_of_webhook_pk(codec.text(item["pk"]) or "")
    history = tuple(Attempt(**attempt) for attempt in json.loads(codec.text(item.get("history")) or "[]"))
    return Delivery(campaign_id=campaign_id, event_id=event_id, type=codec.text(item["type"]) or "",
                    created=created, body=codec.text(item["body"]) or "", status=codec.text(item["status"]) or "",
                    attempts=codec.number(item["attempts"]), next_at=codec.number(item["next_at"]),
                    deadline=codec.number(item["deadline"]), history=history, lease=codec.text(item.get("lease")),
                    lease_until=codec.optional_number(item.get("lease_until")))


def insert_delivery(delivery: Delivery) -> Delivery | None:
    """Store a new delivery; ``None`` when this call stored it, else the one already stored."""
    try:
        clients.patient().put_item(TableName=_table(), Item=_delivery_item(delivery),
                                   ConditionExpression="attribute_not_exists(pk)",
                                   ReturnValuesOnConditionCheckFailure="ALL_OLD")
        return None
    except Exception as exc:
        if not _failed_condition(exc):
            raise
        stored = getattr(exc, "response", {}).get("Item") or _get(
            delivery.campaign_id, keys.delivery_sk(delivery.created, delivery.event_id))
    return _delivery(stored)


def replace_body(delivery: Delivery, body: str) -> None:
    """Rewrite a stored delivery's body (an erased fan's name taken out): the same item
    again when applied twice. Later attempts send the new body."""
    clients.patient().update_item(
        TableName=_table(), Key=_key(delivery.campaign_id, keys.delivery_sk(delivery.created, delivery.event_id)),
        UpdateExpression="SET #b = :b", ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeNames={"#b": "body"}, ExpressionAttributeValues={":b": codec.s(body)})


def get_delivery(campaign_id: str, created_ms: int, event_id: str) -> Delivery | None:
    item = _get(campaign_id, keys.delivery_sk(created_ms, event_id))
    return _delivery(item) if item else None


def find_delivery(campaign_id: str, event_id: str) -> Delivery | None:
    """A delivery by its event id (through the event's claim)."""
    created = claimed_at(campaign_id, event_id)
    return get_delivery(campaign_id, created, event_id) if created is not None else None


def recent_deliveries(campaign_id: str, limit: int = 100) -> list[Delivery]:
    """The campaign's last ``limit`` deliveries, newest first (one query)."""
    response = clients.patient().query(
        TableName=_table(), Limit=limit, ScanIndexForward=False, ConsistentRead=True,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :d)",
        ExpressionAttributeValues={":pk": codec.s(keys.webhook_pk(campaign_id)), ":d": codec.s(keys.DELIVERY_PREFIX)})
    return [_delivery(item) for item in response.get("Items", [])]


def start_attempt(delivery: Delivery, token: str, now_ms: int, lease_until: int) -> Delivery | None:
    """Take the delivery's lease for one attempt (counting it); ``None`` when another worker
    holds it, it is no longer pending, or another attempt was counted since it was read."""
    key = _key(delivery.campaign_id, keys.delivery_sk(delivery.created, delivery.event_id))
    try:
        response = clients.patient().update_item(
            TableName=_table(), Key=key, ReturnValues="ALL_NEW",
            UpdateExpression="SET attempts = :next, lease = :token, lease_until = :until",
            ConditionExpression="#s = :pending AND attempts = :seen AND lease_until < :now",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":next": codec.n(delivery.attempts + 1), ":token": codec.s(token),
                                       ":until": codec.n(lease_until), ":pending": codec.s("pending"),
                                       ":seen": codec.n(delivery.attempts), ":now": codec.n(now_ms)})
        return _delivery(response["Attributes"])
    except Exception as exc:
        if not _failed_condition(exc):
            raise
    stored = get_delivery(delivery.campaign_id, delivery.created, delivery.event_id)
    mine = stored is not None and stored.lease == token and stored.attempts == delivery.attempts + 1
    return stored if mine else None  # ours when only the answer of our update was lost


def finish_attempt(delivery: Delivery, token: str, status: str, next_at: int, attempt: Attempt) -> Delivery:
    """Record an attempt's outcome. Conditioned on our lease, which stays ours: repeating the
    update (a retry after a lost answer) writes the same values."""
    history = (*delivery.history, attempt)[-HISTORY:]
    finished = replace(delivery, status=status, next_at=next_at, history=history, lease_until=0)
    clients.patient().update_item(
        TableName=_table(), Key=_key(delivery.campaign_id, keys.delivery_sk(delivery.created, delivery.event_id)),
        UpdateExpression="SET #s = :status, next_at = :next, history = :history, lease_until = :zero",
        ConditionExpression="lease = :token AND attempts = :attempts",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":status": codec.s(status), ":next": codec.n(next_at), ":history": _history(history),
                                   ":zero": codec.n(0), ":token": codec.s(token),
                                   ":attempts": codec.n(delivery.attempts)})
    return finished


def rearm(delivery: Delivery, now_ms: int, deadline: int) -> Delivery | None:
    """Make the delivery due now (a creator's retry), whatever its status; ``None`` while an
    attempt is running. Applying it twice leaves it due now all the same."""
    try:
        response = clients.patient().update_item(
            TableName=_table(), Key=_key(delivery.campaign_id, keys.delivery_sk(delivery.created, delivery.event_id)),
            ReturnValues="ALL_NEW", UpdateExpression="SET #s = :pending, next_at = :now, deadline = :deadline",
            ConditionExpression="attribute_exists(pk) AND lease_until < :now",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":pending": codec.s("pending"), ":now": codec.n(now_ms),
                                       ":deadline": codec.n(deadline)})
        return _delivery(response["Attributes"])
    except Exception as exc:
        if not _failed_condition(exc):
            raise
    return None


# send slots --------------------------------------------------------------------------------

def acquire_slot(campaign_id: str, slot: int, token: str, now_ms: int, until_ms: int) -> bool:
    """Take one of the campaign's send slots until ``until_ms`` (free, expired, or already ours)."""
    try:
        clients.patient().update_item(
            TableName=_table(), Key=_key(campaign_id, keys.send_slot_sk(slot)),
            UpdateExpression="SET holder = :token, #u = :until",
            ConditionExpression="attribute_not_exists(#u) OR #u < :now OR holder = :token",
            ExpressionAttributeNames={"#u": "until"},
            ExpressionAttributeValues={":token": codec.s(token), ":until": codec.n(until_ms), ":now": codec.n(now_ms)})
        return True
    except Exception as exc:
        if not _failed_condition(exc):
            raise
    return False


def release_slot(campaign_id: str, slot: int, token: str) -> None:
    try:
        clients.patient().update_item(
            TableName=_table(), Key=_key(campaign_id, keys.send_slot_sk(slot)), UpdateExpression="SET #u = :zero",
            ConditionExpression="holder = :token", ExpressionAttributeNames={"#u": "until"},
            ExpressionAttributeValues={":zero": codec.n(0), ":token": codec.s(token)})
    except Exception as exc:
        if not _failed_condition(exc):
            raise  # someone took it after our lease ran out: theirs now


# milestones reached ------------------------------------------------------------------------

def _milestone(item: dict) -> MilestoneState:
    return MilestoneState(amount=keys.milestone_of(codec.text(item["sk"]) or ""),
                          reached_at=codec.number(item["reached_at"]),
                          notified=bool(item.get("notified", {}).get("BOOL")))


def milestone_states(campaign_id: str, amounts: list[int]) -> dict[int, MilestoneState]:
    """The stored state of each of these milestones that was reached (strongly consistent)."""
    wanted = [_key(campaign_id, keys.milestone_sk(amount)) for amount in sorted(set(amounts))]
    found: dict[int, MilestoneState] = {}
    for start in range(0, len(wanted), 100):
        pending: dict[str, Any] = {_table(): {"Keys": wanted[start:start + 100], "ConsistentRead": True}}
        while pending:
            response = clients.patient().batch_get_item(RequestItems=pending)
            for item in response.get("Responses", {}).get(_table(), []):
                state = _milestone(item)
                found[state.amount] = state
            pending = response.get("UnprocessedKeys") or {}
    return found


def reach_milestone(campaign_id: str, amount: int, now_ms: int, notified: bool) -> MilestoneState:
    """Record that the fans' amount reached ``amount`` (once: a second call finds the first)."""
    try:
        clients.patient().put_item(
            TableName=_table(), Item={**_key(campaign_id, keys.milestone_sk(amount)), "reached_at": codec.n(now_ms),
                                      "notified": {"BOOL": notified}},
            ConditionExpression="attribute_not_exists(pk)", ReturnValuesOnConditionCheckFailure="ALL_OLD")
        return MilestoneState(amount, now_ms, notified)
    except Exception as exc:
        if not _failed_condition(exc):
            raise
        stored = getattr(exc, "response", {}).get("Item") or _get(campaign_id, keys.milestone_sk(amount))
    return _milestone(stored)


def milestone_notified(campaign_id: str, amount: int) -> None:
    clients.patient().update_item(
        TableName=_table(), Key=_key(campaign_id, keys.milestone_sk(amount)), UpdateExpression="SET notified = :yes",
        ExpressionAttributeValues={":yes": {"BOOL": True}})


def _get(campaign_id: str, sk: str) -> dict:
    response = clients.patient().get_item(TableName=_table(), Key=_key(campaign_id, sk), ConsistentRead=True)
    return response.get("Item", {})
