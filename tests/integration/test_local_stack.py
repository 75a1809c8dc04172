"""The local stack over real HTTP: health, campaigns, auth, hostile input, persistence."""
import requests

from harness.inputs import HOSTILE_TARGET_URLS
from harness.stack_process import start_stack, stop_stack


def test_healthz_answers_200(stack):
    response = requests.get(f"{stack.api}/healthz", timeout=5)
    assert response.status_code == 200 and response.json() == {"ok": True}


def test_operator_token_creates_a_campaign_and_keys_are_scoped(stack):
    first, first_key = stack.create_campaign()
    second, _ = stack.create_campaign(name="Other")
    assert first_key.startswith("rk_")
    own = requests.get(f"{stack.api}/v1/campaigns/{first['id']}", headers={"Authorization": f"Bearer {first_key}"})
    foreign = requests.get(f"{stack.api}/v1/campaigns/{second['id']}", headers={"Authorization": f"Bearer {first_key}"})
    wrong = requests.get(f"{stack.api}/v1/campaigns/{first['id']}", headers={"Authorization": "Bearer rk_nope"})
    anonymous = requests.get(f"{stack.api}/v1/campaigns/{first['id']}")
    assert (own.status_code, foreign.status_code, wrong.status_code, anonymous.status_code) == (200, 403, 401, 401)
    assert foreign.json()["error"]["code"] == "forbidden"


def test_hostile_target_urls_are_400_over_http(stack):
    statuses = {
        url: requests.post(f"{stack.api}/v1/campaigns", json={"name": "x", "target_url": url},
                           headers={"Authorization": f"Bearer {stack.admin_token}"}, timeout=5).status_code
        for url in HOSTILE_TARGET_URLS
    }
    assert set(statuses.values()) == {400}, statuses


def test_oversized_bodies_are_413_over_http(stack):
    response = requests.post(f"{stack.api}/v1/campaigns", data=b'{"name":"' + b"x" * 70_000 + b'"}',
                             headers={"Authorization": f"Bearer {stack.admin_token}",
                                      "Content-Type": "application/json"}, timeout=5)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_the_demo_page_is_served_on_its_own_origin(stack):
    response = requests.get(f"{stack.demo}/", timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")


def test_campaigns_survive_a_restart_of_the_stack(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    first = start_stack(data_dir)
    try:
        campaign, key = first.create_campaign(name="Survivor")
    finally:
        stop_stack(first)
    assert first.process.returncode == 0
    second = start_stack(data_dir)
    try:
        response = requests.get(f"{second.api}/v1/campaigns/{campaign['id']}",
                                headers={"Authorization": f"Bearer {key}"}, timeout=5)
        assert response.status_code == 200
        assert response.json()["campaign"]["name"] == "Survivor"
        assert second.admin_token == first.admin_token
    finally:
        stop_stack(second)
