"""The typed records services deal in. The store converts them to and from items.

The records that mirror a table (``Campaign``'s fields, ``Link``, ``Event``, ``Milestone``,
``Reward``, ``Platform``) are generated from the table declarations (:mod:`chalicelib.store.declared`);
those here are the views of one kind of events item (``Fact``, ``Pledge``), of a listing
(``CampaignSummary``) or of a rollup item's name (``RollupId``), and the counters' names.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.store.declared import CampaignFields, Event, Link, Milestone, Platform, Reward

__all__ = ["Campaign", "CampaignSummary", "Event", "Fact", "Link", "Milestone", "Platform", "Pledge", "Reward",
           "RollupId"]

FACT_COUNTERS = ("shares", "previews", "clicks", "unique_clicks", "landed")
"""What facts (shares, previews, visits, landings) count at every rollup level. The counters
are named here, and only here: rollups, the recount, the leaderboard, stats and their CSV
take their lists from these tuples."""

COUNTERS = (*FACT_COUNTERS, "pledges")
"""The counts every rollup level carries (plus money, per currency)."""

FAN_COUNTERS = ("clicks", "unique_clicks", "landed", "pledges")
"""What a fan's row shows on the leaderboard and in stats (``BoardEntry`` has a field of each)."""

CHANNEL_COUNTERS = ("shares", "clicks", "pledges")
"""What a campaign's ``total`` item also counts per channel: a platform's channels then read
from one item per campaign (``read.insights``) rather than from every day item."""


REPORTED_PREFIX = "rep_"
"""The copy of a counter that holds what platform imports brought (``rep_pledges``,
``rep_amt_EUR``): the ``reported`` part of stats."""


def channel_counter(channel: str, counter: str) -> str:
    """The ``total`` item's counter of one channel, e.g. ``ch_whatsapp_clicks``."""
    return f"ch_{channel}_{counter}"


class Campaign(CampaignFields):
    """A campaign: its stored fields (:class:`chalicelib.store.declared.CampaignFields`) and
    what is derived from them."""

    def goal(self) -> dict | None:
        if self.goal_currency is None:
            return None
        return {"amount": int(self.goal_amount or 0), "currency": self.goal_currency}

    def milestone_progress(self, fan_amount: int) -> list[dict]:
        """Each milestone, reached when fans have brought its amount (goal currency)."""
        return [{"amount": m.amount, "label": m.label, "reached": fan_amount >= m.amount} for m in self.milestones]


@dataclass(frozen=True)
class CampaignSummary:
    """What a listing of campaigns reads of each: enough to name it."""

    id: str
    name: str
    created_at: datetime


@dataclass(frozen=True)
class Fact:
    """A visit, preview or share: one item per request, keyed by the request's token, so
    writing it twice (a retry, a replay from the fallback queue) stores it once."""

    kind: str  # "visit" | "preview" | "share" | "landing"
    campaign_id: str
    code: str
    channel: str
    day: str
    token: str
    visitor: str | None = None  # keyed hash of the visitor (visits only; None under DNT/GPC)
    agent: str | None = None


@dataclass(frozen=True)
class Pledge:
    """A stored pledge. ``code``/``channel``/``depth`` are its attribution (``code`` None: direct)."""

    campaign_id: str
    pledge_id: str
    amount: int
    currency: str
    status: str
    occurred_at: datetime
    goal_amount: int = 0
    channel: str = "direct"
    code: str | None = None
    depth: int | None = None
    external_id: str | None = None
    request_token: str | None = None
    source: str | None = None  # api | stripe | import (None: stored before sources were recorded)
    end_token: str | None = None  # the request that refunded or cancelled it, when it said (an import row)


def visitor_identity(day: str, code: str, channel: str, visitor: str) -> str:
    """What a visit is unique by: one visitor, one link, one channel, one UTC day."""
    return f"{day}|{code}|{channel}|{visitor}"


@dataclass(frozen=True, order=True)
class RollupId:
    """Which rollup item: the campaign's ``total``, a ``day`` and channel, a ``referrer``,
    a cascade ``depth`` or the ``direct`` pledges. The store maps it to a key."""

    level: str
    day: str = ""
    channel: str = ""
    code: str = ""
    depth: int = 0

    def __str__(self) -> str:
        detail = {"day": f" {self.day} {self.channel}", "referrer": f" {self.code}", "depth": f" {self.depth}"}
        return self.level + detail.get(self.level, "")


TOTAL = RollupId("total")
DIRECT = RollupId("direct")


def day_id(day: str, channel: str) -> RollupId:
    return RollupId("day", day=day, channel=channel)


def referrer_id(code: str) -> RollupId:
    return RollupId("referrer", code=code)


def depth_id(depth: int) -> RollupId:
    return RollupId("depth", depth=depth)
