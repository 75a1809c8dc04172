"""Webhook test support: a real receiver on 127.0.0.1, the documented verification recipe,
and an in-process dispatcher over a spool directory."""
from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from dev.processes import ROOT

WEBHOOKS_DOC = ROOT / "docs" / "webhooks.md"


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)


class Receiver:
    """An HTTP server on 127.0.0.1 that records every POST. It answers the statuses of
    ``statuses`` in turn (then 200), or what ``answer(received)`` returns when given."""

    def __init__(self, statuses: tuple[int, ...] = (), body: bytes = b"ok") -> None:
        self.received: list[Received] = []
        self.statuses = list(statuses)
        self.body = body
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                payload = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()},
                                                      payload))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", str(len(receiver.body)))
                self.end_headers()
                self.wfile.write(receiver.body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self, type_: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [r.event for r in self.received if type_ is None or r.event["type"] == type_]

    def wait_for(self, check: Callable[[list[Received]], bool], what: str, timeout: float = 15.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                received = list(self.received)
            if check(received):
                return received
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {timeout:.0f}s for {what}; received {[r.event for r in received]}")
            time.sleep(0.05)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def documented_verifier() -> Callable[..., bool]:
    """``verify_signature`` from the receiver example of docs/webhooks.md, run as written."""
    (code,) = [block for block in re.findall(r"```python\n(.*?)```", WEBHOOKS_DOC.read_text(), re.DOTALL)
               if "def verify_signature" in block]
    namespace: dict[str, Any] = {"__name__": "documented_receiver"}
    exec(compile(code, str(WEBHOOKS_DOC), "exec"), namespace)
    return namespace["verify_signature"]


@contextlib.contextmanager
def dispatching(spool: Path) -> Iterator[list[Exception]]:
    """The dispatcher of ``make dev``, in this process, over ``spool``, while the block runs."""
    from chalicelib.outbound import dispatcher

    stop, errors = threading.Event(), []
    thread = threading.Thread(target=dispatcher.run_spool, args=(spool, stop),
                              kwargs={"interval": 0.02, "on_error": errors.append}, daemon=True)
    thread.start()
    try:
        yield errors
    finally:
        stop.set()
        thread.join(30)
