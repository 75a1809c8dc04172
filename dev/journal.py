"""The local stack's write-ahead journal: every acknowledged DynamoDB change, on disk first.

``make dev`` keeps its data in moto, which lives in memory. The journaling proxy
(:mod:`dev.journal_proxy`) records every successful write here as the *item images* it
produced, and answers the client only once the record is fsynced; at start the stack
loads the latest image of every key back into a fresh moto (:func:`recover`). The events
table's records also carry the image before the write, and are the local DynamoDB
stream (:mod:`dev.journal_stream`).

Layout of the journal directory (``<RELAIS_DATA_DIR>/journal``), every file mode 0600:

``<first seq>.log``
    Segments: append-only files of frames. The newest one is being written; the others
    are closed. A segment starts with a header frame (``{"format": "relais-journal",
    "version": 1, "first": <seq>}``) followed by one frame per write::

        {"seq": 41, "at": 1767225600.123, "changes": [
            {"table": "relais-local-links", "key": {...}, "new": {...}},
            {"table": "relais-local-events", "key": {...}, "new": {...}, "old": null}]}

    The n-th change of a frame has sequence number ``seq + n``. ``new`` is the item after
    the write (``null``: deleted); ``old``, the item before, is present exactly on the
    changes of tables whose stream the journal feeds (the events table).
``snapshot.db``
    The compaction of every segment up to ``covers``: a header frame, *carry* frames
    (the stream changes not yet consumed when it was written), *images* frames (the
    latest image of every key) and an end frame with the counts.
``consumers/<name>.position``
    How far a stream consumer got: every stream change up to that sequence number was
    handled.

A frame is a 4-byte big-endian payload length, the payload's CRC32, then the payload
(UTF-8 JSON). A crash mid-append leaves a torn last frame; it was never acknowledged,
and :func:`recover` cuts it off.

Sequence numbers increase by one per change and continue across restarts; they are the
stream's ``SequenceNumber``, which the aggregator compares per lane.

Run ``python -m dev.journal show <dir>`` for a summary of a journal directory.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import struct
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger("relais_dev.journal")

FRAME_HEADER = struct.Struct(">II")  # payload length, CRC32 of the payload
MAX_FRAME = 64 << 20  # a longer length field is damage, not a frame
SEGMENT_SUFFIX = ".log"
SNAPSHOT = "snapshot.db"
SEGMENT_BYTES = 8 << 20  # a segment is closed (and may be compacted) past this size
CHUNK = 1000  # changes or images per snapshot frame
FILE_MODE = 0o600
DATA_SYNC = getattr(os, "fdatasync", os.fsync)  # an append changes the size, which fdatasync flushes too

Change = dict  # {"table", "key", "new", ["old"]}; with "seq" (and "at") once read back


class JournalError(RuntimeError):
    """The journal cannot take writes any more (an I/O error); the stack must stop."""


class TornFrame(Exception):
    """A frame that is incomplete (``incomplete``: a crash or a write in progress) or damaged."""

    def __init__(self, reason: str, incomplete: bool) -> None:
        super().__init__(reason)
        self.incomplete = incomplete


class CorruptSnapshot(RuntimeError):
    """The snapshot is unreadable: refuse to start rather than silently lose data."""


# Frames -------------------------------------------------------------------------------

def encode_frame(payload: dict) -> bytes:
    data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return FRAME_HEADER.pack(len(data), zlib.crc32(data)) + data


def read_frame(stream: BinaryIO) -> dict | None:
    """The next frame's payload; ``None`` at a clean end; :class:`TornFrame` otherwise."""
    header = stream.read(FRAME_HEADER.size)
    if not header:
        return None
    if len(header) < FRAME_HEADER.size:
        raise TornFrame("partial frame header", incomplete=True)
    length, crc = FRAME_HEADER.unpack(header)
    if length > MAX_FRAME:
        raise TornFrame(f"frame length {length} out of range", incomplete=False)
    data = stream.read(length)
    if len(data) < length:
        raise TornFrame("partial frame", incomplete=True)
    if zlib.crc32(data) != crc:
        raise TornFrame("frame checksum mismatch", incomplete=False)
    try:
        return json.loads(data)
    except ValueError:
        raise TornFrame("frame is not JSON", incomplete=False) from None


def frame_changes(frame: dict) -> Iterator[Change]:
    """The changes of a write frame, each with its ``seq`` and ``at``; nothing for other frames."""
    if "changes" not in frame:
        return
    first, at = frame["seq"], frame.get("at")
    for offset, change in enumerate(frame["changes"]):
        yield {**change, "seq": first + offset, "at": at}


