"""Webhook and Stripe signing secrets are sealed at rest, like fans' e-mails: the campaigns table
(an export, a backup, the local journal) holds neither in plain text, and both are unsealed
only where they are used — signing a delivery, verifying a Stripe event (real ``stripe``
library). Secrets stored in plain text before sealing keep working as they are."""
from __future__ import annotations

import json
import time

import stripe

from chalicelib.store import campaigns_table
from harness.raw_items import set_text, stored
from harness.webhooks import dispatching, documented_verifier

STRIPE_SECRET = "whsec_sealed_at_rest_4242"


def _store_plain_secrets(campaign_id: str, webhook_secret: str, stripe_secret: str) -> None:
    """What an item written before secrets were sealed holds."""
    set_text("campaigns", {"id": campaign_id}, webhook_secret=webhook_secret, stripe_webhook_secret=stripe_secret)


def _stripe_checkout(api, campaign_id: str, secret: str, session: str):
    payload = json.dumps({"id": f"evt_{session}", "object": "event", "type": "checkout.session.completed",
                          "created": int(time.time()), "livemode": False, "api_version": "2024-06-20",
                          "data": {"object": {"id": session, "object": "checkout.session", "amount_total": 1500,
                                              "currency": "eur", "payment_status": "paid",
                                              "payment_intent": f"pi_{session}", "client_reference_id": None,
                                              "metadata": {}}}})
    header = stripe.WebhookSignature.generate_signature_header(payload, secret)
    return api.call("POST", f"/v1/campaigns/{campaign_id}/stripe", raw=payload, headers={"Stripe-Signature": header})


def _delivered_pledge(api, poller, spool, receiver, campaign_id: str, key: str, pledge_id: str):
    response = api.call("POST", f"/v1/campaigns/{campaign_id}/pledges",
                        {"pledge_id": pledge_id, "amount": 2500, "currency": "EUR"}, token=key)
    assert response.status_code == 201, response.body
    poller.drain()
    with dispatching(spool):
        received = receiver.wait_for(lambda got: any(r.event["type"] == "pledge.created" for r in got),
                                     "pledge.created")
    (delivery,) = [r for r in received if r.event["type"] == "pledge.created"]
    return delivery


def test_the_campaigns_table_holds_neither_signing_secret_in_plain_text(api):
    campaign, key = api.create_campaign(stripe_webhook_secret=STRIPE_SECRET)
    hooked = api.call("PATCH", f"/v1/campaigns/{campaign['id']}", {"webhook_url": "https://hooks.example.org/r"},
                      token=key)
    webhook_secret = hooked.data["webhook_secret"]
    item = json.dumps(stored("campaigns", id=campaign["id"]))  # nowhere at rest
    assert webhook_secret.startswith("rwh_") and webhook_secret not in item
    assert STRIPE_SECRET not in item and "whsec_" not in item and "rwh_" not in item
    record = campaigns_table.get(campaign["id"])
    assert (record.webhook_secret[:3], record.stripe_webhook_secret[:3]) == ("v1.", "v1.")


def test_a_delivery_is_signed_with_the_secret_shown_once_though_the_table_holds_it_sealed(
        api, poller, spool, receiver):
    campaign, key = api.create_campaign()
    hooked = api.call("PATCH", f"/v1/campaigns/{campaign['id']}", {"webhook_url": receiver.url}, token=key)
    secret = hooked.data["webhook_secret"]
    delivery = _delivered_pledge(api, poller, spool, receiver, campaign["id"], key, "order-sealed")
    assert secret not in json.dumps(stored("campaigns", id=campaign["id"]))
    assert documented_verifier()(secret, delivery.body, delivery.headers["relais-signature"])


def test_a_stripe_event_signed_with_the_secret_set_verifies_though_the_table_holds_it_sealed(api):
    campaign, _ = api.create_campaign(stripe_webhook_secret=STRIPE_SECRET)
    assert STRIPE_SECRET not in json.dumps(stored("campaigns", id=campaign["id"]))
    accepted = _stripe_checkout(api, campaign["id"], STRIPE_SECRET, "cs_sealed")
    forged = _stripe_checkout(api, campaign["id"], "whsec_someone_else_4242", "cs_forged")
    assert (accepted.status_code, forged.status_code) == (200, 400)
    assert accepted.data["pledge"]["amount"] == 1500


def test_secrets_stored_in_plain_text_before_sealing_still_sign_and_verify(api, poller, spool, receiver):
    campaign, key = api.create_campaign()
    api.call("PATCH", f"/v1/campaigns/{campaign['id']}", {"webhook_url": receiver.url}, token=key)
    legacy_webhook, legacy_stripe = "rwh_" + "L" * 32, "whsec_legacy_plain_4242"
    _store_plain_secrets(campaign["id"], legacy_webhook, legacy_stripe)
    delivery = _delivered_pledge(api, poller, spool, receiver, campaign["id"], key, "order-legacy")
    assert documented_verifier()(legacy_webhook, delivery.body, delivery.headers["relais-signature"])
    assert _stripe_checkout(api, campaign["id"], legacy_stripe, "cs_legacy").status_code == 200
