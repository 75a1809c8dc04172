"""``make recount`` on the real local stack: a batch lost to the failure path, and counters
corrupted by hand, are rebuilt exactly while fans keep clicking and pledging."""
from __future__ import annotations

import threading
from datetime import UTC, datetime

import requests

from chalicelib.store.records import TOTAL, day_id
from harness import soak
from harness.raw_items import add_to_counters
from harness.stack_process import recount


def totals(stack, cid, key) -> dict:
    return requests.get(f"{stack.api}/v1/campaigns/{cid}/stats", headers={"Authorization": f"Bearer {key}"},
                        timeout=30).json()["totals"]


def widget_pledges(stack, cid) -> int:
    """The widget reads the campaign's ``total`` item (stats sum the daily items)."""
    return requests.get(f"{stack.api}/v1/campaigns/{cid}/widget", timeout=30).json()["pledges"]


class Consuming:
    """The stream consumer keeps running during the recount, as Lambda's does on AWS."""

    def __init__(self, poller) -> None:
        self.poller, self.stop = poller, threading.Event()
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        while not self.stop.is_set():
            self.poller.drain()
            self.stop.wait(0.1)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(30)


def test_a_batch_lost_to_the_failure_path_is_recounted_exactly_while_traffic_flows(stack, poller):
    campaign, key = stack.create_campaign()
    cid = campaign["id"]
    codes = [stack.new_fan(cid, f"Fan {i}")["code"] for i in range(4)]
    poller.drain()
    # a count of requests, not a time: more than a batch's 100 records however slow the machine
    before = soak.run(stack.api, cid, key, codes, fans=4, seconds=60, max_requests=150, pledge_every=5)
    soak.wait_for_spool(stack.data_dir)

    # The aggregator gives up on the first batch: it goes to the failure path, uncounted.
    lost = poller.next_batch()
    assert lost is not None and len(lost.records) == 100
    poller.commit(lost)
    poller.drain()
    assert totals(stack, cid, key)["clicks"] < before.clicks

    with Consuming(poller):  # even a check needs the aggregator to meet its markers
        checked = recount(stack, cid, "CHECK=1")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "CHECK only: nothing changed." in checked.stdout
    assert totals(stack, cid, key)["clicks"] < before.clicks

    with Consuming(poller):
        results: list[soak.SoakResult] = []
        traffic = threading.Thread(target=lambda: results.append(
            soak.run(stack.api, cid, key, codes, fans=4, seconds=6, max_requests=600, pledge_every=5)))
        traffic.start()
        repaired = recount(stack, cid)
        traffic.join(60)
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "corrected." in repaired.stdout
    soak.wait_for_spool(stack.data_dir)
    poller.drain()
    counted = totals(stack, cid, key)
    acknowledged = (before.clicks + results[0].clicks, before.pledges + results[0].pledges,
                    before.amount + results[0].amount)
    assert (counted["clicks"], counted["pledges"], counted["amount"]["EUR"]) == acknowledged
    assert counted["referrers"] == 4


def test_counters_corrupted_by_hand_are_rebuilt_and_a_second_recount_finds_nothing(stack, poller):
    campaign, key = stack.create_campaign()
    cid = campaign["id"]
    codes = [stack.new_fan(cid, f"Fan {i}")["code"] for i in range(2)]
    run = soak.run(stack.api, cid, key, codes, fans=2, seconds=2, max_requests=100, pledge_every=4)
    soak.wait_for_spool(stack.data_dir)
    poller.drain()
    today = datetime.now(UTC).date().isoformat()
    add_to_counters(cid, day_id(today, "x"), clicks=-7)  # on the local stack's tables, behind its back
    add_to_counters(cid, TOTAL, pledges=3)
    assert totals(stack, cid, key)["clicks"] == run.clicks - 7
    assert widget_pledges(stack, cid) == run.pledges + 3

    with Consuming(poller):
        repaired = recount(stack, cid)
        again = recount(stack, cid, "CHECK=1")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "total" in repaired.stdout and "clicks" in repaired.stdout
    assert "0 counters differ" in again.stdout
    counted = totals(stack, cid, key)
    assert (counted["clicks"], counted["pledges"], widget_pledges(stack, cid)) == (run.clicks, run.pledges, run.pledges)