def key_id(table: str, key: dict) -> tuple[str, str]:
    """A hashable identity of an item: its table and its key in canonical JSON."""
    return table, json.dumps(key, sort_keys=True, separators=(",", ":"))


# Files --------------------------------------------------------------------------------

def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def fsync_directory(directory: Path) -> None:
    """Make file creations, renames and deletions in ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def private_directory(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


@dataclass(frozen=True, order=True)
class Segment:
    first: int
    path: Path = field(compare=False)

    @property
    def size(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0


def segment_path(directory: Path, first: int) -> Path:
    return directory / f"{first:020d}{SEGMENT_SUFFIX}"


def list_segments(directory: Path) -> list[Segment]:
    """The segments of a journal directory, oldest first (the last one is being written)."""
    segments = []
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    for name in names:
        stem, dot, suffix = name.partition(".")
        if f"{dot}{suffix}" == SEGMENT_SUFFIX and stem.isdigit():
            segments.append(Segment(int(stem), directory / name))
    return sorted(segments)


# Writing ------------------------------------------------------------------------------

class Journal:
    """The append side: frames to the newest segment, durable through group commit.

    ``append`` writes a frame (no fsync) and returns the sequence number of its last
    change; the caller serialises its writes so that journal order is apply order.
    ``wait_durable`` returns once that number is on disk: the first waiter fsyncs for
    everyone who appended before it started, the others wait for it, so concurrent
    writers share one fsync. An I/O error fails the journal for good
    (:class:`JournalError`): what the database holds and what the disk holds may differ,
    so the only safe continuation is a restart that recovers from disk.
    """

    def __init__(self, directory: Path, next_seq: int, *, segment_bytes: int = SEGMENT_BYTES,
                 sync: Callable[[int], None] = DATA_SYNC) -> None:
        self.directory = private_directory(directory)
        self.segment_bytes = segment_bytes
        self._sync = sync
        self._cond = threading.Condition(threading.Lock())
        self._next = next_seq
        self._written = self._durable = next_seq - 1
        self._syncing = False
        self._retired: list[int] = []  # fds of closed segments, closed once no fsync uses them
        self._failure: BaseException | None = None
        self._closed = False
        self._fd = -1
        self._segment_first = next_seq  # the first sequence number of the live segment
        self._size = 0
        self.syncs = 0  # fsyncs made, for tests and benchmarks
        self._open_segment()

    # state, read without the lock: ints are replaced atomically
    @property
    def written_seq(self) -> int:
        return self._written

    @property
    def durable_seq(self) -> int:
        return self._durable

    @property
    def failure(self) -> BaseException | None:
        return self._failure

    def _open_segment(self) -> None:
        self._segment_first = self._next
        path = segment_path(self.directory, self._next)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, FILE_MODE)
        header = encode_frame({"format": "relais-journal", "version": 1, "first": self._next})
        _write_all(self._fd, header)
        self._size = len(header)
        os.fsync(self._fd)
        fsync_directory(self.directory)

    def _check(self) -> None:
        if self._failure is not None:
            raise JournalError(f"the journal failed: {self._failure}") from self._failure
        if self._closed:
            raise JournalError("the journal is closed")

    def _fail(self, exc: BaseException) -> None:
        if self._failure is None:
            self._failure = exc
            log.critical("journal I/O failed, no write is accepted any more: %s", exc)
        self._cond.notify_all()

    def append(self, changes: Sequence[Change], at: float | None = None) -> int:
        """Write one frame with ``changes``; returns the sequence number of the last one.

        With no changes, returns the last sequence number written: waiting for it makes
        every write the caller could have observed durable.
        """
        with self._cond:
            self._check()
            if not changes:
                return self._written
            frame = encode_frame({"seq": self._next, "at": round(time.time() if at is None else at, 3),
                                  "changes": list(changes)})
            try:
                _write_all(self._fd, frame)
            except OSError as exc:
                self._fail(exc)
                raise JournalError(f"journal append failed: {exc}") from exc
            self._next += len(changes)
            self._written = self._next - 1
            self._size += len(frame)
            if self._size >= self.segment_bytes:
                self._rotate()
            return self._written

    def rotate(self) -> int:
        """Close the current segment now and start the next (an erasure's scrub needs every
        change so far in closed segments). Returns the last sequence number closed. A segment
        with no change yet (a scrub owed right after a restart) stays open: every change is
        in closed segments already, and the next one would take its name."""
        with self._cond:
            self._check()
            if self._next > self._segment_first:
                self._rotate()
            return self._written

    def _rotate(self) -> None:
        """Close the current segment (synced in full) and start the next. Lock held."""
        try:
            self._sync(self._fd)
            self.syncs += 1
            self._durable = self._written
            self._retired.append(self._fd)
            self._close_retired()
            self._open_segment()
        except OSError as exc:
            self._fail(exc)
            raise JournalError(f"journal rotation failed: {exc}") from exc
        self._cond.notify_all()

    def _close_retired(self) -> None:
        if not self._syncing:
            for fd in self._retired:
                os.close(fd)
            self._retired.clear()

    def wait_durable(self, seq: int) -> None:
        """Return once every change up to ``seq`` is on disk (group commit)."""
        with self._cond:
            while self._durable < seq:
                if self._failure is not None:
                    self._check()
                if self._syncing:
                    self._cond.wait()
                    continue
                self._syncing = True
                target, fd = self._written, self._fd
                self._cond.release()
                error: OSError | None = None
                try:
                    self._sync(fd)
                except OSError as exc:
                    error = exc
                finally:
                    self._cond.acquire()
                    self._syncing = False
                if error is not None:
                    self._fail(error)
                    raise JournalError(f"journal fsync failed: {error}") from error
                self.syncs += 1
                self._durable = max(self._durable, target)
                self._close_retired()
                self._cond.notify_all()

    def wait_beyond(self, seq: int, timeout: float) -> int:
        """Wait up to ``timeout`` s for a durable change after ``seq``; returns the durable seq."""
        with self._cond:
            self._cond.wait_for(lambda: self._durable > seq or self._failure is not None or self._closed, timeout)
            return self._durable

    def close(self) -> None:
        """Sync and close the current segment; later appends raise."""
        with self._cond:
            if self._closed:
                return
            while self._syncing:
                self._cond.wait()
            try:
                if self._failure is None:
                    self._sync(self._fd)
                    self._durable = self._written
            finally:
                self._retired.append(self._fd)
                self._close_retired()
                self._closed = True
                self._cond.notify_all()


# Snapshots ----------------------------------------------------------------------------

def write_snapshot(directory: Path, covers: int, carry: Iterable[Change],
                   images: Iterable[tuple[str, dict, dict]]) -> tuple[int, int]:
    """Atomically replace the snapshot: written to a temporary file, fsynced, renamed.

    ``carry``: the stream changes (with ``seq``) a consumer still needs; ``images``:
    ``(table, key, item)`` for every live key. Returns ``(carried, images)`` counts.
    """
    temporary = directory / f"{SNAPSHOT}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    counts = {"carry": 0, "images": 0}
    with os.fdopen(fd, "wb", buffering=1 << 20) as out:
        out.write(encode_frame({"format": "relais-snapshot", "version": 1, "covers": covers}))
        for section, rows in (("carry", carry), ("images", images)):
            chunk: list = []
            for row in rows:
                chunk.append(list(row) if section == "images" else row)
                if len(chunk) == CHUNK:
                    out.write(encode_frame({section: chunk}))
                    counts[section] += len(chunk)
                    chunk = []
            if chunk:
                out.write(encode_frame({section: chunk}))
                counts[section] += len(chunk)
        out.write(encode_frame({"end": True, **counts}))
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, directory / SNAPSHOT)
    fsync_directory(directory)
    return counts["carry"], counts["images"]


class Snapshot:
    """A snapshot opened for reading: ``covers`` at once, then its sections in order."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = open(path, "rb", buffering=1 << 20)  # noqa: SIM115 (closed by close()); one inode throughout
        header = self._frame()
        if not header or header.get("format") != "relais-snapshot" or header.get("version") != 1:
            raise CorruptSnapshot(f"{path}: not a version 1 snapshot")
        self.covers: int = header["covers"]
        self._pending: dict | None = None

    @classmethod
    def open(cls, directory: Path) -> Snapshot | None:
        try:
            return cls(directory / SNAPSHOT)
        except FileNotFoundError:
            return None

    def _frame(self) -> dict:
        try:
            frame = read_frame(self._file)
        except TornFrame as torn:
            raise CorruptSnapshot(f"{self.path}: {torn}") from None
        if frame is None:
            raise CorruptSnapshot(f"{self.path}: ends before its end frame")
        return frame

    def carry(self) -> Iterator[Change]:
        """The stream changes kept for consumers, in order (read this first, or never)."""
        while True:
            frame = self._frame()
            if "carry" not in frame:
                self._pending = frame
                return
            yield from frame["carry"]

    def images(self) -> Iterator[tuple[str, dict, dict]]:
        """``(table, key, item)`` of every key; checks the end frame (:class:`CorruptSnapshot`)."""
        if self._pending is None:
            for _ in self.carry():
                pass
        assert self._pending is not None
        frame: dict = self._pending
        self._pending = {}
        count = 0
        while "end" not in frame:
            for table, key, image in frame.get("images", ()):
                count += 1
                yield table, key, image
            frame = self._frame()
        if frame.get("images") != count:
            raise CorruptSnapshot(f"{self.path}: {count} images read, {frame.get('images')} written")

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def snapshot_size(directory: Path) -> int:
    try:
        return (directory / SNAPSHOT).stat().st_size
    except FileNotFoundError:
        return 0


