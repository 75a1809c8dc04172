"""The hot path's reads: a link by code and its campaign, from bounded in-process caches.

Codes are immutable, so a link is cached for the life of the container; a campaign for
60 seconds (a creator's edit reaches every container within a minute). Misses read
through the store's request-path client, so a cold redirect builds one botocore client.
Routes that must see a campaign's latest state (creators' routes) read it through
``domain.campaigns`` instead, from the same store function, uncached.
"""
from __future__ import annotations

import time
from collections import OrderedDict
from typing import NamedTuple

from chalicelib.core import ids
from chalicelib.core.errors import not_found
from chalicelib.store import campaigns_table, links_table
from chalicelib.store.records import Campaign

CAMPAIGN_TTL_SECONDS = 60
LINK_CACHE_SIZE = 50_000
CAMPAIGN_CACHE_SIZE = 1_000


class LinkInfo(NamedTuple):
    """The immutable part of a link: all the redirect needs."""

    code: str
    campaign_id: str
    depth: int


_links: OrderedDict[str, LinkInfo] = OrderedDict()
_campaigns: OrderedDict[str, tuple[float, Campaign]] = OrderedDict()


def _remember(cache: OrderedDict, key: str, value: object, limit: int) -> None:
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > limit:
        cache.popitem(last=False)


def link(code: str) -> LinkInfo | None:
    info = _links.get(code)
    if info is not None:
        return info
    if not ids.is_base62(code, 4, 16):
        return None
    found = links_table.get(code, request_path=True)
    if found is None:
        return None
    info = LinkInfo(found.code, found.campaign_id, found.depth)
    _remember(_links, code, info, LINK_CACHE_SIZE)
    return info


def campaign(campaign_id: str) -> Campaign | None:
    hit = _campaigns.get(campaign_id)
    now = time.monotonic()
    if hit is not None and now - hit[0] < CAMPAIGN_TTL_SECONDS:
        return hit[1]
    if not ids.is_base62(campaign_id, 1, 32):
        return None
    found = campaigns_table.get(campaign_id, request_path=True)
    if found is not None:
        _remember(_campaigns, campaign_id, (now, found), CAMPAIGN_CACHE_SIZE)
    return found


def forget_campaign(campaign_id: str) -> None:
    """Drop this container's copy of a campaign it has just changed: its next read is fresh
    (other containers' copies age out within ``CAMPAIGN_TTL_SECONDS``)."""
    _campaigns.pop(campaign_id, None)


def resolve(code: str, what: str = "link") -> tuple[LinkInfo, Campaign]:
    """The link and its campaign, or a 404 naming ``what`` was not found."""
    info = link(code)
    found = campaign(info.campaign_id) if info else None
    if info is None or found is None:
        raise not_found(what)
    return info, found
