"""The local DynamoDB is atomic as DynamoDB is, under concurrent requests: a refused
transaction undoes nothing but itself, and of two conditional writes racing on one read,
one wins. Tried over HTTP against the local stack's moto server process, with threads."""
from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
import botocore.config
import pytest

from dev.processes import ROOT, free_port

TABLE = "atomic"


@pytest.fixture(scope="module")
def dynamodb():
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "dev.moto_server", "-p", str(port)], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = boto3.client("dynamodb", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                          aws_access_key_id="local", aws_secret_access_key="local",
                          config=botocore.config.Config(retries={"total_max_attempts": 1}, max_pool_connections=16))
    deadline = time.monotonic() + 30
    while True:
        try:
            client.list_tables()
            break
        except Exception:
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the moto server did not start") from None
            time.sleep(0.1)
    client.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    client.streams = boto3.client("dynamodbstreams", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                                  aws_access_key_id="local", aws_secret_access_key="local")
    yield client
    server.terminate()
    server.wait(10)


def _refused_transaction(client, i: int) -> None:
    """A transaction whose second write's condition fails: nothing of it may land."""
    try:
        client.transact_write_items(TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {"id": {"S": f"refused-{i}"}}}},
            {"Update": {"TableName": TABLE, "Key": {"id": {"S": "absent"}}, "UpdateExpression": "SET n = :one",
                        "ConditionExpression": "attribute_exists(id)",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        ])
    except client.exceptions.TransactionCanceledException:
        return
    raise AssertionError("the transaction should have been refused")


def test_a_refused_transaction_undoes_none_of_the_writes_made_while_it_ran(dynamodb):
    def work(i: int) -> None:
        if i % 3 == 0:
            _refused_transaction(dynamodb, i)
        else:
            dynamodb.put_item(TableName=TABLE, Item={"id": {"S": f"kept-{i}"}})

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(work, range(600)))
    stored = {item["id"]["S"] for item in dynamodb.scan(TableName=TABLE)["Items"]}
    assert {name for name in stored if name.startswith("kept-")} == {f"kept-{i}" for i in range(600) if i % 3}
    assert not any(name.startswith("refused-") for name in stored)


def test_of_conditional_writes_racing_on_one_read_exactly_one_wins_each_version(dynamodb):
    dynamodb.put_item(TableName=TABLE, Item={"id": {"S": "counter"}, "version": {"N": "0"}, "wins": {"L": []}})

    def bump(worker: int) -> int:
        won = 0
        for _ in range(40):
            read = dynamodb.get_item(TableName=TABLE, Key={"id": {"S": "counter"}}, ConsistentRead=True)["Item"]
            try:
                dynamodb.update_item(
                    TableName=TABLE, Key={"id": {"S": "counter"}}, ConditionExpression="version = :read",
                    UpdateExpression="SET version = :next, wins = list_append(wins, :me)",
                    ExpressionAttributeValues={":read": read["version"], ":me": {"L": [{"N": str(worker)}]},
                                               ":next": {"N": str(int(read["version"]["N"]) + 1)}})
                won += 1
            except dynamodb.exceptions.ConditionalCheckFailedException:
                pass
        return won

    with ThreadPoolExecutor(8) as pool:
        wins = sum(pool.map(bump, range(8)))
    stored = dynamodb.get_item(TableName=TABLE, Key={"id": {"S": "counter"}}, ConsistentRead=True)["Item"]
    assert int(stored["version"]["N"]) == wins == len(stored["wins"]["L"])


def _stream_length(client) -> int:
    arn = client.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = client.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = client.streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                                 ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    return len(client.streams.get_records(ShardIterator=iterator, Limit=1000)["Records"])


def test_a_refused_transaction_leaves_the_items_it_wrote_first_and_the_stream_as_they_were(dynamodb):
    dynamodb.put_item(TableName=TABLE, Item={"id": {"S": "held"}, "v": {"N": "1"}})
    records = _stream_length(dynamodb)
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(TransactItems=[
            {"Update": {"TableName": TABLE, "Key": {"id": {"S": "held"}}, "UpdateExpression": "SET v = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}}}},
            {"Put": {"TableName": TABLE, "Item": {"id": {"S": "new-in-refused"}}}},
            {"ConditionCheck": {"TableName": TABLE, "Key": {"id": {"S": "absent"}},
                                "ConditionExpression": "attribute_exists(id)"}},
        ])
    stored = dynamodb.get_item(TableName=TABLE, Key={"id": {"S": "held"}}, ConsistentRead=True)["Item"]
    assert stored["v"] == {"N": "1"}
    assert "Item" not in dynamodb.get_item(TableName=TABLE, Key={"id": {"S": "new-in-refused"}})
    assert _stream_length(dynamodb) == records
