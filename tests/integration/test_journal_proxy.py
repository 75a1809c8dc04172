"""The local stack's journaling proxy in front of a real moto server (a subprocess on
127.0.0.1, spoken to over HTTP): what it journals of each write, what it refuses, and a
start that loads the journal into moto. The journal's own logic (framing, recovery,
compaction, the stream read from it) is tested on files alone in ``tests/unit/test_journal.py``."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from dev import journal
from dev.journal import Journal, list_segments, recover


@pytest.fixture(scope="module")
def moto_url():
    from dev.processes import free_port, wait_http

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/moto-api/", timeout=30)
        yield url
    finally:
        server.terminate()
        server.wait(10)


@pytest.fixture
def proxied(moto_url, tmp_path):
    """A journaling proxy on fresh tables; yields ``(client of the proxy, journal dir, names)``."""
    from dev.journal_proxy import JournalingProxy
    from dev.local_dynamodb import LocalDynamoDB

    suffix = tmp_path.name[-12:]
    events, links = f"events-{suffix}", f"links-{suffix}"
    direct = LocalDynamoDB(moto_url, "us-east-1")
    direct.checked("CreateTable", {
        "TableName": events, "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                 {"AttributeName": "sk", "AttributeType": "S"}]})
    direct.checked("CreateTable", {
        "TableName": links, "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": "code", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "code", "AttributeType": "S"}]})
    log = Journal(tmp_path, 1)
    proxy = JournalingProxy(direct, log, {events}).start()
    client = LocalDynamoDB(proxy.url, "us-east-1")
    yield client, tmp_path, events, links
    client.close()
    proxy.close()
    log.close()


def _changes(directory: Path) -> list[dict]:
    """Every change journaled in ``directory``, in order."""
    changes = []
    for segment in list_segments(directory):
        with open(segment.path, "rb") as stream:
            while (frame := journal.read_frame(stream)) is not None:
                changes.extend(journal.frame_changes(frame))
    return changes


def test_the_proxy_journals_a_put_with_its_old_image_and_answers_what_was_asked(proxied):
    client, directory, events, links = proxied
    key = {"pk": {"S": "c#01"}, "sk": {"S": "pl#1"}}
    first = client.call("PutItem", {"TableName": events, "Item": {**key, "status": {"S": "confirmed"}}})
    assert first.ok and "Attributes" not in first.json()  # the injected ALL_OLD is not shown
    second = client.call("PutItem", {"TableName": events, "Item": {**key, "status": {"S": "refunded"}},
                                     "ReturnValues": "ALL_OLD"})
    assert second.json()["Attributes"]["status"] == {"S": "confirmed"}
    client.call("PutItem", {"TableName": links, "Item": {"code": {"S": "abc"}, "name": {"S": "Ann"}}})
    changes = _changes(directory)
    assert [(c["table"], c["seq"]) for c in changes] == [(events, 1), (events, 2), (links, 3)]
    assert changes[0]["old"] is None and changes[1]["old"]["status"] == {"S": "confirmed"}
    assert "old" not in changes[2]


def test_a_refused_write_is_not_journaled_and_its_answer_passes_unchanged(proxied):
    client, directory, events, _ = proxied
    item = {"pk": {"S": "c#02"}, "sk": {"S": "pl#2"}, "amount": {"N": "500"}}
    client.call("PutItem", {"TableName": events, "Item": item})
    refused = client.call("PutItem", {"TableName": events, "Item": {**item, "amount": {"N": "9"}},
                                      "ConditionExpression": "attribute_not_exists(pk)",
                                      "ReturnValuesOnConditionCheckFailure": "ALL_OLD"})
    assert refused.status == 400 and refused.error_type() == "ConditionalCheckFailedException"
    assert refused.json()["Item"]["amount"] == {"N": "500"}
    invalid = client.call("UpdateItem", {"TableName": events, "Key": {"pk": {"S": "x"}},
                                         "UpdateExpression": "SET a = :a",
                                         "ExpressionAttributeValues": {":a": {"S": "b"}}})
    assert invalid.status == 400
    assert len(_changes(directory)) == 1


def test_an_update_is_journaled_with_both_images_and_a_no_op_delete_not_at_all(proxied):
    client, directory, events, links = proxied
    key = {"pk": {"S": "c#03"}, "sk": {"S": "v#1"}}
    update = {"TableName": events, "Key": key, "UpdateExpression": "ADD hits :one",
              "ExpressionAttributeValues": {":one": {"N": "1"}}}
    assert "Attributes" not in client.call("UpdateItem", update).json()
    client.call("UpdateItem", update)
    client.call("DeleteItem", {"TableName": links, "Key": {"code": {"S": "nothing-here"}}})
    changes = _changes(directory)
    assert [c["new"]["hits"] for c in changes] == [{"N": "1"}, {"N": "2"}]
    assert changes[0]["old"] is None and changes[1]["old"]["hits"] == {"N": "1"}


def test_batches_and_transactions_are_journaled_as_their_item_images(proxied):
    client, directory, events, links = proxied
    client.checked("BatchWriteItem", {"RequestItems": {
        events: [{"PutRequest": {"Item": {"pk": {"S": "c#04"}, "sk": {"S": f"s#{n}"}}}} for n in range(3)],
        links: [{"PutRequest": {"Item": {"code": {"S": "bw"}}}}]}})
    client.checked("TransactWriteItems", {"TransactItems": [
        {"Put": {"TableName": links, "Item": {"code": {"S": "tx"}, "name": {"S": "T"}}}},
        {"Update": {"TableName": events, "Key": {"pk": {"S": "c#04"}, "sk": {"S": "s#0"}},
                    "UpdateExpression": "SET n = :n", "ExpressionAttributeValues": {":n": {"N": "7"}}}},
        {"Delete": {"TableName": events, "Key": {"pk": {"S": "c#04"}, "sk": {"S": "s#1"}}}},
        {"ConditionCheck": {"TableName": links, "Key": {"code": {"S": "bw"}},
                            "ConditionExpression": "attribute_exists(code)"}}]})
    cancelled = client.call("TransactWriteItems", {"TransactItems": [
        {"Put": {"TableName": links, "Item": {"code": {"S": "tx"}},
                 "ConditionExpression": "attribute_not_exists(code)"}}]})
    assert cancelled.error_type() == "TransactionCanceledException"
    changes = _changes(directory)
    assert len(changes) == 7
    update = next(c for c in changes if c["table"] == events and c["seq"] > 4 and c["new"] is not None)
    assert update["new"]["n"] == {"N": "7"} and update["old"] == {"pk": {"S": "c#04"}, "sk": {"S": "s#0"}}
    deleted = next(c for c in changes if c["new"] is None)
    assert deleted["old"]["sk"] == {"S": "s#1"}
    assert {json.dumps(item, sort_keys=True) for _, item in recover(directory).images()} == {
        json.dumps(item, sort_keys=True) for item in [
            {"pk": {"S": "c#04"}, "sk": {"S": "s#0"}, "n": {"N": "7"}}, {"pk": {"S": "c#04"}, "sk": {"S": "s#2"}},
            {"code": {"S": "bw"}}, {"code": {"S": "tx"}, "name": {"S": "T"}}]}


def test_concurrent_writes_to_one_item_are_journaled_in_the_order_moto_applied_them(proxied):
    client, directory, events, _ = proxied
    key = {"pk": {"S": "c#06"}, "sk": {"S": "v#hot"}}
    update = {"TableName": events, "Key": key, "UpdateExpression": "ADD hits :one",
              "ExpressionAttributeValues": {":one": {"N": "1"}}}
    threads = [threading.Thread(target=lambda: [client.checked("UpdateItem", update) for _ in range(5)])
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    changes = _changes(directory)
    assert [int(c["new"]["hits"]["N"]) for c in changes] == list(range(1, 41))
    assert all(int(c["old"]["hits"]["N"]) == int(c["new"]["hits"]["N"]) - 1 for c in changes[1:])


def test_reads_pass_through_the_proxy_and_partiql_which_could_write_unseen_is_refused(proxied):
    client, directory, events, _ = proxied
    client.checked("PutItem", {"TableName": events, "Item": {"pk": {"S": "c#05"}, "sk": {"S": "x"}}})
    found = client.checked("Query", {"TableName": events, "KeyConditionExpression": "pk = :p",
                                     "ExpressionAttributeValues": {":p": {"S": "c#05"}}})
    assert found["Count"] == 1
    statement = client.call("ExecuteStatement", {"Statement": f"DELETE FROM \"{events}\" WHERE pk = 'c#05'"})
    assert statement.status == 400 and statement.error_type() == "ValidationException"
    assert client.checked("Query", {"TableName": events, "KeyConditionExpression": "pk = :p",
                                    "ExpressionAttributeValues": {":p": {"S": "c#05"}}})["Count"] == 1
    assert len(_changes(directory)) == 1


def test_a_start_loads_the_journal_into_moto_without_its_stream_and_imports_an_old_snapshot_above_its_numbers(
        moto_url, tmp_path, monkeypatch):
    from dev.local_dynamodb import LocalDynamoDB
    from dev.persistence import JournaledDynamoDB

    prefix = f"legacy{tmp_path.name[-6:]}-"
    monkeypatch.setenv("RELAIS_TABLE_PREFIX", prefix)
    direct = LocalDynamoDB(moto_url, "us-east-1")
    for base, keys in (("campaigns", ["id"]), ("links", ["code"]), ("events", ["pk", "sk"]), ("rollups", ["pk", "sk"])):
        direct.checked("CreateTable", {
            "TableName": prefix + base, "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": name, "KeyType": kind}
                          for name, kind in zip(keys, ("HASH", "RANGE")[:len(keys)], strict=True)],
            "AttributeDefinitions": [{"AttributeName": name, "AttributeType": "S"} for name in keys],
            **({"StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}}
               if base == "events" else {})})
    direct.checked("UpdateTimeToLive", {"TableName": prefix + "events", "TimeToLiveSpecification": {
        "Enabled": True, "AttributeName": "expires_at"}})
    moto_era = 1100000000017454423011  # moto's stream numbers, as the old rollups remember them
    (tmp_path / "tables.json").write_text(json.dumps({
        "campaigns": [{"id": {"S": "C1"}, "name": {"S": "Old"}}],
        "links": [{"code": {"S": "abc"}, "campaign_id": {"S": "C1"}}],
        "events": [{"pk": {"S": "C1#03"}, "sk": {"S": "v#1"}, "kind": {"S": "visit"}}],
        "rollups": [{"pk": {"S": "C1"}, "sk": {"S": "total"}, "clicks": {"N": "1"},
                     "seq_03": {"S": str(moto_era).zfill(40)}}]}))

    store = JournaledDynamoDB(tmp_path, moto_url, "us-east-1", {prefix + "events"})
    restored = store.start()
    try:
        assert (restored.items, restored.next_seq) == (4, moto_era + 1)
        events = direct.checked("DescribeTable", {"TableName": prefix + "events"})["Table"]
        assert not events.get("StreamSpecification", {}).get("StreamEnabled")  # the journal is its stream
        assert direct.checked("DescribeTimeToLive", {"TableName": prefix + "events"})[
            "TimeToLiveDescription"]["AttributeName"] == "expires_at"
        assert not (tmp_path / "tables.json").exists() and (tmp_path / "tables.json.imported").exists()
        client = LocalDynamoDB(store.url, "us-east-1")
        assert client.checked("GetItem", {"TableName": prefix + "campaigns", "Key": {"id": {"S": "C1"}}})["Item"] \
            == {"id": {"S": "C1"}, "name": {"S": "Old"}}
        client.checked("PutItem", {"TableName": prefix + "events",
                                   "Item": {"pk": {"S": "C1#03"}, "sk": {"S": "v#2"}, "kind": {"S": "visit"}}})
        client.close()
    finally:
        store.stop_serving()
        store.close()
    change, = _changes(tmp_path / "journal")
    assert change["seq"] == moto_era + 1 and change["old"] is None  # new records sort after the old ones
    for base in ("campaigns", "links", "events", "rollups"):
        direct.checked("DeleteTable", {"TableName": prefix + base})
    direct.close()
