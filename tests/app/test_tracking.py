"""Referral links, redirects, previews, shares and QR codes (app tier)."""
from datetime import UTC
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.store.records import Event, day_id
from harness.inprocess import rollup
from harness.user_agents import CHROME


@pytest.fixture
def link(api):
    campaign, _ = api.create_campaign(share_text="Soutenez Noob !", allowed_origins=["https://example.org"])
    response = api.call("POST", f"/v1/campaigns/{campaign['id']}/referrers", {"name": "Amanda"})
    assert response.status_code == 201, response.body
    return campaign, response.data


def visit(api, code, query="", **headers):
    return api.call("GET", f"/r/{code}{query}", headers={"User-Agent": CHROME, **headers})


def test_a_fan_gets_a_short_link_qr_and_share_dialogs(api, link):
    _, fan = link
    assert len(fan["code"]) == 8 and fan["code"].isascii() and fan["code"].isalnum()  # 8 base62 characters
    assert fan["short_url"].endswith(f"/r/{fan['code']}")
    assert fan["qr"]["svg"] == fan["short_url"] + "/qr.svg"
    assert set(fan["share_urls"]) == {"x", "facebook", "whatsapp", "telegram", "linkedin", "bluesky",
                                      "mastodon", "reddit", "email", "sms"}
    whatsapp = fan["share_urls"]["whatsapp"]
    assert "Soutenez%20Noob%20%21" in whatsapp and "%3Fc%3Dwhatsapp" in whatsapp