# Consumer positions -------------------------------------------------------------------

def _positions_dir(directory: Path) -> Path:
    return directory / "consumers"


def read_position(directory: Path, consumer: str) -> int:
    """How far ``consumer`` got (0: never started)."""
    try:
        return int((_positions_dir(directory) / f"{consumer}.position").read_text().strip() or 0)
    except FileNotFoundError:
        return 0


def write_position(directory: Path, consumer: str, seq: int) -> None:
    """Atomically record ``consumer``'s position (a stale one only replays: harmless)."""
    folder = private_directory(_positions_dir(directory))
    temporary = folder / f"{consumer}.position.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        _write_all(fd, f"{seq}\n".encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, folder / f"{consumer}.position")


def positions(directory: Path) -> dict[str, int]:
    folder = _positions_dir(directory)
    if not folder.exists():
        return {}
    return {path.name[:-len(".position")]: read_position(directory, path.name[:-len(".position")])
            for path in folder.glob("*.position")}


# Recovery -----------------------------------------------------------------------------

@dataclass
class Recovery:
    """What a journal directory holds: the latest image of every key, and where to go on."""

    directory: Path
    covers: int  # the snapshot holds every change up to here
    next_seq: int
    tail: dict[tuple[str, str], tuple[str, dict, dict | None]]  # key id → (table, key, image or None)
    tail_changes: int = 0
    torn: list[str] = field(default_factory=list)

    def images(self) -> Iterator[tuple[str, dict]]:
        """``(table, item)`` of every live key: the snapshot's, unless the tail changed
        them, then the tail's. Streams the snapshot: memory grows with the tail only."""
        shadowed = {table for table, _ in self.tail}
        snapshot = Snapshot.open(self.directory)
        if snapshot is not None:
            with snapshot:
                for table, key, image in snapshot.images():
                    if table in shadowed and key_id(table, key) in self.tail:
                        continue
                    yield table, image
        for table, _, latest in self.tail.values():
            if latest is not None:
                yield table, latest


