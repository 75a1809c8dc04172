"""Webhook targets (app tier): a POST goes to the address that was checked, is not
redirected and times out, against a receiver of this test's own on 127.0.0.1 (never a private
or public address); and the campaign route refuses each SSRF URL. The checks themselves,
on a stub resolver: ``tests/unit/test_webhook_targets.py``."""
from __future__ import annotations

import socket

import pytest

from chalicelib.outbound import targets
from harness.webhooks import Receiver


def test_post_sends_to_the_pinned_address_with_the_hosts_name_and_keeps_a_short_excerpt():
    receiver = Receiver(body=b"x" * 5000)
    try:
        port = int(receiver.url.split(":")[2].split("/")[0])
        target = targets.Target("http", "localhost", port, "/hooks?a=1", "127.0.0.1")
        answer = targets.post(target, b'{"id":"evt_1"}', {"Relais-Signature": "t=1,v1=00"}, timeout=5)
        (received,) = receiver.received
    finally:
        receiver.close()
    assert (answer.status, answer.error, answer.excerpt) == (200, None, "x" * targets.EXCERPT_CHARS)
    assert (received.path, received.headers["host"], received.body) == ("/hooks?a=1", f"localhost:{port}",
                                                                        b'{"id":"evt_1"}')
    assert received.headers["relais-signature"] == "t=1,v1=00"


def test_a_redirect_is_an_answer_that_is_not_followed():
    receiver = Receiver(statuses=(302,))
    try:
        port = int(receiver.url.split(":")[2].split("/")[0])
        answer = targets.post(targets.Target("http", "127.0.0.1", port, "/", "127.0.0.1"), b"{}", {}, timeout=5)
    finally:
        receiver.close()
    assert (answer.status, answer.error) == (302, "redirects are not followed")
    assert len(receiver.received) == 1


def test_an_endpoint_that_does_not_answer_in_time_is_a_timeout():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        answer = targets.post(targets.Target("http", "127.0.0.1", port, "/", "127.0.0.1"), b"{}", {}, timeout=0.3)
    assert (answer.status, answer.error) == (None, "timed out")


@pytest.mark.parametrize("url", [
    "http://hooks.example.org/relais", "https://127.0.0.1/relais", "https://169.254.169.254/latest/meta-data/",
    "https://10.0.0.5/hook", "http://localhost:8080/hook",
])
def test_patch_refuses_each_ssrf_url_with_400_in_a_deployed_stage(api, monkeypatch, url):
    campaign, key = api.create_campaign()
    monkeypatch.setenv("RELAIS_STAGE", "prod")
    monkeypatch.delenv("RELAIS_LOCAL")  # a deployed process: not local
    monkeypatch.setenv("RELAIS_TABLE_PREFIX", "relais-test-")  # the tables of this tier, under a deployed stage
    response = api.call("PATCH", f"/v1/campaigns/{campaign['id']}", {"webhook_url": url}, token=key)
    assert (response.status_code, response.data["error"]["code"]) == (400, "invalid_webhook_url")


def test_patch_accepts_a_loopback_url_in_a_local_stage(api):
    campaign, key = api.create_campaign()
    response = api.call("PATCH", f"/v1/campaigns/{campaign['id']}", {"webhook_url": "http://127.0.0.1:9/h"}, token=key)
    assert (response.status_code, response.data["campaign"]["webhook_url"]) == (200, "http://127.0.0.1:9/h")

