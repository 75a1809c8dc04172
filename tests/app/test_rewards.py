"""Fan rewards (app tier): thresholds, a fan's progress, unlock and re-lock by refunds before
fulfilment, ``reward.unlocked`` once per unlock, the creator's list (JSON and CSV)."""
from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest

from harness.user_agents import CHROME
from harness.webhooks import dispatching

REWARDS = [{"pledges": 3, "label": "Signed poster"}, {"pledges": 1, "label": "Thank-you card"}]


def fan(api, campaign_id, name="Ada"):
    link = api.call("POST", f"/v1/campaigns/{campaign_id}/referrers", {"name": name}).data
    response = api.call("GET", f"/r/{link['code']}?c=x", headers={"User-Agent": CHROME})
    return link["code"], parse_qs(urlsplit(response.headers["Location"]).query)["ref"][0]


def pledge(api, campaign_id, key, pledge_id, ref=None, expected=201, **body):
    """A new pledge (201), or with ``expected=200`` a known pledge's status change."""
    response = api.call("POST", f"/v1/campaigns/{campaign_id}/pledges",
                        {"pledge_id": pledge_id, "amount": 1000, "currency": "EUR", "ref": ref, **body}, token=key)
    assert response.status_code == expected, response.body
    return response.data


def impact(api, code):
    response = api.call("GET", f"/v1/referrers/{code}")
    assert response.status_code == 200, response.body
    return response.data


def unlocked(api, campaign_id, key, **query):
    suffix = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    return api.call("GET", f"/v1/campaigns/{campaign_id}/rewards{suffix}", token=key)


@pytest.mark.parametrize(("rewards", "why"), [
    ([{"pledges": 0, "label": "Zero"}], "a count below 1"),
    ([{"pledges": 2, "label": ""}], "an empty label"),
    ([{"pledges": 2, "label": "A"}, {"pledges": 2, "label": "B"}], "two rewards at one count"),
    ([{"pledges": 2}], "a reward without a label"),
    ([{"pledges": n, "label": "L"} for n in range(1, 22)], "more than 20"),
    ({"pledges": 2, "label": "A"}, "not a list"),
])
def test_invalid_rewards_are_400_invalid_rewards(api, rewards, why):
    campaign, key = api.create_campaign()
    response = api.call("PATCH", f"/v1/campaigns/{campaign['id']}", {"rewards": rewards}, token=key)
    assert (response.status_code, response.data["error"]["code"]) == (400, "invalid_rewards"), why


def test_rewards_are_off_by_default_and_stored_sorted_by_count(api):
    campaign, key = api.create_campaign()
    assert campaign["rewards"] == []
    response = api.call("PATCH", f"/v1/campaigns/{campaign['id']}", {"rewards": REWARDS}, token=key)
    assert response.data["campaign"]["rewards"] == [REWARDS[1], REWARDS[0]]
    widget = api.call("GET", f"/v1/campaigns/{campaign['id']}/widget").data
    assert widget["rewards"] == [REWARDS[1], REWARDS[0]]


def test_a_fans_view_shows_each_reward_and_the_next_one_to_unlock(api, poller):
    campaign, key = api.create_campaign(rewards=REWARDS)
    code, ref = fan(api, campaign["id"])
    before = impact(api, code)
    pledge(api, campaign["id"], key, "r-1", ref)
    poller.drain()
    after = impact(api, code)
    assert before["rewards"] == [{"pledges": 1, "label": "Thank-you card", "unlocked": False},
                                 {"pledges": 3, "label": "Signed poster", "unlocked": False}]
    assert before["next_reward"] == {"pledges": 1, "label": "Thank-you card", "remaining": 1}
    assert [r["unlocked"] for r in after["rewards"]] == [True, False]
    assert after["next_reward"] == {"pledges": 3, "label": "Signed poster", "remaining": 2}


