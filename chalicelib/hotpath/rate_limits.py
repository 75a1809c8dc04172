"""Abuse limits on what strangers write: new fans, shares and landings, per visitor and campaign.

A visitor (their address, as :func:`chalicelib.web.http.client_ip` reads it) may make
``RELAIS_RATE_LIMITS`` requests of each kind to one campaign per fixed window (by default
20 new fans, 60 shares and 120 landings per 10 minutes); beyond, ``429 rate_limited`` with
``Retry-After`` (seconds to the window's end). Clicks are never limited: a redirect always
redirects, and its one write stays one write.

**Why DynamoDB counters, not WAF rate rules.** The limit must hold across Lambda
containers, so it lives in shared storage: one counter item per visitor, campaign, action
and window (``store.rate_counters``), keyed by a hash of the address with the day's random salt
(no address is stored), expiring with its window. WAF was weighed: its rate-based rules
count per 1 to 10 minutes with a floor of 10 requests, cannot attach to an HTTP API (only
to CloudFront, REST APIs, load balancers), so a direct call to the API host would bypass
them, cannot tell campaigns apart, cost a web ACL and rules per month, and do not exist
under ``make dev``, where the same limits must hold for tests. A counter costs one
conditional write per limited request — what strangers write already costs one.

A counter that cannot be reached in the request path's short budget lets the request
through (``LimitUnavailable``): limits protect against abuse, they must not turn a
DynamoDB hiccup into refused fans.
"""
from __future__ import annotations

import time

from chalicelib.core import config
from chalicelib.core.clock import utc_now
from chalicelib.core.errors import ApiError
from chalicelib.core.observability import count, logger
from chalicelib.hotpath import signing
from chalicelib.store import events_table, rate_counters

EXPIRY_MARGIN = 60  # s after the window's end before a counter may be deleted


def rate_limited(retry_after: int) -> ApiError:
    error = ApiError(429, "rate_limited", f"Too many requests from here; retry in {retry_after} s.")
    error.headers.update({"Retry-After": str(retry_after), "Access-Control-Expose-Headers": "Retry-After"})
    return error


def check(campaign_id: str, action: str, address: str) -> None:
    """Take one of this visitor's slots for ``action`` on the campaign, or raise ``429``."""
    allowed_requests, seconds = config.rate_limits()[action]
    now = time.time()
    window = int(now // seconds)
    window_end = (window + 1) * seconds
    try:
        visitor = signing.visitor_key("limit", utc_now().date().isoformat(), address)
        allowed = rate_counters.take(visitor, campaign_id, action, window, allowed_requests, events_table.new_token(),
                              window_end + EXPIRY_MARGIN)
    except Exception as exc:
        count("LimitUnavailable")
        logger.warning("rate limit unavailable: the request goes through", extra={"error": repr(exc)[:300]})
        return
    if not allowed:
        count("RateLimited")
        raise rate_limited(max(1, int(window_end - now + 0.999)))
