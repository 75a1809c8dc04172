"""Pledges and the Stripe webhook against the real local stack, under concurrency."""
import json
import time
from concurrent.futures import ThreadPoolExecutor

import requests
import stripe

SECRET = "whsec_integration_secret_42"


def totals(stack, poller, cid, key):
    poller.drain()
    response = requests.get(f"{stack.api}/v1/campaigns/{cid}/stats", headers={"Authorization": f"Bearer {key}"},
                            timeout=10)
    return response.json()["totals"]


def test_ten_concurrent_copies_of_a_pledge_make_one_pledge(stack, poller):
    campaign, key = stack.create_campaign()
    body = {"pledge_id": "cs_concurrent", "amount": 4200, "currency": "EUR"}

    def send(_):
        return requests.post(f"{stack.api}/v1/campaigns/{campaign['id']}/pledges", json=body,
                             headers={"Authorization": f"Bearer {key}"}, timeout=30).status_code

    with ThreadPoolExecutor(10) as pool:
        statuses = sorted(pool.map(send, range(10)))
    assert statuses == [200] * 9 + [201]
    counted = totals(stack, poller, campaign["id"], key)
    assert (counted["pledges"], counted["amount"]) == (1, {"EUR": 4200})


def test_a_refund_sent_three_times_is_subtracted_once_and_a_conflict_is_409(stack, poller):
    campaign, key = stack.create_campaign()
    url = f"{stack.api}/v1/campaigns/{campaign['id']}/pledges"
    headers = {"Authorization": f"Bearer {key}"}
    for pledge_id, amount in (("a", 1000), ("b", 2500)):
        assert requests.post(url, json={"pledge_id": pledge_id, "amount": amount, "currency": "EUR"},
                             headers=headers, timeout=10).status_code == 201
    refund = {"pledge_id": "b", "amount": 2500, "currency": "EUR", "status": "refunded"}
    assert [requests.post(url, json=refund, headers=headers, timeout=10).status_code for _ in range(3)] == [200] * 3
    conflict = requests.post(url, json={"pledge_id": "a", "amount": 999, "currency": "EUR"}, headers=headers,
                             timeout=10)
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "pledge_conflict"
    counted = totals(stack, poller, campaign["id"], key)
    assert (counted["pledges"], counted["amount"]) == (1, {"EUR": 1000})


def test_a_refund_by_pledge_id_alone_leaves_the_totals_and_one_of_an_unknown_id_is_404(stack, poller):
    campaign, key = stack.create_campaign()
    url = f"{stack.api}/v1/campaigns/{campaign['id']}/pledges"
    headers = {"Authorization": f"Bearer {key}"}
    for pledge_id, amount, currency in (("a", 1000, "EUR"), ("b", 700, "USD")):
        assert requests.post(url, json={"pledge_id": pledge_id, "amount": amount, "currency": currency},
                             headers=headers, timeout=10).status_code == 201
    refund = requests.post(url, json={"pledge_id": "b", "status": "refunded"}, headers=headers, timeout=10)
    assert refund.status_code == 200
    assert {k: refund.json()[k] for k in ("amount", "currency", "status")} == {
        "amount": 700, "currency": "USD", "status": "refunded"}
    unknown = requests.post(url, json={"pledge_id": "nobody", "status": "refunded"}, headers=headers, timeout=10)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "pledge_not_found"
    counted = totals(stack, poller, campaign["id"], key)
    assert (counted["pledges"], counted["amount"]) == (1, {"EUR": 1000})


def _deliver(stack, cid, payload, header):
    headers = {"Content-Type": "application/json"}
    if header:
        headers["Stripe-Signature"] = header
    return requests.post(f"{stack.api}/v1/campaigns/{cid}/stripe", data=payload.encode(), headers=headers, timeout=10)


def test_stripe_events_signed_by_the_stripe_library_count_once_and_bad_ones_store_nothing(stack, poller):
    campaign, key = stack.create_campaign(stripe_webhook_secret=SECRET)
    cid = campaign["id"]

    def event(session_id, amount):
        return json.dumps({"id": f"evt_{session_id}", "object": "event", "type": "checkout.session.completed",
                           "created": int(time.time()), "data": {"object": {
                               "id": session_id, "object": "checkout.session", "amount_total": amount,
                               "currency": "eur", "payment_status": "paid", "payment_intent": f"pi_{session_id}"}}})

    good = event("cs_good", 3000)
    sign = stripe.WebhookSignature.generate_signature_header
    assert _deliver(stack, cid, good, sign(good, SECRET)).status_code == 200
    assert _deliver(stack, cid, good, sign(good, SECRET)).status_code == 200  # redelivered
    tampered = event("cs_tampered", 5000)
    attempts = {
        "one changed byte": (tampered.replace("5000", "5001"), sign(tampered, SECRET)),
        "wrong secret": (event("cs_wrong", 5000), sign(event("cs_wrong", 5000), "whsec_not_the_one")),
        "301 s old": (event("cs_old", 5000), sign(event("cs_old", 5000), SECRET, timestamp=int(time.time()) - 301)),
        "missing header": (event("cs_missing", 5000), None),
    }
    for name, (payload, header) in attempts.items():
        response = _deliver(stack, cid, payload, header)
        assert response.status_code == 400, name
        assert response.json()["error"]["code"] == "invalid_signature", name
    counted = totals(stack, poller, cid, key)
    assert (counted["pledges"], counted["amount"]) == (1, {"EUR": 3000})
