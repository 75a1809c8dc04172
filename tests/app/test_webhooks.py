"""Outbound webhooks (app tier): secrets, events derived from the stream exactly once, the
dispatcher's attempts, backoff, dead letters and retries, against a receiver on 127.0.0.1. The backoff's arithmetic:
``tests/unit/test_webhooks.py``."""
from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlsplit

from chalicelib.outbound import dispatcher
from chalicelib.store import webhook_queue
from harness.user_agents import CHROME
from harness.webhooks import Receiver, dispatching, documented_verifier


def hooked_campaign(api, receiver, **settings):
    campaign, key = api.create_campaign(goal={"amount": 100000, "currency": "EUR"}, **settings)
    response = api.call("PATCH", f"/v1/campaigns/{campaign['id']}", {"webhook_url": receiver.url}, token=key)
    assert response.status_code == 200, response.body
    return campaign["id"], key, response.data["webhook_secret"]


def fan_ref(api, campaign_id, channel="whatsapp"):
    fan = api.call("POST", f"/v1/campaigns/{campaign_id}/referrers", {"name": "Ada"}).data
    response = api.call("GET", f"/r/{fan['code']}?c={channel}", headers={"User-Agent": CHROME})
    return fan["code"], parse_qs(urlsplit(response.headers["Location"]).query)["ref"][0]


def pledge(api, campaign_id, key, pledge_id, expected=201, **body):
    """A new pledge (201), or with ``expected=200`` a known pledge's status change."""
    response = api.call("POST", f"/v1/campaigns/{campaign_id}/pledges",
                        {"pledge_id": pledge_id, "amount": 2500, "currency": "EUR", **body}, token=key)
    assert response.status_code == expected, response.body
    return response.data


def batch_of(poller, campaign_id):
    """The last stream batch the poller handed the aggregator with a record of this campaign."""
    return next(batch["event"] for batch in reversed(poller.batches) if campaign_id in json.dumps(batch["event"]))


def deliveries(api, campaign_id, key):
    response = api.call("GET", f"/v1/campaigns/{campaign_id}/webhooks/deliveries", token=key)
    assert response.status_code == 200, response.body
    return response.data["deliveries"]


def test_setting_a_webhook_url_shows_its_secret_once_and_setting_it_again_rotates_it(api):
    campaign, key = api.create_campaign()
    path = f"/v1/campaigns/{campaign['id']}"
    first = api.call("PATCH", path, {"webhook_url": "http://127.0.0.1:9/a"}, token=key)
    unrelated = api.call("PATCH", path, {"share_text": "Go!"}, token=key)
    again = api.call("PATCH", path, {"webhook_url": "http://127.0.0.1:9/a"}, token=key)
    read = api.call("GET", path, token=key)
    removed = api.call("PATCH", path, {"webhook_url": None}, token=key)
    assert first.data["webhook_secret"].startswith("rwh_") and len(first.data["webhook_secret"]) == 36
    assert first.headers["Cache-Control"] == "no-store"
    assert "webhook_secret" not in unrelated.data
    assert again.data["webhook_secret"] != first.data["webhook_secret"]
    assert read.data["campaign"]["webhook_url"] == "http://127.0.0.1:9/a"
    assert b"rwh_" not in read.body and "webhook_secret" not in read.data["campaign"]
    assert (removed.data["campaign"]["webhook_url"], "webhook_secret" in removed.data) == (None, False)


def test_a_campaign_created_with_a_webhook_url_gets_its_secret_in_the_201(api):
    campaign, _ = api.create_campaign(webhook_url="http://127.0.0.1:9/created")
    assert campaign["webhook_url"] == "http://127.0.0.1:9/created"


def test_a_pledge_through_a_fans_link_is_delivered_signed_with_its_attribution(api, poller, spool, receiver):
    campaign_id, key, secret = hooked_campaign(api, receiver)
    code, ref = fan_ref(api, campaign_id)
    pledge(api, campaign_id, key, "order-1", ref=ref)
    poller.drain()
    with dispatching(spool):
        received = receiver.wait_for(lambda r: any(x.event["type"] == "pledge.created" for x in r), "pledge.created")
    (delivery,) = [r for r in received if r.event["type"] == "pledge.created"]
    event = delivery.event
    assert event["data"]["pledge"] == {"pledge_id": "order-1", "amount": 2500, "currency": "EUR",
                                       "status": "confirmed", "occurred_at": event["data"]["pledge"]["occurred_at"],
                                       "attribution": {"code": code, "channel": "whatsapp"}, "source": "api"}
    assert (event["campaign"], event["id"].startswith("evt_")) == (campaign_id, True)
    assert documented_verifier()(secret, delivery.body, delivery.headers["relais-signature"])
    assert not documented_verifier()(secret, delivery.body, delivery.headers["relais-signature"],
                                     now=time.time() + 301)
    listed = {d["type"]: d for d in deliveries(api, campaign_id, key)}
    assert (listed["pledge.created"]["status"], listed["pledge.created"]["attempts"]) == ("delivered", 1)
    assert listed["pledge.created"]["last_attempt"]["status_code"] == 200
    assert set(listed) == {"referrer.created", "pledge.created"}


