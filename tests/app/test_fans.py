"""Fans' data and moderation, abuse limits, the daily salt (app tier): a name with nothing
visible, e-mails stored sealed, the creator's fan list, export, hiding, renaming, erasure, the
leaderboard item, rate limits. Name normalising and sealing alone: ``tests/unit/test_fans.py``."""
from __future__ import annotations

import pytest

from chalicelib.store.records import referrer_id
from harness.inprocess import AnswersLost, rollup
from harness.raw_items import stored, stored_rollup, stored_salt
from harness.user_agents import CHROME


def new_fan(api, campaign, name="Ana", **extra):
    response = api.call("POST", f"/v1/campaigns/{campaign['id']}/referrers", {"name": name, **extra})
    assert response.status_code == 201, response.body
    return response.data


def pledge_through(api, campaign, key, code, pledge_id, amount, agent=CHROME):
    """A person clicks ``code`` and pledges with the ref the page received."""
    location = api.call("GET", f"/r/{code}?c=x", headers={"User-Agent": agent}).headers["Location"]
    ref = location.split("ref=")[1].split("&")[0]
    response = api.call("POST", f"/v1/campaigns/{campaign['id']}/pledges",
                        {"pledge_id": pledge_id, "amount": amount, "currency": "EUR", "ref": ref}, token=key)
    assert response.status_code == 201, response.body


# Names ------------------------------------------------------------------------------------


def test_a_name_with_nothing_visible_is_400_invalid_name(api):
    campaign, _ = api.create_campaign()
    response = api.call("POST", f"/v1/campaigns/{campaign['id']}/referrers", {"name": "\u200b\u202e\u3164"})
    assert (response.status_code, response.data["error"]["code"]) == (400, "invalid_name")


# E-mails at rest --------------------------------------------------------------------------


def test_the_links_table_holds_the_email_only_sealed(api):
    from chalicelib.store import links_table

    campaign, _ = api.create_campaign()
    fan = new_fan(api, campaign, email="Plain.Text@Example.org")
    assert "plain.text" not in str(stored("links", code=fan["code"])).lower()  # nowhere at rest
    assert links_table.get(fan["code"]).sealed_email.startswith("v1.")


# The creator's fan list and export ----------------------------------------------------------

def test_the_fan_list_shows_each_fans_email_counts_and_pages_with_a_signed_cursor(api, poller, monkeypatch):
    from chalicelib.domain import fans

    monkeypatch.setattr(fans, "PAGE_SIZE", 2)
    campaign, key = api.create_campaign()
    made = [new_fan(api, campaign, f"Fan {n}", email=f"fan{n}@example.org") for n in range(3)]
    poller.drain()
    path = f"/v1/campaigns/{campaign['id']}/referrers"
    first = api.call("GET", path, token=key)
    assert first.status_code == 200 and len(first.data["referrers"]) == 2 and first.data["cursor"]
    second = api.call("GET", f"{path}?cursor={first.data['cursor']}", token=key).data
    rows = first.data["referrers"] + second["referrers"]
    assert second["cursor"] is None
    assert sorted((r["code"], r["email"], r["depth"], r["hidden"], r["erased"]) for r in rows) == \
        sorted((f["code"], f"fan{n}@example.org", 1, False, False) for n, f in enumerate(made))
    assert api.call("GET", path).status_code == 401
    assert api.call("GET", f"{path}?cursor=forged.cursor", token=key).data["error"]["code"] == "invalid_cursor"


def test_an_export_holds_the_link_the_email_the_counters_and_the_pledges_attributed(api, poller):
    campaign, key = api.create_campaign(goal={"amount": 1000, "currency": "EUR"})
    fan = new_fan(api, campaign, "Zoé", email="zoe@example.org")
    pledge_through(api, campaign, key, fan["code"], "order-7", 2500)
    poller.drain()
    body = api.call("GET", f"/v1/campaigns/{campaign['id']}/referrers/{fan['code']}/export", token=key).data
    assert (body["referrer"]["name"], body["referrer"]["email"], body["counters"]["clicks"]) == \
        ("Zoé", "zoe@example.org", 1)
    assert [(p["pledge_id"], p["amount"], p["channel"]) for p in body["pledges"]] == [("order-7", 2500, "x")]


