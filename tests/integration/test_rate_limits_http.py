"""Rate limits per network, over HTTP on the real local stack: the addresses come in
CloudFront's viewer-address header beside the origin secret, as the cached host sends them.
An IPv6 visitor is their /64, and a /48 has a wider limit of its own; an IPv4 visitor is
their address; a campaign takes a bounded number of new fans per minute, whoever sends them,
and says so in a metric."""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from chalicelib.core.config import FAN_CEILING, NETWORK_LIMIT_FACTOR, RATE_LIMITS
from chalicelib.hotpath.rate_limits import FAN_CEILING_METRIC
from harness.stack_process import ApiProcess, start_api
from harness.user_agents import HUMAN_AGENTS

ORIGIN_SECRET = "origin-secret-of-the-rate-tests"
BROWSER = HUMAN_AGENTS["firefox-linux"]
SMALL = 3
"""Each action's limit per visitor on the ``small`` API."""


@pytest.fixture(scope="module")
def default(stack, tmp_path_factory) -> Iterator[ApiProcess]:
    """An API container with the shipped limits (none set in its environment)."""
    api = start_api(stack, tmp_path_factory.mktemp("default-limits"), RELAIS_ORIGIN_SECRET=ORIGIN_SECRET,
                    RELAIS_RATE_LIMITS=None, RELAIS_FAN_CEILING=None, RELAIS_NETWORK_LIMIT_FACTOR=None,
                    PYTHONUNBUFFERED="1")  # its metric lines reach the log as they are written
    yield api
    api.close()


@pytest.fixture(scope="module")
def small(stack, tmp_path_factory) -> Iterator[ApiProcess]:
    """An API container whose visitors may write three times of each kind, and whose
    campaigns have room for many new fans a minute."""
    api = start_api(stack, tmp_path_factory.mktemp("small-limits"), RELAIS_ORIGIN_SECRET=ORIGIN_SECRET,
                    RELAIS_RATE_LIMITS=f"referrers={SMALL}/600,shares={SMALL}/600,landings={SMALL}/600",
                    RELAIS_FAN_CEILING="1000/60", RELAIS_NETWORK_LIMIT_FACTOR=None)
    yield api
    api.close()


LOW_CEILING = (8, 60)
"""New fans a campaign takes per window on the ``low_ceiling`` API: few enough requests that
they fall in one window even on a loaded machine (the shipped ceiling is the same code with
a larger number: ``test_the_shipped_ceiling_is_sixty_new_fans_a_minute``)."""


@pytest.fixture(scope="module")
def low_ceiling(stack, tmp_path_factory) -> Iterator[ApiProcess]:
    """An API container whose campaigns take 8 new fans a minute."""
    api = start_api(stack, tmp_path_factory.mktemp("low-ceiling"), RELAIS_ORIGIN_SECRET=ORIGIN_SECRET,
                    RELAIS_RATE_LIMITS=None, RELAIS_FAN_CEILING="{}/{}".format(*LOW_CEILING),
                    RELAIS_NETWORK_LIMIT_FACTOR=None, PYTHONUNBUFFERED="1")  # its metric lines reach the log
    yield api
    api.close()


def _from(address: str, port: int = 46532) -> dict[str, str]:
    """What the cached host adds to a viewer's request (infra/front.py)."""
    return {"CloudFront-Viewer-Address": f"{address}:{port}", "X-Relais-Origin": ORIGIN_SECRET}


def _in_one_window(seconds: int, needed: float) -> None:
    """Wait, if need be, until the current fixed window has ``needed`` seconds left, so that
    a test's requests all fall in one window of the limit."""
    left = seconds - time.time() % seconds
    if left < needed:
        time.sleep(left + 0.05)


def _new_fans(api: ApiProcess, campaign_id: str, addresses: list[str]) -> list[requests.Response]:
    return [requests.post(f"{api.url}/v1/campaigns/{campaign_id}/referrers", json={"name": f"Visitor {n}"},
                          headers=_from(address), timeout=10) for n, address in enumerate(addresses)]


def _statuses(answers: list[requests.Response]) -> list[int]:
    return [answer.status_code for answer in answers]


def _ref(stack, code: str) -> str:
    location = requests.get(f"{stack.api}/r/{code}?c=x", headers={"User-Agent": BROWSER}, allow_redirects=False,
                            timeout=10).headers["Location"]
    return parse_qs(urlsplit(location).query)["ref"][0]


