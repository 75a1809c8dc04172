"""Platform insights and the campaign listing (operator token) (app tier). Spearman's ρ
itself: ``tests/unit/test_insights.py``.

Insights read every campaign of the tables, so these tests run on tables of their own.
"""
import threading
import uuid
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from scipy.stats import spearmanr

from chalicelib.aggregate import recount
from chalicelib.store.records import TOTAL
from harness.inprocess import ADMIN, rollup
from harness.raw_items import remove_counters
from harness.user_agents import CHROME

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"

# Six campaigns of known figures (EUR): shares and clicks per channel, pledges brought by
# the fan's link per channel, pledges with no ref, and landings of distinct visitors.
PLATFORM = {
    "Atelier":   {"shares": {"x": 2}, "clicks": {"x": 3}, "fan": [("x", 1000)], "direct": [], "landed": 0},
    "Brasserie": {"shares": {"whatsapp": 5, "email": 1}, "clicks": {"whatsapp": 4, "email": 2},
                  "fan": [("whatsapp", 2500), ("whatsapp", 1500), ("email", 700)], "direct": [300], "landed": 2},
    "Chorale":   {"shares": {"x": 1}, "clicks": {"x": 1}, "fan": [], "direct": [5000], "landed": 0},
    "Docu":      {"shares": {"x": 10, "whatsapp": 2}, "clicks": {"x": 6, "whatsapp": 3},
                  "fan": [("x", 2000), ("x", 2000), ("whatsapp", 4000)], "direct": [], "landed": 1},
    "Expo":      {"shares": {"email": 4}, "clicks": {"email": 2}, "fan": [("email", 500)], "direct": [500],
                  "landed": 0},
    "Fanfare":   {"shares": {}, "clicks": {}, "fan": [], "direct": [], "landed": 0},
}
# What each campaign adds up to: (shares, clicks, landed, pledges, amount in EUR, fan_share)
EXPECTED = {
    "Atelier":   (2, 3, 0, 1, 1000, 1.0),
    "Brasserie": (6, 6, 2, 4, 5000, 0.75),
    "Chorale":   (1, 1, 0, 1, 5000, 0.0),
    "Docu":      (12, 9, 1, 3, 8000, 1.0),
    "Expo":      (4, 2, 0, 2, 1000, 0.5),
    "Fanfare":   (0, 0, 0, 0, 0, None),
}


@pytest.fixture
def platform(api, monkeypatch):
    """Tables of its own, and a stream poller on them."""
    from app import aggregator
    from chalicelib.store import tables
    from dev.stream_poller import StreamPoller

    monkeypatch.setenv("RELAIS_TABLE_PREFIX", f"platform-{uuid.uuid4().hex[:10]}-")
    tables.create_tables()
    return StreamPoller(aggregator)


def operator(api, path):
    return api.call("GET", path, token=ADMIN)


def click(api, code, channel, agent=CHROME):
    response = api.call("GET", f"/r/{code}?c={channel}", headers={"User-Agent": agent})
    assert response.status_code == 302
    return parse_qs(urlsplit(response.headers["Location"]).query)["ref"][0]


def seed(api, name, plan):
    """One campaign with a fan who shares, gets clicks, landings and pledges as ``plan`` says."""
    campaign, key = api.create_campaign(name=name, goal={"amount": 100000, "currency": "EUR"})
    code = api.call("POST", f"/v1/campaigns/{campaign['id']}/referrers", {"name": f"Fan of {name}"}).data["code"]
    for channel, count in plan["shares"].items():
        for n in range(count):  # shares count once per visitor: each of these is another person's
            assert api.call("POST", "/v1/shares", {"code": code, "channel": channel},
                            headers={"User-Agent": f"{CHROME} sharer {n}"}).status_code == 202
    refs = {channel: [click(api, code, channel) for _ in range(count)] for channel, count in plan["clicks"].items()}
    for visitor in (CHROME, FIREFOX)[:plan["landed"]]:
        ref = next(iter(refs.values()))[0]
        assert api.call("POST", "/v1/landings", {"ref": ref}, headers={"User-Agent": visitor}).status_code == 202
    pledges = [(refs[channel][0], amount) for channel, amount in plan["fan"]] + [(None, a) for a in plan["direct"]]
    for index, (ref, amount) in enumerate(pledges):
        body = {"pledge_id": f"{name}-{index}", "amount": amount, "currency": "EUR", **({"ref": ref} if ref else {})}
        assert api.call("POST", f"/v1/campaigns/{campaign['id']}/pledges", body, token=key).status_code == 201
    return campaign


