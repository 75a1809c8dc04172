"""Local data that survives anything short of a disk failure: the journal's side of ``make dev``.

At start, :meth:`JournaledDynamoDB.start` recovers the journal directory (the snapshot
plus the segments after it, a torn last record cut off), loads the latest image of every
key into the fresh moto server directly (parallel batch writes, not journaled again),
then opens a new segment and starts the journaling proxy. The events table loses moto's
own stream first: the journal is its stream, and moto's would hold a copy of every write
in memory for good. While running, a background thread compacts closed segments into
the snapshot in a child process (its memory and CPU stay out of the proxy's way).
Nothing here ever scans the database.

A data dir made by an older ``make dev`` (``tables.json``, a periodic dump) is imported
once into a first snapshot, its journal starting above every stream sequence number its
rollups remember.
"""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dev import journal, journal_scrub, journal_stream
from dev.journal_proxy import JournalingProxy
from dev.local_dynamodb import LocalDynamoDB
from dev.processes import ROOT, die_with_parent

log = logging.getLogger("relais_dev.persistence")

COMPACT_BYTES = 32 << 20  # compact once closed segments hold this much (and at least the snapshot's size)
COMPACTION_CHECK = 2.0  # s
LEGACY_SNAPSHOT = "tables.json"


def _env_bytes(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


@dataclass
class Restored:
    items: int
    tail_changes: int
    next_seq: int
    seconds: float


class JournaledDynamoDB:
    """The journal, the proxy in front of moto, and compaction, for one data dir.

    ``streamed``: the tables whose changes keep their old image and form the stream
    (the events table). ``lock_fd``: the data dir's lock, handed to the compaction child
    so that no other stack can start on this data dir while it runs.
    """

    def __init__(self, data_dir: Path, upstream: str, region: str, streamed: set[str], port: int = 0,
                 lock_fd: int | None = None) -> None:
        self.data_dir = data_dir
        self.directory = journal.private_directory(data_dir / "journal")
        self.db = LocalDynamoDB(upstream, region)
        self.streamed = streamed
        self.port = port
        self.lock_fd = lock_fd
        self.segment_bytes = _env_bytes("RELAIS_JOURNAL_SEGMENT_BYTES", journal.SEGMENT_BYTES)
        self.compact_bytes = _env_bytes("RELAIS_JOURNAL_COMPACT_BYTES", COMPACT_BYTES)
        self.journal: journal.Journal | None = None
        self.proxy: JournalingProxy | None = None
        self._compactor: threading.Thread | None = None
        self._compaction: subprocess.Popen | None = None
        self.compactions = 0

    @property
    def url(self) -> str:
        assert self.proxy is not None
        return self.proxy.url

    @property
    def failure(self) -> BaseException | None:
        """Why writes are refused, once the journal or the proxy failed."""
        if self.proxy is not None and self.proxy.failure is not None:
            return self.proxy.failure
        return self.journal.failure if self.journal is not None else None

    def start(self) -> Restored:
        """Recover the data into the (fresh, empty) tables, then serve. The tables must exist."""
        started = time.monotonic()
        for table in self.streamed:  # the journal is their stream: moto's would only cost
            self.db.drop_stream(table)
        self._import_legacy()
        recovery = journal.recover(self.directory)
        items = self.db.put_all(recovery.images())
        self.journal = journal_scrub.ErasureAwareJournal(
            self.directory, recovery.next_seq, segment_bytes=self.segment_bytes,
            owed=journal_scrub.owed_after_recovery(recovery))
        self.proxy = JournalingProxy(self.db, self.journal, self.streamed, self.port).start()
        return Restored(items, recovery.tail_changes, recovery.next_seq, time.monotonic() - started)

    def _import_legacy(self) -> None:
        legacy = self.data_dir / LEGACY_SNAPSHOT
        if not legacy.exists() or (self.directory / journal.SNAPSHOT).exists() or journal.list_segments(self.directory):
            return
        from chalicelib.core import config

        data = json.loads(legacy.read_text())
        images = []
        highest = 0
        for base, items in data.items():
            table = config.table_name(base)
            for item in items:
                images.append((table, self.db.key_of(table, item), item))
                highest = max([highest] + [int(value["S"]) for name, value in item.items()
                                           if name.startswith("seq_") and value.get("S", "").isdigit()])
        journal.write_snapshot(self.directory, highest, [], images)
        legacy.rename(legacy.with_name(LEGACY_SNAPSHOT + ".imported"))
        log.info("imported %d items from %s (journal sequence numbers continue after %d)", len(images), legacy, highest)

    # compaction -------------------------------------------------------------------

    def start_compactor(self, stop: threading.Event, keep_after: Callable[[], int]) -> None:
        """Compact in the background while closed segments outgrow the snapshot.

        ``keep_after()``: the position of the slowest stream consumer; the snapshot
        carries every stream change after it.
        """
        def loop() -> None:
            while not stop.wait(COMPACTION_CHECK):
                try:
                    if journal.compaction_due(self.directory, self.compact_bytes):
                        self.compact(keep_after())
                    self.scrub_if_due(keep_after())
                except Exception:
                    log.exception("journal compaction failed (the journal is intact; it is tried again)")

        self._compactor = threading.Thread(target=loop, name="journal-compactor", daemon=True)
        self._compactor.start()

    def compact(self, keep_after: int) -> dict | None:
        """One compaction in a child process (which dies with this one)."""
        command = [sys.executable, "-m", "dev.journal", "compact", str(self.directory), "--keep-after", str(keep_after)]
        self._compaction = subprocess.Popen(command, cwd=ROOT, preexec_fn=die_with_parent, stdout=subprocess.PIPE,
                                            stderr=subprocess.PIPE,
                                            pass_fds=(self.lock_fd,) if self.lock_fd is not None else ())
        out, err = self._compaction.communicate()
        code, self._compaction = self._compaction.returncode, None
        if code != 0:
            raise RuntimeError(f"compaction exited with {code}: {err.decode(errors='replace')[-2000:]}")
        result = json.loads(out.decode().strip().splitlines()[-1] or "null")
        if result:
            self.compactions += 1
            log.info("journal compacted through %d: %d segments folded, %d images, %d stream changes carried, %.1f s",
                     result["covers"], result["segments"], result["images"], result["carried"], result["seconds"])
        return result

    def scrub_if_due(self, keep_after: int) -> bool:
        """After an erasure, once every stream consumer is past it: redact the set-aside stream
        batches, close the live segment and compact, so that no image from before the erasure
        stays on disk (:mod:`dev.journal_scrub`)."""
        assert isinstance(self.journal, journal_scrub.ErasureAwareJournal)
        pending = self.journal.scrub_pending
        if pending is None or keep_after < pending:
            return False
        redacted = journal_stream.redact_set_aside(self.data_dir / journal_stream.FAILED_BATCHES,
                                                   self.journal.erased_codes)
        if redacted:
            log.info("erased names taken out of %d set-aside stream records", redacted)
        closed = self.journal.rotate()
        result = self.compact(keep_after)
        if result is None and len(journal.list_segments(self.directory)) > 1:
            return False  # nothing folded: tried again at the next check
        (self.data_dir / f"{LEGACY_SNAPSHOT}.imported").unlink(missing_ok=True)
        self.journal.scrubbed(closed)
        log.info("journal scrubbed after an erasure (changes up to %d compacted)", closed)
        return True

    # stopping ---------------------------------------------------------------------

    def stop_serving(self) -> None:
        """Refuse new requests (after the servers that write through the proxy have stopped)."""
        if self.proxy is not None:
            self.proxy.close()

    def close(self, timeout: float = 30) -> None:
        """Let a running compaction finish (up to ``timeout`` s: it is safe to kill), then close the journal."""
        running = self._compaction
        if running is not None:
            try:
                running.wait(timeout)
            except subprocess.TimeoutExpired:
                running.kill()
        if self._compactor is not None:
            self._compactor.join(timeout)
        if self.journal is not None:
            self.journal.close()
        self.db.close()
