"""What strangers can do to a public deployment (unit tier): hostile hosts, spreadsheet formulas,
framing the dashboard, long public ranges, and what a public request reads."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from harness.user_agents import CHROME


def _request(headers: dict, context: dict | None = None) -> SimpleNamespace:
    return SimpleNamespace(headers=headers, context=context or {})


@pytest.mark.parametrize("headers", [
    {"host": "evil.example", "x-forwarded-proto": "https"},
    {"host": "127.0.0.1:8000/r/x?", "x-forwarded-proto": "http"},
    {"host": "localhost.evil.example"},
])
def test_without_a_public_url_a_hostile_host_is_400_and_never_a_short_link(headers, monkeypatch):
    from chalicelib.core.errors import ApiError
    from chalicelib.web.http import public_base

    monkeypatch.delenv("RELAIS_PUBLIC_URL", raising=False)
    with pytest.raises(ApiError) as refused:
        public_base(_request(headers))
    assert (refused.value.status, refused.value.code) == (400, "invalid_host")


@pytest.mark.parametrize(("headers", "context", "base"), [
    ({"host": "127.0.0.1:8000", "x-forwarded-proto": "javascript"}, {}, "http://127.0.0.1:8000"),
    ({"host": "evil.example"}, {"domainName": "go.example.org"}, "https://go.example.org"),
    ({"host": "abcdefghij.execute-api.eu-west-1.amazonaws.com"}, {"stage": "api"},
     "https://abcdefghij.execute-api.eu-west-1.amazonaws.com/api"),
])
def test_without_a_public_url_short_links_use_the_host_api_gateway_routed_on(headers, context, base, monkeypatch):
    from chalicelib.web.http import public_base

    monkeypatch.delenv("RELAIS_PUBLIC_URL", raising=False)
    assert public_base(_request(headers, context)) == base


@pytest.mark.parametrize(("value", "written"), [
    ("=1+1", "'=1+1"),
    ("Zoé;=HYPERLINK(\"http://evil\")", "\"Zoé;'=HYPERLINK(\"\"http://evil\"\")\""),
    ("a, -2+3", "\"a, '-2+3\""),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("plain", "plain"),
    (42, "42"),
])
def test_no_csv_cell_starts_a_formula_even_split_on_a_semicolon(value, written):
    from chalicelib.web.downloads import cell

    assert cell(value) == written


def test_the_dashboard_cannot_be_framed_and_no_asset_is_sniffed(api, tmp_path, monkeypatch):
    from chalicelib.web import assets

    (tmp_path / "dashboard.html").write_text("<!doctype html><title>d</title>")
    (tmp_path / "widget.js").write_text("void 0")
    monkeypatch.setattr(assets, "ROOT", tmp_path)
    page = api.call("GET", "/dashboard")
    assert page.headers["Content-Security-Policy"] == "frame-ancestors 'none'"
    assert (page.headers["X-Frame-Options"], page.headers["X-Content-Type-Options"]) == ("DENY", "nosniff")
    assert api.call("GET", "/widget.js").headers["X-Content-Type-Options"] == "nosniff"


def test_public_stats_cover_at_most_31_days(api):
    campaign, key = api.create_campaign(public_stats=True)
    path = f"/v1/campaigns/{campaign['id']}/stats"
    refused = api.call("GET", f"{path}?from=2026-01-01&to=2026-03-01")
    assert (refused.status_code, refused.data["error"]["code"]) == (400, "invalid_range")
    assert api.call("GET", f"{path}?from=2026-01-01&to=2026-01-31").status_code == 200
    assert api.call("GET", f"{path}?from=2026-01-01&to=2026-03-01", token=key).status_code == 200


def test_public_requests_read_one_leaderboard_item_never_the_index(api, poller, monkeypatch):
    from chalicelib.store import rollups_table

    campaign, _ = api.create_campaign(public_stats=True, leaderboard="public")
    fan = api.call("POST", f"/v1/campaigns/{campaign['id']}/referrers", {"name": "Ana"}).data
    api.call("GET", f"/r/{fan['code']}", headers={"User-Agent": CHROME})
    poller.drain()

    def no_index(*args, **kwargs):
        raise AssertionError("a public request read the leaderboard index")

    monkeypatch.setattr(rollups_table, "top_referrers", no_index)
    monkeypatch.setattr(rollups_table, "leaders", no_index)
    assert api.call("GET", f"/v1/campaigns/{campaign['id']}/widget").status_code == 200
    assert api.call("GET", f"/v1/referrers/{fan['code']}").data["rank"] == 1
    assert api.call("GET", f"/v1/campaigns/{campaign['id']}/stats").status_code == 200
