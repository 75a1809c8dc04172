"""Stripe webhooks: signed events become pledges and refunds.

The ``stripe`` library verifies the signature (and the 300 s tolerance); it is imported
here only, when a webhook arrives. Checkout sessions become confirmed pledges keyed by
the session id, so Stripe's redeliveries are replays; an alias item maps the payment
intent back to the session for ``charge.refunded``, and a refund that arrives before its
checkout is remembered and applied when the checkout comes.

The campaign's ``whsec_…`` signing secret is kept sealed (:func:`sealed_secret`) and
unsealed only here, to verify an event; one stored in plain text before secrets were sealed
is used as it is until the creator sets it again.
"""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

from chalicelib.core import sealed_text
from chalicelib.core.errors import bad_request
from chalicelib.core.observability import logger
from chalicelib.core.validation import is_int
from chalicelib.domain import pledges
from chalicelib.store import events_table
from chalicelib.store.records import Campaign

TOLERANCE_SECONDS = 300
PAID = ("paid", "no_payment_required")
SEAL_PURPOSE = "stripe-secret"


def sealed_secret(secret: str) -> str:
    """A ``whsec_…`` secret as the campaigns table keeps it: sealed, never in plain text."""
    return sealed_text.seal(secret, SEAL_PURPOSE)


def verify(campaign: Campaign, payload: bytes, signature: str | None) -> dict:
    """The verified event as a dict, or a 400 that stores nothing."""
    import stripe

    if not campaign.stripe_webhook_secret:
        raise bad_request("stripe_not_configured", "This campaign has no stripe_webhook_secret.")
    secret = sealed_text.unseal_stored(campaign.stripe_webhook_secret, SEAL_PURPOSE)
    if secret is None:
        raise bad_request("stripe_not_configured", "This campaign's stripe_webhook_secret cannot be read "
                                                   "(the server secret changed): set it again.")
    if not signature:
        raise bad_request("invalid_signature", "The Stripe-Signature header is missing.")
    try:
        stripe.WebhookSignature.verify_header(payload.decode("utf-8"), signature, secret, TOLERANCE_SECONDS)
    except (stripe.SignatureVerificationError, UnicodeDecodeError):
        raise bad_request("invalid_signature", "The Stripe signature does not verify.") from None
    try:
        event = json.loads(payload)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the interpreter's stack
        raise bad_request("invalid_json", "The signed body is not JSON.") from None
    data = event.get("data") if isinstance(event, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict) or \
            not isinstance(event.get("type"), str) or not is_int(event.get("created")) or \
            not 0 < event["created"] < 10**10:
        raise bad_request("invalid_event", "The body is not a Stripe event.")
    return event


def handle(campaign: Campaign, event: dict) -> dict:
    """Apply one verified event; unknown types are acknowledged and ignored."""
    kind = event["type"]
    data = event["data"]["object"]
    created = datetime.fromtimestamp(event["created"], UTC)
    if kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        if data.get("payment_status") not in PAID or not data.get("amount_total"):
            return {"received": True, "ignored": "not paid yet"}
        return {"received": True, "pledge": _checkout(campaign, data, created)}
    if kind == "charge.refunded":
        return {"received": True, "pledge": _refund(campaign, data, created)}
    return {"received": True, "ignored": kind}


def _checkout(campaign: Campaign, session: dict, created: datetime) -> dict:
    """A paid checkout session: validated like any pledge, keyed by the session id.

    The payment intent's alias is written before the pledge, and a refund remembered for
    it is looked for after: with the refund writing its memo before looking for the
    alias, one of the two always sees the other, whatever order Stripe delivers them in.
    """
    metadata = session.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    ref = session.get("client_reference_id") or metadata.get("ref")
    currency = session.get("currency")
    body = {"pledge_id": session.get("id"), "amount": session.get("amount_total"),
            "currency": currency.upper() if isinstance(currency, str) else currency,
            "occurred_at": created.isoformat()}
    if isinstance(ref, str):
        body["ref"] = ref
    intent = session.get("payment_intent")
    request = replace(pledges.parse(body), external_id=intent if isinstance(intent, str) and intent else None,
                      source="stripe")
    if request.external_id:
        events_table.put_alias(campaign.id, request.external_id, request.pledge_id)
    _, answer = pledges.record(campaign, request)
    if request.external_id and events_table.refund_remembered(campaign.id, request.external_id):
        _, answer = pledges.record(campaign, replace(request, status="refunded"))
    return answer


def _refund(campaign: Campaign, charge: dict, created: datetime) -> dict | None:
    intent = charge.get("payment_intent")
    if not isinstance(intent, str) or not intent or len(intent) > 200 or charge.get("refunded") is not True:
        logger.info("partial or unlinked refund ignored", extra={"charge": str(charge.get("id"))[:100]})
        return None
    events_table.remember_refund(campaign.id, intent, str(charge.get("id"))[:200])
    pledge_id = events_table.pledge_of_payment(campaign.id, intent)
    stored = events_table.get_pledge(campaign.id, pledge_id) if pledge_id else None
    if stored is None:
        logger.info("refund remembered until its checkout arrives", extra={"payment_intent": intent})
        return None
    request = pledges.PledgeRequest(pledge_id=stored.pledge_id, amount=stored.amount, currency=stored.currency,
                                    status="refunded", occurred_at=created)
    return pledges.record(campaign, request)[1]