def test_a_fan_of_a_campaign_without_rewards_sees_none(api):
    campaign, _ = api.create_campaign()
    code, _ = fan(api, campaign["id"])
    assert (impact(api, code)["rewards"], impact(api, code)["next_reward"]) == ([], None)


def test_a_refund_before_fulfilment_relocks_the_reward_and_a_new_unlock_is_a_new_event(api, poller, spool, receiver):
    campaign, key = api.create_campaign(rewards=REWARDS, webhook_url=receiver.url)
    code, ref = fan(api, campaign["id"])
    for n in range(3):
        pledge(api, campaign["id"], key, f"u-{n}", ref)
    poller.drain()
    listed_unlocked = unlocked(api, campaign["id"], key).data["rewards"]
    pledge(api, campaign["id"], key, "u-2", ref, expected=200, status="refunded")
    poller.drain()
    listed_relocked = unlocked(api, campaign["id"], key).data["rewards"]
    relocked_view = impact(api, code)
    pledge(api, campaign["id"], key, "u-3", ref)
    poller.drain()
    def arrived(received):
        types = [x.event["type"] for x in received]
        return types.count("reward.unlocked") == 3 and "pledge.refunded" in types

    with dispatching(spool):
        receiver.wait_for(arrived, "three unlocks and the refund")
        time.sleep(0.2)
    assert [(r["code"], r["pledges"]) for r in listed_unlocked] == [(code, 1), (code, 3)]
    assert [(r["code"], r["pledges"]) for r in listed_relocked] == [(code, 1)]
    assert [r["unlocked"] for r in relocked_view["rewards"]] == [True, False]
    unlocks = receiver.events("reward.unlocked")
    assert sorted((e["data"]["reward"]["pledges"], e["data"]["referrer"]["code"]) for e in unlocks) == [
        (1, code), (3, code), (3, code)]  # deliveries run side by side: any order
    assert len({e["id"] for e in unlocks}) == 3
    assert [e["data"]["pledge"]["pledge_id"] for e in receiver.events("pledge.refunded")] == ["u-2"]


def test_a_fulfilled_reward_stays_unlocked_after_a_refund(api, poller):
    campaign, key = api.create_campaign(rewards=REWARDS)
    code, ref = fan(api, campaign["id"])
    pledge(api, campaign["id"], key, "f-1", ref)
    poller.drain()
    fulfilled = api.call("POST", f"/v1/campaigns/{campaign['id']}/rewards/fulfilments",
                         {"code": code, "pledges": 1}, token=key)
    again = api.call("POST", f"/v1/campaigns/{campaign['id']}/rewards/fulfilments",
                     {"code": code, "pledges": 1}, token=key)
    pledge(api, campaign["id"], key, "f-1", ref, expected=200, status="refunded")
    poller.drain()
    assert fulfilled.status_code == 200 and fulfilled.data["reward"]["fulfilled_at"] is not None
    assert again.data["reward"]["fulfilled_at"] == fulfilled.data["reward"]["fulfilled_at"]
    assert impact(api, code)["rewards"][0] == {"pledges": 1, "label": "Thank-you card", "unlocked": True}
    assert [(r["pledges"], r["fan_pledges"]) for r in unlocked(api, campaign["id"], key).data["rewards"]] == [(1, 0)]


def fulfilment(api, campaign_id, key, code, pledges, method="POST"):
    return api.call(method, f"/v1/campaigns/{campaign_id}/rewards/fulfilments", {"code": code, "pledges": pledges},
                    token=key)