def test_a_code_of_another_campaign_is_404_referrer_not_found(api):
    campaign, key = api.create_campaign()
    other, _ = api.create_campaign()
    fan = new_fan(api, other)
    for method, suffix in (("GET", "/export"), ("DELETE", ""), ("PATCH", "")):
        response = api.call(method, f"/v1/campaigns/{campaign['id']}/referrers/{fan['code']}{suffix}",
                            {"hidden": True} if method == "PATCH" else None, token=key)
        assert (response.status_code, response.data["error"]["code"]) == (404, "referrer_not_found"), method


# Moderation and the leaderboard item ---------------------------------------------------------

def test_a_hidden_fan_leaves_the_public_leaderboard_and_keeps_counting(api, poller):
    campaign, key = api.create_campaign(leaderboard="public")
    ana, ben = new_fan(api, campaign, "Ana"), new_fan(api, campaign, "Ben")
    pledge_through(api, campaign, key, ana["code"], "a", 3000)
    pledge_through(api, campaign, key, ben["code"], "b", 1000, agent=CHROME + " ben")
    poller.drain()
    hidden = api.call("PATCH", f"/v1/campaigns/{campaign['id']}/referrers/{ana['code']}", {"hidden": True}, token=key)
    assert hidden.status_code == 200 and hidden.data["hidden"] is True
    pledge_through(api, campaign, key, ana["code"], "c", 500, agent=CHROME + " later")
    poller.drain()
    widget = api.call("GET", f"/v1/campaigns/{campaign['id']}/widget").data
    assert [e["name"] for e in widget["leaderboard"]] == ["Ben"] and widget["pledges"] == 3
    assert api.call("GET", f"/v1/referrers/{ana['code']}").data["pledges"] == 2
    assert api.call("GET", f"/v1/referrers/{ana['code']}").data["rank"] is None
    api.call("PATCH", f"/v1/campaigns/{campaign['id']}/referrers/{ana['code']}", {"hidden": False}, token=key)
    poller.drain()
    assert [e["name"] for e in api.call("GET", f"/v1/campaigns/{campaign['id']}/widget").data["leaderboard"]] == \
        ["Ana", "Ben"]


def test_a_renamed_fan_shows_their_new_name_normalised_on_the_leaderboard(api, poller):
    campaign, key = api.create_campaign(leaderboard="public")
    fan = new_fan(api, campaign, "Old name")
    pledge_through(api, campaign, key, fan["code"], "p", 700)
    poller.drain()
    renamed = api.call("PATCH", f"/v1/campaigns/{campaign['id']}/referrers/{fan['code']}",
                       {"name": "\u202eNew\u200b name"}, token=key)
    assert renamed.data["name"] == "New name"
    poller.drain()
    assert api.call("GET", f"/v1/campaigns/{campaign['id']}/widget").data["leaderboard"][0]["name"] == "New name"


def test_only_fans_with_a_pledge_are_on_the_public_leaderboard(api, poller):
    campaign, key = api.create_campaign(leaderboard="public")
    spam, real = new_fan(api, campaign, "BUY NOW"), new_fan(api, campaign, "Real fan")
    for n in range(3):
        api.call("GET", f"/r/{spam['code']}?c=x", headers={"User-Agent": f"{CHROME} {n}"})
    pledge_through(api, campaign, key, real["code"], "p", 100)
    poller.drain()
    board = api.call("GET", f"/v1/campaigns/{campaign['id']}/widget").data["leaderboard"]
    assert [e["name"] for e in board] == ["Real fan"]
    assert api.call("GET", f"/v1/referrers/{spam['code']}").data["rank"] == 2  # just below the board


def test_a_fans_rank_is_their_place_on_the_board_and_none_below_a_full_one(api, poller, monkeypatch):
    from chalicelib.aggregate import board

    monkeypatch.setattr(board, "BOARD_SIZE", 2)
    campaign, key = api.create_campaign(goal={"amount": 1000, "currency": "EUR"})
    fans = [new_fan(api, campaign, f"Fan {n}") for n in range(4)]
    for n, amount in enumerate((100, 300, 200)):
        pledge_through(api, campaign, key, fans[n]["code"], f"p{n}", amount, agent=f"{CHROME} {n}")
    poller.drain()
    ranks = [api.call("GET", f"/v1/referrers/{f['code']}").data["rank"] for f in fans]
    assert ranks == [None, 1, 2, None]


