"""The recount rebuilds a campaign's counters from its events while traffic continues (app tier)."""
import threading
from datetime import UTC, datetime

import pytest

from chalicelib.aggregate import recount
from chalicelib.domain import pledges
from chalicelib.hotpath import lookups, tracking
from chalicelib.store.records import TOTAL, day_id, referrer_id
from harness.inprocess import rollup
from harness.raw_items import add_to_counters
from harness.user_agents import CHROME


class Traffic:
    """Clicks and pledges from a thread, through the same services the routes call."""

    def __init__(self, name, codes, limit, pause=0.0):
        self.name, self.codes, self.limit, self.pause = name, codes, limit, pause
        self.clicks = self.pledges = self.amount = 0
        self.stop = threading.Event()
        self.error = None
        self.thread = threading.Thread(target=self._guarded)

    def _guarded(self):
        try:
            self._run()
        except BaseException as exc:  # re-raised in the test's thread by __exit__
            self.error = exc

    def _run(self):
        i = 0
        while not self.stop.is_set() and i < self.limit:
            code = self.codes[i % len(self.codes)]
            visit = tracking.Visit("GET", f"{CHROME} v{i % 7}", "203.0.113.9", False)
            location = tracking.redirect(code, "x", visit)
            self.clicks += 1
            if i % 5 == 0:
                ref = location.split("ref=")[1].split("&")[0]
                _, campaign = lookups.resolve(code)
                request = pledges.PledgeRequest(f"{self.name}-{i}", 100 + i, "EUR", "confirmed", datetime.now(UTC),
                                                ref)
                status, _ = pledges.record(campaign, request)
                assert status == 201
                self.pledges += 1
                self.amount += 100 + i
            i += 1
            self.stop.wait(self.pause)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(30)
        if self.error is not None:
            raise self.error


class Draining:
    """The stream consumer running beside the recount, as Lambda does on AWS."""

    def __init__(self, poller):
        self.poller, self.stop = poller, threading.Event()
        self.thread = threading.Thread(target=self._run)

    def _run(self):
        while not self.stop.is_set():
            self.poller.drain()
            self.stop.wait(0.05)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(30)


def test_a_corrupted_campaign_is_rebuilt_exactly_while_clicks_and_pledges_continue(api, poller):
    campaign, _ = api.create_campaign(goal={"amount": 100_000, "currency": "EUR"})
    cid = campaign["id"]
    codes = [api.call("POST", f"/v1/campaigns/{cid}/referrers", {"name": f"F{i}"}).data["code"] for i in range(3)]
    with Traffic("before", codes, limit=200) as before:
        before.thread.join(60)
    poller.drain()
    # counters made smaller than the truth: the records held during the recount only add to what is
    # rebuilt, so a held pledge can never cancel out a corruption and hide it from the report
    add_to_counters(cid, TOTAL, clicks=-17, pledges=-3, amt_EUR=-999)  # what a lost stream batch leaves
    add_to_counters(cid, referrer_id(codes[0]), clicks=-5, lb_score=-1)
    today = datetime.now(UTC).date().isoformat()
    add_to_counters(cid, day_id(today, "x"), unique_clicks=-4)

    # paced, so that the consumer keeps up however slow the machine (a backlog would only delay the markers)
    with Draining(poller), Traffic("during", codes, limit=20_000, pause=0.02) as during:
        report = recount.recount(cid, timeout=120)
    poller.drain()

    assert during.clicks > 0 and report.held > 0  # traffic did flow while the campaign was rebuilt
    assert {(str(d.rollup), d.counter) for d in report.differences} >= {
        ("total", "clicks"), ("total", "pledges"), ("total", "amt_EUR"), (f"referrer {codes[0]}", "clicks"),
        (f"referrer {codes[0]}", "lb_score"), (f"day {today} x", "unique_clicks")}
    total = rollup(cid)
    assert total.get("clicks") == before.clicks + during.clicks
    assert total.get("pledges") == before.pledges + during.pledges
    assert total.amounts == {"EUR": before.amount + during.amount}
    assert total.get("referrers") == 3
    assert sum(rollup(cid, referrer_id(code)).get("clicks") for code in codes) == before.clicks + during.clicks
    assert rollup(cid, day_id(today, "x")).get("unique_clicks") == 3 * 7


def test_a_check_reports_the_difference_and_changes_nothing(api, poller):
    campaign, _ = api.create_campaign()
    cid = campaign["id"]
    code = api.call("POST", f"/v1/campaigns/{cid}/referrers", {"name": "Ana"}).data["code"]
    api.call("GET", f"/r/{code}?c=email", headers={"User-Agent": CHROME})
    poller.drain()
    add_to_counters(cid, TOTAL, clicks=10)
    with Draining(poller):
        report = recount.recount(cid, check_only=True, timeout=60)
    assert [(str(d.rollup), d.counter, d.stored, d.rebuilt) for d in report.differences] == [("total", "clicks", 11, 1)]
    assert rollup(cid).get("clicks") == 11
    assert not report.applied


def test_a_recount_without_a_stream_consumer_fails_with_a_clear_reason(api):
    campaign, _ = api.create_campaign()
    with pytest.raises(recount.RecountError, match="0 of 16 start markers"):
        recount.recount(campaign["id"], timeout=1)