def test_a_replayed_batch_makes_no_second_event_and_queues_nothing_new(api, poller, spool, receiver):
    from app import aggregator

    campaign_id, key, _ = hooked_campaign(api, receiver)
    pledge(api, campaign_id, key, "order-r")
    poller.drain()
    batch = batch_of(poller, campaign_id)
    queued = sorted(p.name for p in spool.iterdir())
    with dispatching(spool):
        receiver.wait_for(lambda r: len(r) == 1, "the pledge")
    aggregator(batch, None)
    aggregator(batch, None)
    assert len(queued) == 1
    assert list(spool.iterdir()) == []
    assert [d["attempts"] for d in deliveries(api, campaign_id, key)] == [1]


def test_a_receiver_that_answers_500_twice_gets_the_same_id_a_third_time(api, poller, spool):
    receiver = Receiver(statuses=(500, 500))
    try:
        campaign_id, key, _ = hooked_campaign(api, receiver)
        pledge(api, campaign_id, key, "order-500")
        poller.drain()
        with dispatching(spool):
            received = receiver.wait_for(lambda r: len(r) == 3, "three attempts")
            time.sleep(0.3)
    finally:
        receiver.close()
    assert len(received) == 3
    assert len({r.event["id"] for r in received}) == 1
    (delivery,) = deliveries(api, campaign_id, key)
    assert (delivery["status"], delivery["attempts"]) == ("delivered", 3)
    assert [a["status_code"] for a in delivery["history"]] == [500, 500, 200]


def test_a_delivery_is_dead_once_its_next_attempt_would_start_after_the_deadline(api, poller, spool, monkeypatch):
    # 2 s: room for two attempts (retries 0.05 s, then 0.2 s apart) even when the first one
    # starts late on a loaded machine (with 0.5 s, a full run once saw the first attempt past it)
    monkeypatch.setenv("RELAIS_WEBHOOK_GIVE_UP_SECONDS", "2")
    receiver = Receiver(statuses=(503,) * 100)
    try:
        campaign_id, key, _ = hooked_campaign(api, receiver)
        pledge(api, campaign_id, key, "order-dead")
        poller.drain()
        with dispatching(spool):
            deadline = time.monotonic() + 10
            while deliveries(api, campaign_id, key)[0]["status"] == "pending" and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        receiver.close()
    (delivery,) = deliveries(api, campaign_id, key)
    assert delivery["status"] == "dead"
    assert delivery["attempts"] == len(receiver.received) >= 2
    assert delivery["next_attempt_at"] is None


def test_a_creator_retry_makes_a_dead_delivery_due_again_with_the_same_id(api, poller, spool, monkeypatch):
    monkeypatch.setenv("RELAIS_WEBHOOK_GIVE_UP_SECONDS", "0")
    receiver = Receiver(statuses=(500,))
    try:
        campaign_id, key, _ = hooked_campaign(api, receiver)
        pledge(api, campaign_id, key, "order-retry")
        poller.drain()
        with dispatching(spool):
            receiver.wait_for(lambda r: len(r) == 1, "the first attempt")
        (dead,) = deliveries(api, campaign_id, key)
        monkeypatch.setenv("RELAIS_WEBHOOK_GIVE_UP_SECONDS", "3600")
        retried = api.call("POST", f"/v1/campaigns/{campaign_id}/webhooks/deliveries/{dead['id']}/retry", token=key)
        with dispatching(spool):
            received = receiver.wait_for(lambda r: len(r) == 2, "the retry")
    finally:
        receiver.close()
    assert dead["status"] == "dead"
    assert (retried.status_code, retried.data["delivery"]["status"]) == (202, "pending")
    assert received[0].event["id"] == received[1].event["id"] == dead["id"]
    assert deliveries(api, campaign_id, key)[0]["status"] == "delivered"


def test_retrying_an_unknown_delivery_is_404_and_another_campaigns_key_403(api):
    campaign, key = api.create_campaign()
    _, other_key = api.create_campaign()
    path = f"/v1/campaigns/{campaign['id']}/webhooks/deliveries/evt_{'0' * 32}/retry"
    assert api.call("POST", path, token=key).status_code == 404
    assert api.call("POST", path.replace("evt_", "not_"), token=key).status_code == 404
    assert api.call("POST", path, token=other_key).status_code == 403
    assert api.call("GET", f"/v1/campaigns/{campaign['id']}/webhooks/deliveries").status_code == 401


