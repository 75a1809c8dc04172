"""App tier: the whole app in this process (chalice.test.Client) on moto's in-memory DynamoDB,
with the dev stream poller feeding the real aggregator. Pure logic is tested in ``tests/unit``;
the app over HTTP on the real local stack in ``tests/integration``."""
import json

import pytest
from chalice.test import Client
from moto import mock_aws

from harness.inprocess import ADMIN
from harness.moto_patches import one_request_at_a_time
from harness.webhooks import Receiver

APP_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "RELAIS_STAGE": "test",
    "RELAIS_LOCAL": "1",  # the flag, not the stage name, makes this process local
    "RELAIS_ADMIN_TOKEN": ADMIN,
    "RELAIS_SECRET": "app-test-secret",
    "POWERTOOLS_METRICS_NAMESPACE": "RelaisTest",
}


@pytest.fixture(scope="package", autouse=True)
def environment():
    """One environment for the whole app tier; tests that change it use monkeypatch."""
    patcher = pytest.MonkeyPatch()
    for name in ("RELAIS_DYNAMODB_ENDPOINT", "RELAIS_PUBLIC_URL", "RELAIS_TABLE_PREFIX"):
        patcher.delenv(name, raising=False)
    for name, value in APP_ENV.items():
        patcher.setenv(name, value)
    yield
    patcher.undo()


@pytest.fixture(scope="package")
def dynamodb(environment):
    """moto's in-memory DynamoDB (and SQS, SSM), tables created once; tests isolate by their own
    campaigns. moto serves one request at a time, as DynamoDB applies each atomically."""
    with mock_aws(), one_request_at_a_time():  # moto's one patch: harness/moto_patches.py
        from chalicelib.store import tables

        tables.create_tables()
        yield


class Api:
    """A thin JSON helper over chalice.test.Client."""

    def __init__(self, client):
        self.client = client

    def call(self, method, path, body=None, token=None, headers=None, raw=None):
        all_headers = {"Content-Type": "application/json"}
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        all_headers.update(headers or {})
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        kwargs = {"headers": all_headers}
        if payload is not None:
            kwargs["body"] = payload
        response = getattr(self.client.http, method.lower())(path, **kwargs)
        response.data = json.loads(response.body) if response.body and \
            response.headers.get("Content-Type", "").startswith("application/json") else None
        return response

    def create_campaign(self, **overrides):
        body = {"name": "Noob, saison 4", "target_url": "https://example.org/noob", **overrides}
        response = self.call("POST", "/v1/campaigns", body, token=ADMIN)
        assert response.status_code == 201, response.body
        return response.data["campaign"], response.data["api_key"]


@pytest.fixture
def api(dynamodb):
    from app import app

    with Client(app) as client:
        yield Api(client)


@pytest.fixture(scope="package")
def poller(dynamodb):
    """The dev stream poller on moto's in-memory stream, feeding the real aggregator."""
    from app import aggregator
    from dev.stream_poller import StreamPoller

    return StreamPoller(aggregator)



@pytest.fixture
def spool(tmp_path, monkeypatch):
    """Outbound webhooks: a fast backoff and a spool of this test's own (no other test's messages in it)."""
    directory = tmp_path / "webhooks"
    monkeypatch.setenv("RELAIS_WEBHOOK_SPOOL", str(directory))
    monkeypatch.setenv("RELAIS_WEBHOOK_RETRY_BASE_SECONDS", "0.05")
    return directory


@pytest.fixture
def receiver():
    """A webhook receiver on 127.0.0.1 that records what it is sent."""
    running = Receiver()
    yield running
    running.close()
