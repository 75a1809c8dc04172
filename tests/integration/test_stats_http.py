"""Stats against a generated workload driven through the real HTTP routes and aggregator:
every figure equals a ground truth computed here, independently; the CSV equals the JSON."""
import csv
import io
import random
from collections import Counter, defaultdict
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from harness.user_agents import HUMAN_AGENTS, PREVIEW_AGENTS

CHANNELS = ("x", "whatsapp", "email", "telegram")
HUMANS = list(HUMAN_AGENTS.values())
BOTS = [agent for agent in PREVIEW_AGENTS.values() if agent]


@pytest.fixture(scope="module")
def workload(stack, poller):
    rng = random.Random(2026)
    session = requests.Session()
    campaign, key = stack.create_campaign(goal={"amount": 500_000, "currency": "EUR"}, leaderboard="public")
    cid = campaign["id"]
    truth = defaultdict(Counter)  # scope -> counters; scopes: total, channel:<c>, ref:<code>, depth:<n>, direct
    fans: list[dict] = []
    depth_of: dict[str, int] = {}
    events = 0

    def new_fan(parent=None):
        body = {"name": f"Fan {len(fans)}"}
        if parent:
            body["referred_by"] = parent
        fan = session.post(f"{stack.api}/v1/campaigns/{cid}/referrers", json=body, timeout=10).json()
        fans.append(fan)
        depth_of[fan["code"]] = depth_of[parent] + 1 if parent else 1
        truth["total"]["referrers"] += 1
        truth[f"depth:{depth_of[fan['code']]}"]["referrers"] += 1
        return fan["code"]

    roots = [new_fan() for _ in range(12)]
    children = [new_fan(rng.choice(roots)) for _ in range(8)]
    grandchildren = [new_fan(rng.choice(children)) for _ in range(5)]
    codes = roots + children + grandchildren
    refs: list[tuple[str, str, str]] = []
    seen: set[tuple[str, str, str]] = set()
    while events < 1000:
        code, channel = rng.choice(codes), rng.choice(CHANNELS)
        roll = rng.random()
        if roll < 0.9:
            _visit_or_share(session, stack.api, rng, roll, code, channel, refs, seen, truth)
            events += 1
        else:
            events += _pledge(session, stack, cid, key, rng, refs, depth_of, truth)
    poller.drain()
    return cid, key, truth, fans, depth_of


def _visit_or_share(session, api, rng, roll, code, channel, refs, seen, truth) -> None:
    """A click by a person (60 %), a link preview by a bot (12 %) or by HEAD (6 %), or a share (12 %)."""
    scopes = ("total", f"channel:{channel}", f"ref:{code}")

    def count(name):
        for scope in scopes:
            truth[scope][name] += 1

    if roll < 0.6:
        agent = rng.choice(HUMANS) + f" r{rng.randrange(6)}"
        response = session.get(f"{api}/r/{code}?c={channel}", headers={"User-Agent": agent},
                               allow_redirects=False, timeout=10)
        refs.append((parse_qs(urlsplit(response.headers["Location"]).query)["ref"][0], code, channel))
        count("clicks")
        if (code, channel, agent) not in seen:
            seen.add((code, channel, agent))
            count("unique_clicks")
    elif roll < 0.72:
        session.get(f"{api}/r/{code}?c={channel}", headers={"User-Agent": rng.choice(BOTS)},
                    allow_redirects=False, timeout=10)
        count("previews")
    elif roll < 0.78:
        session.head(f"{api}/r/{code}?c={channel}", timeout=10)
        count("previews")
    else:
        session.post(f"{api}/v1/shares", data=f'{{"code": "{code}", "channel": "{channel}"}}',
                     headers={"Content-Type": "text/plain"}, timeout=10)
        if ("share", code, channel) not in seen:  # a person's share counts once per link, channel and day
            seen.add(("share", code, channel))
            count("shares")


def _pledge(session, stack, cid, key, rng, refs, depth_of, truth) -> int:
    """A pledge (attributed or direct, EUR or USD), sometimes replayed, sometimes refunded."""
    pledge_id = f"pledge-{rng.getrandbits(40)}"
    currency = rng.choice(["EUR", "USD"])
    amount = rng.randrange(500, 20_000)
    body = {"pledge_id": pledge_id, "amount": amount, "currency": currency}
    attributed = refs and rng.random() < 0.7
    if attributed:
        ref, code, channel = rng.choice(refs)
        body["ref"] = ref
        scopes = ("total", f"channel:{channel}", f"ref:{code}", f"depth:{depth_of[code]}")
    else:
        scopes = ("total", "channel:direct", "direct")
    url = f"{stack.api}/v1/campaigns/{cid}/pledges"
    headers = {"Authorization": f"Bearer {key}"}
    assert session.post(url, json=body, headers=headers, timeout=10).status_code == 201
    sent = 1
    if rng.random() < 0.3:
        assert session.post(url, json=body, headers=headers, timeout=10).status_code == 200
        sent += 1
    if rng.random() < 0.2:
        for _ in range(2):
            refund = {**body, "status": "refunded"}
            assert session.post(url, json=refund, headers=headers, timeout=10).status_code == 200
            sent += 1
        return sent
    for scope in scopes:
        truth[scope]["pledges"] += 1
        truth[scope][f"amt_{currency}"] += amount
    return sent


