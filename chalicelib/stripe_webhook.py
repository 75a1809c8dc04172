"""Stripe webhooks: signed events become pledges and refunds.

The ``stripe`` library verifies the signature (and the 300 s tolerance); it is imported
here only, when a webhook arrives. Checkout sessions become confirmed pledges keyed by
the session id, so Stripe's redeliveries are replays; an alias item maps the payment
intent back to the session for ``charge.refunded``.
"""
from __future__ import annotations

from datetime import datetime, timezone

from pynamodb.exceptions import DoesNotExist

from chalicelib import pledges, tables
from chalicelib.errors import bad_request
from chalicelib.events import lane_of, partition
from chalicelib.models import Campaign, Event
from chalicelib.observability import logger

TOLERANCE_SECONDS = 300
PAID = ("paid", "no_payment_required")


def verify(campaign: Campaign, payload: bytes, signature: str | None) -> dict:
    """The verified event as a dict, or a 400 that stores nothing."""
    import stripe

    if not campaign.stripe_webhook_secret:
        raise bad_request("stripe_not_configured", "This campaign has no stripe_webhook_secret.")
    if not signature:
        raise bad_request("invalid_signature", "The Stripe-Signature header is missing.")
    try:
        event = stripe.Webhook.construct_event(payload.decode("utf-8"), signature, campaign.stripe_webhook_secret,
                                               tolerance=TOLERANCE_SECONDS)
    except (stripe.SignatureVerificationError, ValueError, UnicodeDecodeError):
        raise bad_request("invalid_signature", "The Stripe signature does not verify.") from None
    return event.to_dict()


def _alias_key(campaign_id: str, payment_intent: str) -> tuple[str, str]:
    return partition(campaign_id, lane_of(payment_intent)), f"pi#{payment_intent}"


def handle(campaign: Campaign, event: dict) -> dict:
    """Apply one verified event; unknown types are acknowledged and ignored."""
    kind = event.get("type")
    data = (event.get("data") or {}).get("object") or {}
    created = datetime.fromtimestamp(int(event.get("created") or 0), timezone.utc)
    if kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        if data.get("payment_status") not in PAID or not data.get("amount_total"):
            return {"received": True, "ignored": "not paid yet"}
        return {"received": True, "pledge": _checkout(campaign, data, created)}
    if kind == "charge.refunded":
        return {"received": True, "pledge": _refund(campaign, data, created)}
    return {"received": True, "ignored": kind}


def _checkout(campaign: Campaign, session: dict, created: datetime) -> dict:
    ref = session.get("client_reference_id") or (session.get("metadata") or {}).get("ref")
    pledge = pledges.Pledge(pledge_id=str(session["id"]), amount=int(session["amount_total"]),
                            currency=str(session.get("currency", "")).upper(), status="confirmed",
                            occurred_at=created, ref=ref, external_id=session.get("payment_intent"))
    if pledge.external_id:
        tables.bind()
        pk, sk = _alias_key(campaign.id, pledge.external_id)
        Event(pk, sk, kind="alias", campaign_id=campaign.id, external_id=pledge.pledge_id).save()
    return pledges.record(campaign, pledge)[1]


def _refund(campaign: Campaign, charge: dict, created: datetime) -> dict | None:
    intent = charge.get("payment_intent")
    if not intent or not charge.get("refunded"):
        logger.info("partial or unlinked refund ignored", extra={"charge": charge.get("id")})
        return None
    tables.bind()
    try:
        alias = Event.get(*_alias_key(campaign.id, intent), consistent_read=True)
        stored = Event.get(*(partition(campaign.id, lane_of(alias.external_id)), f"pl#{alias.external_id}"),
                           consistent_read=True)
    except DoesNotExist:
        logger.warning("refund for an unknown payment", extra={"payment_intent": intent})
        return None
    pledge = pledges.Pledge(pledge_id=alias.external_id, amount=int(stored.amount), currency=stored.currency,
                            status="refunded", occurred_at=created)
    return pledges.record(campaign, pledge)[1]
