"""Abuse limits on what strangers write: new fans, shares and landings, per visitor and campaign.

A visitor may make ``RELAIS_RATE_LIMITS`` requests of each kind to one campaign per fixed
window (by default 20 new fans, 60 shares and 120 landings per 10 minutes); beyond,
``429 rate_limited`` with ``Retry-After`` (seconds to the window's end). Clicks are never
limited: a redirect always redirects, and its one write stays one write.

**Who is one visitor** (:func:`networks`; the address as :func:`chalicelib.web.http.client_ip`
reads it). An IPv4 address is one visitor. An IPv6 address is not: every home, phone and
server gets a whole /64 (2^64 addresses), so the /64 is the visitor. A home or an office
usually gets a /56 or a /48 of them, so the /48 has a limit of its own,
``RELAIS_NETWORK_LIMIT_FACTOR`` (5) times a visitor's; a request takes a slot of each, the
/64 first (a /64 over its limit takes nothing from its /48). An IPv4-mapped IPv6 address
(``::ffff:198.51.100.7``) is its IPv4 address; a zone id (``fe80::1%eth0``) is dropped;
an address that cannot be read (none of the front's ever is) counts in one bucket shared by
all such requests, so that garbling an address is never a way around the limits.

**Whatever the address**, a campaign takes at most ``RELAIS_FAN_CEILING`` new fans per
window (60 per minute): an attacker with many networks still cannot inflate a campaign's
fans faster than that. Reaching it answers ``429 rate_limited`` too, logs the campaign and
counts ``FanCeilingReached``, which an alarm watches (``infra/stack.py``).

**Why DynamoDB counters, not WAF rate rules.** The limit must hold across Lambda
containers, so it lives in shared storage: one counter item per visitor (or network),
campaign, action and window (``store.rate_counters``), keyed by a hash of the address or
prefix with the day's random salt (no address is stored), expiring with its window. WAF was
weighed: its rate-based rules count per 1 to 10 minutes with a floor of 10 requests, cannot
attach to an HTTP API (only to CloudFront, REST APIs, load balancers), so a direct call to
the API host would bypass them, cannot tell campaigns apart, cost a web ACL and rules per
month, and do not exist under ``make dev``, where the same limits must hold for tests. A
counter costs one conditional write per limited request and tier (an IPv4 share: 1; an
IPv6 new fan: 3).

A counter that cannot be reached in the request path's short budget lets the request
through (``LimitUnavailable``): limits protect against abuse, they must not turn a
DynamoDB hiccup into refused fans.
"""
from __future__ import annotations

import ipaddress
import time

from chalicelib.core import config
from chalicelib.core.clock import utc_now
from chalicelib.core.errors import ApiError
from chalicelib.core.observability import count, logger
from chalicelib.hotpath import signing
from chalicelib.store import events_table, rate_counters

EXPIRY_MARGIN = 60  # s after the window's end before a counter may be deleted
VISITOR_PREFIX = 64
"""An IPv6 visitor: the /64 every host, phone or home network is given."""
NETWORK_PREFIX = 48
"""An IPv6 site: the /48 (or the /56 inside it) a home or an office is given."""
UNREADABLE = "unreadable"
"""The one bucket of every address that cannot be read."""
FAN_CEILING_METRIC = "FanCeilingReached"
"""Counted for each new fan refused by the campaign's ceiling (``infra.stack`` alarms on it)."""
CEILING_ACTION = "referrers"


def networks(address: str) -> tuple[str, ...]:
    """What a request from ``address`` counts against, narrowest first: an IPv4 address alone;
    an IPv6 address's /64, then its /48."""
    text = address.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        parsed = ipaddress.ip_address(text)
    except ValueError:
        return (UNREADABLE,)
    if isinstance(parsed, ipaddress.IPv4Address):
        return (str(parsed),)
    if parsed.ipv4_mapped is not None:
        return (str(parsed.ipv4_mapped),)
    bare = ipaddress.IPv6Address(int(parsed))  # without its zone id, if any
    return tuple(str(ipaddress.IPv6Network((bare, prefix), strict=False)) for prefix in (VISITOR_PREFIX,
                                                                                        NETWORK_PREFIX))


def rate_limited(retry_after: int, message: str = "Too many requests from here") -> ApiError:
    error = ApiError(429, "rate_limited", f"{message}; retry in {retry_after} s.")
    error.headers.update({"Retry-After": str(retry_after), "Access-Control-Expose-Headers": "Retry-After"})
    return error


def check(campaign_id: str, action: str, address: str) -> None:
    """Take one of this visitor's slots for ``action`` on the campaign (and one of its
    network's, and of the campaign's ceiling for new fans), or raise ``429``."""
    allowed_requests, seconds = config.rate_limits()[action]
    limits = (allowed_requests, allowed_requests * config.network_limit_factor())
    now = time.time()
    token = events_table.new_token()  # one per request: a retried write finds it and counts once
    window = int(now // seconds)
    window_end = (window + 1) * seconds
    try:
        day = utc_now().date().isoformat()
        for network, limit in zip(networks(address), limits, strict=False):
            visitor = signing.visitor_key("limit", day, network)
            if not rate_counters.take(visitor, campaign_id, action, window, limit, token, window_end + EXPIRY_MARGIN):
                count("RateLimited")
                raise rate_limited(_seconds_left(window_end, now))
        if action == CEILING_ACTION:
            _take_ceiling(campaign_id, token, now)
    except ApiError:
        raise
    except Exception as exc:
        count("LimitUnavailable")
        logger.warning("rate limit unavailable: the request goes through", extra={"error": repr(exc)[:300]})


def _take_ceiling(campaign_id: str, token: str, now: float) -> None:
    allowed_requests, seconds = config.fan_ceiling()
    window = int(now // seconds)
    window_end = (window + 1) * seconds
    if not rate_counters.take_ceiling(campaign_id, CEILING_ACTION, window, allowed_requests, token,
                                      window_end + EXPIRY_MARGIN):
        count(FAN_CEILING_METRIC)
        logger.warning("campaign fan ceiling reached", extra={"campaign": campaign_id, "ceiling": allowed_requests,
                                                              "seconds": seconds})
        raise rate_limited(_seconds_left(window_end, now), "This campaign is taking too many new fans at once")


def _seconds_left(window_end: float, now: float) -> int:
    return max(1, int(window_end - now + 0.999))
