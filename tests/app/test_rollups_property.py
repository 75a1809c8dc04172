"""Property: whatever happens, in whatever order, replayed however, the rollups equal a
ground truth computed independently here."""
from collections import Counter
from urllib.parse import parse_qs, urlsplit

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.store.records import DIRECT, referrer_id
from harness.inprocess import rollup

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


class Workload:
    """A campaign with its fans, and the ground truth of every step done to it, kept independently."""

    def __init__(self, api, poller):
        self.api, self.poller = api, poller
        campaign, self.key = api.create_campaign(goal={"amount": 1, "currency": "EUR"})
        self.cid = campaign["id"]
        self.fans = [api.call("POST", f"/v1/campaigns/{self.cid}/referrers", {"name": f"F{i}"}).data["code"]
                     for i in range(FANS)]
        self.refs: dict[int, tuple[str, str]] = {}  # fan → (ref, channel) of their latest click
        self.truth: Counter = Counter()
        self.seen_visitors: set[tuple[int, str, int]] = set()
        self.pledges: dict[int, dict] = {}
        self.first_batch = len(poller.batches)

    def click(self, fan, channel, visitor):
        agent = f"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.{visitor}"
        response = self.api.call("GET", f"/r/{self.fans[fan]}?c={channel}", headers={"User-Agent": agent})
        self.refs[fan] = (parse_qs(urlsplit(response.headers["Location"]).query)["ref"][0], channel)
        self.truth["clicks"] += 1
        self.truth[f"clicks:{fan}"] += 1
        if (fan, channel, visitor) not in self.seen_visitors:
            self.seen_visitors.add((fan, channel, visitor))
            self.truth["unique_clicks"] += 1

    def bot(self, fan, channel):
        self.api.call("GET", f"/r/{self.fans[fan]}?c={channel}", headers={"User-Agent": "Twitterbot/1.0"})
        self.truth["previews"] += 1

    def pledge(self, pid, amount, currency, fan):
        ref = self.refs.get(fan) if fan is not None else None
        body = {"pledge_id": f"p{pid}", "amount": amount, "currency": currency}
        if ref:
            body["ref"] = ref[0]
        response = self.api.call("POST", f"/v1/campaigns/{self.cid}/pledges", body, token=self.key)
        known = self.pledges.get(pid)
        if known is None:
            assert response.status_code == 201
            self.pledges[pid] = {"amount": amount, "currency": currency, "fan": fan if ref else None, "live": True}
        elif (known["amount"], known["currency"]) != (amount, currency):
            assert response.status_code == 409
        else:
            assert response.status_code == 200  # an exact replay, whatever its ref

    def refund(self, pid):
        known = self.pledges.get(pid)
        body = {"pledge_id": f"p{pid}", "status": "refunded",
                "amount": known["amount"] if known else 1, "currency": known["currency"] if known else "EUR"}
        response = self.api.call("POST", f"/v1/campaigns/{self.cid}/pledges", body, token=self.key)
        # a refund of an unknown pledge records it (refunded); of a known one, changes its status
        assert response.status_code == (201 if known is None else 200)
        if known is None:
            self.pledges[pid] = {"amount": 1, "currency": "EUR", "fan": None, "live": False}
        self.pledges[pid]["live"] = False

    def drain(self, start, length):
        """Drain the stream, then replay a slice of every record it has carried so far."""
        from app import aggregator

        self.poller.drain()
        records = [r for batch in self.poller.batches[self.first_batch:] for r in batch["event"]["Records"]]
        if records:
            begin = int(start * len(records))
            aggregator({"Records": records[begin:begin + 1 + int(length * len(records))]}, None)

    def settled(self) -> Counter:
        """The truth once every pledge has its final status."""
        truth = Counter(self.truth)
        for pledge in self.pledges.values():
            if pledge["live"]:
                truth["pledges"] += 1
                truth[f"amt_{pledge['currency']}"] += pledge["amount"]
                if pledge["fan"] is not None:
                    truth[f"pledges:{pledge['fan']}"] += 1
                else:
                    truth["direct"] += 1
        return truth


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=1, max_size=30))
def test_rollups_equal_the_ground_truth_under_replays_refunds_and_conflicts(api, poller, steps):
    world = Workload(api, poller)
    for action, *args in steps:
        getattr(world, action)(*args)

    poller.drain()
    truth = world.settled()
    total = rollup(world.cid)
    for name in ("clicks", "unique_clicks", "previews", "pledges"):
        assert total.get(name) == truth[name], name
    assert (total.amounts.get("EUR", 0), total.amounts.get("USD", 0)) == (truth["amt_EUR"], truth["amt_USD"])
    for fan, code in enumerate(world.fans):
        mine = rollup(world.cid, referrer_id(code))
        assert mine.get("clicks") == truth[f"clicks:{fan}"]
        assert mine.get("pledges") == truth[f"pledges:{fan}"]
    assert rollup(world.cid, DIRECT).get("pledges") == truth["direct"]
