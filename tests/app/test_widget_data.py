"""The widget's data route and the static assets (app tier)."""
import pytest

from harness.user_agents import CHROME


def test_widget_data_shows_progress_leaderboard_and_milestones(api, poller):
    campaign, key = api.create_campaign(goal={"amount": 10000, "currency": "EUR"}, leaderboard="public",
                                        milestones=[{"amount": 1000, "label": "Bonus"},
                                                    {"amount": 5000, "label": "Vinyl"}])
    cid = campaign["id"]
    fans = [api.call("POST", f"/v1/campaigns/{cid}/referrers", {"name": name, "email": f"{name}@example.org"}).data
            for name in ("Ana", "Ben")]
    location = api.call("GET", f"/r/{fans[1]['code']}?c=x", headers={"User-Agent": CHROME}).headers["Location"]
    ref = location.split("ref=")[1].split("&")[0]
    api.call("POST", f"/v1/campaigns/{cid}/pledges", {"pledge_id": "a", "amount": 1500, "currency": "EUR", "ref": ref},
             token=key)
    api.call("POST", f"/v1/campaigns/{cid}/pledges", {"pledge_id": "b", "amount": 300, "currency": "USD"}, token=key)
    poller.drain()
    data = api.call("GET", f"/v1/campaigns/{cid}/widget").data
    assert data["raised"] == {"EUR": 1500, "USD": 300} and data["pledges"] == 2
    assert data["fan_amount"] == 1500
    assert [m["reached"] for m in data["milestones"]] == [True, False]
    # Ana has no pledge: only fans with activity are on the public leaderboard
    assert data["leaderboard"] == [{"rank": 1, "name": "Ben", "clicks": 1, "pledges": 1, "amount": 1500}]
    assert "@example.org" not in str(data)


@pytest.mark.parametrize("mode", ["pseudonymous", "off"])
def test_the_leaderboard_never_shows_names_unless_public(api, poller, mode):
    campaign, key = api.create_campaign(leaderboard=mode)
    fan = api.call("POST", f"/v1/campaigns/{campaign['id']}/referrers",
                   {"name": "Secret Name", "email": "s@example.org"})
    location = api.call("GET", f"/r/{fan.data['code']}", headers={"User-Agent": CHROME}).headers["Location"]
    api.call("POST", f"/v1/campaigns/{campaign['id']}/pledges",
             {"pledge_id": "p", "amount": 100, "currency": "EUR", "ref": location.split("ref=")[1].split("&")[0]},
             token=key)
    poller.drain()
    data = api.call("GET", f"/v1/campaigns/{campaign['id']}/widget").data
    assert "Secret Name" not in str(data) and "s@example.org" not in str(data)
    assert len(data["leaderboard"]) == (1 if mode == "pseudonymous" else 0)
    if mode == "pseudonymous":
        assert data["leaderboard"][0]["name"].startswith("Fan #")



def test_widget_data_says_whether_the_campaign_e_mails_its_fans_which_is_off_by_default(api):
    campaign, key = api.create_campaign()
    path = f"/v1/campaigns/{campaign['id']}"
    seen = [api.call("GET", f"{path}/widget").data["email"]]
    for setting in ({"enabled": True, "from_name": "Ada"}, {"enabled": False, "from_name": "Ada"}, None):
        assert api.call("PATCH", path, {"email": setting}, token=key).status_code == 200
        seen.append(api.call("GET", f"{path}/widget").data["email"])
    assert seen == [False, True, False, False]

def test_assets_are_served_with_an_etag_and_revalidate_to_304(api, tmp_path, monkeypatch):
    from chalicelib.web import assets

    (tmp_path / "widget.js").write_text("console.log('relais')")
    monkeypatch.setattr(assets, "ROOT", tmp_path)
    first = api.call("GET", "/widget.js")
    assert first.status_code == 200 and first.headers["Content-Type"].startswith("application/javascript")
    again = api.call("GET", "/widget.js", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert api.call("GET", "/dashboard").status_code == 404
