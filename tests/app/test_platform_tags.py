"""Platform tags (app tier): the ``platform`` setting, each fan's tag in the referrer answer,
the fan list and the redirect's destination, the tags issued through the stream (new fans,
and every fan when the platform is switched on later), the creator's tag list as JSON and
CSV, one fan per tag for good, and a warm redirect still at one write and no read.
Derivation alone: ``tests/unit/test_platform_tags.py``."""
from __future__ import annotations

import re
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.hotpath import platform_tags
from harness.user_agents import CHROME

TAG = re.compile(r"[a-z0-9-]{1,20}")
KICKSTARTER = {"name": "kickstarter"}
PER_CHANNEL = {"name": "goteo", "tag_per": "fan_channel"}


def new_fan(api, campaign, name="Ana"):
    response = api.call("POST", f"/v1/campaigns/{campaign['id']}/referrers", {"name": name})
    assert response.status_code == 201, response.body
    return response.data


def query_of(api, code, channel=None):
    """The destination's query parameters of a click on ``code`` (through ``channel``)."""
    response = api.call("GET", f"/r/{code}" + (f"?c={channel}" if channel else ""), headers={"User-Agent": CHROME})
    assert response.status_code == 302
    return parse_qs(urlsplit(response.headers["Location"]).query)


def tag_list(api, campaign, key, **params):
    response = api.call("GET", f"/v1/campaigns/{campaign['id']}/platform-tags", token=key,
                        headers=params.pop("headers", None))
    assert response.status_code == 200, response.body
    return response


def listed(api, campaign, key):
    return tag_list(api, campaign, key).data["tags"]


def patch(api, campaign, key, body):
    response = api.call("PATCH", f"/v1/campaigns/{campaign['id']}", body, token=key)
    assert response.status_code == 200, response.body
    return response.data["campaign"]


# The setting ----------------------------------------------------------------------------------

def test_a_campaign_has_no_platform_until_one_is_set_and_kickstarter_reads_ref(api):
    campaign, key = api.create_campaign()
    assert campaign["platform"] is None
    assert patch(api, campaign, key, {"platform": KICKSTARTER})["platform"] == \
        {"name": "kickstarter", "tag_param": "ref", "tag_per": "fan"}
    stored = api.call("GET", f"/v1/campaigns/{campaign['id']}", token=key).data["campaign"]
    assert stored["platform"] == {"name": "kickstarter", "tag_param": "ref", "tag_per": "fan"}
    assert patch(api, campaign, key, {"platform": None})["platform"] is None


def test_a_campaign_is_created_with_its_platform(api):
    campaign, _ = api.create_campaign(platform={"name": "ulule", "tag_param": "utm_source", "tag_per": "fan_channel"})
    assert campaign["platform"] == {"name": "ulule", "tag_param": "utm_source", "tag_per": "fan_channel"}


@pytest.mark.parametrize("value", [{"name": "indiegogo"}, {"name": "other"}, {"name": "patreon"},
                                   {"name": "kickstarter", "tag_per": "channel"}, "kickstarter",
                                   {"name": "other", "tag_param": "a=b"}])
def test_a_bad_platform_is_400_invalid_platform_on_create_and_patch_and_changes_nothing(api, value):
    created = api.call("POST", "/v1/campaigns", {"name": "N", "target_url": "https://example.org/", "platform": value},
                       token="test-operator-token")
    campaign, key = api.create_campaign()
    patched = api.call("PATCH", f"/v1/campaigns/{campaign['id']}", {"platform": value, "locale": "fr"}, token=key)
    assert [(r.status_code, r.data["error"]["code"]) for r in (created, patched)] == [(400, "invalid_platform")] * 2
    after = api.call("GET", f"/v1/campaigns/{campaign['id']}", token=key).data["campaign"]
    assert (after["platform"], after["locale"]) == (None, "en")


# What a fan's answers and clicks carry ------------------------------------------------------------

def test_a_fans_tag_is_in_the_referrer_answer_and_in_the_click_as_kickstarters_ref(api):
    campaign, _ = api.create_campaign(platform=KICKSTARTER, target_url="https://www.kickstarter.com/projects/a/b?x=1")
    fan = new_fan(api, campaign)
    assert fan["platform_tag"] == platform_tags.tag(fan["code"]) and TAG.fullmatch(fan["platform_tag"])
    assert "platform_tags" not in fan
    query = query_of(api, fan["code"], "whatsapp")
    assert query["ref"] == [fan["platform_tag"]]  # the platform's ref, not Relais's signed one
    assert (query["x"], query["utm_source"], query["utm_campaign"]) == (["1"], ["whatsapp"], [campaign["id"]])


