"""The hot path's reads: a link by code and its campaign, from in-process caches.

Codes are immutable, so a link is cached for the life of the container; a campaign for
60 seconds (a creator's edit reaches every container within a minute). Misses read
through the request-path client (``tables.request_client``), so a cold redirect builds
one botocore client, not two.
"""
from __future__ import annotations

import time
from typing import NamedTuple

from chalicelib.domain import ids
from chalicelib.store import tables
from chalicelib.errors import not_found
from chalicelib.store.schema import Campaign, Link

CAMPAIGN_TTL_SECONDS = 60
_CACHE_LIMIT = 50_000


class LinkInfo(NamedTuple):
    """The immutable part of a link: all the redirect needs."""

    code: str
    campaign_id: str
    depth: int


_links: dict[str, LinkInfo] = {}
_campaigns: dict[str, tuple[float, Campaign]] = {}


def link(code: str) -> LinkInfo | None:
    info = _links.get(code)
    if info is not None:
        return info
    if not ids.is_base62(code, 4, 16):
        return None
    item = tables.fast_get(Link, code=code)
    if item is None:
        return None
    info = LinkInfo(item.code, item.campaign_id, int(item.depth or 1))
    if len(_links) >= _CACHE_LIMIT:
        _links.clear()
    _links[code] = info
    return info


def campaign(campaign_id: str) -> Campaign | None:
    hit = _campaigns.get(campaign_id)
    now = time.monotonic()
    if hit is not None and now - hit[0] < CAMPAIGN_TTL_SECONDS:
        return hit[1]
    if not ids.is_base62(campaign_id, 1, 32):
        return None
    found = tables.fast_get(Campaign, id=campaign_id)
    if found is not None:
        _campaigns[campaign_id] = (now, found)
    return found


def resolve(code: str, what: str = "link") -> tuple[LinkInfo, Campaign]:
    """The link and its campaign, or a 404 naming ``what`` was not found."""
    info = link(code)
    found = campaign(info.campaign_id) if info else None
    if info is None or found is None:
        raise not_found(what)
    return info, found