def test_a_fulfilment_undone_leaves_the_reward_unlocked_to_fulfil_and_a_refund_then_takes_it_back(api, poller):
    campaign, key = api.create_campaign(rewards=REWARDS)
    code, ref = fan(api, campaign["id"])
    pledge(api, campaign["id"], key, "x-1", ref)
    poller.drain()
    fulfilment(api, campaign["id"], key, code, 1)
    undone = fulfilment(api, campaign["id"], key, code, 1, "DELETE")
    again = fulfilment(api, campaign["id"], key, code, 1, "DELETE")
    listed = unlocked(api, campaign["id"], key).data["rewards"]
    pledge(api, campaign["id"], key, "x-1", ref, expected=200, status="refunded")
    poller.drain()
    assert undone.status_code == 200 and undone.data["reward"]["fulfilled_at"] is None
    assert (again.status_code, again.data["reward"]["fulfilled_at"]) == (200, None)  # twice is once
    assert [(r["code"], r["pledges"], r["fulfilled_at"]) for r in listed] == [(code, 1, None)]
    assert unlocked(api, campaign["id"], key).data["rewards"] == []  # the refund took it back
    assert impact(api, code)["rewards"][0]["unlocked"] is False


def test_a_fulfilment_cannot_be_undone_once_refunds_took_the_count_below_the_threshold(api, poller):
    campaign, key = api.create_campaign(rewards=REWARDS)
    code, ref = fan(api, campaign["id"])
    pledge(api, campaign["id"], key, "y-1", ref)
    poller.drain()
    fulfilment(api, campaign["id"], key, code, 1)
    pledge(api, campaign["id"], key, "y-1", ref, expected=200, status="refunded")
    poller.drain()
    refused = fulfilment(api, campaign["id"], key, code, 1, "DELETE")
    never = fulfilment(api, campaign["id"], key, code, 3, "DELETE")
    assert (refused.status_code, refused.data["error"]["code"]) == (409, "reward_refunded")
    assert (never.status_code, never.data["error"]["code"]) == (409, "reward_locked")
    assert unlocked(api, campaign["id"], key).data["rewards"][0]["fulfilled_at"] is not None


def test_fulfilling_a_reward_the_fan_has_not_unlocked_is_409(api):
    campaign, key = api.create_campaign(rewards=REWARDS)
    code, _ = fan(api, campaign["id"])
    response = api.call("POST", f"/v1/campaigns/{campaign['id']}/rewards/fulfilments",
                        {"code": code, "pledges": 3}, token=key)
    assert (response.status_code, response.data["error"]["code"]) == (409, "reward_locked")


def test_the_unlocked_list_is_a_csv_for_fulfilment_with_formulas_defused(api, poller):
    campaign, key = api.create_campaign(rewards=REWARDS)
    code, ref = fan(api, campaign["id"], name="=HYPERLINK(1)")
    pledge(api, campaign["id"], key, "c-1", ref)
    poller.drain()
    response = unlocked(api, campaign["id"], key, format="csv")
    lines = response.body.decode().lstrip("\ufeff").splitlines()
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert lines[0] == "code,name,reward_pledges,reward,unlocked_at,fulfilled_at,fan_pledges"
    assert lines[1].startswith(f"{code},'=HYPERLINK(1),1,Thank-you card,")
    assert unlocked(api, campaign["id"], key, format="xml").status_code == 400
    assert unlocked(api, campaign["id"], None).status_code == 401


def test_rewards_count_only_confirmed_pledges_attributed_to_the_fan(api, poller):
    campaign, key = api.create_campaign(rewards=[{"pledges": 2, "label": "Poster"}])
    code, ref = fan(api, campaign["id"])
    pledge(api, campaign["id"], key, "d-1")  # direct
    pledge(api, campaign["id"], key, "d-2", ref, status="cancelled")  # never confirmed
    pledge(api, campaign["id"], key, "d-3", ref)
    poller.drain()
    assert impact(api, code)["rewards"] == [{"pledges": 2, "label": "Poster", "unlocked": False}]
    assert unlocked(api, campaign["id"], key).data["rewards"] == []