def test_sixty_addresses_of_one_ipv6_64_make_twenty_new_fans_then_429(stack, default):
    visitor_limit, seconds = RATE_LIMITS["referrers"]
    campaign, _ = stack.create_campaign()
    addresses = [f"2001:db8:aa:1:{n:x}:{n * 7:x}:{n * 13:x}:{n + 1:x}" for n in range(60)]
    _in_one_window(seconds, 15)  # 60 new fans take about 3 s
    answers = _new_fans(default, campaign["id"], addresses)
    assert _statuses(answers) == [201] * visitor_limit + [429] * (60 - visitor_limit)
    refused = answers[visitor_limit]
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 0 < int(refused.headers["Retry-After"]) <= seconds
    # another /64, of another /48, is another visitor
    assert _statuses(_new_fans(default, campaign["id"], ["2001:db8:bb:1::1"])) == [201]


@pytest.mark.parametrize("action", ["shares", "landings"])
def test_shares_and_landings_from_addresses_of_one_64_are_one_visitors(stack, small, action):
    campaign, _ = stack.create_campaign()
    code = stack.new_fan(campaign["id"], "Shared")["code"]
    body = {"code": code, "channel": "x"} if action == "shares" else {"ref": _ref(stack, code)}
    _in_one_window(600, 15)
    statuses = [requests.post(f"{small.url}/v1/{action}", json=body,
                              headers={**_from(f"2001:db8:cc:7::{n + 1:x}"), "User-Agent": f"{BROWSER} {n}"},
                              timeout=10).status_code for n in range(SMALL + 2)]
    assert statuses == [202] * SMALL + [429] * 2


def test_different_64s_of_one_48_share_the_48s_wider_limit(stack, small):
    campaign, _ = stack.create_campaign()
    wide = SMALL * NETWORK_LIMIT_FACTOR
    _in_one_window(600, 15)
    # one new fan from each of wide + 5 /64s of 2001:db8:dd::/48: each /64 is under its own limit
    answers = _new_fans(small, campaign["id"], [f"2001:db8:dd:{n:x}::1" for n in range(wide + 5)])
    assert _statuses(answers) == [201] * wide + [429] * 5
    # a /64 of another /48, and an IPv4 visitor, are not that network
    assert _statuses(_new_fans(small, campaign["id"], ["2001:db8:de:1::1", "198.51.100.40"])) == [201, 201]


def test_an_ipv4_visitor_is_their_address_whichever_way_it_is_written(stack, small):
    campaign, _ = stack.create_campaign()
    _in_one_window(600, 15)
    one_visitor = ["198.51.100.7", "::ffff:198.51.100.7", "198.51.100.7", "::ffff:c633:6407"]
    assert _statuses(_new_fans(small, campaign["id"], one_visitor)) == [201] * SMALL + [429]
    # the neighbours in the same /24 are other visitors, each with their own limit
    neighbours = [f"198.51.100.{n}" for n in range(8, 8 + SMALL + 2)]
    assert _statuses(_new_fans(small, campaign["id"], neighbours)) == [201] * (SMALL + 2)


def test_the_shipped_ceiling_is_sixty_new_fans_a_minute():
    assert FAN_CEILING == (60, 60)


def test_a_campaign_takes_at_most_its_ceiling_of_new_fans_a_minute_whoever_sends_them(stack, low_ceiling):
    ceiling, seconds = LOW_CEILING
    campaign, _ = stack.create_campaign()
    other, _ = stack.create_campaign()
    # every new fan from another network: no visitor's or network's limit is near
    addresses = [f"2001:db8:{n + 0x100:x}::1" if n % 2 else f"203.0.113.{n}" for n in range(ceiling + 2)]
    _in_one_window(seconds, 40)  # 10 new fans take under a second; 40 s is room for a loaded machine
    answers = _new_fans(low_ceiling, campaign["id"], addresses)
    assert _statuses(answers) == [201] * ceiling + [429] * 2
    refused = answers[ceiling]
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 0 < int(refused.headers["Retry-After"]) <= seconds
    assert _statuses(_new_fans(low_ceiling, other["id"], ["203.0.113.250"])) == [201]  # another campaign's ceiling
    assert _ceiling_metrics(low_ceiling.log) == [1, 1]


def _ceiling_metrics(log: Path) -> list[float]:
    """The ``FanCeilingReached`` values the container's metric lines (EMF, as CloudWatch
    ingests them from a function's log) carried, with the service dimension the alarm watches."""
    values = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            emitted = json.loads(line)
        except ValueError:
            continue
        if not isinstance(emitted, dict) or FAN_CEILING_METRIC not in emitted:
            continue
        (directive,) = emitted["_aws"]["CloudWatchMetrics"]
        assert [metric["Name"] for metric in directive["Metrics"]] == [FAN_CEILING_METRIC]
        assert emitted["service"] == "relais"
        value = emitted[FAN_CEILING_METRIC]
        values.extend(value if isinstance(value, list) else [value])
    return values
