"""The local DynamoDB stream of the events table, read from the journal.

Every journaled change of the events table carries its old and new images and a
sequence number that keeps increasing across restarts: exactly what a DynamoDB stream
record needs. :class:`JournalReader` reads those changes in order after a position
(from the snapshot's carry, then the segments), :class:`JournalStream` turns them into
Lambda batches for a named consumer whose position is kept in the data dir, and
:class:`StreamFeeder` is what ``make dev`` runs: Lambda's event source mapping, with
its retries and its on-failure destination.

A consumer's position moves only after a batch was handled, so after a crash a batch
may be handed over again: the aggregator skips the records it already applied (per
lane sequence numbers on each rollup item), which is how facts acknowledged but not yet
counted get counted after a restart.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from dev.journal import (
    Change,
    Journal,
    Segment,
    Snapshot,
    TornFrame,
    frame_changes,
    list_segments,
    private_directory,
    read_frame,
    read_position,
    write_position,
)

log = logging.getLogger("relais_dev.stream")

Handler = Callable[[dict, object], object]
ACCOUNT = "123456789012"  # moto's default account
SAVE_IDLE_POSITION = 5.0  # s: how often a position moved only by other tables' changes is saved
SHARD = "shardId-00000000000000000000-journal"
FAILED_BATCHES = "failed-stream-batches.jsonl"
"""The feeder's on-failure destination, in the data dir: batches the aggregator kept refusing."""
_SET_ASIDE = threading.Lock()  # the feeder appends to that file, an erasure's scrub rewrites it: one at a time


def stream_arn(table: str, region: str) -> str:
    return f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{table}/stream/journal"


def lambda_record(change: Change, region: str) -> dict:
    """A journaled change as Lambda hands a DynamoDB stream record to its function."""
    new, old = change["new"], change.get("old")
    ddb: dict = {"ApproximateCreationDateTime": change["at"], "Keys": change["key"],
                 "SequenceNumber": str(change["seq"]), "StreamViewType": "NEW_AND_OLD_IMAGES"}
    if new is not None:
        ddb["NewImage"] = new
    if old is not None:
        ddb["OldImage"] = old
    ddb["SizeBytes"] = len(json.dumps([change["key"], new, old], separators=(",", ":")))  # close to DynamoDB's
    return {
        "eventID": f"{change['seq']:032x}",
        "eventName": "INSERT" if old is None else "REMOVE" if new is None else "MODIFY",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": ddb,
        "eventSourceARN": stream_arn(change["table"], region),
    }


class JournalReader:
    """The stream changes (those with an old image) journaled after ``position``, in order.

    Keeps its current segment open, so a compaction that folds and deletes it does not
    disturb it; a segment it had not reached yet is found in the new snapshot's carry.
    """

    def __init__(self, directory: Path, position: int = 0) -> None:
        self.directory = directory
        self.position = position  # every change up to here was returned (or is not a stream change)
        self._segment: Segment | None = None
        self._file: BinaryIO | None = None
        self._carry: deque[Change] = deque()
        self._carry_covers = 0
        self._finished: set[int] = set()  # closed segments read to their end

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        self._file = self._segment = None

    def read(self, limit: int, upto: int | None = None) -> list[Change]:
        """Up to ``limit`` stream changes after the position, none beyond ``upto``."""
        out: list[Change] = []
        while len(out) < limit:
            if self._carry:
                if not self._take_carry(out, limit, upto):
                    break
            elif self._file is None:
                if not self._open_next():
                    break
            elif not self._take_frame(out, limit, upto):
                break
        return out

    def _take_carry(self, out: list[Change], limit: int, upto: int | None) -> bool:
        """Move carried changes to ``out``; ``False`` when ``upto`` stops it."""
        while self._carry and len(out) < limit:
            change = self._carry[0]
            if upto is not None and change["seq"] > upto:
                return False
            self._carry.popleft()
            self.position = change["seq"]
            out.append(change)
        if not self._carry:  # the snapshot covered everything up to here
            self.position = max(self.position, self._carry_covers)
        return True

    def _take_frame(self, out: list[Change], limit: int, upto: int | None) -> bool:
        """Read one frame of the current segment into ``out``; ``False``: nothing more for now."""
        assert self._file is not None and self._segment is not None
        start = self._file.tell()
        frame = self._next_frame(start)
        if frame is None:
            return False
        if frame is _CLOSED:
            self._finished.add(self._segment.first)
            self.close()
            return True
        assert isinstance(frame, dict)
        changes = list(frame_changes(frame))
        if upto is not None and changes and changes[0]["seq"] > upto:
            self._file.seek(start)
            return False
        for change in changes:
            if change["seq"] <= self.position:
                continue
            if len(out) == limit:  # the rest of this frame next time
                self._file.seek(start)
                return False
            self.position = change["seq"]
            if "old" in change:
                out.append(change)
        return True

    def _next_frame(self, start: int) -> dict | object | None:
        """The next frame; ``None``: none yet (the segment is being written); ``_CLOSED``: the
        segment is finished. Whether it is closed is asked *before* a second read, so that a
        frame written just before the segment was closed is not missed."""
        assert self._file is not None and self._segment is not None
        for attempt in range(2):
            try:
                frame = read_frame(self._file)
            except TornFrame as torn:
                frame = None
                if not torn.incomplete:
                    log.error("stream: %s is damaged at byte %d (%s); moving to the next segment",
                              self._segment.path.name, start, torn)
                    return _CLOSED
            if frame is not None:
                return frame
            self._file.seek(start)
            if attempt == 0:
                closed = self._is_closed()
        return _CLOSED if closed else None

    def _is_closed(self) -> bool:
        assert self._segment is not None
        segments = list_segments(self.directory)
        return not self._segment.path.exists() or any(s.first > self._segment.first for s in segments)

    def _open_next(self) -> bool:
        """Open the segment holding ``position + 1``, or load the snapshot's carry first."""
        while True:
            segments = list_segments(self.directory)  # listed before the snapshot is read: see compact()
            snapshot = Snapshot.open(self.directory)
            covers = 0
            if snapshot is not None:
                with snapshot:
                    covers = snapshot.covers
                    if self.position < covers:
                        self._carry.extend(c for c in snapshot.carry() if c["seq"] > self.position)
                        self._carry_covers = covers
                        if not self._carry:
                            self.position = covers
                        return True
            self._finished = {first for first in self._finished if first > covers}
            candidates = [s for s in segments if s.first > covers and s.first not in self._finished]
            if not candidates:
                return False
            reachable = [s for s in candidates if s.first <= self.position + 1]
            segment = reachable[-1] if reachable else candidates[0]  # earlier ones end before position
            try:
                self._file = open(segment.path, "rb")  # noqa: SIM115 (closed by close())
            except FileNotFoundError:
                continue  # compacted meanwhile: the new snapshot has it
            self._segment = segment
            return True