def test_an_email_that_already_has_a_link_gets_201_and_a_new_link_that_reveals_nothing_stored(api):
    campaign, _ = api.create_campaign()
    path = f"/v1/campaigns/{campaign['id']}/referrers"
    first = api.call("POST", path, {"name": "Ana", "email": "Ana@Example.org"})
    again = api.call("POST", path, {"name": "Ana B", "email": "ana@example.org"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.data["code"] != first.data["code"] and again.data["name"] == "Ana B"
    assert set(again.data) == set(first.data)


def test_redirect_goes_to_the_stored_target_with_ref_and_utm(api, link):
    campaign, fan = link
    response = visit(api, fan["code"], "?c=whatsapp")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert (location.scheme, location.netloc, location.path) == ("https", "example.org", "/noob")
    query = parse_qs(location.query)
    assert query["utm_source"] == ["whatsapp"] and query["utm_medium"] == ["referral"]
    assert query["utm_campaign"] == [campaign["id"]]
    from chalicelib.hotpath.signing import parse_ref

    code, channel, _ = parse_ref(campaign["id"], query["ref"][0])
    assert (code, channel) == (fan["code"], "whatsapp")
    assert parse_ref("othercampaign", query["ref"][0]) is None


def test_unknown_codes_are_404(api):
    assert visit(api, "zzzzzzzz").status_code == 404
    # not a code but more path segments: no route matches, and API Gateway (as Chalice) answers 403
    assert visit(api, "../../etc").status_code == 403


def test_clicks_previews_and_shares_are_counted_once_each(api, link, poller):
    campaign, fan = link
    code = fan["code"]
    visit(api, code, "?c=x")
    visit(api, code, "?c=x")  # same visitor again: a click, not a new unique one
    visit(api, code, "?c=x", **{"User-Agent": "Twitterbot/1.0"})
    api.call("HEAD", f"/r/{code}?c=x", headers={"User-Agent": CHROME})
    visit(api, code, "?c=facebook", DNT="1")
    assert api.call("POST", "/v1/shares", {"code": code, "channel": "x"}).status_code == 202
    poller.drain()
    day_x = rollup(campaign["id"], day_id(_today(), "x"))
    assert (day_x.get("clicks"), day_x.get("unique_clicks"), day_x.get("previews"), day_x.get("shares")) == \
        (2, 1, 2, 1), day_x
    mine = api.call("GET", f"/v1/referrers/{code}").data
    assert (mine["clicks"], mine["unique_clicks"], mine["previews"], mine["shares"]) == (3, 2, 2, 1)
    assert mine["rank"] == 1


def _visits(campaign_id: str) -> list[Event]:
    """The campaign's visit items, as the store reads them (``visits``: the tokens an item holds)."""
    from chalicelib.store import events_table

    return [event for event, _, _ in events_table.campaign_items(campaign_id) if event.kind == "visit"]


def test_a_visitors_clicks_of_a_day_are_one_item_whose_insert_makes_them_new(api, link, poller):
    campaign, fan = link
    for _ in range(3):
        visit(api, fan["code"], "?c=x")
    visit(api, fan["code"], "?c=email")  # another channel: another item, another unique click
    poller.drain()
    assert sorted(item.visits for item in _visits(campaign["id"])) == [1, 3]
    day_x = rollup(campaign["id"], day_id(_today(), "x"))
    assert (day_x.get("clicks"), day_x.get("unique_clicks")) == (3, 1)
    total = rollup(campaign["id"])
    assert (total.get("clicks"), total.get("unique_clicks")) == (4, 2)


def test_the_same_visit_written_twice_adds_one_token_and_counts_once(api, link, poller):
    """A retry after a lost answer, or the fallback replaying a write that had landed."""
    from chalicelib.core.clock import utc_now
    from chalicelib.store import events_table
    from chalicelib.store.records import Fact

    campaign, fan = link
    fact = Fact("visit", campaign["id"], fan["code"], "x", utc_now().date().isoformat(), events_table.new_token(),
                visitor="a-visitor-hash", agent=CHROME)
    events_table.put_fact(fact)
    events_table.put_fact(fact)
    events_table.put_fact(fact, request_path=False)
    poller.drain()
    [item] = _visits(campaign["id"])
    assert (item.visitor, item.visits, bool(item.repeat)) == ("a-visitor-hash", 1, False)
    day_x = rollup(campaign["id"], day_id(_today(), "x"))
    assert (day_x.get("clicks"), day_x.get("unique_clicks")) == (1, 1)


def test_visits_beyond_the_token_cap_are_items_of_their_own_counted_as_clicks_not_visitors(api, link, poller,
                                                                                          monkeypatch):
    from chalicelib.store import events_table

    monkeypatch.setattr(events_table, "TOKENS_CAP", 3)
    campaign, fan = link
    for _ in range(5):
        visit(api, fan["code"], "?c=x")
    poller.drain()
    visits = _visits(campaign["id"])
    assert sorted((item.visits, bool(item.repeat)) for item in visits) == [(1, True), (1, True), (3, False)]
    day_x = rollup(campaign["id"], day_id(_today(), "x"))
    assert (day_x.get("clicks"), day_x.get("unique_clicks")) == (5, 1)


def test_replaying_a_batch_or_part_of_one_changes_nothing(api, link, poller):
    campaign, fan = link
    first = len(poller.batches)  # the batches of this test's visits (the poller serves the whole tier)
    for channel in ("x", "x", "reddit", "email"):
        visit(api, fan["code"], f"?c={channel}", **{"User-Agent": CHROME + channel})
    poller.drain()
    before = rollup(campaign["id"])
    from app import aggregator

    replayed = [record for batch in poller.batches[first:] for record in batch["event"]["Records"]]
    assert aggregator({"Records": replayed}, None)["items"] > 0
    aggregator({"Records": replayed[: len(replayed) // 2]}, None)
    aggregator({"Records": replayed[len(replayed) // 3:]}, None)
    assert rollup(campaign["id"]) == before
    assert before.get("clicks") == 4


class ThrottledClient:
    """Stands in for the request-path client: reads go through, every write is throttled."""

    def __init__(self, real):
        self.calls = 0
        self.get_item = real.get_item

    def _throttle(self, **kwargs):
        from botocore.exceptions import ClientError

        self.calls += 1
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "UpdateItem")

    update_item = put_item = _throttle


@pytest.fixture
def throttled(monkeypatch):
    from chalicelib.store import clients

    client = ThrottledClient(clients.request())
    monkeypatch.setattr(clients, "request", lambda: client)
    return client


def test_a_failing_click_write_still_redirects(api, link, throttled):
    _, fan = link
    assert visit(api, fan["code"]).status_code == 302
    assert api.call("HEAD", f"/r/{fan['code']}").status_code == 302
    assert throttled.calls == 2


def test_share_beacons_validate_code_and_channel(api, link):
    _, fan = link
    assert api.call("POST", "/v1/shares", {"code": fan["code"], "channel": "myspace"}).status_code == 400
    assert api.call("POST", "/v1/shares", {"code": "nope1234", "channel": "x"}).status_code == 404
    assert api.call("POST", "/v1/shares", {"code": fan["code"], "channel": "x"},
                    headers={"Origin": "https://evil.example.com"}).status_code == 403


def test_qr_codes_are_immutable_svg_and_bounded_png(api, link):
    _, fan = link
    svg = api.call("GET", f"/r/{fan['code']}/qr.svg")
    assert svg.status_code == 200 and svg.headers["Content-Type"] == "image/svg+xml"
    assert svg.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    png = api.call("GET", f"/r/{fan['code']}/qr.png?size=200", headers={"Accept": "image/png"})
    assert png.status_code == 200 and png.body[:8] == b"\x89PNG\r\n\x1a\n"
    assert api.call("GET", f"/r/{fan['code']}/qr.png?size=99999").status_code == 400


def test_cors_is_answered_only_for_allowed_origins(api, link):
    _, fan = link
    allowed = api.call("GET", f"/v1/referrers/{fan['code']}", headers={"Origin": "https://example.org"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://example.org"
    other = api.call("GET", f"/v1/referrers/{fan['code']}", headers={"Origin": "https://evil.example.com"})
    assert "Access-Control-Allow-Origin" not in other.headers


def _today():
    from datetime import datetime

    return datetime.now(UTC).date().isoformat()


def test_widget_errors_carry_cors_so_the_widget_can_read_them(api, link):
    campaign, _ = link
    response = api.call("POST", f"/v1/campaigns/{campaign['id']}/referrers", {"name": ""},
                        headers={"Origin": "https://example.org"})
    assert response.status_code == 400
    assert response.headers["Access-Control-Allow-Origin"] == "https://example.org"


def test_non_ascii_digits_in_qr_size_are_400(api, link):
    _, fan = link
    response = api.call("GET", f"/r/{fan['code']}/qr.png?size=²", headers={"Accept": "image/png"})
    assert response.status_code == 400


def test_a_failing_share_write_is_503_not_500(api, link, throttled):
    _, fan = link
    response = api.call("POST", "/v1/shares", {"code": fan["code"], "channel": "x"})
    assert response.status_code == 503
    assert response.data["error"]["code"] == "unavailable"
