"""Outbound webhooks' pure parts: the backoff between attempts, and a spooled message kept
(a file of the local queue) when its handling fails."""
from __future__ import annotations

import time

from chalicelib.outbound import dispatcher
from chalicelib.store import webhook_queue


class _Edge:
    """A random source that always draws the low or the high end of the jitter."""

    def __init__(self, high: bool) -> None:
        self.high = high

    def uniform(self, low: float, high: float) -> float:
        return high if self.high else low


def test_the_backoff_grows_fourfold_up_to_four_hours_with_jitter_and_two_retries_fit_in_a_minute():
    ceilings = [dispatcher.retry_delay(n, base=10, rng=_Edge(high=True)) for n in range(1, 9)]
    floors = [dispatcher.retry_delay(n, base=10, rng=_Edge(high=False)) for n in range(1, 9)]
    assert ceilings == [10, 40, 160, 640, 2560, 10240, 14400, 14400]
    assert floors == [c / 2 for c in ceilings]
    assert ceilings[0] + ceilings[1] < 60


def test_a_spooled_message_whose_handling_fails_is_kept_until_its_lease_would_have_run_out(spool, monkeypatch):
    def fail(message, resolver=None):
        raise RuntimeError("DynamoDB unreachable")

    monkeypatch.setattr(dispatcher, "handle", fail)
    webhook_queue.send(webhook_queue.Message("c1", 1, "evt_1"))
    (taken,) = webhook_queue.take_due(spool, 10)
    before = time.time()
    error = dispatcher._handle_spooled(taken)
    webhook_queue.done(taken[0])
    (kept,) = spool.iterdir()
    assert isinstance(error, RuntimeError)
    assert webhook_queue.Message.from_json(kept.read_text()) == taken[1]
    assert int(kept.name[:13]) / 1000 >= before + 10 + 30  # the per-delivery timeout and the lease margin
