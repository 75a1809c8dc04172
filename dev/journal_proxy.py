"""The journaling DynamoDB proxy of ``make dev``: an HTTP server on 127.0.0.1 in front of moto.

``chalice local``, the demo page and the stack itself talk to DynamoDB through it. Reads
(and every other call) pass through. A write (PutItem, UpdateItem, DeleteItem,
BatchWriteItem, TransactWriteItems) is applied and journaled holding the lock of every
partition key it touches (:class:`PartitionLocks`): for each partition, the journal's
order is the order in which moto applied the writes — the order a DynamoDB stream keeps
too. Writes to different partitions commute (a condition only reads the items its
write locks, condition checks of a transaction included), so replaying the journal gives
moto's state, and they go through moto side by side instead of one by one. Then,
outside the locks, the proxy waits until its record is fsynced (one fsync covers every
writer that appended before it, :class:`dev.journal.Journal`) and only then answers. A
write that got an answer is on disk.

What is journaled is the *result* of the write, the item images, never the request:
replaying images is idempotent and needs no expression evaluator. They come cheaply:

- PutItem: the new image is the request's item; the old one (stream tables only) comes
  from ``ReturnValues=ALL_OLD``, injected when the caller asked for nothing;
- UpdateItem: ``ReturnValues=ALL_NEW`` gives the new image; the old one (stream tables
  only) is a consistent GetItem before the write;
- DeleteItem: ``ReturnValues=ALL_OLD`` says what was deleted (nothing: no change);
- BatchWriteItem and TransactWriteItems: the requests give put and delete images; one
  consistent batch read before the write gives old images (stream tables), one after it
  the new images of transactional updates. Unprocessed batch items are not journaled.

Injected return values are stripped from the answer when the caller asked for none. A
write moto refuses (a failed condition, a cancelled transaction, a validation error) is
not journaled and its answer goes back unchanged, ``Item`` of
``ReturnValuesOnConditionCheckFailure`` included; it too waits for the journal to be
durable up to where it stood, since the refusal may rest on a write not yet synced (a
pledge's copy answered "already recorded" must not outlive the original).

PartiQL statements, which could write without the proxy knowing what, are refused. If a
write may have been applied but cannot be journaled (an I/O error, moto not answering),
the proxy *fails*: every later write answers 500 and the stack stops, so
that a restart recovers a state in which every acknowledged write is present.
"""
from __future__ import annotations

import json
import logging
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from dev.browser_guard import REFUSAL, REFUSAL_TYPE, from_a_browser
from dev.journal import Change, Journal, JournalError, key_id
from dev.local_dynamodb import TARGET_PREFIX, Answer, LocalDynamoDB, UpstreamError

log = logging.getLogger("relais_dev.proxy")

WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
UNJOURNALED = frozenset({"ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction"})  # PartiQL: may write
NOT_FORWARDED = frozenset({"host", "content-length", "accept-encoding", "connection", "keep-alive", "expect"})
ANSWER_HEADERS = frozenset({"content-type", "x-amzn-requestid"})

Images = dict  # key_id → item
Derive = Callable[[dict, Images, Images], list[Change]]  # (moto's answer, images before, images after)


@dataclass
class WritePlan:
    """How to journal one write: the request to send, what to read around it, what changed."""

    request: dict
    derive: Derive
    modified: bool = False  # ``request`` differs from what the caller sent
    strip_attributes: bool = False  # the caller asked for no return values: remove ours
    before: list[tuple[str, dict]] = field(default_factory=list)  # (table, key) read before the write
    after: list[tuple[str, dict]] = field(default_factory=list)  # (table, key) read after it
    partitions: list[tuple[str, str]] = field(default_factory=list)  # (table, partition key) it touches


def _touched(operation: str, request: dict) -> Iterator[tuple[str, dict]]:
    """``(table, item or key)`` of every item a write touches, condition checks included."""
    if operation == "PutItem":
        yield request["TableName"], request["Item"]
    elif operation in ("UpdateItem", "DeleteItem"):
        yield request["TableName"], request["Key"]
    elif operation == "BatchWriteItem":
        for table, requests in request["RequestItems"].items():
            for entry in requests:
                (_, body), = entry.items()
                yield table, body.get("Item") or body["Key"]
    else:
        for entry in request["TransactItems"]:
            (_, body), = entry.items()
            yield body["TableName"], body.get("Item") or body["Key"]