def _scan_segment(segment: Segment, is_last: bool, torn: list[str]) -> Iterator[dict]:
    """The frames of a segment; a torn end of the last one is cut off (it was never acknowledged)."""
    with open(segment.path, "rb+", buffering=1 << 20) as stream:
        while True:
            offset = stream.tell()
            try:
                frame = read_frame(stream)
            except TornFrame as damage:
                if is_last:
                    log.warning("journal: discarding a torn record at the end of %s (%s): "
                                "it was never acknowledged", segment.path.name, damage)
                    stream.truncate(offset)
                    stream.flush()
                    os.fsync(stream.fileno())
                else:
                    log.error("journal: %s is damaged at byte %d (%s); the rest of it is skipped",
                              segment.path.name, offset, damage)
                torn.append(f"{segment.path.name}@{offset}: {damage}")
                return
            if frame is None:
                return
            yield frame


def recover(directory: Path) -> Recovery:
    """Read a journal directory after a stop or a crash (cuts a torn tail, drops temporaries)."""
    private_directory(directory)
    for leftover in directory.glob("*.tmp"):
        leftover.unlink()
    snapshot = Snapshot.open(directory)
    covers = snapshot.covers if snapshot else 0
    if snapshot:
        snapshot.close()
    tail: dict = {}
    last = covers
    changes = 0
    torn: list[str] = []
    segments = list_segments(directory)
    useless = []
    for index, segment in enumerate(segments):
        useful = False
        for frame in _scan_segment(segment, index == len(segments) - 1, torn):
            for change in frame_changes(frame):
                if change["seq"] <= covers:
                    continue
                table, key = change["table"], change["key"]
                tail[key_id(table, key)] = (table, key, change["new"])
                last = max(last, change["seq"])
                changes += 1
                useful = True
        if not useful:  # only a header, or folded into the snapshot already
            useless.append(segment)
    if useless:
        _delete(useless, directory)
    return Recovery(directory, covers, last + 1, tail, changes, torn)


