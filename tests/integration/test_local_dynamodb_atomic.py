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
                        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
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