def test_a_campaign_without_a_webhook_url_produces_no_delivery(api, poller, spool):
    campaign, key = api.create_campaign()
    fan_ref(api, campaign["id"])
    pledge(api, campaign["id"], key, "order-quiet")
    poller.drain()
    assert deliveries(api, campaign["id"], key) == []
    assert not spool.exists()


def test_a_new_fan_is_announced_with_their_code_and_name(api, poller, spool, receiver):
    campaign_id, _, _ = hooked_campaign(api, receiver)
    code, _ = fan_ref(api, campaign_id)
    poller.drain()
    with dispatching(spool):
        (received,) = receiver.wait_for(lambda r: len(r) == 1, "referrer.created")
    referrer = received.event["data"]["referrer"]
    assert (received.event["type"], referrer["code"], referrer["name"], referrer["depth"]) == (
        "referrer.created", code, "Ada", 1)


def test_a_refund_is_announced_once_however_often_it_is_sent(api, poller, spool, receiver):
    campaign_id, key, _ = hooked_campaign(api, receiver)
    pledge(api, campaign_id, key, "order-back")
    for _ in range(3):
        pledge(api, campaign_id, key, "order-back", expected=200, status="refunded")
    poller.drain()
    with dispatching(spool):
        receiver.wait_for(lambda r: len(r) == 2, "created and refunded")
        time.sleep(0.2)
    assert sorted(e["type"] for e in receiver.events()) == ["pledge.created", "pledge.refunded"]
    assert receiver.events("pledge.refunded")[0]["data"]["pledge"]["status"] == "refunded"


def test_each_milestone_is_announced_exactly_once(api, poller, spool, receiver):
    campaign_id, key, _ = hooked_campaign(api, receiver, milestones=[{"amount": 4000, "label": "Bonus"},
                                                                     {"amount": 9000, "label": "Tour"}])
    _, ref = fan_ref(api, campaign_id)
    pledge(api, campaign_id, key, "m1", ref=ref)
    poller.drain()
    pledge(api, campaign_id, key, "m2", ref=ref)
    poller.drain()
    pledge(api, campaign_id, key, "m2", expected=200, ref=ref, status="refunded")
    poller.drain()
    pledge(api, campaign_id, key, "m3", ref=ref)
    pledge(api, campaign_id, key, "m4", ref=ref)
    poller.drain()
    with dispatching(spool):
        receiver.wait_for(lambda r: len([x for x in r if x.event["type"] == "milestone.reached"]) == 1, "milestone")
        time.sleep(0.2)
    (reached,) = receiver.events("milestone.reached")
    assert reached["data"]["milestone"] == {"amount": 4000, "label": "Bonus", "currency": "EUR"}
    assert reached["data"]["fan_amount"] == 5000


def test_a_milestone_reached_without_a_webhook_is_not_announced_later(api, poller, spool, receiver):
    campaign, key = api.create_campaign(goal={"amount": 100000, "currency": "EUR"},
                                        milestones=[{"amount": 1000, "label": "Early"}])
    _, ref = fan_ref(api, campaign["id"])
    pledge(api, campaign["id"], key, "early-1", ref=ref)
    poller.drain()
    api.call("PATCH", f"/v1/campaigns/{campaign['id']}", {"webhook_url": receiver.url}, token=key)
    pledge(api, campaign["id"], key, "early-2", ref=ref)
    poller.drain()
    assert sorted(d["type"] for d in deliveries(api, campaign["id"], key)) == ["pledge.created"]


def test_a_lost_message_before_the_first_attempt_is_queued_again_by_the_replay(api, poller, spool, receiver):
    from app import aggregator

    campaign_id, key, _ = hooked_campaign(api, receiver)
    pledge(api, campaign_id, key, "order-lost")
    poller.drain()
    for path in spool.iterdir():
        path.unlink()  # the queue lost it (or the aggregator died before sending it)
    aggregator(batch_of(poller, campaign_id), None)
    with dispatching(spool):
        receiver.wait_for(lambda r: len(r) == 1, "the delivery")
    assert deliveries(api, campaign_id, key)[0]["status"] == "delivered"


def test_a_duplicate_message_makes_no_second_attempt(api, poller, spool, receiver):
    campaign_id, key, _ = hooked_campaign(api, receiver)
    pledge(api, campaign_id, key, "order-twice")
    poller.drain()
    message = take_only_message(spool)
    outcomes = [dispatcher.handle(message).name for _ in range(3)]
    assert outcomes == ["delivered", "done", "done"]
    assert len(receiver.received) == 1


