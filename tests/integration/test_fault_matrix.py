"""Every write path, under every way a network fails, ends with exact figures.

A fault-injecting DynamoDB proxy (``dev/dynamodb_proxy.py``) sits between a ``chalice
local`` of its own and the local stack's DynamoDB. For each write path we run a small
concurrent workload while one matching write in two is faulted — refused (``throttle``),
dropped before it arrives (``drop``), applied with its answer lost (``lose_answer``: the
client retries a write that landed), or stalled past the client's timeout then applied
(``stall``) — with clients retrying what was not acknowledged, as a creator's server
would. Then the counts must equal what was acknowledged, exactly. Background work (the
aggregator, the webhook dispatcher, the mailer, the importer) runs in this process with its
DynamoDB endpoint on the proxy, each failed batch or message run again as its queue would.
"""
from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import TypeVar
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import stripe
from aiosmtpd.controller import Controller

from dev.dynamodb_proxy import DynamoDBProxy
from dev.mail_server import KeepMessages
from dev.processes import ROOT, free_port, spawn, wait_http
from harness import soak
from harness.user_agents import HUMAN_AGENTS
from harness.webhooks import Receiver, dispatching

MODES = ("throttle", "drop", "lose_answer", "stall")
OPERATIONS = 6
SECRET = "whsec_fault_matrix_secret_7"
BROWSER = HUMAN_AGENTS["firefox-linux"]
T = TypeVar("T")