def test_a_stale_count_cannot_unlock_a_reward(api, poller):
    """Two aggregator shards may read a fan's count before the other's write: the state only
    moves in a transaction that checks the count as it is now."""
    from chalicelib.store import reward_states
    from chalicelib.store.derived import RewardState

    campaign, key = api.create_campaign(rewards=[{"pledges": 2, "label": "Poster"}])
    code, ref = fan(api, campaign["id"])
    pledge(api, campaign["id"], key, "s-1", ref)
    poller.drain()
    stale = reward_states.transition(campaign["id"], RewardState(code, 2, "Poster"), True, "Poster", 1)
    pledge(api, campaign["id"], key, "s-2", ref)
    poller.drain()
    (state,) = reward_states.states_of(campaign["id"], code).values()
    assert stale is None
    assert (state.unlocked, state.generation, state.notified) == (True, 1, 1)


def test_rewards_set_after_pledges_unlock_for_the_creator_too_dated_when_set(api, poller, spool, receiver):
    """Derived state follows configuration: the creator's list, the CSV, fulfilment and the
    webhook agree with the fan's widget as soon as the rewards are set, not at a next pledge."""
    campaign, key = api.create_campaign(webhook_url=receiver.url)
    code, ref = fan(api, campaign["id"])
    for n in range(2):
        pledge(api, campaign["id"], key, f"late-{n}", ref)
    poller.drain()
    set_at = time.time()
    changed = api.call("PATCH", f"/v1/campaigns/{campaign['id']}", {"rewards": REWARDS}, token=key)
    assert changed.status_code == 200
    poller.drain()
    poller.drain()  # a replayed settings record changes nothing more
    listed = unlocked(api, campaign["id"], key).data["rewards"]
    assert [(r["code"], r["pledges"], r["label"]) for r in listed] == [(code, 1, "Thank-you card")]
    assert listed[0]["unlocked_at"] >= time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(set_at)))
    assert [r["unlocked"] for r in impact(api, code)["rewards"]] == [True, False]
    csv_rows = unlocked(api, campaign["id"], key, format="csv").body.decode().splitlines()
    assert len(csv_rows) == 2 and code in csv_rows[1]
    fulfilled = api.call("POST", f"/v1/campaigns/{campaign['id']}/rewards/fulfilments",
                         {"code": code, "pledges": 1}, token=key)
    assert fulfilled.status_code == 200, fulfilled.body

    raised = api.call("PATCH", f"/v1/campaigns/{campaign['id']}", {"rewards": [
        {"pledges": 1, "label": "Thank-you card"}, {"pledges": 2, "label": "Sticker"}]}, token=key)
    assert raised.status_code == 200
    poller.drain()
    assert [(r["pledges"], r["label"]) for r in unlocked(api, campaign["id"], key).data["rewards"]] == [
        (2, "Sticker"), (1, "Thank-you card")]  # still to fulfil first

    with dispatching(spool):
        receiver.wait_for(lambda got: [x.event["type"] for x in got].count("reward.unlocked") == 2, "two unlocks")
        time.sleep(0.2)
    assert sorted(e["data"]["reward"]["pledges"] for e in receiver.events("reward.unlocked")) == [1, 2]


def test_a_reward_taken_out_of_the_settings_leaves_the_list_and_cannot_be_fulfilled(api, poller):
    campaign, key = api.create_campaign(rewards=REWARDS)
    code, ref = fan(api, campaign["id"])
    pledge(api, campaign["id"], key, "gone-1", ref)
    poller.drain()
    assert [r["pledges"] for r in unlocked(api, campaign["id"], key).data["rewards"]] == [1]
    api.call("PATCH", f"/v1/campaigns/{campaign['id']}", {"rewards": [REWARDS[0]]}, token=key)
    poller.drain()
    assert unlocked(api, campaign["id"], key).data["rewards"] == []
    refused = api.call("POST", f"/v1/campaigns/{campaign['id']}/rewards/fulfilments", {"code": code, "pledges": 1},
                       token=key)
    assert (refused.status_code, refused.data["error"]["code"]) == (409, "reward_locked")
