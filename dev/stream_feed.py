"""What ``make dev`` has in place of Lambda's event source mapping: a feed of the events stream.

Two feeds fit it: :class:`dev.journal_stream.StreamFeeder` (the journal's stream, the default)
and :class:`dev.stream_poller.StreamPoller` (moto's own stream, with ``RELAIS_JOURNAL=off``).
"""
from __future__ import annotations

import threading
from typing import Protocol


class StreamFeed(Protocol):
    def run(self, stop: threading.Event) -> None:
        """Hand batches to the aggregator until ``stop`` is set."""

    def drain(self) -> int:
        """Hand over everything written so far (a clean shutdown); the records handled."""
