"""A process is local only by the explicit flag ``RELAIS_LOCAL=1``, never by its stage's name: a
deployed stage called ``local`` or ``test`` refuses loopback webhook endpoints (the Lambda runtime
API listens on 127.0.0.1). The resolver is a stub and sending is replaced: nothing connects."""
from __future__ import annotations

import pytest

from chalicelib.outbound import dispatcher, targets
from chalicelib.store import webhook_queue

LOOPBACK_HOOK = "http://127.0.0.1:9/hook"


def _deployed_as(monkeypatch, stage: str) -> None:
    """This tier's tables, in a stage of that name, without the flag."""
    monkeypatch.setenv("RELAIS_STAGE", stage)
    monkeypatch.delenv("RELAIS_LOCAL", raising=False)
    monkeypatch.setenv("RELAIS_TABLE_PREFIX", "relais-test-")


def _loopback_resolver(asked: list):
    def resolve(host, port, **_):
        asked.append(host)
        return [(2, 1, 6, "", ("127.0.0.1", port))]
    return resolve


@pytest.mark.parametrize("stage", ["local", "test"])
def test_a_stage_named_local_or_test_without_the_flag_refuses_a_loopback_webhook_url(api, monkeypatch, stage):
    campaign, key = api.create_campaign()
    _deployed_as(monkeypatch, stage)
    response = api.call("PATCH", f"/v1/campaigns/{campaign['id']}", {"webhook_url": LOOPBACK_HOOK}, token=key)
    assert (response.status_code, response.data["error"]["code"]) == (400, "invalid_webhook_url")


@pytest.mark.parametrize("stage", ["local", "test"])
def test_a_stage_named_local_or_test_without_the_flag_never_sends_a_delivery_to_a_loopback_address(
        api, poller, spool, monkeypatch, stage):
    campaign, key = api.create_campaign()
    hooked = api.call("PATCH", f"/v1/campaigns/{campaign['id']}", {"webhook_url": LOOPBACK_HOOK}, token=key)
    assert hooked.status_code == 200  # set while the process was local (RELAIS_LOCAL=1)
    api.call("POST", f"/v1/campaigns/{campaign['id']}/pledges",
             {"pledge_id": f"order-{stage}", "amount": 2500, "currency": "EUR"}, token=key)
    poller.drain()
    (path,) = spool.iterdir()
    message = webhook_queue.Message.from_json(path.read_text())
    _deployed_as(monkeypatch, stage)
    asked: list = []
    sent: list = []

    def post(target, *args, **kwargs):
        sent.append(target)
        return targets.Answer(None, error="not sent: a test")

    monkeypatch.setattr(targets, "post", post)
    outcome = dispatcher.handle(message, resolver=_loopback_resolver(asked))
    assert sent == [] and asked == [] and outcome.delivery is not None
    assert (outcome.name, outcome.delivery.history[-1].error.startswith("refused: ")) == ("retry", True)


def test_the_flag_alone_makes_a_process_local_whatever_the_stage_is_called(api, monkeypatch):
    campaign, key = api.create_campaign()
    monkeypatch.setenv("RELAIS_STAGE", "prod")
    monkeypatch.setenv("RELAIS_TABLE_PREFIX", "relais-test-")
    monkeypatch.setenv("RELAIS_LOCAL", "1")
    response = api.call("PATCH", f"/v1/campaigns/{campaign['id']}", {"webhook_url": LOOPBACK_HOOK}, token=key)
    assert (response.status_code, response.data["campaign"]["webhook_url"]) == (200, LOOPBACK_HOOK)