@pytest.fixture
def seeded(api, platform):
    campaigns = {name: seed(api, name, plan) for name, plan in PLATFORM.items()}
    platform.drain()
    return campaigns


# insights ----------------------------------------------------------------------------------

def test_insights_give_every_campaign_its_exact_figures(api, seeded):
    body = operator(api, "/v1/insights")
    assert body.status_code == 200 and body.headers["Cache-Control"] == "private, no-cache"
    got = {row["name"]: (row["shares"], row["clicks"], row["landed"], row["pledges"], row["amount"].get("EUR", 0),
                         row["fan_share"]) for row in body.data["campaigns"]}
    assert got == EXPECTED
    assert {row["name"]: row["id"] for row in body.data["campaigns"]} == {n: c["id"] for n, c in seeded.items()}
    assert [row["name"] for row in body.data["campaigns"]] == \
        ["Brasserie", "Docu", "Expo", "Atelier", "Chorale", "Fanfare"]  # by pledges, then shares
    assert set(body.data["campaigns"][0]) == {"id", "name", "shares", "clicks", "landed", "pledges", "amount",
                                              "fan_share"}


def test_insights_spearman_rho_matches_scipy_over_the_campaigns_that_counted_anything(api, seeded):
    correlation = operator(api, "/v1/insights").data["correlation"]
    active = [figures for figures in EXPECTED.values() if any(figures[:4])]  # Fanfare counted nothing
    shares, pledges, amounts = ([row[i] for row in active] for i in (0, 3, 4))
    assert correlation == {
        "shares_pledges": round(float(spearmanr(shares, pledges).statistic), 4),
        "shares_amount": round(float(spearmanr(shares, amounts).statistic), 4),
        "method": "spearman", "campaigns": 5, "amount_campaigns": 5, "currency": "EUR",
    }
    assert (correlation["shares_pledges"], correlation["shares_amount"]) == (0.8721, 0.527)  # 8.5/√95, 5/√90


def test_insights_compare_the_channels_by_conversion_across_campaigns(api, seeded):
    assert operator(api, "/v1/insights").data["channels"] == [
        {"channel": "x", "shares": 13, "clicks": 10, "pledges": 3, "conversion_rate": 0.3},
        {"channel": "whatsapp", "shares": 7, "clicks": 7, "pledges": 3, "conversion_rate": 0.4286},
        {"channel": "direct", "shares": 0, "clicks": 0, "pledges": 3, "conversion_rate": None},
        {"channel": "email", "shares": 5, "clicks": 4, "pledges": 2, "conversion_rate": 0.5},
    ]


def test_a_total_counted_before_its_channel_copies_existed_reads_its_days_until_a_recount_fills_it(
        api, seeded, platform):
    # Given Docu's total as it was before totals kept per-channel copies and fan pledges
    docu = seeded["Docu"]["id"]
    before = operator(api, "/v1/insights").data
    copies = sorted(name for name in rollup(docu).counts if name.startswith("ch_") or name == "fan_pledges")
    assert copies == ["ch_whatsapp_clicks", "ch_whatsapp_pledges", "ch_whatsapp_shares",
                      "ch_x_clicks", "ch_x_pledges", "ch_x_shares", "fan_pledges"]
    remove_counters(docu, TOTAL, *copies)

    # Then insights still give the same figures, from Docu's day items and its direct pledges
    assert operator(api, "/v1/insights").data == before

    # And a recount puts the copies back on the total
    stop = threading.Event()

    def aggregate_until_stopped():  # the stream consumer beside the recount, as Lambda is
        while not stop.is_set():
            platform.drain()
            stop.wait(0.05)

    drainer = threading.Thread(target=aggregate_until_stopped)
    drainer.start()
    try:
        report = recount.recount(docu)
    finally:
        stop.set()
        drainer.join(30)
    assert sorted((d.counter, d.rebuilt) for d in report.differences) == [
        ("ch_whatsapp_clicks", 3), ("ch_whatsapp_pledges", 1), ("ch_whatsapp_shares", 2),
        ("ch_x_clicks", 6), ("ch_x_pledges", 2), ("ch_x_shares", 10), ("fan_pledges", 3)]
    assert rollup(docu).get("ch_x_shares") == 10
    assert operator(api, "/v1/insights").data == before


