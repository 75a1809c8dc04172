"""The typed records services deal in. The store converts them to and from items."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

COUNTERS = ("shares", "previews", "clicks", "unique_clicks", "landed", "pledges")
"""The counts every rollup level carries (plus money, per currency)."""

CHANNEL_COUNTERS = ("shares", "clicks", "pledges")
"""What a campaign's ``total`` item also counts per channel: a platform's channels then read
from one item per campaign (``read.insights``) rather than from every day item."""


def channel_counter(channel: str, counter: str) -> str:
    """The ``total`` item's counter of one channel, e.g. ``ch_whatsapp_clicks``."""
    return f"ch_{channel}_{counter}"


@dataclass(frozen=True)
class Milestone:
    amount: int
    label: str


@dataclass(frozen=True)
class Reward:
    """A fan reward: unlocked by ``pledges`` confirmed pledges attributed to the fan's link."""

    pledges: int
    label: str


@dataclass
class Campaign:
    id: str
    name: str
    target_url: str
    key_hash: str
    created_at: datetime
    updated_at: datetime
    allowed_origins: list[str] = field(default_factory=list)
    goal_amount: int | None = None
    goal_currency: str | None = None
    locale: str = "en"
    channels: list[str] = field(default_factory=list)
    share_text: str | None = None
    attribution_model: str = "last_click"
    window_days: int = 30
    leaderboard: str = "pseudonymous"
    public_stats: bool = False
    ends_at: datetime | None = None
    milestones: list[Milestone] = field(default_factory=list)
    stripe_webhook_secret: str | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None  # signs outbound webhooks; write-only, like the Stripe secret
    rewards: list[Reward] = field(default_factory=list)

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
class Link:
    """A fan's referral link. ``depth`` is 1 for a fan nobody referred.

    ``sealed_email`` is the fan's e-mail encrypted (``domain.sealing``), never the e-mail;
    ``claim`` the key part of its one-link-per-e-mail claim; ``hidden`` the creator's
    moderation; ``erased_at`` when the fan's name and e-mail were erased."""

    code: str
    campaign_id: str
    created_at: datetime
    name: str | None = None
    sealed_email: str | None = None
    claim: str | None = None
    referred_by: str | None = None
    depth: int = 1
    hidden: bool = False
    erased_at: datetime | None = None


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


@dataclass(frozen=True)
class Event:
    """An events-table item as the aggregator and the recount read it (any kind)."""

    campaign_id: str
    lane: str
    sk: str
    kind: str
    code: str | None = None
    channel: str | None = None
    day: str | None = None
    visitor: str | None = None
    agent: str | None = None
    amount: int | None = None
    currency: str | None = None
    status: str | None = None
    goal_amount: int | None = None
    depth: int | None = None
    name: str | None = None
    referred_by: str | None = None
    hidden: bool | None = None
    erased: bool | None = None
    external_id: str | None = None
    occurred_at: datetime | None = None
    visits: int = 1
    """How many visits (or landings) the item holds: a visitor's item holds each of the day's."""
    repeat: bool = False
    """A visitor's visit stored on its own (beyond the token cap): a click, not a new visitor."""


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
