"""Platform tags issued from the stream, once a batch's counters are applied.

A campaign with a ``platform`` gives each fan their tags (``hotpath.platform_tags``):

- a new fan (a new-referrer fact's ``INSERT``): their tags are recorded without a read;
- every fan, when a settings record says the platform changed (switched on, another
  ``tag_per``) or, with one tag per channel, the channels did (``domain.campaigns``): the
  fans' links are read 100 at a time and only those missing a tag are written to.

Both go through ``store.tag_registry.issue``, idempotent: a replayed batch, or one retried
after failing half-way, ends with the same tags. Which of the two sees a fan created while
the platform is being switched on does not matter: the campaign is read strongly
consistent after the fan's rollup is written, so either the new-fan step sees the platform,
or the settings record, handled after the switch, finds the fan's rollup.

The redirect never waits for any of this: it derives the tag it carries. What waits is the
creator's tag list (``GET …/platform-tags``), which lists the tags issued.
"""
from __future__ import annotations

from collections.abc import Iterable

from chalicelib.core.clock import utc_now
from chalicelib.core.observability import count, logger
from chalicelib.hotpath import platform_tags
from chalicelib.store import links_table, rollups_table, tag_registry
from chalicelib.store.records import Campaign
from chalicelib.store.stream import Change

READ_BATCH = 100


def _wanted(campaign: Campaign, code: str) -> dict[str | None, str]:
    platform = campaign.platform
    return platform_tags.tags_of(code, platform.tag_per, list(campaign.channels)) if platform else {}


def _issue(campaign: Campaign, code: str, tags: dict[str | None, str]) -> int:
    try:
        if tag_registry.issue(campaign.id, code, tags, utc_now()):
            return len(tags)
        count("SkippedEvents")
        logger.warning("platform tags of an unknown link", extra={"campaign": campaign.id, "code": code})
    except tag_registry.TagTaken as exc:  # derivation rules it out: a corrupted item, refused
        count("PlatformTagTaken")
        logger.error("platform tag held by another fan", extra={"campaign": campaign.id, "code": code,
                                                                "reason": str(exc)[:300]})
    return 0


def new_fans(campaign: Campaign, changes: Iterable[Change]) -> int:
    """Tags of the fans whose new-referrer facts ``changes`` insert; returns tags written."""
    if campaign.platform is None:
        return 0
    codes = sorted({change.new.code for change in changes
                    if change.new.kind == "referrer" and change.old is None and change.new.code})
    return sum(_issue(campaign, code, _wanted(campaign, code)) for code in codes)


def every_fan(campaign: Campaign) -> int:
    """Tags of every fan counted so far that lacks one; returns tags written."""
    if campaign.platform is None:
        return 0
    written = 0
    codes = [code for code, _ in rollups_table.every_referrer(campaign.id)]
    for start in range(0, len(codes), READ_BATCH):
        chunk = codes[start:start + READ_BATCH]
        links = links_table.get_many(chunk)
        for code in chunk:
            link = links.get(code)
            wanted = _wanted(campaign, code)
            if link is not None and not set(wanted.values()) <= (link.platform_tags or set()):
                written += _issue(campaign, code, wanted)
    return written