# Compaction ---------------------------------------------------------------------------

@dataclass
class Compaction:
    covers: int
    segments: int
    carried: int
    images: int
    seconds: float


def compaction_due(directory: Path, min_bytes: int) -> bool:
    """Closed segments at least ``min_bytes`` and at least as big as the snapshot: each
    compaction rewrites the snapshot once per as many journaled bytes, so its cost per
    write stays bounded whatever the amount of data."""
    closed = list_segments(directory)[:-1]
    size = sum(segment.size for segment in closed)
    return bool(closed) and size >= max(min_bytes, snapshot_size(directory))


def compact(directory: Path, keep_after: int) -> Compaction | None:
    """Fold the closed segments into the snapshot, then delete them.

    The new snapshot holds the latest image of every key, and carries the stream changes
    after ``keep_after`` (the slowest consumer's position). Never reads the database.
    A crash at any point leaves a readable journal: the old snapshot and the segments
    until the rename, the new snapshot (segments it covers are skipped) after it.
    """
    started = time.monotonic()
    segments = list_segments(directory)
    if len(segments) < 2:
        return None
    folded, covers = segments[:-1], segments[-1].first - 1
    old = Snapshot.open(directory)
    with old or contextlib.nullcontext():
        base = old.covers if old else 0
        if base >= covers:  # folded already: a crash came before the deletions
            _delete(folded, directory)
            return None
        carry = [change for change in old.carry() if change["seq"] > keep_after] if old else []
        tail: dict = {}
        for segment in folded:
            for change in _segment_changes(segment, after=base, through=covers):
                tail[key_id(change["table"], change["key"])] = (change["table"], change["key"], change["new"])
                if "old" in change and change["seq"] > keep_after:
                    carry.append(change)
        carried, written = write_snapshot(directory, covers, carry, _merged_images(old, tail))
    _delete(folded, directory)
    return Compaction(covers, len(folded), carried, written, time.monotonic() - started)


def _segment_changes(segment: Segment, after: int, through: int) -> Iterator[Change]:
    """The changes of a closed segment with ``after < seq <= through``."""
    with open(segment.path, "rb", buffering=1 << 20) as stream:
        while True:
            try:
                frame = read_frame(stream)
            except TornFrame as damage:
                log.error("compaction: %s is damaged (%s); the rest of it is skipped", segment.path.name, damage)
                return
            if frame is None:
                return
            yield from (change for change in frame_changes(frame) if after < change["seq"] <= through)


def _merged_images(old: Snapshot | None, tail: dict) -> Iterator[tuple[str, dict, dict]]:
    """The old snapshot's images the tail did not change, then the tail's live ones."""
    if old is not None:
        for table, key, image in old.images():
            if key_id(table, key) not in tail:
                yield table, key, image
    for table, key, image in tail.values():
        if image is not None:
            yield table, key, image


def _delete(segments: Sequence[Segment], directory: Path) -> None:
    for segment in segments:
        segment.path.unlink(missing_ok=True)
    fsync_directory(directory)


# Command line -------------------------------------------------------------------------

def _show(directory: Path) -> None:
    snapshot = Snapshot.open(directory)
    if snapshot:
        with snapshot:
            carried = sum(1 for _ in snapshot.carry())
            images = sum(1 for _ in snapshot.images())
        print(f"snapshot: covers {snapshot.covers}, {images} images, {carried} stream changes carried")
    else:
        print("snapshot: none")
    for segment in list_segments(directory):
        print(f"segment {segment.path.name}: {segment.size} bytes")
    for consumer, position in sorted(positions(directory).items()):
        print(f"consumer {consumer}: {position}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dev.journal", description=__doc__.split("\n", 1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    compact_command = commands.add_parser("compact", help="fold closed segments into the snapshot")
    compact_command.add_argument("directory", type=Path)
    compact_command.add_argument("--keep-after", type=int, required=True,
                                 help="carry the stream changes after this sequence number")
    show_command = commands.add_parser("show", help="summarise a journal directory")
    show_command.add_argument("directory", type=Path)
    args = parser.parse_args(argv)
    if args.command == "show":
        _show(args.directory)
        return 0
    result = compact(args.directory, args.keep_after)
    print(json.dumps(result.__dict__ if result else None))
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s relais.dev %(message)s", datefmt="%H:%M:%S")
    sys.exit(main())
