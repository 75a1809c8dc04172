"""Unit tier: pure logic, tested in this process without moto, without the app and without
the network (codec, names, bot detection, Spearman's ρ, URL checks, signatures, CSV cells,
the local stack's journal on files...). Tests that need the app or a DynamoDB belong to
``tests/app`` (in-process) or ``tests/integration`` (over HTTP); ``tests/test_layout.py``
fails on a unit test that imports moto, ``chalice.test``, boto3 or botocore, or asks for
the app tier's fixtures.

The only fixtures here set the environment the code reads its configuration from.
"""
from __future__ import annotations

import pytest

UNIT_ENV = {
    "RELAIS_STAGE": "test",
    "RELAIS_SECRET": "unit-test-secret",
}
UNSET = ("RELAIS_LOCAL", "RELAIS_DYNAMODB_ENDPOINT", "RELAIS_PUBLIC_URL", "RELAIS_TABLE_PREFIX", "RELAIS_ORIGIN_SECRET",
         "RELAIS_WEBHOOK_QUEUE_URL", "RELAIS_WEBHOOK_SPOOL")


@pytest.fixture(scope="package", autouse=True)
def environment():
    """One configuration for the whole tier, whatever the shell exported; tests that change
    it use monkeypatch."""
    patcher = pytest.MonkeyPatch()
    for name in UNSET:
        patcher.delenv(name, raising=False)
    for name, value in UNIT_ENV.items():
        patcher.setenv(name, value)
    yield
    patcher.undo()


@pytest.fixture
def spool(tmp_path, monkeypatch):
    """The local webhook queue: a spool directory of this test's own (files, no server)."""
    directory = tmp_path / "webhooks"
    monkeypatch.setenv("RELAIS_WEBHOOK_SPOOL", str(directory))
    monkeypatch.setenv("RELAIS_WEBHOOK_RETRY_BASE_SECONDS", "0.05")
    return directory
