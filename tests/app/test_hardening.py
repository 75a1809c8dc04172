"""What strangers can do to a public deployment (app tier): framing the dashboard,
long public ranges, and what a public request reads. Hostile hosts and spreadsheet formulas:
``tests/unit/test_hardening.py``."""
from __future__ import annotations

from harness.user_agents import CHROME


def test_the_dashboard_cannot_be_framed_and_no_asset_is_sniffed(api, tmp_path, monkeypatch):
    from chalicelib.web import assets

    (tmp_path / "dashboard.html").write_text("<!doctype html><title>d</title>")
    (tmp_path / "widget.js").write_text("void 0")
    monkeypatch.setattr(assets, "ROOT", tmp_path)
    page = api.call("GET", "/dashboard")
    assert page.headers["Content-Security-Policy"] == "frame-ancestors 'none'"
    assert (page.headers["X-Frame-Options"], page.headers["X-Content-Type-Options"]) == ("DENY", "nosniff")
    assert api.call("GET", "/widget.js").headers["X-Content-Type-Options"] == "nosniff"


def test_on_aws_the_dashboard_may_upload_to_its_stages_import_bucket_and_nowhere_else(api, monkeypatch):
    monkeypatch.setenv("RELAIS_IMPORT_BUCKET", "relais-prod-imports-1a2b")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.delenv("RELAIS_S3_ENDPOINT", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    policy = api.call("GET", "/dashboard").headers["Content-Security-Policy"]
    assert policy == ("frame-ancestors 'none'; connect-src 'self' https://relais-prod-imports-1a2b.s3.eu-west-1."
                      "amazonaws.com https://relais-prod-imports-1a2b.s3.amazonaws.com")
    assert api.call("GET", "/insights").headers["Content-Security-Policy"] == "frame-ancestors 'none'"


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

