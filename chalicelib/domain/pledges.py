"""Pledges: idempotent by ``pledge_id``, attributed from a signed ``ref``, refundable once.

The pledge event item is its own idempotency record. A new pledge is one conditional
put; when the id exists, DynamoDB hands the stored item back with the refusal
(``ReturnValuesOnConditionCheckFailure``), so a replay costs one refused write and no
read. A status change (refund, cancellation) is one conditional update; the aggregator
sees the old and new images and takes the pledge out of every total exactly once.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from botocore.exceptions import ClientError

from chalicelib.hotpath import lookups
from chalicelib.hotpath import signing
from chalicelib.store import tables
from chalicelib.domain.currencies import is_currency
from chalicelib.errors import ApiError, bad_request
from chalicelib.store.events import lane_of, partition, utc_now
from chalicelib.store.schema import Campaign, Event
from chalicelib.web import validation as v

STATUSES = ("confirmed", "refunded", "cancelled")
FIELDS = frozenset({"pledge_id", "amount", "currency", "ref", "status", "occurred_at"})


@dataclass(frozen=True)
class Pledge:
    pledge_id: str
    amount: int
    currency: str
    status: str
    occurred_at: datetime
    ref: str | None = None
    external_id: str | None = None  # Stripe payment intent, to map a refund back


@dataclass(frozen=True)
class Attribution:
    code: str
    channel: str
    depth: int


def parse(body: object) -> Pledge:
    body = v.json_object(body)
    v.no_unknown_fields(body, FIELDS)
    pledge_id = v.text(body.get("pledge_id"), "invalid_pledge_id", "pledge_id", 1, 128)
    amount = v.integer(body.get("amount"), "invalid_amount", "amount", 1)
    if not is_currency(body.get("currency")):
        raise bad_request("invalid_currency", "currency must be an ISO-4217 code such as EUR.")
    status = v.one_of(body.get("status", "confirmed"), STATUSES, "invalid_status", "status")
    ref = body.get("ref")
    if ref is not None and not isinstance(ref, str):
        raise bad_request("invalid_ref", "ref must be a string.")
    occurred = body.get("occurred_at")
    occurred_at = utc_now() if occurred is None else v.timestamp(occurred, "invalid_occurred_at", "occurred_at")
    return Pledge(pledge_id, amount, body["currency"], status, occurred_at, ref or None)


def attribute(campaign: Campaign, ref: str | None, occurred_on: date) -> Attribution | None:
    """The referrer and channel a ref credits, or ``None`` (direct): never an error.

    A ref counts when it verifies for this campaign, its link exists, and its click day
    lies within the campaign's window before the pledge (a day of clock skew allowed).
    """
    parsed = signing.parse_ref(campaign.id, ref)
    if parsed is None:
        return None
    code, channel, clicked_on = parsed
    age = (occurred_on - clicked_on).days
    if not -1 <= age <= int(campaign.window_days):
        return None
    link = lookups.link(code)
    if link is None or link.campaign_id != campaign.id:
        return None
    return Attribution(code, channel, link.depth)


def _item(campaign: Campaign, pledge: Pledge, attribution: Attribution | None) -> Event:
    goal = pledge.amount if pledge.currency == campaign.goal_currency else 0
    return Event(
        partition(campaign.id, lane_of(pledge.pledge_id)), f"pl#{pledge.pledge_id}",
        kind="pledge", campaign_id=campaign.id, amount=pledge.amount, currency=pledge.currency,
        status=pledge.status, goal_amount=goal, occurred_at=pledge.occurred_at,
        day=pledge.occurred_at.date().isoformat(), external_id=pledge.external_id,
        code=attribution.code if attribution else None,
        channel=attribution.channel if attribution else "direct",
        depth=attribution.depth if attribution else None,
    )


def record(campaign: Campaign, pledge: Pledge) -> tuple[int, dict]:
    """Store a pledge or apply its new status. Returns ``(201 | 200, response body)``."""
    attribution = attribute(campaign, pledge.ref, pledge.occurred_at.date())
    item = _item(campaign, pledge, attribution)
    client = tables.model_client()
    try:
        client.put_item(TableName=Event.Meta.table_name, Item=item.serialize(),
                        ConditionExpression="attribute_not_exists(pk)",
                        ReturnValuesOnConditionCheckFailure="ALL_OLD")
        return 201, to_dict(item)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise  # an outage: the route answers 503
        stored = Event.from_raw_data(exc.response.get("Item") or _read(item))
    if (int(stored.amount), stored.currency) != (pledge.amount, pledge.currency):
        raise ApiError(409, "pledge_conflict",
                       "This pledge_id was recorded with another amount or currency.")
    if stored.status == "confirmed" and pledge.status != "confirmed":
        stored = _change_status(stored, pledge.status)
    return 200, to_dict(stored)


def _read(item: Event) -> dict:
    client = tables.model_client()
    response = client.get_item(TableName=Event.Meta.table_name, ConsistentRead=True,
                               Key={"pk": {"S": item.pk}, "sk": {"S": item.sk}})
    return response["Item"]


def _change_status(stored: Event, status: str) -> Event:
    """Confirmed → refunded/cancelled, once: a concurrent or repeated refund changes nothing."""
    from pynamodb.exceptions import UpdateError

    try:
        stored.update(actions=[Event.status.set(status)], condition=Event.status == "confirmed")
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        stored.refresh(consistent_read=True)
    return stored


def to_dict(item: Event) -> dict:
    attribution = {"code": item.code, "channel": item.channel} if item.code else None
    return {
        "pledge_id": item.sk[3:],
        "amount": int(item.amount),
        "currency": item.currency,
        "status": item.status,
        "occurred_at": v.iso(item.occurred_at),
        "attribution": attribution,
    }
