"""The Stripe webhook, with events signed by the real stripe library (app tier)."""
import json
import time

import pytest
import stripe

from harness.inprocess import rollup

SECRET = "whsec_unit_test_secret_123"


@pytest.fixture
def campaign(api):
    return api.create_campaign(stripe_webhook_secret=SECRET, goal={"amount": 10000, "currency": "EUR"})


def stripe_event(kind, obj, event_id="evt_1"):
    return json.dumps({"id": event_id, "object": "event", "type": kind, "created": int(time.time()),
                       "data": {"object": obj}, "livemode": False, "api_version": "2024-06-20"})


def checkout(session_id="cs_test_1", amount=5000, intent="pi_1", ref=None, paid="paid"):
    return {"id": session_id, "object": "checkout.session", "amount_total": amount, "currency": "eur",
            "payment_status": paid, "payment_intent": intent, "client_reference_id": ref, "metadata": {}}


def deliver(api, campaign, payload, secret=SECRET, timestamp=None, signature=None):
    header = signature if signature is not None else \
        stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)
    headers = {"Stripe-Signature": header} if header else {}
    return api.call("POST", f"/v1/campaigns/{campaign['id']}/stripe", raw=payload, headers=headers)


def test_a_signed_checkout_becomes_one_confirmed_pledge(api, campaign, poller):
    c, _ = campaign
    payload = stripe_event("checkout.session.completed", checkout())
    first = deliver(api, c, payload)
    again = deliver(api, c, payload)  # Stripe redelivers
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.data["pledge"]["amount"] == 5000 and first.data["pledge"]["currency"] == "EUR"
    poller.drain()
    total = rollup(c["id"])
    assert (total.get("pledges"), total.amounts) == (1, {"EUR": 5000})


def test_charge_refunded_takes_the_pledge_out_once(api, campaign, poller):
    c, _ = campaign
    deliver(api, c, stripe_event("checkout.session.completed", checkout(intent="pi_refund")))
    refund = stripe_event("charge.refunded", {"id": "ch_1", "object": "charge", "payment_intent": "pi_refund",
                                              "refunded": True, "amount_refunded": 5000}, "evt_2")
    assert deliver(api, c, refund).data["pledge"]["status"] == "refunded"
    deliver(api, c, refund)
    poller.drain()
    assert rollup(c["id"]).get("pledges") == 0


def test_the_ref_comes_from_client_reference_id(api, campaign):
    c, _ = campaign
    fan = api.call("POST", f"/v1/campaigns/{c['id']}/referrers", {"name": "Fan"}).data
    location = api.call("GET", f"/r/{fan['code']}?c=email", headers={"User-Agent": "Mozilla/5.0 Firefox/133.0"}) \
        .headers["Location"]
    ref = location.split("ref=")[1].split("&")[0]
    response = deliver(api, c, stripe_event("checkout.session.completed", checkout("cs_ref", ref=ref)))
    assert response.data["pledge"]["attribution"] == {"code": fan["code"], "channel": "email"}


@pytest.mark.parametrize("tamper", ["body", "secret", "stale", "missing"])
def test_bad_signatures_are_400_and_store_nothing(api, campaign, poller, tamper):
    c, _ = campaign
    payload = stripe_event("checkout.session.completed", checkout(f"cs_bad_{tamper}", amount=777))
    kwargs = {}
    if tamper == "body":
        signed = payload
        payload = payload.replace("777", "778")
        kwargs["signature"] = stripe.WebhookSignature.generate_signature_header(signed, SECRET)
    elif tamper == "secret":
        kwargs["secret"] = "whsec_someone_else"
    elif tamper == "stale":
        kwargs["timestamp"] = int(time.time()) - 301
    else:
        kwargs["signature"] = ""
    response = deliver(api, c, payload, **kwargs)
    assert response.status_code == 400
    assert response.data["error"]["code"] == "invalid_signature"
    poller.drain()
    assert "pledges" not in rollup(c["id"]).counts  # never counted


def test_a_payment_link_ref_with_underscores_for_dots_is_attributed(api, campaign):
    c, _ = campaign
    fan = api.call("POST", f"/v1/campaigns/{c['id']}/referrers", {"name": "Fan"}).data
    location = api.call("GET", f"/r/{fan['code']}?c=sms", headers={"User-Agent": "Mozilla/5.0 Firefox/133.0"}) \
        .headers["Location"]
    stripe_safe = location.split("ref=")[1].split("&")[0].replace(".", "_")
    response = deliver(api, c, stripe_event("checkout.session.completed", checkout("cs_link", ref=stripe_safe)))
    assert response.data["pledge"]["attribution"] == {"code": fan["code"], "channel": "sms"}


def test_unknown_event_types_are_acknowledged_and_ignored(api, campaign):
    c, _ = campaign
    response = deliver(api, c, stripe_event("customer.created", {"id": "cus_1", "object": "customer"}))
    assert response.status_code == 200 and response.data["ignored"] == "customer.created"


def test_a_campaign_without_a_webhook_secret_refuses_webhooks(api):
    c, _ = api.create_campaign()
    response = deliver(api, c, stripe_event("checkout.session.completed", checkout()))
    assert response.status_code == 400
    assert response.data["error"]["code"] == "stripe_not_configured"


@pytest.mark.parametrize(("payload", "code"), [
    ("[]", "invalid_event"),
    ('"x"', "invalid_event"),
    ("not json", "invalid_json"),
    ('{"type": "checkout.session.completed", "created": 1, "data": "x"}', "invalid_event"),
    ('{"type": "checkout.session.completed", "created": "abc", "data": {"object": {}}}', "invalid_event"),
    ('{"type": "checkout.session.completed", "created": 1795000000, "data": {"object": '
     '{"payment_status": "paid", "amount_total": 5, "currency": "eur"}}}', "invalid_pledge_id"),
    ('{"type": "checkout.session.completed", "created": 1795000000, "data": {"object": '
     '{"id": "cs_neg", "payment_status": "paid", "amount_total": -5, "currency": "zzz"}}}', "invalid_amount"),
    ('{"type": "checkout.session.completed", "created": 1795000000, "data": {"object": '
     '{"id": "cs_cur", "payment_status": "paid", "amount_total": 5, "currency": "zzz"}}}', "invalid_currency"),
])
def test_signed_but_malformed_events_are_400_and_store_nothing(api, campaign, poller, payload, code):
    c, _ = campaign
    response = deliver(api, c, payload)
    assert response.status_code == 400, response.body
    assert response.data["error"]["code"] == code
    poller.drain()
    assert "pledges" not in rollup(c["id"]).counts  # never counted
