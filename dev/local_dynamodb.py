"""DynamoDB's JSON protocol spoken directly to the local server (moto), without botocore.

The journaling proxy forwards its clients' requests through :class:`LocalDynamoDB`, reads
item images with it, and recovery loads the journal's images with it: bodies that are
already DynamoDB JSON go over a pool of keep-alive connections as they are, which is
several times faster than a botocore client for bulk loads. moto does not check
signatures; it takes the region from the credential scope of ``Authorization``.
"""
from __future__ import annotations

import http.client
import json
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

from dev.journal import key_id

TARGET_PREFIX = "DynamoDB_20120810."
CONTENT_TYPE = "application/x-amz-json-1.0"
BATCH_WRITE_LIMIT = 25
BATCH_GET_LIMIT = 100


def authorization(region: str) -> str:
    """An unsigned ``Authorization`` header that names ``region`` (all moto reads of it)."""
    return f"AWS4-HMAC-SHA256 Credential=local/20200101/{region}/dynamodb/aws4_request, SignedHeaders=host, Signature=0"


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    payload: bytes

    @property
    def ok(self) -> bool:
        return self.status == 200

    def json(self) -> dict:
        return json.loads(self.payload or b"{}")

    def error_type(self) -> str:
        """DynamoDB's short error name (``ConditionalCheckFailedException``…), or ``""``."""
        try:
            return str(self.json().get("__type", "")).rpartition("#")[2]
        except ValueError:
            return ""


class UpstreamError(ConnectionError):
    """The local server did not answer (connection refused, reset, timed out)."""