class PartitionLocks:
    """One lock per partition key being written: writes to a partition are applied and
    journaled in one order, each holding the locks of every partition it touches (taken
    in sorted order, so two writes never wait for each other in a cycle)."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._locks: dict[tuple[str, str], list] = {}  # partition → [lock, holders and waiters]

    @contextmanager
    def hold(self, partitions: list[tuple[str, str]]) -> Iterator[None]:
        with self._mutex:
            entries = [self._locks.setdefault(partition, [threading.Lock(), 0]) for partition in partitions]
            for entry in entries:
                entry[1] += 1
        acquired = []
        try:
            for entry in entries:
                entry[0].acquire()
                acquired.append(entry)
            yield
        finally:
            for entry in reversed(acquired):
                entry[0].release()
            with self._mutex:
                for partition, entry in zip(partitions, entries, strict=True):
                    entry[1] -= 1
                    if entry[1] == 0:
                        del self._locks[partition]


def _attributes(answer: dict) -> dict | None:
    """The item image in a write's answer; ``None`` when there was none. DynamoDB leaves
    ``Attributes`` out when no item was there; moto 5.1 answers ``{}``."""
    return answer.get("Attributes") or None


def _change(table: str, key: dict, new: dict | None) -> list[Change]:
    return [{"table": table, "key": key, "new": new}]


def _stream_change(table: str, key: dict, new: dict | None, old: dict | None) -> list[Change]:
    """A change of a stream table, with its old image; none if nothing changed (DynamoDB
    writes no stream record then)."""
    if new == old:
        return []
    return [{"table": table, "key": key, "new": new, "old": old}]


class WritePlanner:
    """Turns a write request into a :class:`WritePlan`. ``streamed``: the tables whose
    changes keep their old image (the events table, whose stream the journal feeds)."""

    def __init__(self, db: LocalDynamoDB, streamed: Iterable[str]) -> None:
        self.db = db
        self.streamed = frozenset(streamed)

    def plan(self, operation: str, request: dict) -> WritePlan:
        plan: WritePlan = getattr(self, f"_{operation}")(request)
        plan.partitions = sorted({self._partition(table, attributes)
                                  for table, attributes in _touched(operation, request)})
        return plan

    def _partition(self, table: str, attributes: dict) -> tuple[str, str]:
        value = attributes[self.db.key_schema(table)[0]]
        return table, json.dumps(value, sort_keys=True)

    def _with_return_values(self, request: dict, wanted: str) -> tuple[dict, bool, bool]:
        """``(request, modified, strip)``: ask moto for ``wanted`` when the caller asked for nothing."""
        asked = request.get("ReturnValues", "NONE")
        if asked == "NONE":
            return {**request, "ReturnValues": wanted}, True, True
        return request, False, False

    def _PutItem(self, request: dict) -> WritePlan:
        table, item = request["TableName"], request["Item"]
        key = self.db.key_of(table, item)
        if table not in self.streamed:
            return WritePlan(request, lambda answer, before, after: _change(table, key, item))
        if request.get("ReturnValues", "NONE") in ("NONE", "ALL_OLD"):
            sent, modified, strip = self._with_return_values(request, "ALL_OLD")
            return WritePlan(sent, lambda answer, before, after: _stream_change(
                table, key, item, _attributes(answer)), modified, strip)
        return WritePlan(request, lambda answer, before, after: _stream_change(
            table, key, item, before.get(key_id(table, key))), before=[(table, key)])

    def _UpdateItem(self, request: dict) -> WritePlan:
        table, key = request["TableName"], request["Key"]
        asked = request.get("ReturnValues", "NONE")
        streamed = table in self.streamed
        ident = key_id(table, key)
        new_in_answer = asked in ("NONE", "ALL_NEW")
        old_in_answer = asked == "ALL_OLD"
        sent, modified, strip = self._with_return_values(request, "ALL_NEW")

        def derive(answer: dict, before: Images, after: Images) -> list[Change]:
            new = _attributes(answer) if new_in_answer else after.get(ident)
            if not streamed:
                return _change(table, key, new)
            old = _attributes(answer) if old_in_answer else before.get(ident)
            return _stream_change(table, key, new, old)

        return WritePlan(sent, derive, modified, strip,
                         before=[(table, key)] if streamed and not old_in_answer else [],
                         after=[] if new_in_answer else [(table, key)])

    def _DeleteItem(self, request: dict) -> WritePlan:
        table, key = request["TableName"], request["Key"]
        if request.get("ReturnValues", "NONE") in ("NONE", "ALL_OLD"):
            sent, modified, strip = self._with_return_values(request, "ALL_OLD")

            def derive(answer: dict, before: Images, after: Images) -> list[Change]:
                old = _attributes(answer)
                if old is None:
                    return []  # there was nothing to delete
                return _stream_change(table, key, None, old) if table in self.streamed else _change(table, key, None)

            return WritePlan(sent, derive, modified, strip)
        return WritePlan(request, lambda answer, before, after: _stream_change(
            table, key, None, before.get(key_id(table, key))) if table in self.streamed else _change(table, key, None),
            before=[(table, key)] if table in self.streamed else [])

    def _BatchWriteItem(self, request: dict) -> WritePlan:
        entries: list[tuple[str, dict, dict | None]] = []
        for table, requests in request["RequestItems"].items():
            for entry in requests:
                if "PutRequest" in entry:
                    item = entry["PutRequest"]["Item"]
                    entries.append((table, self.db.key_of(table, item), item))
                else:
                    entries.append((table, entry["DeleteRequest"]["Key"], None))

        def derive(answer: dict, before: Images, after: Images) -> list[Change]:
            unprocessed = {key_id(table, self._entry_key(table, entry))
                           for table, requests in (answer.get("UnprocessedItems") or {}).items() for entry in requests}
            changes: list[Change] = []
            for table, key, new in entries:
                ident = key_id(table, key)
                if ident in unprocessed:
                    continue
                if table in self.streamed:
                    changes += _stream_change(table, key, new, before.get(ident))
                else:
                    changes += _change(table, key, new)
            return changes

        return WritePlan(request, derive, before=[(t, k) for t, k, _ in entries if t in self.streamed])

    def _entry_key(self, table: str, entry: dict) -> dict:
        if "PutRequest" in entry:
            return self.db.key_of(table, entry["PutRequest"]["Item"])
        return entry["DeleteRequest"]["Key"]

    def _TransactWriteItems(self, request: dict) -> WritePlan:
        entries: list[tuple[str, str, dict, dict | None]] = []  # (kind, table, key, item of a put)
        for operation in request["TransactItems"]:
            (kind, body), = operation.items()
            if kind == "ConditionCheck":
                continue
            table = body["TableName"]
            key = self.db.key_of(table, body["Item"]) if kind == "Put" else body["Key"]
            entries.append((kind, table, key, body.get("Item")))

        def derive(answer: dict, before: Images, after: Images) -> list[Change]:
            changes: list[Change] = []
            for kind, table, key, item in entries:
                ident = key_id(table, key)
                new = item if kind == "Put" else after.get(ident) if kind == "Update" else None
                if table in self.streamed:
                    changes += _stream_change(table, key, new, before.get(ident))
                else:
                    changes += _change(table, key, new)
            return changes

        return WritePlan(request, derive,
                         before=[(table, key) for _, table, key, _ in entries if table in self.streamed],
                         after=[(table, key) for kind, table, key, _ in entries if kind == "Update"])


def _unreachable(exc: Exception) -> Answer:
    return error_answer(500, "InternalServerError", f"the local DynamoDB did not answer: {exc}")


def error_answer(status: int, kind: str, message: str) -> Answer:
    payload = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{kind}", "message": message}).encode()
    return Answer(status, [("Content-Type", "application/x-amz-json-1.0")], payload)


class JournalingProxy:
    """The HTTP server. ``streamed``: tables whose changes keep old images (the events table)."""

    def __init__(self, db: LocalDynamoDB, journal: Journal, streamed: Iterable[str], port: int = 0) -> None:
        self.db = db
        self.journal = journal
        self.planner = WritePlanner(db, streamed)
        self.failure: BaseException | None = None
        self._partitions = PartitionLocks()
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread: threading.Thread | None = None

    def start(self) -> JournalingProxy:
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="journal-proxy", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop accepting requests (the journal and the database stay up)."""
        self.server.shutdown()
        self.server.server_close()

    # requests ---------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        """One request; ``headers`` with lower-case names. Web pages are refused (:mod:`dev.browser_guard`)."""
        if from_a_browser(method, headers):
            return Answer(403, [("Content-Type", REFUSAL_TYPE)], REFUSAL)
        forwarded = {name: value for name, value in headers.items() if name not in NOT_FORWARDED}
        target = headers.get("x-amz-target", "")
        operation = target[len(TARGET_PREFIX):] if target.startswith(TARGET_PREFIX) else ""
        if method == "POST" and operation in WRITES:
            return self._write(operation, path, forwarded, body)
        if operation in UNJOURNALED:  # refused rather than applied and forgotten at the next start
            return error_answer(400, "ValidationException", f"{operation} is not journaled by the local stack")
        try:
            return self.db.forward(method, path, forwarded, body)
        except UpstreamError as exc:
            return _unreachable(exc)

    def _fail(self, exc: BaseException) -> Answer:
        if self.failure is None:
            self.failure = exc
            log.critical("journaling proxy failed, the stack must restart to recover: %s", exc)
        return error_answer(500, "InternalServerError", f"the local journal failed: {exc}")

    def _write(self, operation: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        try:
            plan: WritePlan | None = self.planner.plan(operation, json.loads(body))
        except UpstreamError as exc:
            return _unreachable(exc)
        except (ValueError, KeyError, TypeError, AttributeError, RuntimeError):
            plan = None  # malformed: moto refuses it (if it did not, the proxy fails below)
        with self._partitions.hold(plan.partitions if plan is not None else []):
            answer, seq = self._apply(operation, plan, path, headers, body)
        if seq is None:
            return answer
        try:
            self.journal.wait_durable(seq)
        except JournalError as exc:
            return self._fail(exc)
        return answer

    def _apply(self, operation: str, plan: WritePlan | None, path: str, headers: dict[str, str],
               body: bytes) -> tuple[Answer, int | None]:
        """Apply and journal one write (its partitions locked): ``(answer, seq to wait for or None)``.

        A refused write waits for what was journaled before it: the refusal may rest on it.
        """
        if self.failure is not None:
            return error_answer(500, "InternalServerError", f"the local journal failed: {self.failure}"), None
        auth = headers.get("authorization")
        before: Images = {}
        if plan is not None and plan.before:
            try:
                refused, before = self.db.get_items(plan.before, auth)
            except UpstreamError as exc:
                return _unreachable(exc), None
            if refused is not None:
                return refused, None  # the write would be refused alike (no such table, bad key)
        sent = json.dumps(plan.request).encode() if plan is not None and plan.modified else body
        try:
            answer = self.db.forward("POST", path, headers, sent)
        except UpstreamError as exc:  # applied or not: nobody knows
            return self._fail(exc), None
        if not answer.ok:
            return answer, self.journal.written_seq
        if plan is None:
            return self._fail(RuntimeError(f"a {operation} the proxy could not read was applied")), None
        try:
            return self._journal(operation, plan, answer, before, auth)
        except (JournalError, UpstreamError, RuntimeError, ValueError) as exc:
            return self._fail(exc), None

    def _journal(self, operation: str, plan: WritePlan, answer: Answer, before: Images,
                 auth: str | None) -> tuple[Answer, int]:
        """Append the images of an applied write; the answer as the caller asked for it."""
        response = answer.json()
        after: Images = {}
        if plan.after:
            refused, after = self.db.get_items(plan.after, auth)
            if refused is not None:
                raise RuntimeError(f"reading the images of a {operation}: {refused.payload[:200]!r}")
        seq = self.journal.append(plan.derive(response, before, after))
        if plan.strip_attributes and "Attributes" in response:
            del response["Attributes"]
            answer = Answer(200, answer.headers, json.dumps(response).encode())
        return answer, seq

    # HTTP -------------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: botocore reuses its connections
            disable_nagle_algorithm = True  # headers and body leave at once, not 40 ms apart (delayed ACK)

            def log_message(self, format: str, *args) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                answer = proxy.handle(self.command, self.path,
                                      {name.lower(): value for name, value in self.headers.items()}, body)
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers:
                        if name.lower() in ANSWER_HEADERS:
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(answer.payload)))
                    self.send_header("x-amz-crc32", str(zlib.crc32(answer.payload)))
                    self.end_headers()
                    self.wfile.write(answer.payload)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up first; the write stands

            do_GET = do_POST = do_OPTIONS = _serve

        return Handler
