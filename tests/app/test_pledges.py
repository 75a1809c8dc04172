"""Pledges: idempotency, conflicts, refunds and attribution (app tier)."""
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.store.records import depth_id, referrer_id
from harness.inprocess import rollup
from harness.user_agents import CHROME


@pytest.fixture
def campaign(api):
    campaign, key = api.create_campaign(goal={"amount": 100000, "currency": "EUR"},
                                        attribution={"model": "last_click", "window_days": 7})
    return campaign, key


def pledge(api, campaign, key, **body):
    return api.call("POST", f"/v1/campaigns/{campaign['id']}/pledges",
                    {"pledge_id": "p-1", "amount": 2500, "currency": "EUR", **body}, token=key)


def ref_from_click(api, campaign, channel="x"):
    fan = api.call("POST", f"/v1/campaigns/{campaign['id']}/referrers", {"name": "Fan"}).data
    response = api.call("GET", f"/r/{fan['code']}?c={channel}", headers={"User-Agent": CHROME})
    return fan["code"], parse_qs(urlsplit(response.headers["Location"]).query)["ref"][0]


def test_a_new_pledge_is_201_and_its_exact_replay_200_counted_once(api, campaign, poller):
    c, key = campaign
    code, ref = ref_from_click(api, c, "whatsapp")
    first = pledge(api, c, key, ref=ref)
    again = pledge(api, c, key, ref=ref)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.data["attribution"] == {"code": code, "channel": "whatsapp"}
    assert again.data == first.data
    poller.drain()
    total = rollup(c["id"])
    assert (total.get("pledges"), total.amounts.get("EUR", 0), total.get("fan_goal_amt")) == (1, 2500, 2500)
    assert rollup(c["id"], referrer_id(code)).get("pledges") == 1


def test_the_same_id_with_another_amount_or_currency_is_409(api, campaign):
    c, key = campaign
    assert pledge(api, c, key).status_code == 201
    for change in ({"amount": 2600}, {"currency": "USD"}):
        response = pledge(api, c, key, **change)
        assert response.status_code == 409
        assert response.data["error"]["code"] == "pledge_conflict"


