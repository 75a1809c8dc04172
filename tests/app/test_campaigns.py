"""Campaigns API: creation, validation, keys and authorization (app tier)."""
import pytest

from harness.inprocess import ADMIN, AnswersLost
from harness.inputs import HOSTILE_TARGET_URLS
from harness.raw_items import stored


def test_operator_creates_a_campaign_with_a_key_shown_once(api):
    campaign, key = api.create_campaign(goal={"amount": 500000, "currency": "EUR"}, locale="fr")
    assert key.startswith(f"rk_{campaign['id']}_")
    assert campaign["goal"] == {"amount": 500000, "currency": "EUR"}
    assert campaign["allowed_origins"] == ["https://example.org"]
    assert campaign["attribution"] == {"model": "last_click", "window_days": 30}
    assert campaign["leaderboard"] == "pseudonymous"
    assert "api_key" not in api.call("GET", f"/v1/campaigns/{campaign['id']}", token=key).data


def test_stored_campaign_holds_only_a_hash_of_the_key(api):
    import hashlib

    from chalicelib.store import campaigns_table

    campaign, key = api.create_campaign()
    assert key not in str(stored("campaigns", id=campaign["id"]))  # nowhere at rest
    assert campaigns_table.get(campaign["id"]).key_hash == hashlib.sha256(key.encode()).hexdigest()


@pytest.mark.parametrize("url", HOSTILE_TARGET_URLS)
def test_hostile_target_urls_are_refused(api, url):
    response = api.call("POST", "/v1/campaigns", {"name": "x", "target_url": url}, token=ADMIN)
    assert response.status_code == 400
    assert response.data["error"]["code"] == "invalid_target_url"


def test_patching_with_a_hostile_target_url_changes_nothing(api):
    campaign, key = api.create_campaign()
    response = api.call("PATCH", f"/v1/campaigns/{campaign['id']}", {"target_url": "//evil.example.com"}, token=key)
    assert response.status_code == 400
    assert api.call("GET", f"/v1/campaigns/{campaign['id']}", token=key).data["campaign"]["target_url"] == \
        "https://example.org/noob"


def test_creating_without_a_token_is_401_and_with_a_campaign_key_is_403(api):
    _, key = api.create_campaign()
    body = {"name": "x", "target_url": "https://example.org/"}
    assert api.call("POST", "/v1/campaigns", body).status_code == 401
    assert api.call("POST", "/v1/campaigns", body, token="wrong").status_code == 401
    response = api.call("POST", "/v1/campaigns", body, token=key)
    assert response.status_code == 403
    assert response.data["error"]["code"] == "forbidden"


def test_a_key_of_another_campaign_is_403_and_a_forged_key_401(api):
    first, first_key = api.create_campaign()
    second, _ = api.create_campaign()
    path = f"/v1/campaigns/{second['id']}"
    assert api.call("GET", path, token=first_key).status_code == 403
    forged = f"rk_{first['id']}_" + "A" * 32
    assert api.call("GET", path, token=forged).status_code == 401
    assert api.call("GET", path).status_code == 401
    assert api.call("GET", path, token=ADMIN).status_code == 200


def test_rotating_the_key_stops_the_old_one(api):
    campaign, old = api.create_campaign()
    response = api.call("POST", f"/v1/campaigns/{campaign['id']}/keys", token=old)
    assert response.status_code == 201
    new = response.data["api_key"]
    assert new != old
    assert api.call("GET", f"/v1/campaigns/{campaign['id']}", token=old).status_code == 401
    assert api.call("GET", f"/v1/campaigns/{campaign['id']}", token=new).status_code == 200


def test_patch_changes_only_the_given_fields(api):
    campaign, key = api.create_campaign(share_text="Aidez-nous !")
    response = api.call("PATCH", f"/v1/campaigns/{campaign['id']}", {
        "public_stats": True,
        "milestones": [{"amount": 2000, "label": "B"}, {"amount": 1000, "label": "A"}],
        "attribution": {"model": "first_click", "window_days": 7},
        "stripe_webhook_secret": "whsec_abc123XYZ",
    }, token=key)
    assert response.status_code == 200, response.body
    updated = response.data["campaign"]
    assert updated["public_stats"] is True
    assert [m["label"] for m in updated["milestones"]] == ["A", "B"]
    assert updated["share_text"] == "Aidez-nous !"
    assert updated["attribution"] == {"model": "first_click", "window_days": 7}
    assert updated["stripe_webhook_configured"] is True
    assert b"whsec_abc123XYZ" not in response.body


