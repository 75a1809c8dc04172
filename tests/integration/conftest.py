"""Integration tier: the real local stack (moto server, chalice local, demo page) as
subprocesses on free ports, spoken to over HTTP. The stack's own stream feeder is off:
tests drain the events stream from the stack's journal, in this process, when they need counts."""
from __future__ import annotations

import pytest

from harness.stack_process import start_stack, stop_stack


@pytest.fixture(scope="package")
def stack(tmp_path_factory):
    running = start_stack(tmp_path_factory.mktemp("relais-data"))
    patcher = pytest.MonkeyPatch()
    patcher.setenv("RELAIS_STAGE", "local")
    patcher.setenv("RELAIS_LOCAL", "1")
    patcher.setenv("RELAIS_DYNAMODB_ENDPOINT", running.dynamodb)
    patcher.setenv("RELAIS_SECRET", (running.data_dir / "secret").read_text().strip())
    patcher.setenv("AWS_ACCESS_KEY_ID", "local")
    patcher.setenv("AWS_SECRET_ACCESS_KEY", "local")
    patcher.setenv("AWS_DEFAULT_REGION", "us-east-1")
    patcher.delenv("RELAIS_TABLE_PREFIX", raising=False)
    yield running
    patcher.undo()
    stop_stack(running)


@pytest.fixture(scope="package")
def poller(stack):
    """Drains the stack's events stream (read from its journal) into the real aggregator,
    like Lambda's event source."""
    from app import aggregator
    from dev.journal_stream import JournalStream

    stream = JournalStream(stack.data_dir, aggregator, consumer="integration-tests")
    yield stream
    stream.close()
