"""A DynamoDB fault injector: an HTTP proxy in front of moto that throttles or stalls the
writes to one table and forwards everything else unchanged."""
from __future__ import annotations

import http.client
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

THROTTLED = json.dumps({
    "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
    "message": "The level of configured provisioned throughput for the table was exceeded.",
}).encode()


class FaultyDynamoDB:
    def __init__(self, upstream: str, table: str, mode: str) -> None:
        self.upstream = urlsplit(upstream)
        self.table, self.mode = table, mode
        self.faults = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                target = self.headers.get("X-Amz-Target", "")
                is_write = target.endswith((".PutItem", ".UpdateItem"))
                if is_write and json.loads(body or b"{}").get("TableName") == proxy.table:
                    proxy.faults += 1
                    if proxy.mode == "throttle":
                        self._answer(400, THROTTLED)
                        return
                    time.sleep(5)  # "stall": far beyond the redirect's timeout budget
                connection = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                connection.request("POST", self.path, body, headers)
                response = connection.getresponse()
                self._answer(response.status, response.read())

            def _answer(self, status: int, payload: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/x-amz-json-1.0")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up first, as it should

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
