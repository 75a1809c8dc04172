"""The stream aggregator on synthetic stream records (app tier)."""
import random
from collections import Counter

from chalicelib.aggregate import counting
from chalicelib.core import ids
from chalicelib.store import clients, rollups_table
from chalicelib.store.records import DIRECT, depth_id, referrer_id
from harness.inprocess import rollup
from harness.raw_items import rollup_key
from harness.stream_records import click_record, event_image, insert_record


def test_one_write_per_rollup_item_touched_by_a_batch(dynamodb):
    campaign = ids.campaign_id()
    rng = random.Random(7)
    codes = [ids.link_code() for _ in range(50)]
    channels = ["x", "whatsapp", "email"]
    clicks = [(rng.choice(codes), rng.choice(channels)) for _ in range(1000)]
    records = [click_record(campaign, code, channel, f"v{i}", lane=i % 16) for i, (code, channel) in enumerate(clicks)]
    result = counting.handle_records(records)
    touched = 1 + len({channel for _, channel in clicks}) + len({code for code, _ in clicks})  # total, days, fans
    assert result["items"] == touched
    assert result["writes"] == result["changed"] == touched
    assert rollup(campaign).get("clicks") == 1000


def test_a_replayed_or_partly_replayed_batch_changes_nothing(dynamodb):
    campaign = ids.campaign_id()
    code = ids.link_code()
    records = [click_record(campaign, code, "x", f"v{i}", lane=i % 4) for i in range(40)]
    records.append(click_record(campaign, code, "x", "v0", lane=0))  # v0's second click
    rewritten = click_record(campaign, code, "x", "v1", lane=1, rewritten=True)  # a fact written twice
    records.append(rewritten)
    counting.handle_records(records[:15])  # a bisected first half
    counting.handle_records(records)  # then the whole batch again
    again = counting.handle_records(records[10:30])
    assert again["changed"] == 0 and again["writes"] == again["items"]
    total = rollup(campaign)
    assert (total.get("clicks"), total.get("unique_clicks")) == (41, 40)


def test_unknown_event_shapes_are_skipped_without_failing_the_batch(dynamodb):
    campaign = ids.campaign_id()
    good = click_record(campaign, "abcd1234", "x", "v")
    strange = insert_record(event_image(campaign, "t#1", kind="teleport", code="abcd1234", channel="x"))
    broken = {"eventName": "INSERT", "dynamodb": {"NewImage": {"pk": {"S": "x#01"}}}}  # no sk, no kind: malformed
    removed = {**click_record(campaign, "abcd1234", "x", "z"), "eventName": "REMOVE"}
    result = counting.handle_records([strange, broken, good, removed])
    assert result["skipped"] == 2
    assert rollup(campaign).get("clicks") == 1


def test_referrers_and_pledges_reach_totals_cascade_and_leaderboard(dynamodb):
    campaign = ids.campaign_id()

    def record(sk, **values):
        return insert_record(event_image(campaign, sk, **values))

    counting.handle_records([
        record("r#root", kind="referrer", code="root1234", depth=1, name="Root"),
        record("r#kid", kind="referrer", code="kid12345", depth=2, name="Kid", referred_by="root1234"),
        record("pl#1", kind="pledge", code="kid12345", channel="x", day="2026-11-02", depth=2, status="confirmed",
               amount=1500, currency="EUR", goal_amount=1500),
        record("pl#2", kind="pledge", channel="direct", day="2026-11-02", status="confirmed",
               amount=700, currency="USD", goal_amount=0),
    ])
    total = rollup(campaign)
    assert Counter({k: total.get(k) for k in ("referrers", "children", "pledges")}) == \
        Counter(referrers=2, children=1, pledges=2)
    assert total.amounts == {"EUR": 1500, "USD": 700}
    kid = rollup(campaign, referrer_id("kid12345"))
    assert (kid.name, kid.referred_by) == ("Kid", "root1234")
    assert kid.get("lb_score") == 1500 * counting.SCORE_SCALE + 1
    assert rollup(campaign, depth_id(2)).get("pledges") == 1
    assert rollup(campaign, DIRECT).amounts == {"USD": 700}


def test_clicks_on_a_fan_leave_the_leaderboard_keys_alone_and_the_leaders_read_them_fresh(dynamodb):
    """The leaderboard index projects its keys only: an update that names neither ``lb_pk`` nor
    ``lb_score`` does not write it, so a click costs the fan's item one write, not two."""
    campaign = ids.campaign_id()
    fan = event_image(campaign, "r#fan", kind="referrer", code="fan12345", depth=1, name="Ana")
    pledge = event_image(campaign, "pl#1", kind="pledge", code="fan12345", channel="x", day="2026-11-01", depth=1,
                         status="confirmed", amount=900, currency="EUR", goal_amount=900)
    counting.handle_records([insert_record(fan), insert_record(pledge)])
    named: list[set] = []

    def remember(params, **_):
        if params["Key"] == rollup_key(campaign, referrer_id("fan12345")):
            named.append(set(params.get("ExpressionAttributeNames", {}).values()))

    client = clients.patient()
    client.meta.events.register("before-parameter-build.dynamodb.UpdateItem", remember)
    try:
        counting.handle_records([click_record(campaign, "fan12345", "x", f"v{i}") for i in range(3)])
    finally:
        client.meta.events.unregister("before-parameter-build.dynamodb.UpdateItem", remember)

    assert len(named) == 1 and not named[0] & {"lb_pk", "lb_score"}
    [(code, item)] = rollups_table.leaders(campaign, 10)
    assert (code, item.get("clicks"), item.get("lb_score")) == ("fan12345", 3, 900 * counting.SCORE_SCALE + 1)


def test_a_record_with_an_impossible_number_is_skipped_and_the_rest_of_the_batch_counts(dynamodb):
    campaign = ids.campaign_id()

    def pledge(sk, amount: str):
        """A pledge whose amount is written as ``amount`` on the wire, whatever number that is."""
        record = insert_record(event_image(campaign, sk, kind="pledge", channel="direct", day="2026-11-02",
                                           status="confirmed", amount=0, currency="EUR", goal_amount=0))
        record["dynamodb"]["NewImage"]["amount"] = {"N": amount}
        return record

    result = counting.handle_records([pledge("pl#a", "1e309"), pledge("pl#b", "NaN"), pledge("pl#c", "2.5"),
                                       pledge("pl#d", "1200"), click_record(campaign, "abcd1234", "x", "v")])
    assert result["skipped"] == 3
    total = rollup(campaign)
    assert (total.get("pledges"), total.amounts, total.get("clicks")) == (1, {"EUR": 1200}, 1)
