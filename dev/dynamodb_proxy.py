"""An HTTP proxy in front of a DynamoDB endpoint that counts every call and injects faults.

Faults apply to write operations (to one table, or to all) and come in the ways a network
fails a client, each of which the code must survive without a wrong count:

- ``throttle``: DynamoDB refuses (``ProvisionedThroughputExceeded``); nothing is applied.
- ``drop``: the connection closes before the request reaches DynamoDB; nothing is applied.
- ``lose_answer``: the request is applied, then the connection closes before the answer:
  the client cannot tell this from ``drop``, retries, and the write arrives twice.
- ``stall``: the request is held for ``stall_seconds`` (past the client's timeout), then
  applied: the client has given up (and retried) before its first attempt lands.

``inject(mode, count, ...)`` faults the next ``count`` matching writes; ``every`` faults one
matching write in ``every`` (deterministic, for concurrent workloads). Tests use it to
prove each write path exact under these faults; benchmarks use the counters.
"""
from __future__ import annotations

import http.client
import json
import math
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

THROTTLED = json.dumps({
    "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
    "message": "The level of configured provisioned throughput for the table was exceeded.",
}).encode()
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")
MODES = ("throttle", "drop", "lose_answer", "stall")


def _value_size(typed: dict) -> int:
    (kind, value), = typed.items()
    if kind == "S":
        return len(value.encode())
    if kind == "N":
        digits = value.lstrip("-").replace(".", "").strip("0") or "0"
        return (len(digits) + 1) // 2 + 1
    if kind == "BOOL" or kind == "NULL":
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + _value_size(v) + 1 for k, v in value.items())
    if kind == "L":
        return 3 + sum(_value_size(v) + 1 for v in value)
    return len(str(value))


def item_size(item: dict) -> int:
    """An item's size as DynamoDB bills it: attribute names plus values (numbers: ~half their digits)."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _tables_of(operation: str, request: dict) -> set[str]:
    if operation == "BatchWriteItem":
        return set(request.get("RequestItems", {}))
    if operation == "TransactWriteItems":
        return {next(iter(item.values())).get("TableName", "") for item in request.get("TransactItems", [])}
    return {request.get("TableName", "")}


@dataclass
class _Plan:
    mode: str
    remaining: float  # writes still to fault (inf: all)
    every: int
    operations: frozenset[str]
    table: str | None
    seen: int = 0

    def matches(self, operation: str, tables: set[str]) -> bool:
        return operation in self.operations and (self.table is None or self.table in tables)


class DynamoDBProxy:
    """A counting, fault-injecting proxy on 127.0.0.1 in front of ``upstream``.

    ``fault``/``fault_table`` at construction fault every matching write (the older form)."""

    def __init__(self, upstream: str, fault: str | None = None, fault_table: str | None = None,
                 stall_seconds: float = 5.0) -> None:
        self.upstream = urlsplit(upstream)
        self.stall_seconds = stall_seconds
        self.calls: Counter = Counter()
        self.read_units = 0.0  # DynamoDB's rule: 4 KB per unit, halved for eventually consistent reads
        self.items_read = 0
        self.faults = 0
        self.faulted: Counter = Counter()  # (mode, operation) → count
        self.faulted_tables: Counter = Counter()  # (mode, table) → count
        self._plan: _Plan | None = None
        self._lock = threading.Lock()
        if fault:
            self.inject(fault, table=fault_table)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def inject(self, mode: str, count: float = math.inf, every: int = 1, operations: tuple[str, ...] = WRITES,
               table: str | None = None) -> None:
        """Fault the next ``count`` matching writes (one in ``every`` of them)."""
        if mode not in MODES:
            raise ValueError(f"unknown fault mode {mode!r}")
        with self._lock:
            self._plan = _Plan(mode, count, every, frozenset(operations), table)

    def heal(self) -> None:
        with self._lock:
            self._plan = None

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.read_units = 0.0
            self.items_read = 0

    def _fault_for(self, operation: str, body: bytes) -> str | None:
        with self._lock:
            plan = self._plan
            if plan is None or plan.remaining <= 0 or operation not in plan.operations:
                return None
            tables = _tables_of(operation, json.loads(body or b"{}"))
            if not plan.matches(operation, tables):
                return None
            plan.seen += 1
            if plan.seen % plan.every:
                return None
            plan.remaining -= 1
            self.faults += 1
            self.faulted[(plan.mode, operation)] += 1
            self.faulted_tables.update((plan.mode, table) for table in tables)
            return plan.mode

    def _account_read(self, operation: str, request: dict, payload: bytes) -> None:
        """Estimate the read units a read would cost on DynamoDB from the items it returned."""
        if operation == "BatchGetItem":  # per item, as GetItem; each table says its own consistency
            answer = json.loads(payload or b"{}")
            for table, items in (answer.get("Responses") or {}).items():
                consistent = request.get("RequestItems", {}).get(table, {}).get("ConsistentRead")
                units = sum(max(1, math.ceil(item_size(item) / 4096)) for item in items)
                with self._lock:
                    self.items_read += len(items)
                    self.read_units += units * (1.0 if consistent else 0.5)
            return
        if operation not in ("GetItem", "Query", "Scan"):
            return
        answer = json.loads(payload or b"{}")
        items = answer.get("Items") or ([answer["Item"]] if "Item" in answer else [])
        size = sum(item_size(item) for item in items)
        per_item = operation == "GetItem"
        units = max(1, math.ceil(size / 4096)) if per_item else math.ceil(size / 4096) or 1
        with self._lock:
            self.items_read += len(items)
            self.read_units += units * (1.0 if request.get("ConsistentRead") else 0.5)

    def writes(self) -> int:
        return sum(count for operation, count in self.calls.items() if operation in WRITES)

    def reads(self) -> int:
        return sum(self.calls.values()) - self.writes()

    def _forward(self, path: str, body: bytes, headers: dict) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection(self.upstream.hostname or "127.0.0.1", self.upstream.port,
                                                timeout=60)
        try:
            connection.request("POST", path, body, headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                operation = self.headers.get("X-Amz-Target", "").rpartition(".")[2]
                with proxy._lock:
                    proxy.calls[operation] += 1
                fault = proxy._fault_for(operation, body)
                if fault == "throttle":
                    self._answer(400, THROTTLED)
                    return
                if fault == "drop":
                    self.close_connection = True
                    return
                if fault == "stall":
                    time.sleep(proxy.stall_seconds)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                status, payload = proxy._forward(self.path, body, headers)
                if fault == "lose_answer":
                    self.close_connection = True
                    return
                if status == 200:
                    proxy._account_read(operation, json.loads(body or b"{}"), payload)
                self._answer(status, payload)

            def _answer(self, status: int, payload: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/x-amz-json-1.0")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up first, as it should

        return Handler

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
