"""Running the app in this process with its DynamoDB traffic counted by the proxy."""
from __future__ import annotations

import json
import math
import os
import re
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from dev.dynamodb_proxy import DynamoDBProxy, item_size
from dev.local_dynamodb import LocalDynamoDB

WRITE_UNIT_BYTES = 1024
TRANSACTION_FACTOR = 2
"""DynamoDB's billing of writes (Developer Guide, "DynamoDB read and write operations",
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html):
a write costs one unit per KB, rounded up, of the larger of the item before and after it (a
refused conditional write too, the item untouched); an item in a TransactWriteItems costs twice that."""

ABSENT = re.compile(r"attribute_not_exists\(\s*(#?\w+)\s*\)")


def _units(*sizes: int) -> int:
    return max(1, math.ceil(max(sizes) / WRITE_UNIT_BYTES))


class MeteredProxy(DynamoDBProxy):
    """The counting proxy, also counting the write units DynamoDB would bill.

    A write's units need the item's size before and after it. A put conditioned on its
    item being absent that succeeds had none before; otherwise the proxy reads the item
    itself, straight from the server (not counted): before the write, and after an update."""

    def __init__(self, upstream: str) -> None:
        super().__init__(upstream)
        self.write_units = 0
        self.write_units_by: Counter = Counter()  # (operation, table, refused) → units
        self.reader = LocalDynamoDB(upstream, os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
        self._units_lock = threading.Lock()

    def _handler(self):
        class Handler(super()._handler()):  # type: ignore[misc]
            disable_nagle_algorithm = True
            """Answer headers and body leave as two writes: with Nagle's algorithm on, the
            second waits for the client's delayed ACK, 40 ms a call (the base proxy's cost)."""

        return Handler

    def reset(self) -> None:
        super().reset()
        with self._units_lock:
            self.write_units = 0
            self.write_units_by.clear()

    def _size(self, table: str, key: dict) -> int:
        answer = self.reader.checked("GetItem", {"TableName": table, "Key": key, "ConsistentRead": True})
        return item_size(answer["Item"]) if "Item" in answer else 0

    def _actions(self, operation: str, request: dict) -> list[tuple[str, str, dict]]:
        """``(kind, table, action)`` of each item a write writes or checks: kind Put, Update,
        Delete or (in a transaction) ConditionCheck."""
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            return [(operation[:-4], request["TableName"], request)]
        if operation == "BatchWriteItem":
            return [(kind[:-7], table, action) for table, requests in request.get("RequestItems", {}).items()
                    for each in requests for kind, action in each.items()]
        if operation == "TransactWriteItems":
            return [(kind, action["TableName"], action) for each in request.get("TransactItems", [])
                    for kind, action in each.items()]
        return []

    def _absent_only(self, table: str, kind: str, action: dict) -> bool:
        """A put that stores its item only where none is (``attribute_not_exists`` of a key attribute)."""
        found = ABSENT.fullmatch(str(action.get("ConditionExpression", "")).strip())
        if kind != "Put" or found is None:
            return False
        name = action.get("ExpressionAttributeNames", {}).get(found[1], found[1])
        return name in self.reader.key_schema(table)

    def _key(self, table: str, kind: str, action: dict) -> dict:
        return self.reader.key_of(table, action["Item"]) if kind == "Put" else action["Key"]

    def _forward(self, path: str, body: bytes, headers: dict) -> tuple[int, bytes]:
        operation = headers.get("X-Amz-Target", "").rpartition(".")[2]
        request = json.loads(body or b"{}")
        actions = self._actions(operation, request)
        absent = [self._absent_only(table, kind, action) for kind, table, action in actions]
        before = [0 if only else self._size(table, self._key(table, kind, action))
                  for (kind, table, action), only in zip(actions, absent, strict=True)]
        answer = self.reader.forward("POST", path, headers, body)
        if actions:
            refused = answer.status != 200
            units = 0
            for (kind, table, action), size_before, only in zip(actions, before, absent, strict=True):
                if kind == "Put":
                    if refused and only:  # it was there after all
                        size_before = self._size(table, self._key(table, kind, action))
                    units += _units(size_before, item_size(action["Item"]))
                elif kind == "Update":
                    units += _units(size_before, self._size(table, action["Key"]))
                else:  # Delete, ConditionCheck
                    units += _units(size_before)
            units *= TRANSACTION_FACTOR if operation == "TransactWriteItems" else 1
            tables = ",".join(sorted({table for _, table, _ in actions}))
            with self._units_lock:
                self.write_units += units
                self.write_units_by[(operation, tables, refused)] += units
        return answer.status, answer.payload


@contextmanager
def counted(upstream: str) -> Iterator[DynamoDBProxy]:
    """Route the app's DynamoDB calls through a counting proxy for the duration (the store
    reads the endpoint at call time and keeps one client per endpoint)."""
    proxy = DynamoDBProxy(upstream)
    os.environ["RELAIS_DYNAMODB_ENDPOINT"] = proxy.url
    try:
        yield proxy
    finally:
        os.environ["RELAIS_DYNAMODB_ENDPOINT"] = upstream
        proxy.close()


@contextmanager
def metered(upstream: str) -> Iterator[MeteredProxy]:
    """:func:`counted`, with the write units counted too (a read of the item around each write)."""
    proxy = MeteredProxy(upstream)
    os.environ["RELAIS_DYNAMODB_ENDPOINT"] = proxy.url
    try:
        yield proxy
    finally:
        os.environ["RELAIS_DYNAMODB_ENDPOINT"] = upstream
        proxy.close()
        proxy.reader.close()