def test_a_parameter_of_its_own_leaves_the_signed_ref_beside_the_tag(api):
    campaign, _ = api.create_campaign(platform={"name": "other", "tag_param": "src"})
    fan = new_fan(api, campaign)
    query = query_of(api, fan["code"])
    assert query["src"] == [fan["platform_tag"]]
    assert query["ref"][0].startswith(fan["code"] + ".")  # Relais's signed ref, as without a platform


def test_without_a_platform_the_answers_carry_no_tag_and_the_click_none(api):
    campaign, _ = api.create_campaign()
    fan = new_fan(api, campaign)
    assert fan["platform_tag"] is None
    assert set(query_of(api, fan["code"])) == {"ref", "utm_source", "utm_medium", "utm_campaign"}


def test_with_a_tag_per_channel_a_click_carries_its_channels_tag_or_directs(api):
    campaign, _ = api.create_campaign(platform=PER_CHANNEL, channels=["whatsapp", "email"])
    fan = new_fan(api, campaign)
    code = fan["code"]
    assert fan["platform_tags"] == {"whatsapp": platform_tags.tag(code, "whatsapp"),
                                    "email": platform_tags.tag(code, "email"),
                                    "direct": platform_tags.tag(code, "direct")}
    assert fan["platform_tag"] == fan["platform_tags"]["direct"]
    assert len(set(fan["platform_tags"].values())) == 3
    assert query_of(api, code, "whatsapp")["ref"] == [fan["platform_tags"]["whatsapp"]]
    assert query_of(api, code, "email")["ref"] == [fan["platform_tags"]["email"]]
    assert query_of(api, code, "qr")["ref"] == [fan["platform_tags"]["direct"]]  # a channel not offered
    assert query_of(api, code)["ref"] == [fan["platform_tags"]["direct"]]


def test_the_fan_list_and_a_fans_export_show_their_tags(api, poller):
    campaign, key = api.create_campaign(platform=KICKSTARTER)
    fan = new_fan(api, campaign)
    poller.drain()
    (row,) = api.call("GET", f"/v1/campaigns/{campaign['id']}/referrers", token=key).data["referrers"]
    exported = api.call("GET", f"/v1/campaigns/{campaign['id']}/referrers/{fan['code']}/export", token=key).data
    assert row["platform_tag"] == exported["referrer"]["platform_tag"] == fan["platform_tag"]


def test_fan_facing_answers_say_nothing_of_tags(api, poller):
    campaign, _ = api.create_campaign(platform=KICKSTARTER, leaderboard="public", public_stats=True)
    fan = new_fan(api, campaign)
    poller.drain()
    widget = api.call("GET", f"/v1/campaigns/{campaign['id']}/widget")
    impact = api.call("GET", f"/v1/referrers/{fan['code']}")
    assert (widget.status_code, impact.status_code) == (200, 200)
    bodies = (widget.body + impact.body).decode()
    assert fan["platform_tag"] not in bodies and "platform" not in bodies


# Issued through the stream, listed for the creator -----------------------------------------------

def test_each_new_fans_tag_is_issued_once_counted_and_listed_with_json_and_csv(api, poller):
    from chalicelib.store import links_table, tag_registry

    campaign, key = api.create_campaign(platform=KICKSTARTER)
    fans = [new_fan(api, campaign, f"Fan {n}") for n in range(3)]
    assert listed(api, campaign, key) == []  # not counted yet
    poller.drain()
    expected = sorted(({"tag": fan["platform_tag"], "code": fan["code"]} for fan in fans), key=lambda r: r["code"])
    assert listed(api, campaign, key) == expected
    assert tag_registry.owners(campaign["id"], [fan["platform_tag"] for fan in fans]) == \
        {fan["platform_tag"]: (fan["code"], None) for fan in fans}
    assert links_table.get(fans[0]["code"]).platform_tags == {fans[0]["platform_tag"]}
    csv = tag_list(api, campaign, key, headers={"Accept": "text/csv"})
    assert csv.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert f"relais-{campaign['id']}-platform-tags.csv" in csv.headers["Content-Disposition"]
    assert csv.body.decode() == "\ufefftag,code,channel\r\n" + "".join(f"{r['tag']},{r['code']},\r\n" for r in expected)


