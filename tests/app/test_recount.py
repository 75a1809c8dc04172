"""The recount rebuilds a campaign's counters from its events while traffic continues (app tier)."""
import threading
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.aggregate import recount
from chalicelib.domain import imports, pledges
from chalicelib.hotpath import lookups, tracking
from chalicelib.store import clients
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



IMPORT_BUCKET = "relais-recount-imports"


@pytest.fixture
def bucket(dynamodb, monkeypatch):
    monkeypatch.setenv("RELAIS_IMPORT_BUCKET", IMPORT_BUCKET)
    clients.s3().create_bucket(Bucket=IMPORT_BUCKET)


def imported(api, cid, key, kind, text) -> dict:
    """Send the file, run its job to the end (as the importer does): the job as the API shows it."""
    response = api.call("POST", f"/v1/campaigns/{cid}/imports?kind={kind}", token=key, raw=text,
                        headers={"Content-Type": "text/csv"})
    assert response.status_code == 202, response.body
    assert imports.run(cid, response.data["import"]) is True
    return api.call("GET", f"/v1/campaigns/{cid}/imports/{response.data['import']}", token=key).data


def test_figures_of_imported_pledges_and_of_tag_totals_up_and_down_are_rebuilt_exactly(api, poller, bucket):
    """A pledges import (fans' tags per channel, direct rows, a refund, on two past days), then
    two tag_totals imports, the second lowering one tag's total and raising another's: the
    recount finds exactly the counters corrupted since (the imported facts rebuild to what the
    aggregator counted), and rebuilds totals, channels, referrers, daily and reported as they were."""
    campaign, key = api.create_campaign(platform={"name": "ulule", "tag_param": "utm_source",
                                                  "tag_per": "fan_channel"},
                                        channels=["email", "x"], goal={"amount": 100_000, "currency": "EUR"})
    cid = campaign["id"]
    ana, bo = (api.call("POST", f"/v1/campaigns/{cid}/referrers", {"name": name}).data for name in ("Ana", "Bo"))
    today = datetime.now(UTC).date()
    before, yesterday = ((today - timedelta(days=n)).isoformat() for n in (2, 1))
    pledges_text = "pledge_id,amount,currency,status,occurred_at,tag\n" + "".join([
        f"u-1,2500,EUR,confirmed,{before}T10:00:00Z,{ana['platform_tags']['x']}\n",
        f"u-2,1000,EUR,refunded,{before}T11:00:00Z,{ana['platform_tags']['x']}\n",
        f"u-3,4000,EUR,confirmed,{yesterday}T09:00:00Z,{ana['platform_tag']}\n",
        f"u-4,1500,EUR,confirmed,{yesterday}T12:00:00Z,{bo['platform_tags']['email']}\n",
        f"u-5,700,EUR,confirmed,{yesterday}T13:00:00Z,\n",
    ])
    totals_header = "tag,pledges,amount,currency\n"
    ana_x, bo_email = ana["platform_tags"]["x"], bo["platform_tags"]["email"]
    assert imported(api, cid, key, "pledges", pledges_text)["changes"] == {"pledges": 4, "amount": {"EUR": 8700}}
    first = imported(api, cid, key, "tag_totals", totals_header + f"{ana_x},5,12500,EUR\n{bo_email},2,3000,EUR\n")
    second = imported(api, cid, key, "tag_totals", totals_header + f"{ana_x},3,7000,EUR\n{bo_email},4,5000,EUR\n")
    assert (first["changes"], second["changes"]) == ({"pledges": 7, "amount": {"EUR": 15500}},
                                                     {"pledges": 0, "amount": {"EUR": -3500}})
    poller.drain()
    figures = api.call("GET", f"/v1/campaigns/{cid}/stats", token=key).data
    assert figures["totals"]["reported"] == {"pledges": 11, "amount": {"EUR": 20700}}
    assert [(row["channel"], row["pledges"], row["amount"]) for row in figures["channels"]] == \
        [("email", 5, {"EUR": 6500}), ("x", 4, {"EUR": 9500}), ("direct", 2, {"EUR": 4700})]
    assert {row["name"]: (row["pledges"], row["amount"]) for row in figures["referrers"]} == \
        {"Ana": (5, {"EUR": 13500}), "Bo": (5, {"EUR": 6500})}
    assert [(day["date"], day["pledges"], day["amount"]) for day in figures["daily"]] == \
        [(before, 1, {"EUR": 2500}), (yesterday, 3, {"EUR": 6200}), (today.isoformat(), 7, {"EUR": 12000})]

    add_to_counters(cid, TOTAL, pledges=-2, amt_EUR=-3000, rep_pledges=4)  # what lost stream batches leave
    add_to_counters(cid, referrer_id(ana["code"]), rep_amt_EUR=-7000)
    add_to_counters(cid, day_id(today.isoformat(), "x"), pledges=5, rep_pledges=5)
    with Draining(poller):
        checked = recount.recount(cid, check_only=True, timeout=60)
        report = recount.recount(cid, timeout=60)
        again = recount.recount(cid, check_only=True, timeout=60)
    poller.drain()
    assert sorted((str(d.rollup), d.counter, d.rebuilt - d.stored) for d in checked.differences) == sorted([
        ("total", "pledges", 2), ("total", "amt_EUR", 3000), ("total", "rep_pledges", -4),
        (f"referrer {ana['code']}", "rep_amt_EUR", 7000),
        (f"day {today.isoformat()} x", "pledges", -5), (f"day {today.isoformat()} x", "rep_pledges", -5)])
    assert report.applied and not again.differences
    assert api.call("GET", f"/v1/campaigns/{cid}/stats", token=key).data == figures
