"""A campaign's hosted platform (the ``platform`` setting) and its fans' platform tags, as the
creator sees them: validation, the tag list (JSON or CSV), what a fan's answers carry.

How a tag is made and why it needs no lookup: :mod:`chalicelib.hotpath.platform_tags`; how
it is issued: ``aggregate.tagging``; what is known of each platform: ``docs/platforms.md``.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from chalicelib.core import validation as v
from chalicelib.core.errors import bad_request
from chalicelib.hotpath import platform_tags
from chalicelib.store import links_table, rollups_table
from chalicelib.store.records import Campaign, Platform

DEFAULT_TAG_PARAMS: dict[str, str | None] = {
    "kickstarter": "ref",  # the contract; BackerClub's help: a Kickstarter referral link carries ref=<tag>
    "indiegogo": None,  # its documented referral code rides in the path (/reft/<account>/<code>), no parameter
    "ulule": None,  # orders keep tracking.source and .medium; which parameter fills them is not documented
    "gamefound": None,  # referral links are made in its dashboard; their URL's form is not documented
    "goteo": "ref",  # Goteo's source (src/Goteo/Util/Origins/Parser.php) keeps ?ref=<tag> as an origin tag
    "other": None,
}
"""Each platform and the query parameter its referral report is known to read, from the public
sources ``docs/platforms.md`` cites; ``None``: none is known, and ``tag_param`` is required."""
PLATFORMS = tuple(DEFAULT_TAG_PARAMS)
_TAG_PARAM = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,39}")
LIST_BATCH = 100


def _invalid(message: str) -> Exception:
    return bad_request("invalid_platform", message)


def parse(value: Any) -> Platform | None:
    """The ``platform`` setting: ``null`` (no platform), or ``{"name", "tag_param"?, "tag_per"?}``
    with ``tag_param`` defaulted per platform (required where none is known) and ``tag_per``
    ``fan`` by default."""
    if value is None:
        return None
    if not isinstance(value, dict) or "name" not in value or not set(value) <= {"name", "tag_param", "tag_per"}:
        raise _invalid('platform is null or {"name": …, "tag_param": …, "tag_per": "fan" | "fan_channel"}.')
    name = value["name"]
    if not isinstance(name, str) or name not in DEFAULT_TAG_PARAMS:
        raise _invalid(f"platform.name must be one of: {', '.join(PLATFORMS)}.")
    param = value.get("tag_param")
    if param is None:
        param = DEFAULT_TAG_PARAMS[name]
        if param is None:
            raise _invalid(f"platform.tag_param is required for {name}: no public source says which query "
                           "parameter its referral report reads (docs/platforms.md).")
    if not isinstance(param, str) or not _TAG_PARAM.fullmatch(param):
        raise _invalid("platform.tag_param must be a query parameter name: 1 to 40 letters, digits, "
                       "'_', '.' or '-', not starting with '.' or '-'.")
    tag_per = v.one_of(value.get("tag_per", platform_tags.FAN), platform_tags.TAG_PER, "invalid_platform",
                       "platform.tag_per")
    return Platform(name=name, tag_param=param, tag_per=tag_per)


def to_dict(platform: Platform | None) -> dict | None:
    if platform is None:
        return None
    return {"name": platform.name, "tag_param": platform.tag_param, "tag_per": platform.tag_per}


def fan_fields(campaign: Campaign, code: str) -> dict[str, Any]:
    """What the referrer answer and the creator's fan row say of a fan's tags: ``platform_tag``
    (``None`` without a platform; in ``fan_channel`` mode, the tag of a click without a
    channel) and, per channel, ``platform_tags`` in ``fan_channel`` mode."""
    platform = campaign.platform
    if platform is None:
        return {"platform_tag": None}
    if platform.tag_per == platform_tags.FAN:
        return {"platform_tag": platform_tags.tag(code)}
    tags = platform_tags.tags_of(code, platform.tag_per, list(campaign.channels))
    return {"platform_tag": tags.get(platform_tags.UNCHANNELLED), "platform_tags": tags}


def _chunks(campaign_id: str) -> Iterator[list[str]]:
    chunk: list[str] = []
    for code, _ in rollups_table.every_referrer(campaign_id):
        chunk.append(code)
        if len(chunk) == LIST_BATCH:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def issued(campaign: Campaign) -> list[dict]:
    """Every tag issued to the campaign's fans, by fan (code order), then tag: under any
    platform or ``tag_per`` the campaign has had (a tag is never withdrawn). A fan is listed
    once the aggregator has counted them, as in the fan list, and their tags issued
    (``aggregate.tagging``, in the same pass)."""
    rows = []
    for codes in _chunks(campaign.id):
        links = links_table.get_many(codes)
        for code in codes:
            link = links.get(code)
            for tag in sorted(link.platform_tags or ()) if link else ():
                parsed = platform_tags.parse(tag)
                channel = parsed[1] if parsed else None
                rows.append({"tag": tag, "code": code, **({"channel": channel} if channel else {})})
    return rows


def tag_list(campaign: Campaign) -> dict:
    """``GET …/platform-tags``: ``{"tags": [{"tag", "code", "channel"?}]}``."""
    return {"tags": issued(campaign)}
