"""Webhooks end to end on the local stack: the aggregator (this process, draining the stack's
stream) queues deliveries on the stack's spool, and the stack's own dispatcher thread sends
them, for real, to a receiver on 127.0.0.1 in this test. The harness starts the stack with a
0.25 s backoff base, so retries come within a second."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from harness.user_agents import HUMAN_AGENTS
from harness.webhooks import Receiver, documented_verifier

BROWSER = HUMAN_AGENTS["firefox-linux"]


@pytest.fixture(autouse=True)
def stack_spool(stack, monkeypatch):
    """The aggregator run here queues where the stack's dispatcher looks."""
    monkeypatch.setenv("RELAIS_WEBHOOK_SPOOL", str(stack.data_dir / "webhooks"))


@pytest.fixture
def receiver():
    running = Receiver()
    yield running
    running.close()


def call(stack, method, path, key, **kwargs):
    return requests.request(method, f"{stack.api}{path}", headers={"Authorization": f"Bearer {key}"}, timeout=10,
                            **kwargs)


def hooked(stack, url, **settings):
    campaign, key = stack.create_campaign(**settings)
    response = call(stack, "PATCH", f"/v1/campaigns/{campaign['id']}", key, json={"webhook_url": url})
    assert response.status_code == 200, response.text
    return campaign["id"], key, response.json()["webhook_secret"]


def fan_ref(stack, campaign_id, channel="whatsapp"):
    code = stack.new_fan(campaign_id, "Ada")["code"]
    click = requests.get(f"{stack.api}/r/{code}?c={channel}", headers={"User-Agent": BROWSER},
                         allow_redirects=False, timeout=10)
    return code, parse_qs(urlsplit(click.headers["Location"]).query)["ref"][0]


def pledge(stack, campaign_id, key, pledge_id, ref=None, expected=201, **extra):
    """A new pledge (201), or with ``expected=200`` a known pledge's status change."""
    response = call(stack, "POST", f"/v1/campaigns/{campaign_id}/pledges", key,
                    json={"pledge_id": pledge_id, "amount": 2500, "currency": "EUR", "ref": ref, **extra})
    assert response.status_code == expected, response.text
    return response.json()


def of_type(type_):
    return lambda received: [r for r in received if r.event["type"] == type_]


def test_a_pledge_through_a_fans_link_reaches_a_real_receiver_signed_with_its_attribution(stack, poller, receiver):
    campaign_id, key, secret = hooked(stack, receiver.url)
    code, ref = fan_ref(stack, campaign_id)
    pledge(stack, campaign_id, key, "int-order-1", ref)
    poller.drain()
    (delivery,) = of_type("pledge.created")(receiver.wait_for(of_type("pledge.created"), "pledge.created"))
    event = delivery.event
    assert event["data"]["pledge"]["attribution"] == {"code": code, "channel": "whatsapp"}
    assert (event["data"]["pledge"]["pledge_id"], event["campaign"]) == ("int-order-1", campaign_id)
    assert documented_verifier()(secret, delivery.body, delivery.headers["relais-signature"])
    assert not documented_verifier()("rwh_" + "0" * 32, delivery.body, delivery.headers["relais-signature"])


def test_a_receiver_that_answers_500_twice_gets_the_same_id_a_third_time_and_the_list_shows_three_attempts(
        stack, poller):
    receiver = Receiver(statuses=(500, 500))
    try:
        campaign_id, key, _ = hooked(stack, receiver.url)
        pledge(stack, campaign_id, key, "int-order-500")
        poller.drain()
        received = receiver.wait_for(lambda r: len(r) == 3, "three attempts")
    finally:
        receiver.close()
    assert {r.event["id"] for r in received} == {received[0].event["id"]}
    (listed,) = call(stack, "GET", f"/v1/campaigns/{campaign_id}/webhooks/deliveries", key).json()["deliveries"]
    assert (listed["id"], listed["status"], listed["attempts"]) == (received[0].event["id"], "delivered", 3)
    assert [attempt["status_code"] for attempt in listed["history"]] == [500, 500, 200]


def test_a_refund_before_fulfilment_relocks_the_reward_and_sends_pledge_refunded(stack, poller, receiver):
    campaign_id, key, _ = hooked(stack, receiver.url, rewards=[{"pledges": 1, "label": "Poster"}])
    code, ref = fan_ref(stack, campaign_id)
    pledge(stack, campaign_id, key, "int-reward-1", ref)
    poller.drain()
    (unlocked,) = of_type("reward.unlocked")(receiver.wait_for(of_type("reward.unlocked"), "reward.unlocked"))
    view_unlocked = requests.get(f"{stack.api}/v1/referrers/{code}", timeout=10).json()
    pledge(stack, campaign_id, key, "int-reward-1", ref, expected=200, status="refunded")
    poller.drain()
    (refunded,) = of_type("pledge.refunded")(receiver.wait_for(of_type("pledge.refunded"), "pledge.refunded"))
    view_relocked = requests.get(f"{stack.api}/v1/referrers/{code}", timeout=10).json()
    listed = call(stack, "GET", f"/v1/campaigns/{campaign_id}/rewards", key).json()
    assert unlocked.event["data"] == {"reward": {"pledges": 1, "label": "Poster"},
                                      "referrer": {"code": code, "pledges": 1}}
    assert view_unlocked["rewards"] == [{"pledges": 1, "label": "Poster", "unlocked": True}]
    assert refunded.event["data"]["pledge"]["attribution"]["code"] == code
    assert view_relocked["rewards"] == [{"pledges": 1, "label": "Poster", "unlocked": False}]
    assert view_relocked["next_reward"] == {"pledges": 1, "label": "Poster", "remaining": 1}
    assert listed == {"rewards": []}
