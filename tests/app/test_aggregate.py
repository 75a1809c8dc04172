"""The stream aggregator on synthetic stream records (app tier)."""
import random
from collections import Counter

from chalicelib.aggregate import counting
from chalicelib.core import ids
from chalicelib.store import clients, rollups_table
from harness.inprocess import number, rollup
from harness.stream import click_record, next_sequence_number


def test_one_write_per_rollup_item_touched_by_a_batch(dynamodb):
    campaign = ids.campaign_id()
    rng = random.Random(7)
    codes = [ids.link_code() for _ in range(50)]
    channels = ["x", "whatsapp", "email"]
    records = [click_record(campaign, rng.choice(codes), rng.choice(channels), f"v{i}", lane=f"{i % 16:02d}")
               for i in range(1000)]
    result = counting.handle_records(records)
    touched = {"total"} | {f"day#2026-11-01#{c}" for c in channels} | \
        {f"ref#{r['dynamodb']['NewImage']['code']['S']}" for r in records}
    assert result["items"] == len(touched)
    assert result["writes"] == result["changed"] == len(touched)
    assert number(rollup(campaign, "total"), "clicks") == 1000


def test_a_replayed_or_partly_replayed_batch_changes_nothing(dynamodb):
    campaign = ids.campaign_id()
    code = ids.link_code()
    records = [click_record(campaign, code, "x", f"v{i}", lane=f"{i % 4:02d}") for i in range(40)]
    records.append(click_record(campaign, code, "x", "v0", lane="00"))  # v0's second click
    rewritten = click_record(campaign, code, "x", "v1", lane="01", rewritten=True)  # a fact written twice
    records.append(rewritten)
    counting.handle_records(records[:15])  # a bisected first half
    counting.handle_records(records)  # then the whole batch again
    again = counting.handle_records(records[10:30])
    assert again["changed"] == 0 and again["writes"] == again["items"]
    total = rollup(campaign, "total")
    assert (number(total, "clicks"), number(total, "unique_clicks")) == (41, 40)


def test_unknown_event_shapes_are_skipped_without_failing_the_batch(dynamodb):
    campaign = ids.campaign_id()
    good = click_record(campaign, "abcd1234", "x", "v")
    strange = click_record(campaign, "abcd1234", "x", "w")
    strange["dynamodb"]["NewImage"]["kind"] = {"S": "teleport"}
    broken = {"eventName": "INSERT", "dynamodb": {"NewImage": {"pk": {"S": "x#01"}}}}
    removed = {**click_record(campaign, "abcd1234", "x", "z"), "eventName": "REMOVE"}
    result = counting.handle_records([strange, broken, good, removed])
    assert result["skipped"] == 2
    assert number(rollup(campaign, "total"), "clicks") == 1


def test_referrers_and_pledges_reach_totals_cascade_and_leaderboard(dynamodb):
    campaign = ids.campaign_id()

    def record(sk, **attributes):
        image = {"pk": {"S": f"{campaign}#05"}, "sk": {"S": sk}, "campaign_id": {"S": campaign}}
        image.update({k: {"N": str(v)} if isinstance(v, int) else {"S": v} for k, v in attributes.items()})
        return {"eventName": "INSERT", "dynamodb": {"NewImage": image, "SequenceNumber": next_sequence_number()}}

    counting.handle_records([
        record("r#root", kind="referrer", code="root1234", depth=1, name="Root"),
        record("r#kid", kind="referrer", code="kid12345", depth=2, name="Kid", referred_by="root1234"),
        record("pl#1", kind="pledge", code="kid12345", channel="x", day="2026-11-02", depth=2, status="confirmed",
               amount=1500, currency="EUR", goal_amount=1500),
        record("pl#2", kind="pledge", channel="direct", day="2026-11-02", status="confirmed",
               amount=700, currency="USD", goal_amount=0),
    ])
    total = rollup(campaign, "total")
    assert Counter({k: number(total, k) for k in ("referrers", "children", "pledges", "amt_EUR", "amt_USD")}) == \
        Counter(referrers=2, children=1, pledges=2, amt_EUR=1500, amt_USD=700)
    kid = rollup(campaign, "ref#kid12345")
    assert kid["name"]["S"] == "Kid" and kid["referred_by"]["S"] == "root1234"
    assert number(kid, "lb_score") == 1500 * counting.SCORE_SCALE + 1
    assert number(rollup(campaign, "depth#2"), "pledges") == 1
    assert number(rollup(campaign, "direct"), "amt_USD") == 700


def test_clicks_on_a_fan_leave_the_leaderboard_keys_alone_and_the_leaders_read_them_fresh(dynamodb):
    """The leaderboard index projects its keys only: an update that names neither ``lb_pk`` nor
    ``lb_score`` does not write it, so a click costs the fan's item one write, not two."""
    campaign = ids.campaign_id()
    fan = {"pk": {"S": f"{campaign}#05"}, "sk": {"S": "r#fan"}, "campaign_id": {"S": campaign},
           "kind": {"S": "referrer"}, "code": {"S": "fan12345"}, "depth": {"N": "1"}, "name": {"S": "Ana"}}
    pledge = {"pk": {"S": f"{campaign}#05"}, "sk": {"S": "pl#1"}, "campaign_id": {"S": campaign},
              "kind": {"S": "pledge"}, "code": {"S": "fan12345"}, "channel": {"S": "x"}, "day": {"S": "2026-11-01"},
              "depth": {"N": "1"}, "status": {"S": "confirmed"}, "amount": {"N": "900"}, "currency": {"S": "EUR"},
              "goal_amount": {"N": "900"}}
    counting.handle_records([{"eventName": "INSERT", "dynamodb": {"NewImage": image,
                                                                    "SequenceNumber": next_sequence_number()}}
                              for image in (fan, pledge)])
    named: list[set] = []

    def remember(params, **_):
        if params["Key"]["sk"]["S"] == "ref#fan12345":
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

    def pledge(sk, amount):
        image = {"pk": {"S": f"{campaign}#05"}, "sk": {"S": sk}, "campaign_id": {"S": campaign},
                 "kind": {"S": "pledge"}, "channel": {"S": "direct"}, "day": {"S": "2026-11-02"},
                 "status": {"S": "confirmed"}, "amount": {"N": amount}, "currency": {"S": "EUR"},
                 "goal_amount": {"N": "0"}}
        return {"eventName": "INSERT", "dynamodb": {"NewImage": image, "SequenceNumber": next_sequence_number()}}

    result = counting.handle_records([pledge("pl#a", "1e309"), pledge("pl#b", "NaN"), pledge("pl#c", "2.5"),
                                       pledge("pl#d", "1200"), click_record(campaign, "abcd1234", "x", "v")])
    assert result["skipped"] == 3
    total = rollup(campaign, "total")
    assert (number(total, "pledges"), number(total, "amt_EUR"), number(total, "clicks")) == (1, 1200, 1)
