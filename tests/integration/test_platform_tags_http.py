"""Platform tags over HTTP, on the real local stack: a Kickstarter campaign's clicks land with
each fan's tag in ``ref``; the creator downloads every tag as JSON and CSV; switching the
platform on later tags the fans already there; one tag per fan and channel, the same on
every click; bad settings are 400."""
from __future__ import annotations

import csv
import io
import re
from urllib.parse import parse_qs, urlsplit

import requests

from harness.user_agents import HUMAN_AGENTS

BROWSER = HUMAN_AGENTS["firefox-linux"]
TAG = re.compile(r"[a-z0-9-]{1,20}")


def _keyed(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def _landing(api: str, code: str, channel: str | None = None) -> dict:
    query = f"?c={channel}" if channel else ""
    response = requests.get(f"{api}/r/{code}{query}", headers={"User-Agent": BROWSER}, allow_redirects=False,
                            timeout=10)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    return {"where": f"{location.scheme}://{location.netloc}{location.path}", **parse_qs(location.query)}


def _tags(api: str, campaign_id: str, key: str, **params: str) -> requests.Response:
    response = requests.get(f"{api}/v1/campaigns/{campaign_id}/platform-tags", params=params, headers=_keyed(key),
                            timeout=10)
    assert response.status_code == 200, response.text
    return response


def test_a_kickstarter_campaigns_clicks_carry_each_fans_tag_and_the_creator_lists_them_as_csv(stack, poller):
    campaign, key = stack.create_campaign(target_url="https://www.kickstarter.com/projects/me/my-game",
                                          platform={"name": "kickstarter"})
    fans = [stack.new_fan(campaign["id"], name) for name in ("Ana", "Ben")]
    for fan in fans:
        assert TAG.fullmatch(fan["platform_tag"])
        landing = _landing(stack.api, fan["code"], "whatsapp")
        assert landing["where"] == "https://www.kickstarter.com/projects/me/my-game"
        assert landing["ref"] == [fan["platform_tag"]] and landing["utm_source"] == ["whatsapp"]
        assert _landing(stack.api, fan["code"])["ref"] == [fan["platform_tag"]]  # the same on every click
    assert len({fan["platform_tag"] for fan in fans}) == 2
    poller.drain()
    expected = sorted((fan["code"], fan["platform_tag"]) for fan in fans)
    assert sorted((row["code"], row["tag"]) for row in _tags(stack.api, campaign["id"], key).json()["tags"]) == expected
    download = _tags(stack.api, campaign["id"], key, format="csv")
    assert download.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0] == ["tag", "code", "channel"]
    assert sorted((code, tag) for tag, code, _ in rows[1:]) == expected


def test_switching_the_platform_on_later_tags_the_fans_already_there_per_channel(stack, poller):
    campaign, key = stack.create_campaign(channels=["telegram", "email"])
    codes = [stack.new_fan(campaign["id"], f"Early {n}")["code"] for n in range(3)]
    poller.drain()
    assert _tags(stack.api, campaign["id"], key).json() == {"tags": []}
    switched = requests.patch(f"{stack.api}/v1/campaigns/{campaign['id']}", headers=_keyed(key), timeout=10,
                              json={"platform": {"name": "other", "tag_param": "src", "tag_per": "fan_channel"}})
    assert switched.status_code == 200, switched.text
    poller.drain()
    rows = _tags(stack.api, campaign["id"], key).json()["tags"]
    assert sorted((row["code"], row["channel"]) for row in rows) == sorted(
        (code, channel) for code in codes for channel in ("telegram", "email", "direct"))
    assert len({row["tag"] for row in rows}) == 9
    by_fan_channel = {(row["code"], row["channel"]): row["tag"] for row in rows}
    landing = _landing(stack.api, codes[0], "telegram")
    assert landing["src"] == [by_fan_channel[(codes[0], "telegram")]]
    assert landing["ref"][0].startswith(codes[0] + ".")  # Relais's own signed ref stays beside it
    assert _landing(stack.api, codes[0], "x")["src"] == [by_fan_channel[(codes[0], "direct")]]


def test_a_bad_platform_is_400_invalid_platform_and_the_tag_list_needs_the_campaigns_key(stack):
    campaign, key = stack.create_campaign()
    for body in ({"name": "indiegogo"}, {"name": "kickstarter", "tag_param": "two words"}, ["kickstarter"]):
        response = requests.patch(f"{stack.api}/v1/campaigns/{campaign['id']}", json={"platform": body},
                                  headers=_keyed(key), timeout=10)
        assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_platform")
    anonymous = requests.get(f"{stack.api}/v1/campaigns/{campaign['id']}/platform-tags", timeout=10)
    assert anonymous.status_code == 401