@pytest.mark.parametrize(("field", "value", "code"), [
    ("name", "", "invalid_name"),
    ("name", "x" * 121, "invalid_name"),
    ("name", 42, "invalid_name"),
    ("goal", {"amount": -1, "currency": "EUR"}, "invalid_goal"),
    ("goal", {"amount": 10, "currency": "EURO"}, "invalid_currency"),
    ("goal", {"amount": 10, "currency": "eur"}, "invalid_currency"),
    ("goal", {"amount": True, "currency": "EUR"}, "invalid_goal"),
    ("locale", "de", "invalid_locale"),
    ("channels", ["x", "myspace"], "invalid_channels"),
    ("channels", [], "invalid_channels"),
    ("channels", ["x", "x"], "invalid_channels"),
    ("allowed_origins", ["http://example.org"], "invalid_allowed_origins"),
    ("allowed_origins", ["https://example.org/path"], "invalid_allowed_origins"),
    ("allowed_origins", [], "invalid_allowed_origins"),
    ("share_text", "x" * 281, "invalid_share_text"),
    ("attribution", {"model": "linear"}, "invalid_attribution"),
    ("attribution", {"window_days": 91}, "invalid_attribution"),
    ("attribution", {"window_days": 0}, "invalid_attribution"),
    ("leaderboard", "everyone", "invalid_leaderboard"),
    ("public_stats", "yes", "invalid_public_stats"),
    ("ends_at", "next tuesday", "invalid_ends_at"),
    ("milestones", [{"amount": 0, "label": "x"}], "invalid_milestones"),
    ("milestones", [{"amount": 10, "label": ""}], "invalid_milestones"),
    ("stripe_webhook_secret", "sk_live_123", "invalid_stripe_webhook_secret"),
    ("colour", "red", "unknown_field"),
])
def test_invalid_fields_get_a_400_with_a_precise_code(api, field, value, code):
    body = {"name": "x", "target_url": "https://example.org/", field: value}
    response = api.call("POST", "/v1/campaigns", body, token=ADMIN)
    assert response.status_code == 400, response.body
    assert response.data["error"]["code"] == code
    assert response.data["error"]["message"]


def test_localhost_origins_over_http_are_allowed_for_development(api):
    campaign, _ = api.create_campaign(allowed_origins=["http://127.0.0.1:8001", "http://localhost:8001"])
    assert campaign["allowed_origins"] == ["http://127.0.0.1:8001", "http://localhost:8001"]


def test_bodies_over_64_kib_get_413(api):
    body = '{"name": "' + "x" * (64 * 1024) + '"}'
    response = api.call("POST", "/v1/campaigns", raw=body, token=ADMIN)
    assert response.status_code == 413
    assert response.data["error"]["code"] == "payload_too_large"


@pytest.mark.parametrize(("raw", "code"), [
    ("{not json", "invalid_json"),  # not JSON at all
    ("[]", "invalid_body"),         # JSON, but not an object
    ("null", "invalid_body"),
    ("\"text\"", "invalid_body"),
])
def test_malformed_bodies_are_400(api, raw, code):
    response = api.call("POST", "/v1/campaigns", raw=raw, token=ADMIN)
    assert response.status_code == 400
    assert response.data["error"]["code"] == code


def test_unknown_campaign_is_404_for_the_operator(api):
    response = api.call("GET", "/v1/campaigns/doesnotexist", token=ADMIN)
    assert response.status_code == 404
    assert response.data["error"]["code"] == "campaign_not_found"


def test_healthz_answers_ok(api):
    response = api.call("GET", "/healthz")
    assert response.status_code == 200
    assert response.data == {"ok": True}


@pytest.mark.parametrize("raw", ["[" * 20000 + "]" * 20000, '{"name": "\\ud800", "target_url": "https://example.org/"}'])
def test_pathological_json_is_400_not_500(api, raw):
    response = api.call("POST", "/v1/campaigns", raw=raw, token=ADMIN)
    assert response.status_code == 400
    assert response.data["error"]["code"] == "invalid_json"


def test_whole_numbers_written_as_decimals_are_accepted(api):
    campaign, _ = api.create_campaign(goal={"amount": 1250.0, "currency": "EUR"})
    assert campaign["goal"]["amount"] == 1250


def test_secrets_are_never_cached(api):
    response = api.call("POST", "/v1/campaigns", {"name": "x", "target_url": "https://example.org/"}, token=ADMIN)
    assert response.headers["Cache-Control"] == "no-store"


def test_a_campaign_whose_insert_landed_but_no_answer_came_back_is_201_and_its_key_works(api, monkeypatch):
    from chalicelib.store import clients

    real = clients.patient()
    monkeypatch.setattr(clients, "patient", lambda: AnswersLost(real, "put_item", applied=True))
    campaign, key = api.create_campaign()
    monkeypatch.undo()
    assert api.call("GET", f"/v1/campaigns/{campaign['id']}", token=key).status_code == 200
