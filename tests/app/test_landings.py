"""Landings: the widget's proof that a browser running the creator's page arrived (app tier)."""
from urllib.parse import parse_qs, urlsplit

import pytest

from harness.stream_records import FIREFOX
from harness.user_agents import CHROME

ORIGIN = "https://example.org"


@pytest.fixture
def fan(api):
    campaign, key = api.create_campaign(allowed_origins=[ORIGIN])
    code = api.call("POST", f"/v1/campaigns/{campaign['id']}/referrers", {"name": "Amanda"}).data["code"]
    return campaign, key, code


def click(api, code, channel="whatsapp", agent=CHROME, **headers):
    response = api.call("GET", f"/r/{code}?c={channel}", headers={"User-Agent": agent, **headers})
    assert response.status_code == 302
    return parse_qs(urlsplit(response.headers["Location"]).query)["ref"][0]


def land(api, ref, agent=CHROME, **headers):
    return api.call("POST", "/v1/landings", {"ref": ref}, headers={"User-Agent": agent, **headers})


def stats(api, campaign, key):
    return api.call("GET", f"/v1/campaigns/{campaign['id']}/stats", token=key).data


def test_a_landing_counts_once_per_visitor_and_day_in_every_view(api, fan, poller):
    campaign, key, code = fan
    ref = click(api, code)
    assert land(api, ref).status_code == 202
    assert land(api, ref).status_code == 202  # a reload by the same visitor
    assert land(api, click(api, code, agent=FIREFOX), agent=FIREFOX).status_code == 202
    poller.drain()
    body = stats(api, campaign, key)
    assert (body["totals"]["clicks"], body["totals"]["landed"]) == (2, 2)
    assert [(row["channel"], row["landed"]) for row in body["channels"]] == [("whatsapp", 2)]
    assert [row["landed"] for row in body["referrers"]] == [2]
    assert sum(day["landed"] for day in body["daily"]) == 2
    assert api.call("GET", f"/v1/referrers/{code}").data["landed"] == 2
    csv = api.call("GET", f"/v1/campaigns/{campaign['id']}/stats?format=csv", token=key).body
    header, totals = csv.decode().lstrip("\ufeff").split("\r\n")[:2]
    assert totals.split(",")[header.split(",").index("landed")] == "2"


@pytest.mark.parametrize("ref", ["", "x" * 64, "zzzzzzzz.2bk5.AAAAAAAA", "Ab3dE6gH.2bk5.é" + "A" * 7, 42, None])
def test_a_forged_or_malformed_ref_is_accepted_and_counts_nothing(api, fan, poller, ref):
    campaign, key, code = fan
    forged = f"{code}.2bk5.AAAAAAAA"
    for body_ref in (ref, forged):
        response = api.call("POST", "/v1/landings", {"ref": body_ref}, headers={"User-Agent": CHROME})
        assert response.status_code == 202
    poller.drain()
    assert stats(api, campaign, key)["totals"]["landed"] == 0


def test_a_ref_of_another_campaign_counts_nothing_there(api, fan, poller):
    campaign, key, code = fan
    other, _ = api.create_campaign()
    other_code = api.call("POST", f"/v1/campaigns/{other['id']}/referrers", {"name": "B"}).data["code"]
    ref = click(api, other_code)
    spliced = f"{code}.{ref.split('.', 1)[1]}"  # another campaign's MAC on this campaign's code
    assert land(api, spliced).status_code == 202
    poller.drain()
    assert stats(api, campaign, key)["totals"]["landed"] == 0


@pytest.mark.parametrize(("header", "value"), [("Sec-Purpose", "prefetch"), ("Purpose", "prefetch"),
                                           ("X-Purpose", "preview"), ("X-Moz", "prefetch"),
                                           ("Sec-Purpose", "prefetch;prerender")])
def test_prefetches_are_previews_and_their_landings_count_nothing(api, fan, poller, header, value):
    campaign, key, code = fan
    ref = click(api, code, **{header: value})
    assert land(api, ref, **{header: value}).status_code == 202
    poller.drain()
    totals = stats(api, campaign, key)["totals"]
    assert (totals["previews"], totals["clicks"], totals["landed"]) == (1, 0, 0)


def test_a_landing_from_a_foreign_origin_is_refused_and_an_allowed_one_gets_cors(api, fan):
    _, _, code = fan
    ref = click(api, code)
    refused = land(api, ref, Origin="https://evil.example")
    assert (refused.status_code, refused.data["error"]["code"]) == (403, "forbidden")
    allowed = land(api, ref, Origin=ORIGIN)
    assert (allowed.status_code, allowed.headers["Access-Control-Allow-Origin"]) == (202, ORIGIN)


@pytest.mark.parametrize("body", [[], {"ref": "a", "more": 1}, {}, "ref"])
def test_a_body_that_is_not_a_landing_is_400(api, body):
    response = api.call("POST", "/v1/landings", body)
    assert (response.status_code, response.data["error"]["code"]) == (400, "invalid_body")


def test_a_landing_beacon_sent_as_text_plain_counts(api, fan, poller):
    campaign, key, code = fan
    ref = click(api, code)
    response = api.call("POST", "/v1/landings", raw=f'{{"ref": "{ref}"}}',
                        headers={"Content-Type": "text/plain;charset=UTF-8", "User-Agent": CHROME})
    assert response.status_code == 202
    poller.drain()
    assert stats(api, campaign, key)["totals"]["landed"] == 1
