"""Stats route: ranges, auth, public mode, ETag, CSV safety (app tier)."""
import csv
import io

import pytest

from harness.user_agents import CHROME


@pytest.fixture
def campaign(api):
    return api.create_campaign(goal={"amount": 10000, "currency": "EUR"})


def stats(api, campaign, key, query="", **headers):
    return api.call("GET", f"/v1/campaigns/{campaign['id']}/stats{query}", token=key, headers=headers)


@pytest.mark.parametrize(("query", "code"), [
    ("?from=2026-13-01", "invalid_range"),                # not a date
    ("?to=yesterday", "invalid_range"),
    ("?from=2026-05-02&to=2026-05-01", "invalid_range"),  # from after to
    ("?from=2024-01-01&to=2025-06-01", "invalid_range"),  # more than 366 days
    ("?from=20260101", "invalid_range"),                  # not YYYY-MM-DD
    ("?format=xml", "invalid_format"),
])
def test_bad_ranges_and_formats_are_400(api, campaign, query, code):
    c, key = campaign
    response = stats(api, c, key, query)
    assert response.status_code == 400
    assert response.data["error"]["code"] == code


def test_the_default_range_runs_from_the_campaign_start_to_today(api, campaign):
    c, key = campaign
    body = stats(api, c, key).data
    assert body["from"] == c["created_at"][:10] and body["daily"][-1]["date"] == body["to"]
    assert stats(api, c, key, "?from=2026-01-01&to=2026-12-31").data["daily"][0]["date"] == "2026-01-01"


def test_private_stats_need_the_key_and_public_ones_hide_referrers(api, campaign, poller):
    c, key = campaign
    fan = api.call("POST", f"/v1/campaigns/{c['id']}/referrers", {"name": "Zoé"}).data
    api.call("GET", f"/r/{fan['code']}?c=x", headers={"User-Agent": CHROME})
    poller.drain()
    assert stats(api, c, None).status_code == 401
    assert stats(api, c, key).data["referrers"][0]["name"] == "Zoé"
    api.call("PATCH", f"/v1/campaigns/{c['id']}", {"public_stats": True}, token=key)
    public = stats(api, c, None, Origin="https://example.org")
    assert public.status_code == 200 and public.data["public"] is True
    assert "Zoé" not in public.body.decode() and fan["code"] not in public.body.decode()
    assert public.headers["Access-Control-Allow-Origin"] == "https://example.org"
    assert stats(api, c, None, **{"If-None-Match": public.headers["ETag"]}).status_code == 304


def test_csv_cells_that_look_like_formulas_are_defused(api, campaign, poller):
    c, key = campaign
    api.call("POST", f"/v1/campaigns/{c['id']}/referrers", {"name": "=HYPERLINK(\"https://evil\")"})
    poller.drain()
    response = stats(api, c, key, Accept="text/csv")
    rows = list(csv.DictReader(io.StringIO(response.body.decode("utf-8-sig"))))
    names = [row["name"] for row in rows if row["section"] == "referrer"]
    assert names == ["'=HYPERLINK(\"https://evil\")"]


@pytest.mark.parametrize("query", ["?to=0001-01-01", "?from=2026-W01-1", "?to=9999-12-31"])
def test_dates_outside_any_campaign_are_400_not_500(api, campaign, query):
    c, key = campaign
    response = stats(api, c, key, query)
    assert response.status_code == 400 and response.data["error"]["code"] == "invalid_range"


def test_public_stats_errors_carry_cors_so_a_page_can_read_them(api, campaign):
    c, key = campaign
    api.call("PATCH", f"/v1/campaigns/{c['id']}", {"public_stats": True}, token=key)
    response = stats(api, c, None, "?from=nope", Origin="https://example.org")
    assert response.status_code == 400
    assert response.headers["Access-Control-Allow-Origin"] == "https://example.org"
    assert "Access-Control-Allow-Origin" not in stats(api, c, key, Origin="https://example.org").headers


def test_public_stats_vary_on_accept_origin_and_authorization(api, campaign):
    c, key = campaign
    api.call("PATCH", f"/v1/campaigns/{c['id']}", {"public_stats": True}, token=key)
    json_answer = stats(api, c, None, Origin="https://example.org")
    assert json_answer.headers["Vary"] == "Accept, Origin, Authorization"
    csv_answer = stats(api, c, None, "?format=csv")
    assert csv_answer.headers["ETag"] != json_answer.headers["ETag"]
    assert stats(api, c, None, "?format=json", Accept="text/csv").headers["Content-Type"].startswith("application/json")