def test_the_tag_list_as_csv_by_format_and_a_bad_format_is_400(api, poller):
    campaign, key = api.create_campaign(platform=PER_CHANNEL, channels=["x"])
    fan = new_fan(api, campaign)
    poller.drain()
    path = f"/v1/campaigns/{campaign['id']}/platform-tags"
    csv = api.call("GET", f"{path}?format=csv", token=key)
    tags = fan["platform_tags"]
    assert csv.body.decode().splitlines()[1:] == [f"{tags['x']},{fan['code']},x",
                                                  f"{tags['direct']},{fan['code']},direct"]
    assert listed(api, campaign, key) == [{"tag": tags["x"], "code": fan["code"], "channel": "x"},
                                          {"tag": tags["direct"], "code": fan["code"], "channel": "direct"}]
    bad = api.call("GET", f"{path}?format=xml", token=key)
    assert (bad.status_code, bad.data["error"]["code"]) == (400, "invalid_format")


def test_the_tag_list_takes_the_campaigns_key(api):
    campaign, key = api.create_campaign(platform=KICKSTARTER)
    other, other_key = api.create_campaign()
    path = f"/v1/campaigns/{campaign['id']}/platform-tags"
    assert api.call("GET", path).status_code == 401
    assert api.call("GET", path, token=other_key).status_code == 403
    assert api.call("GET", f"/v1/campaigns/{other['id']}/platform-tags", token=key).status_code == 403
    assert api.call("GET", path, token="test-operator-token").status_code == 200


def test_switching_the_platform_on_later_gives_every_fan_already_there_a_tag(api, poller):
    campaign, key = api.create_campaign()
    fans = [new_fan(api, campaign, f"Early {n}") for n in range(3)]
    poller.drain()
    assert listed(api, campaign, key) == []
    patch(api, campaign, key, {"platform": KICKSTARTER})
    late = new_fan(api, campaign, "Late")
    poller.drain()
    everyone = [*fans, late]
    assert sorted((row["code"], row["tag"]) for row in listed(api, campaign, key)) == \
        sorted((fan["code"], platform_tags.tag(fan["code"])) for fan in everyone)
    assert query_of(api, fans[0]["code"])["ref"] == [platform_tags.tag(fans[0]["code"])]


def test_issuing_every_fans_tags_again_writes_nothing_and_lists_the_same(api, poller):
    from chalicelib.aggregate import tagging
    from chalicelib.domain import campaigns

    campaign, key = api.create_campaign()
    for n in range(3):
        new_fan(api, campaign, f"Fan {n}")
    poller.drain()
    patch(api, campaign, key, {"platform": KICKSTARTER})
    poller.drain()
    before = listed(api, campaign, key)
    patch(api, campaign, key, {"platform": KICKSTARTER})  # the same setting again: a settings record again
    poller.drain()
    stored = campaigns.get_or_404(campaign["id"])
    assert tagging.every_fan(stored) == 0
    assert listed(api, campaign, key) == before and len(before) == 3


def test_a_fan_keeps_their_tag_through_off_on_and_another_platform_and_keeps_old_tags_per_channel(api, poller):
    campaign, key = api.create_campaign(platform=KICKSTARTER, channels=["email"])
    fan = new_fan(api, campaign)
    poller.drain()
    patch(api, campaign, key, {"platform": None})
    assert "ref" in query_of(api, fan["code"]) and query_of(api, fan["code"])["ref"] != [fan["platform_tag"]]
    patch(api, campaign, key, {"platform": {"name": "goteo"}})
    assert query_of(api, fan["code"])["ref"] == [fan["platform_tag"]]
    patch(api, campaign, key, {"platform": PER_CHANNEL})
    poller.drain()
    code = fan["code"]
    assert [(row["tag"], row.get("channel")) for row in listed(api, campaign, key)] == [
        (platform_tags.tag(code), None), (platform_tags.tag(code, "email"), "email"),
        (platform_tags.tag(code, "direct"), "direct")]


