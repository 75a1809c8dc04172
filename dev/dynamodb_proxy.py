"""An HTTP proxy in front of the local DynamoDB server that counts every call by operation
and can inject faults (throttle or stall) on the writes to one table.

The integration tests use it to prove the redirect survives a throttled or hung write;
the benchmarks use it to count DynamoDB calls per request.
"""
from __future__ import annotations

import http.client
import json
import math
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

THROTTLED = json.dumps({
    "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
    "message": "The level of configured provisioned throughput for the table was exceeded.",
}).encode()
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")


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


class DynamoDBProxy:
    """``fault``: ``None``, ``"throttle"`` (answer ProvisionedThroughputExceeded) or
    ``"stall"`` (hold the write 5 s), applied to writes to ``fault_table``."""

    def __init__(self, upstream: str, fault: str | None = None, fault_table: str | None = None) -> None:
        self.upstream = urlsplit(upstream)
        self.fault, self.fault_table = fault, fault_table
        self.calls: Counter = Counter()
        self.read_units = 0.0  # DynamoDB's rule: 4 KB per unit, halved for eventually consistent reads
        self.items_read = 0
        self.faults = 0
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.read_units = 0.0
            self.items_read = 0

    def _account_read(self, operation: str, request: dict, payload: bytes) -> None:
        """Estimate the read units a read would cost on DynamoDB from the items it returned."""
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

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                operation = self.headers.get("X-Amz-Target", "").rpartition(".")[2]
                with proxy._lock:
                    proxy.calls[operation] += 1
                if proxy.fault and operation in WRITES and \
                        json.loads(body or b"{}").get("TableName") == proxy.fault_table:
                    proxy.faults += 1
                    if proxy.fault == "throttle":
                        self._answer(400, THROTTLED)
                        return
                    time.sleep(5)
                connection = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                connection.request("POST", self.path, body, headers)
                response = connection.getresponse()
                payload = response.read()
                if response.status == 200:
                    proxy._account_read(operation, json.loads(body or b"{}"), payload)
                self._answer(response.status, payload)

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