_CLOSED = object()


@dataclass
class Batch:
    records: list[dict]
    position: int  # the reader's position after this batch

    @property
    def first(self) -> str:
        return self.records[0]["dynamodb"]["SequenceNumber"]

    @property
    def last(self) -> str:
        return self.records[-1]["dynamodb"]["SequenceNumber"]


class JournalStream:
    """A named consumer of a data dir's journal stream, handing Lambda batches to ``handler``.

    The integration tests use it as they used :class:`dev.stream_poller.StreamPoller`:
    ``drain()`` after a workload, on a stack started with ``RELAIS_POLLER=off``.
    """

    def __init__(self, data_dir: Path, handler: Handler, consumer: str = "tests", batch_size: int = 100,
                 region: str | None = None) -> None:
        from chalicelib.core import config

        self.directory = journal_directory(data_dir)
        self.handler = handler
        self.consumer = consumer
        self.batch_size = batch_size
        self.region = region or config.region()
        self.position = read_position(self.directory, consumer)
        self._saved = self.position
        self._saved_at = 0.0
        self._reader = JournalReader(self.directory, self.position)
        self._lock = threading.Lock()

    def next_batch(self, upto: int | None = None) -> Batch | None:
        """The next records (at most ``batch_size``, none beyond ``upto``), or ``None``
        when there are none (the position then moves past other tables' changes)."""
        changes = self._reader.read(self.batch_size, upto)
        if not changes:
            self.position = self._reader.position
            if self.position > self._saved and time.monotonic() - self._saved_at > SAVE_IDLE_POSITION:
                self._save()
            return None
        return Batch([lambda_record(change, self.region) for change in changes], self._reader.position)

    def commit(self, batch: Batch) -> None:
        self.position = batch.position
        self._save()

    def rewind(self) -> None:
        """Read again from the saved position (after a batch that was not handled)."""
        self._reader.close()
        self._reader = JournalReader(self.directory, self.position)

    def _save(self) -> None:
        write_position(self.directory, self.consumer, self.position)
        self._saved = self.position
        self._saved_at = time.monotonic()

    def save(self) -> None:
        """Persist the position if it moved (at the end of a drain, at shutdown)."""
        if self.position > self._saved:
            self._save()

    def drain(self) -> int:
        """Hand every record journaled so far to the handler; returns how many. A batch
        that raises is handed over again next time."""
        with self._lock:
            handled = 0
            while (batch := self.next_batch()) is not None:
                try:
                    self.handler({"Records": batch.records}, None)
                except Exception:
                    self.rewind()
                    raise
                self.commit(batch)
                handled += len(batch.records)
            self.save()
            return handled

    def close(self) -> None:
        self._reader.close()


def journal_directory(data_dir: Path) -> Path:
    return Path(data_dir) / "journal"