def test_a_channel_added_while_each_channel_has_tags_gets_its_tags(api, poller):
    campaign, key = api.create_campaign(platform=PER_CHANNEL, channels=["email"])
    fan = new_fan(api, campaign)
    poller.drain()
    patch(api, campaign, key, {"channels": ["email", "telegram"]})
    poller.drain()
    assert {row.get("channel") for row in listed(api, campaign, key)} == {"email", "telegram", "direct"}
    assert query_of(api, fan["code"], "telegram")["ref"] == [platform_tags.tag(fan["code"], "telegram")]


def test_an_erased_fan_keeps_their_tag(api, poller):
    campaign, key = api.create_campaign(platform=KICKSTARTER)
    fan = new_fan(api, campaign)
    poller.drain()
    erased = api.call("DELETE", f"/v1/campaigns/{campaign['id']}/referrers/{fan['code']}", token=key)
    assert erased.status_code == 204
    assert listed(api, campaign, key) == [{"tag": fan["platform_tag"], "code": fan["code"]}]


# One fan per tag, for good ------------------------------------------------------------------------

def test_a_tag_held_by_one_fan_is_never_given_to_another(api, poller):
    from datetime import UTC, datetime

    from chalicelib.store import tag_registry

    campaign, _ = api.create_campaign(platform=KICKSTARTER)
    one, other = new_fan(api, campaign, "One"), new_fan(api, campaign, "Other")
    poller.drain()
    with pytest.raises(tag_registry.TagTaken):
        tag_registry.issue(campaign["id"], other["code"], {None: one["platform_tag"]}, datetime.now(UTC))
    assert tag_registry.owners(campaign["id"], [one["platform_tag"]]) == {one["platform_tag"]: (one["code"], None)}
    assert not tag_registry.issue(campaign["id"], "NoSuchFan", {None: "abc"}, datetime.now(UTC))


def test_if_two_fans_ever_derived_one_tag_the_second_is_refused_and_the_batch_still_counts(api, poller, monkeypatch):
    from harness.inprocess import rollup

    campaign, key = api.create_campaign(platform=KICKSTARTER)
    monkeypatch.setattr(platform_tags, "tag", lambda code, channel=None: "samesame")
    first = new_fan(api, campaign, "First")
    poller.drain()
    second = new_fan(api, campaign, "Second")
    poller.drain()
    assert listed(api, campaign, key) == [{"tag": "samesame", "code": first["code"]}]
    assert rollup(campaign["id"]).get("referrers") == 2 and second["platform_tag"] == "samesame"


def test_issuing_a_fans_tags_twice_is_issuing_them_once(api, poller):
    from datetime import UTC, datetime, timedelta

    from chalicelib.store import keys, links_table, tag_registry

    campaign, _ = api.create_campaign()
    fan = new_fan(api, campaign)
    tags = platform_tags.tags_of(fan["code"], "fan_channel", ["x"])
    moment = datetime(2026, 12, 7, tzinfo=UTC)
    assert tag_registry.issue(campaign["id"], fan["code"], tags, moment)
    assert tag_registry.issue(campaign["id"], fan["code"], tags, moment + timedelta(hours=1))
    assert links_table.get(fan["code"]).platform_tags == set(tags.values())
    assert tag_registry.owners(campaign["id"], tags.values()) == \
        {tag: (fan["code"], channel) for channel, tag in tags.items()}
    assert links_table.get(keys.platform_tag_key(campaign["id"], tags["x"])).created_at == moment  # the first's


# The redirect's cost ------------------------------------------------------------------------------

@contextmanager
def dynamodb_calls():
    """Every DynamoDB operation the store's clients make, by name."""
    from chalicelib.store import clients

    made: list[str] = []

    def record(model, **_):
        made.append(model.name)

    watched = [clients.request(), clients.patient()]
    for client in watched:
        client.meta.events.register("before-call.dynamodb", record)
    try:
        yield made
    finally:
        for client in watched:
            client.meta.events.unregister("before-call.dynamodb", record)


@pytest.mark.parametrize("platform", [KICKSTARTER, PER_CHANNEL])
def test_a_warm_redirect_with_a_platform_makes_one_write_and_no_read(api, platform):
    campaign, _ = api.create_campaign(platform=platform)
    fan = new_fan(api, campaign)
    query_of(api, fan["code"], "whatsapp")  # warms the link's and the campaign's caches
    with dynamodb_calls() as made:
        for n in range(5):
            assert query_of(api, fan["code"], ("whatsapp", "qr")[n % 2])["ref"][0].startswith(fan["platform_tag"][:10])
    assert made == ["UpdateItem"] * 5
