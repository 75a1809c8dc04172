"""An erasure's scrub of the local data dir reaches the stream batches set aside too: once
every consumer is past the erasure, ``failed-stream-batches.jsonl`` (the feeder's on-failure
destination, records included) keeps its records but not the erased fan's name. The journal,
its proxy and a real moto server (a subprocess on 127.0.0.1) run as ``make dev`` runs them."""
from __future__ import annotations

import json
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ERASED, KEPT = "Scrubbed Zoë Quartzfield", "Kept Bob Underhill"
REGION = "us-east-1"


@pytest.fixture(scope="module")
def moto_url():
    from dev.processes import free_port, wait_http

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "dev.moto_server", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/moto-api/", timeout=30)
        yield url
    finally:
        server.terminate()
        server.wait(10)


def _holding(data_dir: Path, text: str) -> list[str]:
    """Every file of the data dir holding ``text`` (UTF-8 or JSON-escaped)."""
    forms = {text.encode(), json.dumps(text)[1:-1].encode()}
    return sorted(str(path.relative_to(data_dir)) for path in data_dir.rglob("*")
                  if path.is_file() and any(form in path.read_bytes() for form in forms))


def _fact(code: str, name: str | None) -> dict:
    item = {"pk": {"S": "cmp#01"}, "sk": {"S": f"r#{code}"}, "kind": {"S": "referrer"}, "code": {"S": code}}
    return {**item, "name": {"S": name}} if name else {**item, "erased": {"BOOL": True}}


def _feed_until(feeder, position: int) -> None:
    """Run the stack's feeder until it is past ``position`` (every batch refused: set aside)."""
    stop = threading.Event()
    thread = threading.Thread(target=feeder.run, args=(stop,))
    thread.start()
    deadline = time.monotonic() + 20
    while feeder.stream.position < position and time.monotonic() < deadline:
        time.sleep(0.02)
    stop.set()
    thread.join(10)
    assert feeder.stream.position >= position


def _refuse(batch, context):
    raise RuntimeError("the aggregator refuses every batch")


def _events_table(moto_url: str, tmp_path: Path) -> str:
    from dev.local_dynamodb import LocalDynamoDB

    events = f"events-{tmp_path.name[-12:]}"
    LocalDynamoDB(moto_url, REGION).checked("CreateTable", {
        "TableName": events, "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                 {"AttributeName": "sk", "AttributeType": "S"}]})
    return events


def _started(moto_url: str, tmp_path: Path, events: str):
    """The journaled store and the stack's stream feeder over it, its aggregator refusing every batch."""
    from dev.journal_stream import FAILED_BATCHES, JournalStream, StreamFeeder
    from dev.local_dynamodb import LocalDynamoDB
    from dev.persistence import JournaledDynamoDB

    store = JournaledDynamoDB(tmp_path, moto_url, REGION, {events})
    store.start()
    assert store.journal is not None
    feeder = StreamFeeder(JournalStream(tmp_path, _refuse, consumer="aggregator", region=REGION), store.journal,
                          tmp_path / FAILED_BATCHES, attempts=1, pause=0.01)
    return store, LocalDynamoDB(store.url, REGION), feeder


def _erase(client, events: str, code: str) -> None:
    """What an erasure writes to the events table: the fact without the name, an erasure record."""
    client.checked("PutItem", {"TableName": events, "Item": _fact(code, None)})
    client.checked("PutItem", {"TableName": events, "Item": {
        "pk": {"S": "cmp#01"}, "sk": {"S": f"er#{code}"}, "kind": {"S": "erasure"}, "code": {"S": code}}})


def _stop(store, client) -> None:
    client.close()
    store.stop_serving()
    store.close()


def test_an_erasure_scrubs_the_fans_name_from_the_set_aside_stream_batches_and_keeps_the_rest(moto_url, tmp_path):
    from dev.journal_stream import FAILED_BATCHES

    events = _events_table(moto_url, tmp_path)
    store, client, feeder = _started(moto_url, tmp_path, events)
    try:
        # Given two fans' facts in batches the aggregator refused (set aside, names included)
        for code, name in (("zoe00001", ERASED), ("bob00002", KEPT)):
            client.checked("PutItem", {"TableName": events, "Item": _fact(code, name)})
        _feed_until(feeder, store.journal.durable_seq)
        assert _holding(tmp_path, ERASED) and _holding(tmp_path, KEPT)
        # When one is erased (the fact loses the name, an erasure record is written) and the
        # batch that says so is refused and set aside too (its old image holds the name)
        _erase(client, events, "zoe00001")
        _feed_until(feeder, store.journal.durable_seq)
        # Then the scrub, once every consumer is past the erasure, leaves the name in no file
        assert store.scrub_if_due(feeder.stream.position)
        assert _holding(tmp_path, ERASED) == []
        # while the set-aside batches keep every record, and other fans' names
        entries = [json.loads(line) for line in (tmp_path / FAILED_BATCHES).read_text().splitlines()]
        assert sum(len(entry["Records"]) for entry in entries) == 4
        assert [path for path in _holding(tmp_path, KEPT) if path == FAILED_BATCHES] == [FAILED_BATCHES]
        assert stat.S_IMODE((tmp_path / FAILED_BATCHES).stat().st_mode) == 0o600
    finally:
        _stop(store, client)


def test_a_scrub_owed_when_the_stack_stopped_still_redacts_the_set_aside_batches_after_a_restart(
        moto_url, tmp_path):
    events = _events_table(moto_url, tmp_path)
    store, client, feeder = _started(moto_url, tmp_path, events)
    try:
        client.checked("PutItem", {"TableName": events, "Item": _fact("zoe00003", ERASED)})
        _erase(client, events, "zoe00003")
        _feed_until(feeder, store.journal.durable_seq)
    finally:
        _stop(store, client)  # stopped before the compactor's next check: the scrub is owed
    assert _holding(tmp_path, ERASED)
    store, client, feeder = _started(moto_url, tmp_path, events)
    try:
        assert store.journal.erased_codes == {"zoe00003"}
        assert store.scrub_if_due(feeder.stream.position)
        assert _holding(tmp_path, ERASED) == []
    finally:
        _stop(store, client)
