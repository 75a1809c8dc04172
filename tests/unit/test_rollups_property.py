"""Property: whatever happens, in whatever order, replayed however, the rollups equal a
ground truth computed independently here."""
from collections import Counter
from urllib.parse import parse_qs, urlsplit

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.inprocess import number, rollup

FANS, VISITORS, PLEDGE_IDS = 3, 4, 5
CHANNELS = ("x", "whatsapp", "email")

step = st.one_of(
    st.tuples(st.just("click"), st.integers(0, FANS - 1), st.sampled_from(CHANNELS), st.integers(0, VISITORS - 1)),
    st.tuples(st.just("bot"), st.integers(0, FANS - 1), st.sampled_from(CHANNELS)),
    st.tuples(st.just("pledge"), st.integers(0, PLEDGE_IDS - 1), st.integers(1, 10_000),
              st.sampled_from(["EUR", "USD"]), st.one_of(st.none(), st.integers(0, FANS - 1))),
    st.tuples(st.just("refund"), st.integers(0, PLEDGE_IDS - 1)),
    st.tuples(st.just("drain"), st.floats(0, 1), st.floats(0, 1)),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=1, max_size=30))
def test_rollups_equal_the_ground_truth_under_replays_refunds_and_conflicts(api, poller, steps):
    from app import aggregator

    campaign, key = api.create_campaign(goal={"amount": 1, "currency": "EUR"})
    cid = campaign["id"]
    fans = [api.call("POST", f"/v1/campaigns/{cid}/referrers", {"name": f"F{i}"}).data["code"] for i in range(FANS)]
    refs: dict[int, tuple[str, str]] = {}  # fan → (ref, channel) of their latest click
    truth = Counter()
    seen_visitors = set()
    pledges: dict[int, dict] = {}
    first_batch = len(poller.batches)

    for action, *args in steps:
        if action == "click":
            fan, channel, visitor = args
            agent = f"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.{visitor}"
            response = api.call("GET", f"/r/{fans[fan]}?c={channel}", headers={"User-Agent": agent})
            refs[fan] = (parse_qs(urlsplit(response.headers["Location"]).query)["ref"][0], channel)
            truth["clicks"] += 1
            truth[f"clicks:{fan}"] += 1
            if (fan, channel, visitor) not in seen_visitors:
                seen_visitors.add((fan, channel, visitor))
                truth["unique_clicks"] += 1
        elif action == "bot":
            fan, channel = args
            api.call("GET", f"/r/{fans[fan]}?c={channel}", headers={"User-Agent": "Twitterbot/1.0"})
            truth["previews"] += 1
        elif action == "pledge":
            pid, amount, currency, fan = args
            ref = refs.get(fan) if fan is not None else None
            body = {"pledge_id": f"p{pid}", "amount": amount, "currency": currency}
            if ref:
                body["ref"] = ref[0]
            response = api.call("POST", f"/v1/campaigns/{cid}/pledges", body, token=key)
            known = pledges.get(pid)
            if known is None:
                assert response.status_code == 201
                pledges[pid] = {"amount": amount, "currency": currency, "fan": fan if ref else None, "live": True}
            elif (known["amount"], known["currency"]) != (amount, currency):
                assert response.status_code == 409
            else:
                assert response.status_code == 200  # an exact replay, whatever its ref
        elif action == "refund":
            (pid,) = args
            known = pledges.get(pid)
            body = {"pledge_id": f"p{pid}", "status": "refunded",
                    "amount": known["amount"] if known else 1, "currency": known["currency"] if known else "EUR"}
            response = api.call("POST", f"/v1/campaigns/{cid}/pledges", body, token=key)
            assert response.status_code in (200, 201)
            if known is None:
                pledges[pid] = {"amount": 1, "currency": "EUR", "fan": None, "live": False}
            known = pledges[pid]
            known["live"] = False
        else:
            start, length = args
            poller.drain()
            records = [r for batch in poller.batches[first_batch:] for r in batch["event"]["Records"]]
            if records:
                begin = int(start * len(records))
                aggregator({"Records": records[begin:begin + 1 + int(length * len(records))]}, None)

    poller.drain()
    for pledge in pledges.values():
        if pledge["live"]:
            truth["pledges"] += 1
            truth[f"amt_{pledge['currency']}"] += pledge["amount"]
            if pledge["fan"] is not None:
                truth[f"pledges:{pledge['fan']}"] += 1
            else:
                truth["direct"] += 1
    total = rollup(cid, "total")
    for name in ("clicks", "unique_clicks", "previews", "pledges", "amt_EUR", "amt_USD"):
        assert number(total, name) == truth[name], name
    for fan, code in enumerate(fans):
        mine = rollup(cid, f"ref#{code}")
        assert number(mine, "clicks") == truth[f"clicks:{fan}"]
        assert number(mine, "pledges") == truth[f"pledges:{fan}"]
    assert number(rollup(cid, "direct"), "pledges") == truth["direct"]