def test_a_refund_sent_three_times_is_subtracted_once(api, campaign, poller):
    c, key = campaign
    pledge(api, c, key, pledge_id="keep", amount=1000)
    pledge(api, c, key, pledge_id="gone", amount=4000)
    statuses = [pledge(api, c, key, pledge_id="gone", amount=4000, status="refunded").status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    poller.drain()
    total = rollup(c["id"])
    assert (total.get("pledges"), total.amounts.get("EUR", 0)) == (1, 1000)


def test_a_refund_before_the_pledge_means_the_pledge_never_counts(api, campaign, poller):
    c, key = campaign
    assert pledge(api, c, key, pledge_id="late", status="refunded").status_code == 201
    assert pledge(api, c, key, pledge_id="late").data["status"] == "refunded"
    poller.drain()
    assert rollup(c["id"]).get("pledges") == 0


def test_a_refund_by_pledge_id_and_status_alone_takes_the_stored_pledge_out_once(api, campaign, poller):
    c, key = campaign
    pledge(api, c, key, pledge_id="keep", amount=1000)
    pledge(api, c, key, pledge_id="gone", amount=4000, currency="USD")
    path = f"/v1/campaigns/{c['id']}/pledges"
    answers = [api.call("POST", path, {"pledge_id": "gone", "status": "refunded"}, token=key) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200]
    first = answers[0].data
    assert (first["amount"], first["currency"], first["status"]) == (4000, "USD", "refunded")
    poller.drain()
    total = rollup(c["id"])
    assert (total.get("pledges"), total.amounts) == (1, {"EUR": 1000})


def test_a_cancellation_may_give_the_amount_alone_and_it_must_match_the_stored_one(api, campaign, poller):
    c, key = campaign
    pledge(api, c, key, pledge_id="p", amount=2500)
    path = f"/v1/campaigns/{c['id']}/pledges"
    wrong = api.call("POST", path, {"pledge_id": "p", "amount": 2600, "status": "cancelled"}, token=key)
    assert (wrong.status_code, wrong.data["error"]["code"]) == (409, "pledge_conflict")
    other = api.call("POST", path, {"pledge_id": "p", "currency": "USD", "status": "cancelled"}, token=key)
    assert (other.status_code, other.data["error"]["code"]) == (409, "pledge_conflict")
    poller.drain()
    assert rollup(c["id"]).get("pledges") == 1  # the refused changes changed nothing
    right = api.call("POST", path, {"pledge_id": "p", "amount": 2500, "status": "cancelled"}, token=key)
    assert (right.status_code, right.data["status"], right.data["currency"]) == (200, "cancelled", "EUR")
    poller.drain()
    assert rollup(c["id"]).get("pledges") == 0


def test_a_refund_without_an_amount_of_an_unknown_pledge_id_is_404_and_stores_nothing(api, campaign):
    c, key = campaign
    path = f"/v1/campaigns/{c['id']}/pledges"
    for status in ("refunded", "cancelled"):
        response = api.call("POST", path, {"pledge_id": "never", "status": status}, token=key)
        assert (response.status_code, response.data["error"]["code"]) == (404, "pledge_not_found")
    assert pledge(api, c, key, pledge_id="never").data["status"] == "confirmed"  # nothing was stored


def test_a_confirmed_pledge_without_an_amount_or_a_currency_is_still_400(api, campaign):
    c, key = campaign
    path = f"/v1/campaigns/{c['id']}/pledges"
    no_amount = api.call("POST", path, {"pledge_id": "p", "currency": "EUR"}, token=key)
    no_currency = api.call("POST", path, {"pledge_id": "p", "amount": 100, "status": "confirmed"}, token=key)
    assert (no_amount.status_code, no_amount.data["error"]["code"]) == (400, "invalid_amount")
    assert (no_currency.status_code, no_currency.data["error"]["code"]) == (400, "invalid_currency")


@pytest.mark.parametrize("make_ref", [
    lambda c, ref: "garbage",
    lambda c, ref: ref[:-1] + ("A" if ref[-1] != "A" else "B"),  # forged signature
    lambda c, ref: ref.replace(".", "!"),
    lambda c, ref: None,
])
def test_malformed_or_forged_refs_make_the_pledge_direct(api, campaign, make_ref):
    c, key = campaign
    _, ref = ref_from_click(api, c)
    response = pledge(api, c, key, ref=make_ref(c, ref))
    assert response.status_code == 201
    assert response.data["attribution"] is None


def test_a_ref_of_another_campaign_is_direct(api, campaign):
    c, key = campaign
    other, _ = api.create_campaign()
    _, ref = ref_from_click(api, other)
    assert pledge(api, c, key, ref=ref).data["attribution"] is None


def test_a_ref_older_than_the_window_is_direct(api, campaign):
    c, key = campaign
    _, ref = ref_from_click(api, c)
    late = (datetime.now(UTC) + timedelta(days=8)).isoformat()
    within = (datetime.now(UTC) + timedelta(days=6)).isoformat()
    assert pledge(api, c, key, pledge_id="late", ref=ref, occurred_at=late).data["attribution"] is None
    assert pledge(api, c, key, pledge_id="ok", ref=ref, occurred_at=within).data["attribution"] is not None


@pytest.mark.parametrize(("body", "code"), [
    ({"pledge_id": ""}, "invalid_pledge_id"),
    ({"pledge_id": "x" * 129}, "invalid_pledge_id"),
    ({"amount": 0}, "invalid_amount"),
    ({"amount": 12.5}, "invalid_amount"),
    ({"currency": "XXX1"}, "invalid_currency"),
    ({"status": "pending"}, "invalid_status"),
    ({"status": {}}, "invalid_status"),
    ({"status": ["refunded"]}, "invalid_status"),
    ({"occurred_at": "yesterday"}, "invalid_occurred_at"),
    ({"ref": 42}, "invalid_ref"),
    ({"tip": 5}, "unknown_field"),
])
def test_invalid_pledges_are_400_and_store_nothing(api, campaign, body, code):
    c, key = campaign
    response = pledge(api, c, key, **body)
    assert response.status_code == 400 and response.data["error"]["code"] == code
    assert pledge(api, c, key).status_code == 201  # p-1 was not stored by the bad request


def test_pledges_need_the_campaign_key(api, campaign):
    c, _ = campaign
    _, other_key = api.create_campaign()
    assert pledge(api, c, None).status_code == 401
    assert pledge(api, c, other_key).status_code == 403


def test_cascade_depth_follows_referred_by(api, campaign, poller):
    c, _ = campaign
    root = api.call("POST", f"/v1/campaigns/{c['id']}/referrers", {"name": "Root"}).data
    child = api.call("POST", f"/v1/campaigns/{c['id']}/referrers", {"name": "Child", "referred_by": root["code"]}).data
    grandchild = api.call("POST", f"/v1/campaigns/{c['id']}/referrers",
                          {"name": "Grandchild", "referred_by": child["code"]}).data
    assert grandchild["referred_by"] == child["code"]
    poller.drain()
    assert [rollup(c["id"], depth_id(d)).get("referrers") for d in (1, 2, 3)] == [1, 1, 1]
    assert rollup(c["id"]).get("children") == 2


def test_a_database_timeout_on_the_pledge_write_is_503_and_the_retry_counts_once(api, campaign, monkeypatch, poller):
    from botocore.exceptions import ReadTimeoutError

    from chalicelib.store import clients

    c, key = campaign
    real = clients.patient()

    class TimingOut:
        def __getattr__(self, name):
            return getattr(real, name)

        def put_item(self, **kwargs):
            raise ReadTimeoutError(endpoint_url="http://dynamodb")

    monkeypatch.setattr(clients, "patient", lambda: TimingOut())
    response = pledge(api, c, key, pledge_id="slow")
    assert response.status_code == 503 and response.data["error"]["code"] == "unavailable"
    monkeypatch.undo()
    assert pledge(api, c, key, pledge_id="slow").status_code == 201
    poller.drain()
    assert rollup(c["id"]).get("pledges") == 1