def test_replaying_a_batch_leaves_the_leaderboard_item_as_it_was(api, poller):
    from app import aggregator
    from chalicelib.store import rollups_table

    campaign, key = api.create_campaign()
    fan = new_fan(api, campaign)
    poller.drain()
    pledge_through(api, campaign, key, fan["code"], "p", 900)
    done = len(poller.batches)
    poller.drain()
    records = [record for batch in poller.batches[done:] for record in batch["event"]["Records"]]
    first = rollups_table.board(campaign["id"], consistent=True)
    aggregator({"Records": records}, None)
    aggregator({"Records": records[len(records) // 2:]}, None)
    assert rollups_table.board(campaign["id"], consistent=True).entries == first.entries
    assert [(e.code, e.pledges, e.clicks) for e in first.entries] == [(fan["code"], 1, 1)]


# Erasure ---------------------------------------------------------------------------------------

def test_erasing_a_fan_removes_name_and_email_keeps_the_link_and_the_counts(api, poller):
    campaign, key = api.create_campaign(leaderboard="public", goal={"amount": 1000, "currency": "EUR"})
    fan = new_fan(api, campaign, "Erasable Ernestine", email="ernestine@example.org")
    pledge_through(api, campaign, key, fan["code"], "p", 1200)
    poller.drain()
    before = api.call("GET", f"/v1/campaigns/{campaign['id']}/stats", token=key).data
    path = f"/v1/campaigns/{campaign['id']}/referrers/{fan['code']}"
    assert api.call("DELETE", path, token=key).status_code == 204
    assert api.call("DELETE", path, token=key).status_code == 204  # twice: the same
    poller.drain()
    after = api.call("GET", f"/v1/campaigns/{campaign['id']}/stats", token=key).data
    assert after["totals"] == before["totals"] and after["cascade"] == before["cascade"]
    assert after["referrers"][0]["name"] == "erased"
    assert api.call("GET", f"/v1/campaigns/{campaign['id']}/widget").data["leaderboard"][0]["name"] == "erased"
    assert api.call("GET", f"/r/{fan['code']}", headers={"User-Agent": CHROME}).status_code == 302
    assert "Ernestine" not in str(stored_rollup(campaign["id"], referrer_id(fan["code"])))  # nowhere at rest
    export = api.call("GET", f"{path}/export", token=key).data["referrer"]
    assert (export["name"], export["email"], export["erased"]) == (None, None, True)
    renamed = api.call("PATCH", path, {"name": "Back"}, token=key)
    assert (renamed.status_code, renamed.data["error"]["code"]) == (409, "referrer_erased")
    again = new_fan(api, campaign, "Ernestine again", email="ernestine@example.org")
    poller.drain()
    listed = api.call("GET", f"/v1/campaigns/{campaign['id']}/referrers", token=key).data["referrers"]
    assert {r["code"]: r.get("email") for r in listed} == {fan["code"]: None, again["code"]: "ernestine@example.org"}


# Smaller items ----------------------------------------------------------------------------------

def test_the_referral_depth_is_capped(api, monkeypatch):
    monkeypatch.setenv("RELAIS_MAX_DEPTH", "3")
    campaign, _ = api.create_campaign()
    parent = None
    depths = []
    for n in range(5):
        fan = new_fan(api, campaign, f"Link {n}", **({"referred_by": parent} if parent else {}))
        from chalicelib.store import links_table

        depths.append(links_table.get(fan["code"]).depth)
        parent = fan["code"]
    assert depths == [1, 2, 3, 3, 3]


def test_the_goal_currency_cannot_change_once_a_pledge_is_counted(api, poller):
    campaign, key = api.create_campaign(goal={"amount": 1000, "currency": "EUR"})
    path = f"/v1/campaigns/{campaign['id']}"
    assert api.call("PATCH", path, {"goal": {"amount": 1000, "currency": "USD"}}, token=key).status_code == 200
    api.call("POST", f"{path}/pledges", {"pledge_id": "p", "amount": 100, "currency": "USD"}, token=key)
    poller.drain()
    locked = api.call("PATCH", path, {"goal": {"amount": 2000, "currency": "EUR"}}, token=key)
    assert (locked.status_code, locked.data["error"]["code"]) == (409, "goal_currency_locked")
    assert api.call("PATCH", path, {"goal": {"amount": 2000, "currency": "USD"}}, token=key).status_code == 200


@pytest.mark.parametrize(("target", "origin"), [
    ("https://example.org:443/page", "https://example.org"),
    ("https://example.org/page", "https://example.org"),
])
def test_an_allowed_origin_never_keeps_the_default_port(api, target, origin):
    campaign, _ = api.create_campaign(target_url=target)
    assert campaign["allowed_origins"] == [origin]
    updated = api.call("PATCH", f"/v1/campaigns/{campaign['id']}", {"allowed_origins": ["https://shop.example.org:443"]},
                       token=_)
    assert updated.data["campaign"]["allowed_origins"] == ["https://shop.example.org"]


def test_a_share_pressed_again_by_the_same_visitor_counts_once_and_by_another_counts_again(api, poller):
    campaign, _ = api.create_campaign()
    fan = new_fan(api, campaign)
    for agent in (CHROME, CHROME, CHROME + " other"):
        assert api.call("POST", "/v1/shares", {"code": fan["code"], "channel": "x"},
                        headers={"User-Agent": agent}).status_code == 202
    poller.drain()
    assert api.call("GET", f"/v1/referrers/{fan['code']}").data["shares"] == 2


def test_a_visitor_over_a_limit_gets_429_with_retry_after(api, monkeypatch):
    monkeypatch.setenv("RELAIS_RATE_LIMITS", "referrers=2/600")
    campaign, _ = api.create_campaign()
    path = f"/v1/campaigns/{campaign['id']}/referrers"
    answers = [api.call("POST", path, {"name": f"Bot {n}"}) for n in range(3)]
    assert [a.status_code for a in answers] == [201, 201, 429]
    assert answers[2].data["error"]["code"] == "rate_limited" and 0 < int(answers[2].headers["Retry-After"]) <= 600
    other, _ = api.create_campaign()  # the limit is per campaign
    assert api.call("POST", f"/v1/campaigns/{other['id']}/referrers", {"name": "Fine"}).status_code == 201


def test_the_daily_salt_is_random_the_same_for_every_caller_and_gone_after_its_day(dynamodb, monkeypatch):
    from chalicelib.hotpath import signing
    from chalicelib.store import salts

    monkeypatch.setattr(signing, "_salt", None)
    day = "2031-03-04"
    first = signing.daily_salt(day)
    monkeypatch.setattr(signing, "_salt", None)  # another container
    assert signing.daily_salt(day) == first and len(first) >= 40
    assert signing.derived_key(f"visitor:{day}") != first
    monkeypatch.setattr(signing.time, "time", lambda: signing.salt_expiry(day) + 1)
    monkeypatch.setattr(salts.time, "time", lambda: signing.salt_expiry(day) + 1)
    assert salts.get(day) is None  # expired: read as gone before DynamoDB deletes it
    assert signing.retire_salt(day) is True
    assert "salt" not in stored_salt(day)  # gone from the table, not only read as gone


# Every answer lost ----------------------------------------------------------------------------

def _fan_list(api, campaign, key) -> list[dict]:
    return api.call("GET", f"/v1/campaigns/{campaign['id']}/referrers", token=key).data["referrers"]


def test_a_new_fan_whose_link_landed_but_no_answer_came_back_gets_201_and_exactly_that_link(api, poller, monkeypatch):
    """Answering 503 here would make the fan ask again and draw a second link."""
    from chalicelib.store import clients

    campaign, key = api.create_campaign()
    real = clients.patient()
    monkeypatch.setattr(clients, "patient", lambda: AnswersLost(real, "transact_write_items", applied=True))
    fan = new_fan(api, campaign, "Ana", email="ana@example.org")
    monkeypatch.undo()
    poller.drain()
    assert [(row["code"], row["email"]) for row in _fan_list(api, campaign, key)] == [(fan["code"], "ana@example.org")]
    assert rollup(campaign["id"]).get("referrers") == 1


def test_a_new_fan_whose_link_never_landed_gets_503_and_nothing_is_stored(api, poller, monkeypatch):
    from chalicelib.store import clients

    campaign, key = api.create_campaign()
    real = clients.patient()
    monkeypatch.setattr(clients, "patient", lambda: AnswersLost(real, "transact_write_items", applied=False))
    response = api.call("POST", f"/v1/campaigns/{campaign['id']}/referrers", {"name": "Ana"})
    monkeypatch.undo()
    assert response.status_code == 503 and response.data["error"]["code"] == "unavailable"
    poller.drain()
    assert _fan_list(api, campaign, key) == []

