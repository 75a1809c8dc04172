"""Two honest requests racing never undo each other (no lost update), over HTTP on the real
local stack, with the two requests served by two API processes (two Lambda containers) and
released together. Each race runs for several rounds: the window between a request's read
and its write is small, and on code that wrote what it read unconditionally a round in a few
lost the other request's change (a revoked key back, an erased name back)."""
from __future__ import annotations

import threading

import pytest
import requests

from harness.stack_process import start_api

ROUNDS = 12


def _keyed(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def second_api(stack, tmp_path_factory):
    api = start_api(stack, tmp_path_factory.mktemp("second-api"))
    yield api.url
    api.close()


def _together(*calls: tuple[str, str, dict]) -> list[requests.Response]:
    """Send ``calls`` (method, URL, options) at once (a barrier releases them together);
    their answers, in order."""
    barrier = threading.Barrier(len(calls))
    answers: list[requests.Response | None] = [None] * len(calls)

    def run(index: int) -> None:
        method, url, options = calls[index]
        barrier.wait()
        answers[index] = requests.request(method, url, timeout=20, **options)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(answer is not None for answer in answers)
    return answers  # type: ignore[return-value]


def _campaign(stack, api: str, key: str, campaign_id: str) -> requests.Response:
    return requests.get(f"{api}/v1/campaigns/{campaign_id}", headers=_keyed(key), timeout=20)


def test_a_change_racing_a_key_rotation_never_brings_the_revoked_key_back(stack, second_api):
    campaign, key = stack.create_campaign(name="Rotation race")
    url = f"/v1/campaigns/{campaign['id']}"
    for round_ in range(ROUNDS):
        rotation, change = _together(
            ("POST", f"{stack.api}{url}/keys", {"headers": _keyed(key)}),
            ("PATCH", f"{second_api}{url}", {"json": {"name": f"Round {round_}"}, "headers": _keyed(key)}))
        assert rotation.status_code == 201, rotation.text
        assert change.status_code in (200, 401), change.text  # before the rotation, or refused after it
        new_key = rotation.json()["api_key"]
        assert _campaign(stack, stack.api, key, campaign["id"]).status_code == 401, f"round {round_}"
        stored = _campaign(stack, stack.api, new_key, campaign["id"])
        assert stored.status_code == 200, f"round {round_}: the new key was lost"
        assert (stored.json()["campaign"]["name"] == f"Round {round_}") == (change.status_code == 200)
        key = new_key


def test_two_changes_of_different_fields_racing_both_land(stack, second_api):
    campaign, key = stack.create_campaign(name="Field race")
    url = f"/v1/campaigns/{campaign['id']}"
    for round_ in range(ROUNDS):
        text = f"Share round {round_}"
        days = 1 + round_
        answers = _together(
            ("PATCH", f"{stack.api}{url}", {"json": {"share_text": text}, "headers": _keyed(key)}),
            ("PATCH", f"{second_api}{url}", {"json": {"attribution": {"model": "first_click", "window_days": days}},
                                             "headers": _keyed(key)}))
        assert [answer.status_code for answer in answers] == [200, 200], [answer.text for answer in answers]
        stored = _campaign(stack, stack.api, key, campaign["id"]).json()["campaign"]
        assert stored["share_text"] == text, f"round {round_}: the share text was undone"
        assert stored["attribution"] == {"model": "first_click", "window_days": days}, f"round {round_}"
    assert stored["version"] == 2 * ROUNDS


def test_two_rotations_with_the_same_key_leave_exactly_one_working_key(stack, second_api):
    campaign, key = stack.create_campaign(name="Two rotations")
    url = f"/v1/campaigns/{campaign['id']}/keys"
    for round_ in range(ROUNDS):
        answers = _together(("POST", f"{stack.api}{url}", {"headers": _keyed(key)}),
                            ("POST", f"{second_api}{url}", {"headers": _keyed(key)}))
        issued = [answer.json()["api_key"] for answer in answers if answer.status_code == 201]
        refused = [answer for answer in answers if answer.status_code != 201]
        assert [answer.status_code for answer in refused] == [401] * len(refused)
        working = [k for k in [key, *issued] if _campaign(stack, stack.api, k, campaign["id"]).status_code == 200]
        assert len(working) == 1 and working[0] in issued, f"round {round_}: {len(issued)} issued"
        key = working[0]


def test_if_match_with_an_old_version_is_refused_and_changes_nothing(stack):
    campaign, key = stack.create_campaign(name="If-Match")
    url = f"{stack.api}/v1/campaigns/{campaign['id']}"
    first = requests.patch(url, json={"name": "Read at 0"}, headers={**_keyed(key), "If-Match": '"0"'}, timeout=20)
    assert first.status_code == 200 and first.json()["campaign"]["version"] == 1
    stale = requests.patch(url, json={"name": "Also read at 0"}, headers={**_keyed(key), "If-Match": "0"}, timeout=20)
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "version_conflict"
    assert _campaign(stack, stack.api, key, campaign["id"]).json()["campaign"]["name"] == "Read at 0"


def test_a_rename_racing_an_erasure_never_brings_the_name_or_the_email_back(stack, second_api):
    from chalicelib.store import links_table

    campaign, key = stack.create_campaign(name="Erasure race")
    base = f"/v1/campaigns/{campaign['id']}/referrers"
    for round_ in range(ROUNDS):
        fan = stack.new_fan(campaign["id"], name=f"Racer {round_}", email=f"racer{round_}@example.org")
        code = fan["code"]
        rename, erasure = _together(
            ("PATCH", f"{stack.api}{base}/{code}", {"json": {"name": "Renamed"}, "headers": _keyed(key)}),
            ("DELETE", f"{second_api}{base}/{code}", {"headers": _keyed(key)}))
        assert erasure.status_code == 204, erasure.text
        assert rename.status_code in (200, 409), rename.text  # before the erasure, or refused after it
        link = links_table.get(code)
        assert link is not None and link.erased_at is not None
        assert (link.name, link.sealed_email, link.claim) == (None, None, None), f"round {round_}"
        exported = requests.get(f"{stack.api}{base}/{code}/export", headers=_keyed(key), timeout=20).json()
        assert f"racer{round_}@" not in str(exported) and f"Racer {round_}" not in str(exported), f"round {round_}"


def test_hiding_and_renaming_a_fan_at_once_keeps_both(stack, second_api):
    from chalicelib.store import links_table

    campaign, key = stack.create_campaign(name="Moderation race")
    base = f"/v1/campaigns/{campaign['id']}/referrers"
    for round_ in range(ROUNDS):
        code = stack.new_fan(campaign["id"], name=f"Fan {round_}")["code"]
        answers = _together(
            ("PATCH", f"{stack.api}{base}/{code}", {"json": {"hidden": True}, "headers": _keyed(key)}),
            ("PATCH", f"{second_api}{base}/{code}", {"json": {"name": "New name"}, "headers": _keyed(key)}))
        assert [answer.status_code for answer in answers] == [200, 200]
        link = links_table.get(code)
        assert link is not None and (link.hidden, link.name) == (True, "New name"), f"round {round_}"