def test_every_send_slot_taken_makes_the_message_wait(api, poller, spool, receiver, monkeypatch):
    from chalicelib.store import webhook_records

    monkeypatch.setenv("RELAIS_WEBHOOK_CONCURRENCY", "1")
    campaign_id, key, _ = hooked_campaign(api, receiver)
    pledge(api, campaign_id, key, "order-busy")
    poller.drain()
    message = take_only_message(spool)
    now = int(time.time() * 1000)
    assert webhook_records.acquire_slot(campaign_id, 0, "someone-else", now, now + 60_000)
    assert dispatcher.handle(message).name == "busy"
    assert receiver.received == [] and len(list(spool.iterdir())) == 1
    webhook_records.release_slot(campaign_id, 0, "someone-else")
    assert dispatcher.handle(message).name == "delivered"


def take_only_message(spool):
    (path,) = spool.iterdir()
    message = webhook_queue.Message.from_json(path.read_text())
    path.unlink()
    return message


def test_a_message_that_comes_early_goes_back_with_the_time_left(api, poller, spool, receiver):
    from chalicelib.store import webhook_records

    campaign_id, key, _ = hooked_campaign(api, receiver)
    pledge(api, campaign_id, key, "order-early")
    poller.drain()
    message = take_only_message(spool)
    delivery = webhook_records.get_delivery(campaign_id, message.created, message.event_id)
    webhook_records.rearm(delivery, int(time.time() * 1000) + 60_000, delivery.deadline)
    assert dispatcher.handle(message).name == "early"
    (requeued,) = spool.iterdir()
    assert int(requeued.name[:13]) >= int(time.time() * 1000) + 50_000
    assert receiver.received == []


def test_the_lambda_consumer_reports_only_messages_that_failed(api, poller, spool, receiver, monkeypatch):
    campaign_id, key, _ = hooked_campaign(api, receiver)
    pledge(api, campaign_id, key, "order-sqs")
    poller.drain()
    (path,) = spool.iterdir()
    good = {"messageId": "m-1", "body": path.read_text()}
    unreadable = {"messageId": "m-2", "body": "{not json"}
    broken = {"messageId": "m-3", "body": json.dumps({"c": campaign_id, "k": "x", "i": "evt_0"})}
    result = dispatcher.handle_queue_messages([good, unreadable, broken])
    assert result == {"batchItemFailures": []}
    assert len(receiver.received) == 1

    def fail(message, resolver=None):
        raise RuntimeError("DynamoDB unreachable")

    monkeypatch.setattr(dispatcher, "handle", fail)
    assert dispatcher.handle_queue_messages([good]) == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}


def test_on_aws_a_message_is_sent_to_sqs_with_its_delay_capped_at_15_minutes(dynamodb, monkeypatch):
    import boto3

    queue_url = boto3.client("sqs", region_name="us-east-1").create_queue(QueueName="relais-test-webhooks")["QueueUrl"]
    monkeypatch.setenv("RELAIS_WEBHOOK_QUEUE_URL", queue_url)
    assert webhook_queue.send(webhook_queue.Message("c1", 1, "evt_1"), delay_seconds=3 * 3600)
    assert webhook_queue.send(webhook_queue.Message("c1", 2, "evt_2"), delay_seconds=0)
    messages = boto3.client("sqs", region_name="us-east-1").receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)["Messages"]
    assert [webhook_queue.Message.from_json(m["Body"]).event_id for m in messages] == ["evt_2"]



def test_a_milestone_set_below_what_fans_already_brought_is_reached_when_set_and_announced_once(
        api, poller, spool, receiver):
    campaign_id, key, _ = hooked_campaign(api, receiver)
    _, ref = fan_ref(api, campaign_id)
    pledge(api, campaign_id, key, "before-1", ref=ref)
    pledge(api, campaign_id, key, "before-2", ref=ref)
    poller.drain()
    changed = api.call("PATCH", f"/v1/campaigns/{campaign_id}",
                       {"milestones": [{"amount": 1500, "label": "Already there"}]}, token=key)
    assert changed.status_code == 200
    poller.drain()
    poller.drain()
    with dispatching(spool):
        receiver.wait_for(lambda r: any(x.event["type"] == "milestone.reached" for x in r), "the milestone")
        time.sleep(0.2)
    (reached,) = receiver.events("milestone.reached")
    assert reached["data"]["milestone"] == {"amount": 1500, "label": "Already there", "currency": "EUR"}
    assert reached["data"]["fan_amount"] == 2 * 2500