def amounts(counter):
    return {name[4:]: value for name, value in sorted(counter.items()) if name.startswith("amt_") and value}


def test_every_figure_equals_the_ground_truth(stack, workload):
    cid, key, truth, fans, depth_of = workload
    stats = requests.get(f"{stack.api}/v1/campaigns/{cid}/stats", headers={"Authorization": f"Bearer {key}"},
                         timeout=10).json()
    total = truth["total"]
    for name in ("shares", "previews", "clicks", "unique_clicks", "pledges", "referrers"):
        assert stats["totals"][name] == total[name], name
    assert stats["totals"]["amount"] == amounts(total)
    assert total["clicks"] > 500 and total["previews"] > 100 and total["shares"] > 50 and total["pledges"] > 40
    channels = {row["channel"]: row for row in stats["channels"]}
    expected_channels = {scope.split(":")[1] for scope in truth if scope.startswith("channel:")}
    assert set(channels) == expected_channels
    for channel in expected_channels:
        for name in ("shares", "previews", "clicks", "unique_clicks", "pledges"):
            assert channels[channel][name] == truth[f"channel:{channel}"][name], (channel, name)
        assert channels[channel]["amount"] == amounts(truth[f"channel:{channel}"])
    assert len(stats["referrers"]) == len(fans)
    for row in stats["referrers"]:
        mine = truth[f"ref:{row['code']}"]
        assert (row["clicks"], row["unique_clicks"], row["pledges"]) == \
            (mine["clicks"], mine["unique_clicks"], mine["pledges"])
        assert row["amount"] == amounts(mine)
        assert row["depth"] == depth_of[row["code"]]
    scores = [(row["amount"].get("EUR", 0), row["pledges"]) for row in stats["referrers"]]
    assert scores == sorted(scores, reverse=True)
    assert stats["direct"]["pledges"] == truth["direct"]["pledges"]
    assert stats["direct"]["amount"] == amounts(truth["direct"])
    assert stats["cascade"]["max_depth"] == 3
    for row in stats["cascade"]["by_depth"]:
        mine = truth[f"depth:{row['depth']}"]
        assert (row["referrers"], row["pledges"], row["amount"]) == (mine["referrers"], mine["pledges"], amounts(mine))
    today = [row for row in stats["daily"] if row["clicks"]]
    assert len(today) == 1 and today[0]["clicks"] == total["clicks"] and today[0]["pledges"] == total["pledges"]


def test_the_csv_holds_the_same_figures_as_the_json(stack, workload):
    cid, key, *_ = workload
    headers = {"Authorization": f"Bearer {key}"}
    stats = requests.get(f"{stack.api}/v1/campaigns/{cid}/stats", headers=headers, timeout=10).json()
    response = requests.get(f"{stack.api}/v1/campaigns/{cid}/stats?format=csv", headers=headers, timeout=10)
    assert response.headers["Content-Type"].startswith("text/csv")
    assert f'filename="relais-{cid}-' in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    by_section = defaultdict(list)
    for row in rows:
        by_section[row["section"]].append(row)
    totals = by_section["totals"][0]
    for name in ("shares", "previews", "clicks", "unique_clicks", "pledges", "referrers"):
        assert int(totals[name]) == stats["totals"][name]
    for currency, value in stats["totals"]["amount"].items():
        assert int(totals[f"amount_{currency}"]) == value
    assert {row["channel"]: int(row["clicks"]) for row in by_section["channel"]} == \
        {row["channel"]: row["clicks"] for row in stats["channels"]}
    assert [(row["code"], int(row["pledges"])) for row in by_section["referrer"]] == \
        [(row["code"], row["pledges"]) for row in stats["referrers"]]
    assert len(by_section["daily"]) == len(stats["daily"])
    assert [int(row["referrers"]) for row in by_section["cascade"]] == \
        [row["referrers"] for row in stats["cascade"]["by_depth"]]


def test_public_stats_leak_no_names_codes_or_emails(stack, workload):
    cid, key, truth, fans, _ = workload
    headers = {"Authorization": f"Bearer {key}"}
    assert requests.get(f"{stack.api}/v1/campaigns/{cid}/stats", timeout=10).status_code == 401
    requests.patch(f"{stack.api}/v1/campaigns/{cid}", json={"public_stats": True}, headers=headers, timeout=10)
    response = requests.get(f"{stack.api}/v1/campaigns/{cid}/stats", timeout=10)
    assert response.status_code == 200
    text = response.text
    assert all(fan["code"] not in text and fan["name"] not in text for fan in fans)
    assert response.json()["totals"]["clicks"] == truth["total"]["clicks"]
    assert "max-age" in response.headers["Cache-Control"]
    again = requests.get(f"{stack.api}/v1/campaigns/{cid}/stats", headers={"If-None-Match": response.headers["ETag"]},
                         timeout=10)
    assert again.status_code == 304
    _, other_key = stack.create_campaign()
    foreign = requests.get(f"{stack.api}/v1/campaigns/{cid}/stats", headers={"Authorization": f"Bearer {other_key}"},
                           timeout=10)
    assert foreign.status_code == 403