class LocalDynamoDB:
    """A pool of HTTP/1.1 connections to one local DynamoDB server."""

    def __init__(self, url: str, region: str, timeout: float = 30) -> None:
        parts = urlsplit(url)
        self.url = url
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.region = region
        self.timeout = timeout
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self._schemas: dict[str, tuple[str, ...]] = {}

    def _connection(self) -> http.client.HTTPConnection:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        """One request as it is; :class:`UpstreamError` if no answer came back."""
        connection = self._connection()
        try:
            connection.request(method, path, body, {**headers, "Content-Length": str(len(body))})
            response = connection.getresponse()
            answer = Answer(response.status, response.getheaders(), response.read())
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise UpstreamError(f"{self.url}: {exc}") from exc
        if response.will_close:
            connection.close()
        else:
            with self._lock:
                self._idle.append(connection)
        return answer

    def call(self, operation: str, request: dict, auth: str | None = None) -> Answer:
        """One DynamoDB operation with a JSON request."""
        headers = {"Content-Type": CONTENT_TYPE, "X-Amz-Target": TARGET_PREFIX + operation,
                   "Authorization": auth or authorization(self.region)}
        return self.forward("POST", "/", headers, json.dumps(request).encode())

    def checked(self, operation: str, request: dict, auth: str | None = None) -> dict:
        answer = self.call(operation, request, auth)
        if not answer.ok:
            raise RuntimeError(f"{operation} failed: {answer.status} {answer.payload[:300]!r}")
        return answer.json()

    def key_schema(self, table: str) -> tuple[str, ...]:
        """The names of a table's key attributes, partition key first (asked once per table)."""
        schema = self._schemas.get(table)
        if schema is None:
            described = self.checked("DescribeTable", {"TableName": table})["Table"]["KeySchema"]
            schema = tuple(part["AttributeName"]
                           for part in sorted(described, key=lambda part: part["KeyType"] != "HASH"))
            self._schemas[table] = schema
        return schema

    def key_of(self, table: str, item: dict) -> dict:
        """The key of ``item`` in ``table``."""
        return {name: item[name] for name in self.key_schema(table)}

    def drop_stream(self, table: str) -> bool:
        """Re-create an empty ``table`` as it is, without its stream; ``True`` if it had one.

        moto's stream keeps every record in memory for good and costs a quarter of each
        write; moto cannot turn it off (``UpdateTable`` leaves it half-disabled).
        """
        described = self.checked("DescribeTable", {"TableName": table})["Table"]
        if not described.get("StreamSpecification", {}).get("StreamEnabled"):
            return False
        ttl = self.checked("DescribeTimeToLive", {"TableName": table})["TimeToLiveDescription"]
        request: dict = {"TableName": table, "KeySchema": described["KeySchema"],
                         "AttributeDefinitions": described["AttributeDefinitions"]}
        if described.get("BillingModeSummary", {}).get("BillingMode") == "PAY_PER_REQUEST":
            request["BillingMode"] = "PAY_PER_REQUEST"
        else:
            throughput = described["ProvisionedThroughput"]
            request["ProvisionedThroughput"] = {name: throughput[name]
                                                for name in ("ReadCapacityUnits", "WriteCapacityUnits")}
        for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            if described.get(kind):
                request[kind] = [{name: index[name] for name in ("IndexName", "KeySchema", "Projection")}
                                 for index in described[kind]]
        self.checked("DeleteTable", {"TableName": table})
        self.checked("CreateTable", request)
        if ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
            self.checked("UpdateTimeToLive", {"TableName": table, "TimeToLiveSpecification": {
                "Enabled": True, "AttributeName": ttl["AttributeName"]}})
        return True

    def get_items(self, keys: list[tuple[str, dict]], auth: str | None = None) -> tuple[Answer | None, dict]:
        """Consistent reads of ``(table, key)``: ``(failed answer or None, {key_id: item})``."""
        found: dict = {}
        if len(keys) == 1:
            (table, key), = keys
            answer = self.call("GetItem", {"TableName": table, "Key": key, "ConsistentRead": True}, auth)
            if not answer.ok:
                return answer, found
            item = answer.json().get("Item")
            if item is not None:
                found[key_id(table, key)] = item
            return None, found
        unique = list({key_id(table, key): (table, key) for table, key in keys}.values())
        for start in range(0, len(unique), BATCH_GET_LIMIT):
            wanted: dict = {}
            for table, key in unique[start:start + BATCH_GET_LIMIT]:
                wanted.setdefault(table, {"Keys": [], "ConsistentRead": True})["Keys"].append(key)
            while wanted:
                answer = self.call("BatchGetItem", {"RequestItems": wanted}, auth)
                if not answer.ok:
                    return answer, found
                response = answer.json()
                for table, items in response.get("Responses", {}).items():
                    for item in items:
                        found[key_id(table, self.key_of(table, item))] = item
                wanted = response.get("UnprocessedKeys") or {}
        return None, found

    def put_all(self, items: Iterable[tuple[str, dict]], workers: int = 2) -> int:
        """Load ``(table, item)`` pairs (distinct keys) with batch writes in parallel; returns the count."""

        def batches() -> Iterator[tuple[str, list[dict]]]:
            pending: dict[str, list[dict]] = {}
            for table, item in items:
                batch = pending.setdefault(table, [])
                batch.append({"PutRequest": {"Item": item}})
                if len(batch) == BATCH_WRITE_LIMIT:
                    yield table, pending.pop(table)
            yield from pending.items()

        def write(job: tuple[str, list[dict]]) -> int:
            table, requests = job
            unprocessed: dict = {table: requests}
            while unprocessed:
                answer = self.checked("BatchWriteItem", {"RequestItems": unprocessed})
                unprocessed = answer.get("UnprocessedItems") or {}
            return len(requests)

        with ThreadPoolExecutor(workers, thread_name_prefix="load") as pool:
            return sum(_bounded_map(pool, write, batches(), window=workers * 4))

    def close(self) -> None:
        with self._lock:
            for connection in self._idle:
                connection.close()
            self._idle.clear()


def _bounded_map(pool: ThreadPoolExecutor, function, jobs: Iterable, window: int) -> Iterator:
    """``pool.map`` that keeps at most ``window`` jobs in flight (the input is a stream)."""
    inflight: deque = deque()
    for job in jobs:
        inflight.append(pool.submit(function, job))
        if len(inflight) >= window:
            yield inflight.popleft().result()
    while inflight:
        yield inflight.popleft().result()