def test_a_range_bounds_the_counts_but_fan_share_stays_all_time(api, seeded):
    today = datetime.now(UTC).date().isoformat()
    same = operator(api, f"/v1/insights?from={today}&to={today}").data
    assert same == operator(api, "/v1/insights").data
    past = operator(api, "/v1/insights?from=2020-01-01&to=2020-01-31").data
    assert {row["name"]: (row["shares"], row["pledges"], row["amount"], row["fan_share"])
            for row in past["campaigns"]} == {name: (0, 0, {}, figures[5]) for name, figures in EXPECTED.items()}
    assert past["channels"] == []
    assert past["correlation"]["shares_pledges"] is None and past["correlation"]["campaigns"] == 0


def test_with_fewer_than_three_active_campaigns_the_correlation_is_null(api, platform):
    for name in ("Atelier", "Brasserie"):
        seed(api, name, PLATFORM[name])
    platform.drain()
    correlation = operator(api, "/v1/insights").data["correlation"]
    assert (correlation["shares_pledges"], correlation["shares_amount"], correlation["campaigns"]) == (None, None, 2)


@pytest.mark.parametrize("query", ["?from=2026-13-01", "?to=yesterday", "?from=2026-05-02&to=2026-05-01",
                                   "?from=2024-01-01&to=2025-06-01", "?from=20260101", "?to=١٠٢٠-٠١-٠١"])
def test_a_bad_range_is_400_invalid_range(api, platform, query):
    response = operator(api, f"/v1/insights{query}")
    assert (response.status_code, response.data["error"]["code"]) == (400, "invalid_range")


# the listing -------------------------------------------------------------------------------

def test_the_listing_pages_through_every_campaign_once_with_its_totals(api, seeded):
    seen, cursor, pages = {}, "", 0
    while cursor is not None:
        response = operator(api, f"/v1/campaigns?limit=4&cursor={cursor}")
        assert response.status_code == 200 and len(response.data["campaigns"]) <= 4
        for row in response.data["campaigns"]:
            assert row["id"] not in seen
            seen[row["id"]] = row
        cursor, pages = response.data["cursor"], pages + 1
    assert pages >= 2
    assert {row["name"]: (row["totals"], row["created_at"]) for row in seen.values()} == {
        name: ({"shares": EXPECTED[name][0], "clicks": EXPECTED[name][1], "pledges": EXPECTED[name][3],
                "amount": {"EUR": EXPECTED[name][4]} if EXPECTED[name][4] else {}}, campaign["created_at"])
        for name, campaign in seeded.items()}


def test_the_listing_without_a_limit_is_one_page_of_up_to_100(api, seeded):
    body = operator(api, "/v1/campaigns").data
    assert (len(body["campaigns"]), body["cursor"]) == (6, None)


@pytest.mark.parametrize("query", ["?limit=0", "?limit=101", "?limit=ten", "?limit=-1", "?limit=1.5", "?limit=٣"])
def test_a_limit_outside_1_to_100_is_400_invalid_limit(api, platform, query):
    response = operator(api, f"/v1/campaigns{query}")
    assert (response.status_code, response.data["error"]["code"]) == (400, "invalid_limit")


def test_a_forged_or_edited_cursor_is_400_invalid_cursor(api, seeded):
    cursor = operator(api, "/v1/campaigns?limit=2").data["cursor"]
    body, mac = cursor.split(".")
    other_id = "QUFBQUFBQUFBQUFB"  # base64url of "AAAAAAAAAAAA", a campaign id no listing gave out
    for forged in (f"{other_id}.{mac}", f"{body}.{'A' * len(mac)}", f"{body}!.{mac}", f"{body}", "x" * 600, "é.é",
                   f"{body}.{mac}=", "%00"):
        response = operator(api, f"/v1/campaigns?cursor={forged}")
        assert (response.status_code, response.data["error"]["code"]) == (400, "invalid_cursor"), forged


@pytest.mark.parametrize("path", ["/v1/campaigns", "/v1/insights"])
def test_only_the_operator_token_reads_the_platform(api, platform, path):
    _, key = api.create_campaign()
    assert api.call("GET", path).status_code == 401
    assert api.call("GET", path, token="not-the-operator").status_code == 401
    refused = api.call("GET", path, token=key)
    assert (refused.status_code, refused.data["error"]["code"]) == (403, "forbidden")
    assert "operator token" in refused.data["error"]["message"]


def test_the_insights_page_is_served_like_the_dashboard(api):
    page = api.call("GET", "/insights")
    assert page.status_code == 200 and page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert page.headers["Cache-Control"] == "no-cache"
    assert api.call("GET", "/insights", headers={"If-None-Match": page.headers["ETag"]}).status_code == 304


# the statistics themselves ------------------------------------------------------------------