class FaultyApi:
    """``chalice local`` talking to DynamoDB through the fault proxy; the stack drains its spool."""

    def __init__(self, stack, tmp_path: Path, **settings: str) -> None:
        self.proxy = DynamoDBProxy(stack.dynamodb, stall_seconds=0.6)
        port = free_port()
        env = {**os.environ, "RELAIS_DYNAMODB_ENDPOINT": self.proxy.url, "RELAIS_STAGE": "local",
               "RELAIS_FALLBACK_DIR": str(stack.data_dir / "fallback"),
               "RELAIS_WEBHOOK_SPOOL": str(stack.data_dir / "webhooks"),
               "RELAIS_ADMIN_TOKEN": stack.admin_token,
               "RELAIS_SECRET": (stack.data_dir / "secret").read_text().strip(),
               "RELAIS_PUBLIC_URL": f"http://127.0.0.1:{port}", **settings}
        self.log = tmp_path / "chalice.log"
        with open(self.log, "wb") as log:  # the server keeps its own copy of the descriptor
            self.server = subprocess.Popen(
                [str(Path(sys.executable).with_name("chalice")), "local", "--host", "127.0.0.1", "--port", str(port),
                 "--stage", "local", "--no-autoreload"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{self.url}/healthz", timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or self.server.poll() is not None:
                    raise RuntimeError(f"chalice local did not start; see {self.log}") from None
                time.sleep(0.1)

    def close(self) -> None:
        self.server.terminate()
        self.server.wait(10)
        self.proxy.close()


@pytest.fixture(scope="module")
def faulty(stack, tmp_path_factory):
    api = FaultyApi(stack, tmp_path_factory.mktemp("faulty"))
    yield api
    api.close()


def until_acknowledged(send, accepted=(200, 201, 202, 204, 302), attempts=20):
    """What a careful client does: retry until the answer says the write was taken.

    The answer carries ``retried``: whether an earlier attempt went unanswered (the write
    may have landed then, so this answer may be the replay's ``200``)."""
    retried = False
    for _ in range(attempts):
        try:
            response = send()
        except requests.RequestException:
            retried = True
            continue
        if response.status_code in accepted:
            response.retried = retried
            return response
        assert response.status_code in (429, 500, 502, 503, 504), response.text
        retried = True
    raise AssertionError("never acknowledged")


def through_faults(work: Callable[[], T], attempts: int = 20) -> T:
    """``work`` run again after each failure until it goes through, as Lambda retries a failed
    stream batch and SQS delivers a failed message again; the last attempt's failure is raised."""
    for _ in range(attempts - 1):
        try:
            return work()
        except Exception:
            continue
    return work()


def settle(stack, poller) -> None:
    """Wait for the stack to apply the spooled facts, then count everything written."""
    soak.wait_for_spool(stack.data_dir)
    poller.drain()


def stats(api_url, cid, key) -> dict:
    response = requests.get(f"{api_url}/v1/campaigns/{cid}/stats", headers={"Authorization": f"Bearer {key}"},
                            timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def concurrently(work, count=OPERATIONS):
    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(work, range(count)))


@pytest.mark.parametrize("mode", MODES)
def test_clicks_and_previews_count_once_each(stack, poller, faulty, mode):
    campaign, key = stack.create_campaign()
    code = stack.new_fan(campaign["id"], "Fan")["code"]
    faulty.proxy.inject(mode, every=2, table="relais-local-events")
    try:
        def click(i):  # each visitor clicks twice: their day's item is created, then gains a token
            return requests.get(f"{faulty.url}/r/{code}?c=x", headers={"User-Agent": f"{BROWSER} n{i % OPERATIONS}"},
                                allow_redirects=False, timeout=10)

        def preview(_):
            return requests.head(f"{faulty.url}/r/{code}?c=whatsapp", allow_redirects=False, timeout=10)

        clicks = concurrently(click, 2 * OPERATIONS)
        previews = concurrently(preview)
    finally:
        faulty.proxy.heal()
    assert [r.status_code for r in clicks + previews] == [302] * (3 * OPERATIONS)
    settle(stack, poller)
    totals = stats(stack.api, campaign["id"], key)["totals"]
    assert (totals["clicks"], totals["unique_clicks"], totals["previews"]) == (2 * OPERATIONS, OPERATIONS, OPERATIONS)
    assert faulty.proxy.faulted[(mode, "UpdateItem")] >= OPERATIONS // 2  # the visitors' items
    assert faulty.proxy.faulted[(mode, "PutItem")] >= OPERATIONS // 2  # the previews, items of their own


@pytest.mark.parametrize("mode", MODES)
def test_landings_count_once_per_visitor_whatever_the_faults(stack, poller, faulty, mode):
    campaign, key = stack.create_campaign()
    code = stack.new_fan(campaign["id"], "Fan")["code"]
    redirect = requests.get(f"{stack.api}/r/{code}?c=x", headers={"User-Agent": BROWSER}, allow_redirects=False,
                            timeout=10)
    ref = parse_qs(urlsplit(redirect.headers["Location"]).query)["ref"][0]
    faulty.proxy.inject(mode, every=2, table="relais-local-events")
    try:  # each visitor's page sends its landing beacon twice
        answers = concurrently(lambda i: until_acknowledged(
            lambda: requests.post(f"{faulty.url}/v1/landings", json={"ref": ref},
                                  headers={"User-Agent": f"{BROWSER} reader {i % OPERATIONS}"}, timeout=10)),
            2 * OPERATIONS)
    finally:
        faulty.proxy.heal()
    assert {r.status_code for r in answers} == {202}
    settle(stack, poller)
    assert stats(stack.api, campaign["id"], key)["totals"]["landed"] == OPERATIONS
    assert faulty.proxy.faulted[(mode, "UpdateItem")] >= OPERATIONS // 2


@pytest.mark.parametrize("mode", MODES)
def test_shares_count_once_each(stack, poller, faulty, mode):
    campaign, key = stack.create_campaign()
    code = stack.new_fan(campaign["id"], "Fan")["code"]
    faulty.proxy.inject(mode, every=2, table="relais-local-events")
    try:  # six people share (one person's second press of the same button counts once)
        answers = concurrently(lambda i: until_acknowledged(
            lambda: requests.post(f"{faulty.url}/v1/shares", json={"code": code, "channel": "telegram"},
                                  headers={"User-Agent": f"{BROWSER} sharer {i}"}, timeout=10)))
    finally:
        faulty.proxy.heal()
    assert {r.status_code for r in answers} == {202}
    settle(stack, poller)
    assert stats(stack.api, campaign["id"], key)["totals"]["shares"] == OPERATIONS


@pytest.mark.parametrize("mode", MODES)
def test_each_new_fan_gets_exactly_one_link(stack, poller, faulty, mode):
    campaign, key = stack.create_campaign()
    faulty.proxy.inject(mode, every=2, table="relais-local-links")
    try:
        answers = concurrently(lambda i: until_acknowledged(lambda: requests.post(
            f"{faulty.url}/v1/campaigns/{campaign['id']}/referrers",
            json={"name": f"Fan {i}", "email": f"fan{i}@example.org"}, timeout=10)))
    finally:
        faulty.proxy.heal()
    settle(stack, poller)
    assert stats(stack.api, campaign["id"], key)["totals"]["referrers"] == OPERATIONS
    listed = requests.get(f"{stack.api}/v1/campaigns/{campaign['id']}/referrers",
                          headers={"Authorization": f"Bearer {key}"}, timeout=10).json()["referrers"]
    assert sorted((row["code"], row["email"]) for row in listed) == \
        sorted((answer.json()["code"], f"fan{i}@example.org") for i, answer in enumerate(answers))


def listed_campaign_names(stack) -> list[str]:
    """Every campaign's name, from the operator's listing, page after page."""
    names, cursor = [], None
    while True:
        response = requests.get(f"{stack.api}/v1/campaigns", params={"cursor": cursor} if cursor else {},
                                headers={"Authorization": f"Bearer {stack.admin_token}"}, timeout=30)
        assert response.status_code == 200, response.text
        names += [campaign["name"] for campaign in response.json()["campaigns"]]
        cursor = response.json()["cursor"]
        if cursor is None:
            return names


@pytest.mark.parametrize("mode", MODES)
def test_each_campaign_is_created_once_and_changed_once(stack, faulty, mode):
    faulty.proxy.inject(mode, every=2, table="relais-local-campaigns")
    try:
        created = concurrently(lambda i: until_acknowledged(lambda: requests.post(
            f"{faulty.url}/v1/campaigns", json={"name": f"Faulted {mode} {i}", "target_url": "https://example.org/"},
            headers={"Authorization": f"Bearer {stack.admin_token}"}, timeout=10)))
        changed = concurrently(lambda i: until_acknowledged(lambda: requests.patch(
            f"{faulty.url}/v1/campaigns/{created[i].json()['campaign']['id']}", json={"locale": "fr"},
            headers={"Authorization": f"Bearer {created[i].json()['api_key']}"}, timeout=10)))
        rewarded = concurrently(lambda i: until_acknowledged(lambda: requests.patch(  # with its settings record
            f"{faulty.url}/v1/campaigns/{created[i].json()['campaign']['id']}",
            json={"rewards": [{"pledges": 1, "label": "Card"}]},
            headers={"Authorization": f"Bearer {created[i].json()['api_key']}"}, timeout=10)))
    finally:
        faulty.proxy.heal()
    assert [answer.status_code for answer in created] == [201] * OPERATIONS
    assert [answer.status_code for answer in changed + rewarded] == [200] * 2 * OPERATIONS
    assert sorted(name for name in listed_campaign_names(stack) if name.startswith(f"Faulted {mode} ")) == \
        [f"Faulted {mode} {i}" for i in range(OPERATIONS)]
    for answer in created:
        campaign, key = answer.json()["campaign"], answer.json()["api_key"]
        stored = requests.get(f"{stack.api}/v1/campaigns/{campaign['id']}", timeout=10,
                              headers={"Authorization": f"Bearer {key}"}).json()["campaign"]
        assert (stored["locale"], stored["rewards"]) == ("fr", [{"pledges": 1, "label": "Card"}])
        assert stored["version"] == 2  # each change applied once, however often it was sent
    assert faulty.proxy.faulted[(mode, "PutItem")] >= OPERATIONS // 2
    assert faulty.proxy.faulted[(mode, "UpdateItem")] + faulty.proxy.faulted[(mode, "TransactWriteItems")] >= \
        OPERATIONS // 2


@pytest.mark.parametrize("mode", MODES)
def test_pledges_and_their_refunds_count_once(stack, poller, faulty, mode):
    campaign, key = stack.create_campaign()
    url = f"{faulty.url}/v1/campaigns/{campaign['id']}/pledges"
    headers = {"Authorization": f"Bearer {key}"}
    faulty.proxy.inject(mode, every=2, table="relais-local-events")
    try:
        created = concurrently(lambda i: until_acknowledged(lambda: requests.post(
            url, json={"pledge_id": f"p{i}", "amount": 1000 + i, "currency": "EUR"}, headers=headers, timeout=30)))
        refunded = concurrently(lambda i: until_acknowledged(lambda: requests.post(
            url, json={"pledge_id": f"p{i}", "amount": 1000 + i, "currency": "EUR", "status": "refunded"},
            headers=headers, timeout=30)), count=2)
    finally:
        faulty.proxy.heal()
    assert [r.status_code for r in created if not r.retried] == [201] * sum(not r.retried for r in created)
    assert [r.json()["status"] for r in refunded] == ["refunded", "refunded"]
    settle(stack, poller)
    totals = stats(stack.api, campaign["id"], key)["totals"]
    kept = range(2, OPERATIONS)
    assert (totals["pledges"], totals["amount"]) == (len(kept), {"EUR": sum(1000 + i for i in kept)})


@pytest.mark.parametrize("mode", MODES)
def test_stripe_checkouts_count_once(stack, poller, faulty, mode):
    campaign, key = stack.create_campaign(stripe_webhook_secret=SECRET)

    def deliver(i):
        payload = json.dumps({"id": f"evt_{i}", "type": "checkout.session.completed", "created": int(time.time()),
                              "data": {"object": {"id": f"cs_{mode}_{i}", "amount_total": 500 + i, "currency": "eur",
                                                  "payment_status": "paid", "payment_intent": f"pi_{mode}_{i}"}}})
        return requests.post(f"{faulty.url}/v1/campaigns/{campaign['id']}/stripe", data=payload, timeout=30,
                             headers={"Content-Type": "application/json",
                                      "Stripe-Signature": stripe.WebhookSignature.generate_signature_header(
                                          payload, SECRET)})

    faulty.proxy.inject(mode, every=2, table="relais-local-events")
    try:
        concurrently(lambda i: until_acknowledged(lambda: deliver(i)))
    finally:
        faulty.proxy.heal()
    settle(stack, poller)
    totals = stats(stack.api, campaign["id"], key)["totals"]
    assert (totals["pledges"], totals["amount"]) == (OPERATIONS, {"EUR": sum(500 + i for i in range(OPERATIONS))})


@pytest.mark.parametrize("mode", MODES)
def test_the_aggregators_own_writes_count_once(stack, poller, faulty, mode, monkeypatch):
    campaign, key = stack.create_campaign()
    code = stack.new_fan(campaign["id"], "Fan")["code"]
    for i in range(OPERATIONS):
        requests.get(f"{stack.api}/r/{code}?c=email", headers={"User-Agent": f"{BROWSER} a{i}"},
                     allow_redirects=False, timeout=10)
        requests.post(f"{stack.api}/v1/campaigns/{campaign['id']}/pledges", headers={"Authorization": f"Bearer {key}"},
                      json={"pledge_id": f"agg{i}", "amount": 300, "currency": "USD"}, timeout=10)
    monkeypatch.setenv("RELAIS_DYNAMODB_ENDPOINT", faulty.proxy.url)
    faulty.proxy.inject(mode, every=2, table="relais-local-rollups")
    try:
        through_faults(poller.drain)  # a failed batch is retried, as Lambda retries it
    finally:
        faulty.proxy.heal()
        monkeypatch.undo()
    poller.drain()
    totals = stats(stack.api, campaign["id"], key)["totals"]
    assert (totals["clicks"], totals["unique_clicks"], totals["pledges"], totals["amount"]) == \
        (OPERATIONS, OPERATIONS, OPERATIONS, {"USD": 300 * OPERATIONS})
    assert sum(n for (m, _), n in faulty.proxy.faulted.items() if m == mode) > 0


# Fans' data and abuse limits ---------------------------------------------------------------

LIMITED_ORIGIN_SECRET = "origin-secret-of-the-fault-matrix"


@pytest.fixture(scope="module")
def limited(stack, tmp_path_factory):
    """A faulty ``chalice local`` whose visitors may share three times per campaign, and
    whose campaigns take three new fans per 10 minutes; it believes viewer addresses sent
    beside its origin secret, as the cached host sends them."""
    api = FaultyApi(stack, tmp_path_factory.mktemp("limited"), RELAIS_RATE_LIMITS="shares=3/600",
                    RELAIS_FAN_CEILING="3/600", RELAIS_ORIGIN_SECRET=LIMITED_ORIGIN_SECRET)
    yield api
    api.close()


def _viewer(address: str) -> dict[str, str]:
    return {"CloudFront-Viewer-Address": f"{address}:40000", "X-Relais-Origin": LIMITED_ORIGIN_SECRET}


LIMITED_REQUESTS = {
    # one IPv4 visitor (the local address): one counter per request
    "shares from one IPv4 address": lambda code, campaign_id, n: ("/v1/shares", {"code": code, "channel": "x"}, {}),
    # addresses of one IPv6 /64: two counters per request, the /64's and the /48's
    "shares from addresses of one IPv6 /64": lambda code, campaign_id, n: (
        "/v1/shares", {"code": code, "channel": "x"}, _viewer(f"2001:db8:fa:1::{n + 1:x}")),
    # new fans from as many /48s: the /64's, the /48's and the campaign's ceiling counters
    "new fans from many networks, up to the campaign's ceiling": lambda code, campaign_id, n: (
        f"/v1/campaigns/{campaign_id}/referrers", {"name": f"Networked {n}"}, _viewer(f"2001:db8:{0xfb00 + n:x}::1")),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("requests_of", list(LIMITED_REQUESTS))
def test_a_rate_limit_counts_each_request_once(stack, limited, mode, requests_of):
    campaign, _ = stack.create_campaign()
    code = stack.new_fan(campaign["id"], "Fan")["code"]
    limited.proxy.inject(mode, every=2, table="relais-local-rollups")
    try:
        statuses = []
        for n in range(4):
            path, body, headers = LIMITED_REQUESTS[requests_of](code, campaign["id"], n)
            statuses.append(until_acknowledged(lambda path=path, body=body, headers=headers, n=n: requests.post(
                f"{limited.url}{path}", json=body, headers={**headers, "User-Agent": f"{BROWSER} {n}"}, timeout=10),
                accepted=(201, 202, 429)).status_code)
    finally:
        limited.proxy.heal()
    accepted = 201 if "new fans" in requests_of else 202
    assert statuses == [accepted] * 3 + [429]
    assert limited.proxy.faulted[(mode, "UpdateItem")] >= 1


@pytest.mark.parametrize("mode", MODES)
def test_a_fan_is_hidden_and_erased_once_whatever_the_faults(stack, poller, faulty, mode):
    campaign, key = stack.create_campaign(goal={"amount": 1000, "currency": "EUR"})
    code = stack.new_fan(campaign["id"], "To erase", email="erase.me@example.org")["code"]
    location = requests.get(f"{stack.api}/r/{code}?c=x", headers={"User-Agent": BROWSER}, allow_redirects=False,
                            timeout=10).headers["Location"]
    requests.post(f"{stack.api}/v1/campaigns/{campaign['id']}/pledges", headers={"Authorization": f"Bearer {key}"},
                  json={"pledge_id": "kept", "amount": 900, "currency": "EUR",
                        "ref": parse_qs(urlsplit(location).query)["ref"][0]}, timeout=10)
    settle(stack, poller)
    before = stats(stack.api, campaign["id"], key)["totals"]
    path = f"{faulty.url}/v1/campaigns/{campaign['id']}/referrers/{code}"
    headers = {"Authorization": f"Bearer {key}"}
    faulty.proxy.inject(mode, every=2, table="relais-local-links")
    try:
        until_acknowledged(lambda: requests.patch(path, json={"hidden": True}, headers=headers, timeout=30))
        until_acknowledged(lambda: requests.delete(path, headers=headers, timeout=30))
    finally:
        faulty.proxy.heal()
    settle(stack, poller)
    (row,) = requests.get(f"{stack.api}/v1/campaigns/{campaign['id']}/referrers", headers=headers,
                          timeout=10).json()["referrers"]
    assert (row["hidden"], row["erased"], row["name"], "email" in row) == (True, True, None, False)
    assert stats(stack.api, campaign["id"], key)["totals"] == before
    assert requests.get(f"{stack.api}/v1/campaigns/{campaign['id']}/widget", timeout=10).json()["leaderboard"] == []


@pytest.mark.parametrize("mode", MODES)
def test_the_leaderboard_item_is_rebuilt_right_whatever_the_faults(stack, poller, faulty, mode, monkeypatch):
    campaign, key = stack.create_campaign(leaderboard="public", goal={"amount": 1000, "currency": "EUR"})
    codes = [stack.new_fan(campaign["id"], f"Leader {n}")["code"] for n in range(3)]
    for n, code in enumerate(codes):
        location = requests.get(f"{stack.api}/r/{code}?c=x", headers={"User-Agent": f"{BROWSER} l{n}"},
                                allow_redirects=False, timeout=10).headers["Location"]
        requests.post(f"{stack.api}/v1/campaigns/{campaign['id']}/pledges",
                      headers={"Authorization": f"Bearer {key}"},
                      json={"pledge_id": f"lead{n}", "amount": 100 * (n + 1), "currency": "EUR",
                            "ref": parse_qs(urlsplit(location).query)["ref"][0]}, timeout=10)
    monkeypatch.setenv("RELAIS_DYNAMODB_ENDPOINT", faulty.proxy.url)
    faulty.proxy.inject(mode, every=2, table="relais-local-rollups")
    try:
        through_faults(poller.drain)  # a failed batch is retried, as Lambda retries it
    finally:
        faulty.proxy.heal()
        monkeypatch.undo()
    poller.drain()
    board = requests.get(f"{stack.api}/v1/campaigns/{campaign['id']}/widget", timeout=10).json()["leaderboard"]
    assert [(e["name"], e["pledges"], e["amount"]) for e in board] == \
        [("Leader 2", 1, 300), ("Leader 1", 1, 200), ("Leader 0", 1, 100)]


@pytest.mark.parametrize("mode", MODES)
def test_the_daily_salt_is_drawn_once_whatever_the_faults(stack, monkeypatch, mode):
    from chalicelib.hotpath import signing
    from chalicelib.store import salts

    day = f"2099-01-{MODES.index(mode) + 10:02d}"  # a day of its own: today's salt is in use
    proxy = DynamoDBProxy(stack.dynamodb, stall_seconds=0.6)
    monkeypatch.setenv("RELAIS_DYNAMODB_ENDPOINT", proxy.url)
    monkeypatch.setattr(signing, "_salt", None)
    proxy.inject(mode, count=1, operations=("PutItem",), table="relais-local-rollups")
    try:
        drawn = signing.daily_salt(day)
        time.sleep(0.7)  # a stalled first attempt lands now, after its retry
    finally:
        proxy.close()
        monkeypatch.setenv("RELAIS_DYNAMODB_ENDPOINT", stack.dynamodb)
    monkeypatch.setattr(signing, "_salt", None)  # another container
    assert signing.daily_salt(day) == drawn == salts.get(day).encode()


# Webhooks and rewards ---------------------------------------------------------------------

def _hooked_campaign(stack, receiver, **settings):
    campaign, key = stack.create_campaign(goal={"amount": 100000, "currency": "EUR"}, **settings)
    response = requests.patch(f"{stack.api}/v1/campaigns/{campaign['id']}", json={"webhook_url": receiver.url},
                              headers={"Authorization": f"Bearer {key}"}, timeout=10)
    assert response.status_code == 200, response.text
    return campaign["id"], key


def _deliveries(api_url, campaign_id, key):
    response = requests.get(f"{api_url}/v1/campaigns/{campaign_id}/webhooks/deliveries",
                            headers={"Authorization": f"Bearer {key}"}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["deliveries"]


def _wait_until_delivered(stack, campaign_id, key, count, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        listed = _deliveries(stack.api, campaign_id, key)
        if len(listed) == count and all(d["status"] == "delivered" for d in listed):
            return listed
        assert time.monotonic() < deadline, listed
        time.sleep(0.1)


@pytest.mark.parametrize("mode", MODES)
def test_the_aggregators_webhook_reward_and_milestone_writes_make_each_event_once(stack, poller, faulty, mode,
                                                                                   monkeypatch):
    receiver = Receiver()
    try:
        campaign_id, key = _hooked_campaign(stack, receiver, rewards=[{"pledges": 2, "label": "Poster"}],
                                            milestones=[{"amount": 5000, "label": "Bonus"}])
        fan = stack.new_fan(campaign_id, "Fan")["code"]
        click = requests.get(f"{stack.api}/r/{fan}?c=x", headers={"User-Agent": BROWSER}, allow_redirects=False,
                             timeout=10)
        ref = click.headers["Location"].split("ref=")[1].split("&")[0]
        for i in range(4):
            response = requests.post(f"{stack.api}/v1/campaigns/{campaign_id}/pledges", timeout=10,
                                     headers={"Authorization": f"Bearer {key}"},
                                     json={"pledge_id": f"wh{i}", "amount": 2500, "currency": "EUR", "ref": ref})
            assert response.status_code == 201, response.text
        monkeypatch.setenv("RELAIS_WEBHOOK_SPOOL", str(stack.data_dir / "webhooks"))
        monkeypatch.setenv("RELAIS_DYNAMODB_ENDPOINT", faulty.proxy.url)
        faulty.proxy.inject(mode, every=2, table="relais-local-rollups")
        try:
            through_faults(poller.drain)  # a failed batch is retried, as Lambda retries it
        finally:
            faulty.proxy.heal()
            monkeypatch.setenv("RELAIS_DYNAMODB_ENDPOINT", stack.dynamodb)
        poller.drain()
        listed = _wait_until_delivered(stack, campaign_id, key, 7)
        received = receiver.wait_for(lambda r: len({x.event["id"] for x in r}) == 7, "seven events")
    finally:
        receiver.close()
    types = sorted(d["type"] for d in listed)
    assert types == ["milestone.reached", "pledge.created", "pledge.created", "pledge.created", "pledge.created",
                     "referrer.created", "reward.unlocked"]
    assert {x.event["id"] for x in received} == {d["id"] for d in listed}
    assert sum(n for (m, _), n in faulty.proxy.faulted.items() if m == mode) > 0


@pytest.mark.parametrize("mode", MODES)
def test_the_dispatchers_writes_record_each_attempt_once(stack, poller, faulty, mode, monkeypatch, tmp_path):
    receiver = Receiver(statuses=(500,))
    try:
        campaign_id, key = _hooked_campaign(stack, receiver)
        response = requests.post(f"{stack.api}/v1/campaigns/{campaign_id}/pledges", timeout=10,
                                 headers={"Authorization": f"Bearer {key}"},
                                 json={"pledge_id": "dispatch-1", "amount": 700, "currency": "EUR"})
        assert response.status_code == 201, response.text
        spool = tmp_path / "webhooks"  # this test's own dispatcher, not the stack's
        monkeypatch.setenv("RELAIS_WEBHOOK_SPOOL", str(spool))
        monkeypatch.setenv("RELAIS_WEBHOOK_RETRY_BASE_SECONDS", "0.1")
        poller.drain()
        monkeypatch.setenv("RELAIS_DYNAMODB_ENDPOINT", faulty.proxy.url)
        faulty.proxy.inject(mode, every=2, table="relais-local-rollups")
        try:
            with dispatching(spool):
                received = receiver.wait_for(lambda r: len(r) == 2, "a failed attempt and a retry")
                deadline = time.monotonic() + 20
                while _deliveries(stack.api, campaign_id, key)[0]["status"] != "delivered":
                    assert time.monotonic() < deadline
                    time.sleep(0.1)
        finally:
            faulty.proxy.heal()
            monkeypatch.setenv("RELAIS_DYNAMODB_ENDPOINT", stack.dynamodb)
    finally:
        receiver.close()
    (delivery,) = _deliveries(stack.api, campaign_id, key)
    assert (delivery["attempts"], [a["status_code"] for a in delivery["history"]]) == (2, [500, 200])
    assert received[0].event["id"] == received[1].event["id"] == delivery["id"]
    assert sum(n for (m, _), n in faulty.proxy.faulted.items() if m == mode) > 0


@pytest.mark.parametrize("mode", MODES)
def test_a_creators_retry_and_fulfilment_apply_once(stack, poller, faulty, mode, monkeypatch):
    receiver = Receiver()
    try:
        campaign_id, key = _hooked_campaign(stack, receiver, rewards=[{"pledges": 1, "label": "Card"}])
        fan = stack.new_fan(campaign_id, "Fan")["code"]
        click = requests.get(f"{stack.api}/r/{fan}?c=x", headers={"User-Agent": BROWSER}, allow_redirects=False,
                             timeout=10)
        ref = click.headers["Location"].split("ref=")[1].split("&")[0]
        requests.post(f"{stack.api}/v1/campaigns/{campaign_id}/pledges", headers={"Authorization": f"Bearer {key}"},
                      json={"pledge_id": "fulfil-1", "amount": 700, "currency": "EUR", "ref": ref}, timeout=10)
        monkeypatch.setenv("RELAIS_WEBHOOK_SPOOL", str(stack.data_dir / "webhooks"))
        poller.drain()
        listed = _wait_until_delivered(stack, campaign_id, key, 3)
        pledge_delivery = next(d for d in listed if d["type"] == "pledge.created")
        headers = {"Authorization": f"Bearer {key}"}
        faulty.proxy.inject(mode, every=2, table="relais-local-rollups")
        try:
            retried = until_acknowledged(lambda: requests.post(
                f"{faulty.url}/v1/campaigns/{campaign_id}/webhooks/deliveries/{pledge_delivery['id']}/retry",
                headers=headers, timeout=30), accepted=(202,))
            fulfilled = until_acknowledged(lambda: requests.post(
                f"{faulty.url}/v1/campaigns/{campaign_id}/rewards/fulfilments", json={"code": fan, "pledges": 1},
                headers=headers, timeout=30))
        finally:
            faulty.proxy.heal()
        receiver.wait_for(lambda r: len([x for x in r if x.event["id"] == pledge_delivery["id"]]) == 2,
                          "the retried delivery")
        after = _wait_until_delivered(stack, campaign_id, key, 3)
        rewards = requests.get(f"{stack.api}/v1/campaigns/{campaign_id}/rewards", headers=headers, timeout=10).json()
    finally:
        receiver.close()
    assert retried.json()["delivery"]["id"] == pledge_delivery["id"]
    assert next(d for d in after if d["id"] == pledge_delivery["id"])["attempts"] == 2
    assert fulfilled.json()["reward"]["fulfilled_at"] == rewards["rewards"][0]["fulfilled_at"] is not None


# Platform tags ---------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_the_aggregators_platform_tag_writes_issue_each_tag_once_to_its_fan(stack, poller, faulty, mode,
                                                                          monkeypatch):
    """Fans there before the platform is switched on (the settings record's pass over every
    fan) and fans after it (each new fan's own): each fan × channel gets one tag, its own."""
    from chalicelib.hotpath import platform_tags

    campaign, key = stack.create_campaign(channels=["email", "x"])
    headers = {"Authorization": f"Bearer {key}"}
    early = [stack.new_fan(campaign["id"], f"Early {n}")["code"] for n in range(3)]
    poller.drain()
    switched = requests.patch(f"{stack.api}/v1/campaigns/{campaign['id']}", headers=headers, timeout=10,
                              json={"platform": {"name": "goteo", "tag_per": "fan_channel"}})
    assert switched.status_code == 200, switched.text
    late = [stack.new_fan(campaign["id"], f"Late {n}")["code"] for n in range(3)]
    monkeypatch.setenv("RELAIS_DYNAMODB_ENDPOINT", faulty.proxy.url)
    faulty.proxy.inject(mode, every=2, table="relais-local-links")
    try:
        through_faults(poller.drain)  # a failed batch is retried, as Lambda retries it
    finally:
        faulty.proxy.heal()
        monkeypatch.setenv("RELAIS_DYNAMODB_ENDPOINT", stack.dynamodb)
    poller.drain()
    listed = requests.get(f"{stack.api}/v1/campaigns/{campaign['id']}/platform-tags", headers=headers,
                          timeout=10).json()["tags"]
    assert sorted((row["code"], row["channel"], row["tag"]) for row in listed) == sorted(
        (code, channel, platform_tags.tag(code, channel))
        for code in early + late for channel in ("email", "x", "direct"))
    assert faulty.proxy.faulted[(mode, "TransactWriteItems")] > 0


@contextlib.contextmanager
def _smtp_server(directory: Path) -> Iterator[str]:
    """``make dev``'s SMTP server (each message an .eml file in ``directory``), in this process."""
    controller = Controller(KeepMessages(directory), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield f"127.0.0.1:{controller.port}"
    finally:
        controller.stop()


@contextlib.contextmanager
def _mailing(spool: Path) -> Iterator[list[Exception]]:
    """``make dev``'s mailer, in this process (so through the fault proxy), over ``spool``."""
    from chalicelib.outbound import mailer

    stop, errors = threading.Event(), []
    thread = threading.Thread(target=mailer.run_spool, args=(spool, stop),
                              kwargs={"interval": 0.02, "on_error": errors.append}, daemon=True)
    thread.start()
    try:
        yield errors
    finally:
        stop.set()
        thread.join(60)


def _until_sent(spool: Path, timeout: float = 60) -> None:
    """Until the outbox holds no job, waiting or taken (a failed send is queued again first)."""
    deadline = time.monotonic() + timeout
    while spool.is_dir() and any(spool.glob("*.json*")):
        assert time.monotonic() < deadline, sorted(path.name for path in spool.iterdir())
        time.sleep(0.05)


@pytest.mark.parametrize("mode", MODES)
def test_a_reward_unlock_mails_each_fan_who_opted_in_exactly_once(stack, poller, faulty, mode, monkeypatch,
                                                                   tmp_path):
    """The aggregator queues the unlock's e-mail (replayed with its batch when a write fails) and
    the mailer sends it (its gate, lease and ``sent`` in the rollups table's e-mail items), one
    write in two faulted on that table: one message per unlock reaches the SMTP server."""
    campaign, key = stack.create_campaign(email={"enabled": True, "from_name": "Fault Matrix"},
                                          rewards=[{"pledges": 1, "label": "A poster"}])
    opted_in = {f"{mode.replace('_', '-')}-{i}@example.org": stack.new_fan(
        campaign["id"], f"Fan {i}", email=f"{mode.replace('_', '-')}-{i}@example.org", notify=True)["code"]
        for i in range(3)}
    silent = stack.new_fan(campaign["id"], "Silent", email=f"silent-{mode.replace('_', '-')}@example.org")["code"]
    for i, code in enumerate([*opted_in.values(), silent]):
        click = requests.get(f"{stack.api}/r/{code}?c=x", headers={"User-Agent": BROWSER}, allow_redirects=False,
                             timeout=10)
        ref = click.headers["Location"].split("ref=")[1].split("&")[0]
        response = requests.post(f"{stack.api}/v1/campaigns/{campaign['id']}/pledges", timeout=10,
                                 headers={"Authorization": f"Bearer {key}"},
                                 json={"pledge_id": f"mail-{mode}-{i}", "amount": 1500, "currency": "EUR",
                                       "ref": ref})
        assert response.status_code == 201, response.text
    spool, mail_dir = tmp_path / "outbox", tmp_path / "mail"  # this test's outbox and mailer, not the stack's
    monkeypatch.setenv("RELAIS_MAIL_SPOOL", str(spool))
    monkeypatch.setenv("RELAIS_PUBLIC_URL", stack.api)
    monkeypatch.setenv("RELAIS_MAIL_RETRY_SECONDS", "0.05")
    with _smtp_server(mail_dir) as smtp:
        monkeypatch.setenv("RELAIS_SMTP", smtp)
        monkeypatch.setenv("RELAIS_DYNAMODB_ENDPOINT", faulty.proxy.url)
        faulty.proxy.inject(mode, every=2, table="relais-local-rollups")
        try:
            through_faults(poller.drain)  # a failed batch is retried, as Lambda retries it: its unlocks queued again
            with _mailing(spool):
                _until_sent(spool)
        finally:
            faulty.proxy.heal()
            monkeypatch.setenv("RELAIS_DYNAMODB_ENDPOINT", stack.dynamodb)
        poller.drain()
        with _mailing(spool):  # what the faults left queued, sent (or found sent) without them
            _until_sent(spool)
        time.sleep(0.3)  # the last SMTP conversation, if any, ends after its job's file is gone
    messages = [BytesParser(policy=policy.default).parsebytes(path.read_bytes())
                for path in sorted(mail_dir.glob("*.eml"))]
    assert sorted(message["To"].addresses[0].addr_spec for message in messages) == sorted(opted_in)
    assert all("A poster" in message["Subject"] for message in messages)
    assert sum(n for (m, _), n in faulty.proxy.faulted.items() if m == mode) > 0


# Imports ----------------------------------------------------------------------------------

IMPORT_BUCKET = "relais-fault-matrix-imports"
FANS = ("Ana", "Bo", "Cy")
PLEDGE_DAY = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
IMPORT_CHUNK = 3
"""Rows per chunk here (100 in production): the file spans three chunks, each recorded with
its own progress write, for 6 pledges rather than 300 (every write is faulted, and a faulted
write costs the client's back-off, half a second on average)."""


def pledge_rows(tags: list[str]) -> list[tuple[str, int, str, str]]:
    """6 pledges (id, amount, status, tag): each fan's tag and no tag (direct) in turn, one refunded."""
    return [(f"pl-{i}", 500 + 7 * i, "refunded" if i == 4 else "confirmed", [*tags, ""][i % 4]) for i in range(6)]


def pledges_file(tags: list[str]) -> bytes:
    """The pledges, then two rows in error (a negative amount, an unknown currency)."""
    lines = [f"{pid},{amount},EUR,{status},{PLEDGE_DAY}T10:00:00Z,{tag}" for pid, amount, status, tag in
             pledge_rows(tags)]
    lines += [f"bad-1,-5,EUR,confirmed,{PLEDGE_DAY}T10:00:00Z,", f"bad-2,100,XXQ,confirmed,{PLEDGE_DAY}T10:00:00Z,"]
    return ("pledge_id,amount,currency,status,occurred_at,tag\n" + "\n".join(lines) + "\n").encode()


def totals_file(tags: list[str]) -> bytes:
    """Each fan's tag's total on the platform, and a tag no fan has (a row in error)."""
    rows = [f"{tag},{n + 2},{(n + 1) * 1500},EUR" for n, tag in enumerate(tags)] + ["nobody-s-tag,1,100,EUR"]
    return ("tag,pledges,amount,currency\n" + "\n".join(rows) + "\n").encode()


FILES = {  # kind: (rows, rows in error, what the file moves, counted from its rows)
    "pledges": (8, 2, {"pledges": 5, "amount": {"EUR": sum(500 + 7 * i for i in range(6) if i != 4)}}),
    "tag_totals": (4, 1, {"pledges": 2 + 3 + 4, "amount": {"EUR": 1500 + 3000 + 4500}}),
}


@pytest.fixture(scope="module")
def import_bucket(tmp_path_factory) -> Iterator[dict[str, str]]:
    """An S3 server of this module's own (moto's, as ``make dev`` runs it) holding the files:
    the importer runs in this process, so its DynamoDB writes go through the fault proxy."""
    port = free_port()
    server = spawn([sys.executable, "-m", "dev.moto_server", "-p", str(port)], {**os.environ, "MOTO_PORT": str(port)},
                   log_file=tmp_path_factory.mktemp("s3") / "moto.log")
    try:
        wait_http(f"http://127.0.0.1:{port}/moto-api/")
        settings = {"RELAIS_S3_ENDPOINT": f"http://127.0.0.1:{port}", "RELAIS_IMPORT_BUCKET": IMPORT_BUCKET}
        with pytest.MonkeyPatch.context() as patch:
            for name, value in settings.items():
                patch.setenv(name, value)
            from chalicelib.store import clients
            clients.s3().create_bucket(Bucket=IMPORT_BUCKET)
        yield settings
    finally:
        server.terminate()
        server.wait(10)


@pytest.fixture
def importer(import_bucket, monkeypatch) -> None:
    """``imports.run`` in this process, on the module's S3 server, in chunks of :data:`IMPORT_CHUNK`."""
    from chalicelib.domain import imports

    for name, value in import_bucket.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(imports, "CHUNK", IMPORT_CHUNK)


def _importing_campaign(stack) -> tuple[str, str, dict[str, bytes]]:
    """A campaign on a platform with three fans: its id, key, and the files to import for it."""
    campaign, key = stack.create_campaign(platform={"name": "ulule", "tag_param": "utm_source"},
                                          goal={"amount": 100000, "currency": "EUR"})
    tags = [stack.new_fan(campaign["id"], name)["platform_tag"] for name in FANS]
    return campaign["id"], key, {"pledges": pledges_file(tags), "tag_totals": totals_file(tags)}


def _run_import(campaign_id: str, kind: str, body: bytes) -> str:
    """Start an import as the API does (the file kept in S3, the job recorded), then run its job
    to the end, again after each failure as its queue delivers a failed message again."""
    from chalicelib.domain import imports
    from chalicelib.store import campaigns_table

    campaign = campaigns_table.get(campaign_id)
    assert campaign is not None
    job = through_faults(lambda: imports.start(campaign, {"kind": kind}, body)["import"])
    assert through_faults(lambda: imports.run(campaign_id, job)) is True
    return job


def _job(stack, campaign_id: str, key: str, job: str) -> dict:
    response = requests.get(f"{stack.api}/v1/campaigns/{campaign_id}/imports/{job}",
                            headers={"Authorization": f"Bearer {key}"}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def _named_figures(stack, campaign_id: str, key: str) -> dict:
    """The campaign's stats, each fan known by name rather than code (two campaigns compare)."""
    figures = stats(stack.api, campaign_id, key)
    del figures["campaign"]
    for row in figures["referrers"]:
        del row["code"]
    return figures


@pytest.fixture(scope="module")
def clean_import_figures(stack, poller, import_bucket) -> dict:
    """The figures the two imports make, run once without faults (in chunks of 100)."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in import_bucket.items():
            patch.setenv(name, value)
        campaign_id, key, files = _importing_campaign(stack)
        for kind, body in files.items():
            _run_import(campaign_id, kind, body)
    poller.drain()
    figures = _named_figures(stack, campaign_id, key)
    moved = {kind: changes for kind, (_, _, changes) in FILES.items()}
    assert figures["totals"]["reported"] == {  # what the files say, before any faults
        "pledges": moved["pledges"]["pledges"] + moved["tag_totals"]["pledges"],
        "amount": {"EUR": moved["pledges"]["amount"]["EUR"] + moved["tag_totals"]["amount"]["EUR"]}}
    return figures


@pytest.mark.parametrize("mode", MODES)
def test_an_import_and_its_repeat_count_each_row_once_whatever_the_faults(stack, poller, importer,
                                                                          clean_import_figures, mode, monkeypatch):
    """A pledges import (over three fans' tags, and direct) then a tag_totals import, run by the
    importer while one write request in two is faulted (the retry of a refused or lost write is
    the next request, so every write is faulted once; one in two is stalled): the events
    table's pledges and tag totals, the rollups table's jobs and their progress, the campaign's
    first day, until each job is done. Then the same files again. The jobs' tallies are the
    files', and the figures one clean run's."""
    campaign_id, key, files = _importing_campaign(stack)
    proxy = DynamoDBProxy(stack.dynamodb, stall_seconds=0.6)
    monkeypatch.setenv("RELAIS_DYNAMODB_ENDPOINT", proxy.url)
    proxy.inject(mode, every=2, table=None)
    try:
        first = {kind: _run_import(campaign_id, kind, body) for kind, body in files.items()}
    finally:
        proxy.close()
        monkeypatch.setenv("RELAIS_DYNAMODB_ENDPOINT", stack.dynamodb)
    again = {kind: _run_import(campaign_id, kind, body) for kind, body in files.items()}
    poller.drain()
    for kind, (rows, errors, changes) in FILES.items():
        job = _job(stack, campaign_id, key, first[kind])
        assert (job["status"], job["rows"], job["rows_done"], job["errors_count"]) == ("done", rows, rows, errors)
        assert (job["applied"], job["unchanged"], job["changes"]) == (rows - errors, 0, changes)
        job = _job(stack, campaign_id, key, again[kind])
        assert (job["status"], job["rows_done"], job["applied"], job["unchanged"], job["errors_count"]) == \
            ("done", rows, 0, rows - errors, errors)
        assert job["changes"] == {"pledges": 0, "amount": {}}
    assert _named_figures(stack, campaign_id, key) == clean_import_figures
    assert proxy.faulted_tables[(mode, "relais-local-events")] >= 5  # pledges and tag totals
    assert proxy.faulted_tables[(mode, "relais-local-rollups")] >= 3  # the jobs, begun and advanced
