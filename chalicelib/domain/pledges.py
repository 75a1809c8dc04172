"""Pledges: idempotent by ``pledge_id``, attributed from a signed ``ref``, refundable once.

The pledge event item is its own idempotency record (``store.events_table.insert_pledge``). A
status change (refund, cancellation) is one conditional update; the aggregator sees the
old and new images and takes the pledge out of every total exactly once. A refund or
cancellation may leave out the amount and the currency: the stored pledge's are used.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from chalicelib.core import validation as v
from chalicelib.core.clock import utc_now
from chalicelib.core.errors import ApiError, bad_request, not_found
from chalicelib.domain.currencies import is_currency
from chalicelib.hotpath import lookups, signing
from chalicelib.store import events_table
from chalicelib.store.records import Campaign, Pledge

STATUSES = ("confirmed", "refunded", "cancelled")
ENDINGS = ("refunded", "cancelled")
"""The statuses that may name a stored pledge by its id alone (no amount, no currency)."""
FIELDS = frozenset({"pledge_id", "amount", "currency", "ref", "status", "occurred_at"})


@dataclass(frozen=True)
class PledgeRequest:
    pledge_id: str
    amount: int | None  # None: a refund or cancellation that left it out (the stored pledge's)
    currency: str | None  # likewise
    status: str
    occurred_at: datetime
    ref: str | None = None
    external_id: str | None = None  # Stripe payment intent, to map a refund back
    source: str = "api"  # or "stripe": where the pledge came from (webhooks carry it)


@dataclass(frozen=True)
class Attribution:
    code: str
    channel: str
    depth: int


def _currency(value: object) -> str:
    if isinstance(value, str) and is_currency(value):
        return value
    raise bad_request("invalid_currency", "currency must be an ISO-4217 code such as EUR.")


def parse(body: object) -> PledgeRequest:
    body = v.json_object(body)
    v.no_unknown_fields(body, FIELDS)
    pledge_id = v.text(body.get("pledge_id"), "invalid_pledge_id", "pledge_id", 1, 128)
    ending = body.get("status") in ENDINGS
    amount = None if ending and "amount" not in body else v.integer(body.get("amount"), "invalid_amount", "amount", 1)
    currency = None if ending and "currency" not in body else _currency(body.get("currency"))
    status = v.one_of(body.get("status", "confirmed"), STATUSES, "invalid_status", "status")
    ref = body.get("ref")
    if ref is not None and not isinstance(ref, str):
        raise bad_request("invalid_ref", "ref must be a string.")
    occurred = body.get("occurred_at")
    occurred_at = utc_now() if occurred is None else v.timestamp(occurred, "invalid_occurred_at", "occurred_at")
    return PledgeRequest(pledge_id, amount, currency, status, occurred_at, ref or None)


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


def _completed(campaign: Campaign, request: PledgeRequest) -> tuple[int, str]:
    """The request's amount and currency, those it left out read from the stored pledge.

    Only a refund or cancellation leaves them out (``parse``); of a pledge never recorded
    there is nothing to end: ``404 pledge_not_found``. Those given are compared with the
    stored ones as any replay's are (``409 pledge_conflict``).
    """
    if request.amount is not None and request.currency is not None:
        return request.amount, request.currency
    stored = events_table.get_pledge(campaign.id, request.pledge_id)
    if stored is None:
        raise not_found("pledge")
    return (stored.amount if request.amount is None else request.amount,
            stored.currency if request.currency is None else request.currency)


def record(campaign: Campaign, request: PledgeRequest) -> tuple[int, dict]:
    """Store a pledge or apply its new status. Returns ``(201 | 200, response body)``."""
    amount, currency = _completed(campaign, request)
    attribution = attribute(campaign, request.ref, request.occurred_at.date())
    pledge = Pledge(
        campaign_id=campaign.id, pledge_id=request.pledge_id, amount=amount, currency=currency,
        status=request.status, occurred_at=request.occurred_at,
        goal_amount=amount if currency == campaign.goal_currency else 0,
        channel=attribution.channel if attribution else "direct", code=attribution.code if attribution else None,
        depth=attribution.depth if attribution else None, external_id=request.external_id,
        request_token=events_table.new_token(), source=request.source)
    created, stored = events_table.insert_pledge(pledge)
    if created:
        return 201, to_dict(stored)
    if (stored.amount, stored.currency) != (amount, currency):
        raise ApiError(409, "pledge_conflict", "This pledge_id was recorded with another amount or currency.")
    if stored.status == "confirmed" and request.status != "confirmed":
        stored = events_table.end_pledge(campaign.id, stored.pledge_id, request.status)
    return 200, to_dict(stored)


def to_dict(pledge: Pledge) -> dict:
    attribution = {"code": pledge.code, "channel": pledge.channel} if pledge.code else None
    return {
        "pledge_id": pledge.pledge_id,
        "amount": pledge.amount,
        "currency": pledge.currency,
        "status": pledge.status,
        "occurred_at": v.iso(pledge.occurred_at),
        "attribution": attribution,
    }