class StreamFeeder:
    """``make dev``'s event source mapping: feeds durable journal records to the aggregator.

    A batch that raises is retried ``attempts`` times with growing pauses, then written
    to ``failures`` (one JSON line, like Lambda's on-failure destination, records
    included) and skipped, loudly.
    """

    def __init__(self, stream: JournalStream, journal: Journal, failures: Path, attempts: int = 5,
                 pause: float = 1.0) -> None:
        self.stream = stream
        self.journal = journal
        self.failures = failures
        self.attempts = attempts
        self.pause = pause
        self.handled = 0
        self.failed_batches = 0

    def run(self, stop: threading.Event) -> None:
        """Feed until ``stop`` is set; a batch being retried when it is set is left for the next start."""
        while not stop.is_set():
            try:
                batch = self.stream.next_batch(upto=self.journal.durable_seq)
            except Exception:  # reading the journal or saving the position: try again shortly
                log.exception("stream: reading the journal failed; retrying")
                self.stream.rewind()
                stop.wait(self.pause)
                continue
            if batch is None:
                self.journal.wait_beyond(self.stream.position, timeout=0.5)
                continue
            if not self._deliver(batch, stop):
                self.stream.rewind()
                break
        self.stream.save()

    def drain(self, attempts: int = 3) -> int:
        """Feed everything durable now (a clean shutdown); returns the records handled."""
        handled = self.handled
        while (batch := self.stream.next_batch(upto=self.journal.durable_seq)) is not None:
            if not self._deliver(batch, None, attempts, to_failures=False):
                self.stream.rewind()
                log.error("stream: %d records left for the next start (the aggregator kept failing)",
                          len(batch.records))
                break
        self.stream.save()
        return self.handled - handled

    def _deliver(self, batch: Batch, stop: threading.Event | None, attempts: int | None = None,
                 to_failures: bool = True) -> bool:
        """Hand ``batch`` over; ``True`` once it is handled or set aside in the failure file."""
        attempts = attempts or self.attempts
        for attempt in range(1, attempts + 1):
            try:
                self.stream.handler({"Records": batch.records}, None)
                break
            except Exception as exc:
                log.warning("stream: aggregator batch %s..%s failed (attempt %d of %d): %r",
                            batch.first, batch.last, attempt, attempts, exc)
                if attempt == attempts:
                    if not to_failures:
                        return False
                    self._set_aside(batch, attempts, exc)
                    break
                if stop is None:
                    time.sleep(self.pause)
                elif stop.wait(self.pause * attempt):
                    return False
        else:  # pragma: no cover - the loop always breaks or returns
            return False
        self.stream.commit(batch)
        self.handled += len(batch.records)
        return True

    def _set_aside(self, batch: Batch, attempts: int, exc: Exception) -> None:
        """Write a batch the aggregator keeps refusing to the failure file, and say so loudly."""
        records = batch.records
        entry = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": attempts,
                               "functionArn": "local:aggregator"},
            "responseContext": {"functionError": repr(exc)},
            "DDBStreamBatchInfo": {
                "shardId": SHARD, "startSequenceNumber": batch.first, "endSequenceNumber": batch.last,
                "approximateArrivalOfFirstRecord": records[0]["dynamodb"]["ApproximateCreationDateTime"],
                "approximateArrivalOfLastRecord": records[-1]["dynamodb"]["ApproximateCreationDateTime"],
                "batchSize": len(records), "streamArn": records[0]["eventSourceARN"],
            },
            "Records": records,
        }
        private_directory(self.failures.parent)
        with _SET_ASIDE:
            fd = os.open(self.failures, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(fd, (json.dumps(entry) + "\n").encode())
                os.fsync(fd)
            finally:
                os.close(fd)
        self.failed_batches += 1
        log.error("STREAM BATCH SKIPPED: records %s..%s (%d) failed %d times (%r); they are in %s "
                  "and were NOT counted", batch.first, batch.last, len(records), attempts, exc, self.failures)


def redact_set_aside(path: Path, erased_codes: Collection[str]) -> int:
    """Rewrite the set-aside batches at ``path`` without the names of the fans whose codes are
    ``erased_codes`` (an erasure's scrub, :mod:`dev.journal_scrub`); returns how many images
    lost a name. Every record stays, with its keys and sequence number: what the file is for.

    The new file is written beside the old one (private, fsynced) and renamed over it: a crash
    leaves either, and the scrub, still owed after a restart, runs again.
    """
    if not erased_codes or not path.exists():
        return 0
    with _SET_ASIDE:
        entries = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        redacted = 0
        for entry in entries:
            for record in entry.get("Records", []):
                for side in ("NewImage", "OldImage"):
                    image = record.get("dynamodb", {}).get(side)
                    if image and image.get("code", {}).get("S") in erased_codes and "name" in image:
                        del image["name"]
                        redacted += 1
        if redacted:
            temporary = path.with_name(path.name + ".redacting")
            temporary.unlink(missing_ok=True)
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, "".join(json.dumps(entry) + "\n" for entry in entries).encode())
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temporary, path)
            directory = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        return redacted
