"""Erasure in the local journal: a fan's erased name and e-mail leave the data dir's files too.

The journal (:mod:`dev.journal`) keeps history: every image each write produced, and for
the events table the image before it. Erasing a fan (``DELETE …/referrers/{code}``) removes
their name and e-mail from the tables, but the segments and the snapshot still hold the
images from before. So an erasure is followed by a *scrub*:

1. The erasure's transaction writes an erasure record (an events item of kind
   ``erasure``, no personal data). :class:`ErasureAwareJournal` notes the sequence number
   of any change that writes one: the scrub is *pending* from then on.
2. Once every stream consumer has passed that number (the aggregator has removed the name
   from the fan's rollup and the leaderboard; until then the stream still needs the old
   images), the compactor thread (:meth:`dev.persistence.JournaledDynamoDB.start_compactor`)
   closes the live segment and compacts: the new snapshot holds the latest image of each
   key and only the stream changes after the consumers' position, and every segment up to
   it is deleted. No image from before the erasure is left on disk. Just before, the
   batches the stream feeder set aside (``failed-stream-batches.jsonl``, records included)
   are rewritten without the erased fans' names (:func:`dev.journal_stream.redact_set_aside`):
   the journal notes the code each erasure record names.

Crash safety is the compaction's own (a temporary file, fsynced, renamed; segments deleted
only after): a crash at any point leaves a readable journal, and a restart finds the
erasure record (and its code) still in the journal's tail (or in the snapshot's carried
stream changes) and scrubs again: the set-aside batches are redacted before the compaction
that ends a scrub. The legacy ``tables.json.imported`` copy, if any, is deleted by a scrub.
Files are rewritten, not shredded: the data dir belongs on an encrypted disk
(docs/privacy.md).
"""
from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from dev import journal

ERASURE = {"S": "erasure"}


def is_erasure(change: journal.Change) -> bool:
    """A change of a stream table (the events table) that writes an erasure record."""
    new = change.get("new")
    return "old" in change and isinstance(new, dict) and new.get("kind") == ERASURE


def erasure_in(changes: Iterable[journal.Change]) -> bool:
    return any(is_erasure(change) for change in changes)


def erased_code(record: dict) -> str | None:
    """The code an erasure record names."""
    code = record.get("code")
    return code.get("S") if isinstance(code, dict) else None


@dataclass(frozen=True)
class Owed:
    """The scrub a restarted stack still owes: up to ``seq``, for the fans ``codes``."""

    seq: int | None = None
    codes: frozenset[str] = field(default_factory=frozenset)


class ErasureAwareJournal(journal.Journal):
    """The journal, noting the sequence number up to which a scrub is pending, and the codes
    of the fans erased since the last scrub."""

    def __init__(self, *args, owed: Owed | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._scrub_lock = threading.Lock()
        self._pending = owed.seq if owed else None
        self._erased: dict[str, int] = dict.fromkeys(owed.codes, owed.seq or 0) if owed else {}

    @property
    def scrub_pending(self) -> int | None:
        """Scrub the journal once every consumer passed this sequence number (``None``: no erasure)."""
        return self._pending

    @property
    def erased_codes(self) -> frozenset[str]:
        """The codes of the fans erased since the last scrub (whose names the scrub removes)."""
        with self._scrub_lock:
            return frozenset(self._erased)

    def append(self, changes, at=None) -> int:
        seq = super().append(changes, at)
        erasures = [change for change in changes or () if is_erasure(change)]
        if erasures:
            with self._scrub_lock:
                self._pending = max(self._pending or 0, seq)
                for change in erasures:
                    code = erased_code(change["new"])
                    if code:
                        self._erased[code] = seq
        return seq

    def scrubbed(self, upto: int) -> None:
        """A scrub covered every change up to ``upto``: forget the erasures it covered."""
        with self._scrub_lock:
            if self._pending is not None and self._pending <= upto:
                self._pending = None
            self._erased = {code: seq for code, seq in self._erased.items() if seq > upto}


def owed_after_recovery(recovery: journal.Recovery) -> Owed:
    """A scrub still owed after a restart: erasure records among the tail's latest images, or
    in the snapshot's carried stream changes (history that may still hold a name)."""
    tail_images = [image for table, _, image in recovery.tail.values() if image is not None]
    records = [image for image in tail_images if image.get("kind") == ERASURE]
    snapshot = journal.Snapshot.open(recovery.directory)
    if snapshot is not None:
        with snapshot:
            records += [change["new"] for change in snapshot.carry() if is_erasure(change)]
    if not records:
        return Owed()
    codes = frozenset(code for code in map(erased_code, records) if code)
    return Owed(recovery.next_seq - 1, codes)
