"""Generated from chalicelib/store/schema.py by ``make generate``: do not edit.

The typed records services deal in, and how the codec stores each attribute, as the
PynamoDB models declare them (``tests/unit/test_declared.py`` holds this file equal to
what :mod:`chalicelib.store.generate` writes from them).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.store.codec import Attribute


@dataclass(frozen=True)
class Milestone:
    """A campaign milestone: reached when fans have brought ``amount`` (goal currency)."""

    amount: int
    label: str


@dataclass(frozen=True)
class Reward:
    """A fan reward: unlocked by ``pledges`` confirmed pledges attributed to the fan's link."""

    pledges: int
    label: str


@dataclass(frozen=True)
class Platform:
    """Where the campaign's pledges happen (``domain.platforms``): the platform's ``name``, the
    query parameter its referral report reads (``tag_param``) and whether a fan has one tag or
    one per channel (``tag_per``: ``fan`` or ``fan_channel``)."""

    name: str
    tag_param: str
    tag_per: str


@dataclass(frozen=True)
class EmailSettings:
    """Fans by e-mail (``docs/email.md``): whether the campaign e-mails its fans (sign-in links,
    rewards unlocked), the sender's display name and the creator's Reply-To."""

    enabled: bool
    from_name: str
    reply_to: str = ""


@dataclass
class CampaignFields:
    """A campaign's stored fields; ``records.Campaign`` adds what is derived from them."""

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
    webhook_secret: str | None = None
    rewards: list[Reward] = field(default_factory=list)
    version: int = 0
    first_day: str | None = None
    platform: Platform | None = None
    email: EmailSettings | None = None


@dataclass(frozen=True)
class Link:
    """A fan's referral link (key ``code``), or an e-mail claim (key ``@<campaign>:<digest>``,
    ``target`` = the claimed link's code). ``rq`` is the token of the request that created it. A
    link keeps its fan's e-mail only sealed (``sealed_email``: encrypted and authenticated with
    a key derived from the server secret, ``domain.sealing``) and the key of its claim
    (``claim``), so that erasing the fan can delete the claim without reading the e-mail.
    ``depth`` is 1 for a fan nobody referred; ``hidden`` is the creator's moderation;
    ``erased_at`` says the fan's data was erased. ``platform_tags`` are the tags a hosted
    platform counts this fan's pledges under (``hotpath.platform_tags``): added, never removed.
    Each tag also has an item of its own, key ``#<campaign>:tag:<tag>``, ``target`` = the fan's
    code, ``channel`` the tag's channel (none for a fan's one tag): written only if absent or
    already the same fan's, so a tag names one fan (and channel) for good."""

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
    target: str | None = None
    rq: str | None = None
    platform_tags: set[str] | None = None
    channel: str | None = None
    notify: bool | None = None


@dataclass(frozen=True)
class Event:
    """An events item as the aggregator and the recount read it (any kind): ``lane`` comes from
    its key, ``visits`` is how many visits (or landings) it holds (a visitor's item holds each
    of the day's), ``repeat`` marks a visit beyond the item's token cap."""

    sk: str
    kind: str
    campaign_id: str
    lane: str
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
    repeat: bool | None = None
    source: str | None = None
    pledges: int | None = None
    prior_pledges: int | None = None
    prior_amount: int | None = None
    prior_currency: str | None = None
    visits: int = 1


CAMPAIGN: dict[str, Attribute] = {
    "id": Attribute("S", required=True),
    "name": Attribute("S", required=True),
    "target_url": Attribute("S", required=True),
    "allowed_origins": Attribute("LS", required=True, default=list),
    "goal_amount": Attribute("N"),
    "goal_currency": Attribute("S"),
    "locale": Attribute("S", required=True, default=lambda: "en"),
    "channels": Attribute("LS", required=True, default=list),
    "share_text": Attribute("S"),
    "attribution_model": Attribute("S", required=True, default=lambda: "last_click"),
    "window_days": Attribute("N", required=True, default=lambda: 30),
    "leaderboard": Attribute("S", required=True, default=lambda: "pseudonymous"),
    "public_stats": Attribute("BOOL", required=True, default=lambda: False),
    "ends_at": Attribute("DATE"),
    "milestones": Attribute("LM", required=True, default=list, members=(("amount", "N"), ("label", "S")),
        record=Milestone),
    "stripe_webhook_secret": Attribute("S"),
    "webhook_url": Attribute("S"),
    "webhook_secret": Attribute("S"),
    "rewards": Attribute("LM", required=True, default=list, members=(("pledges", "N"), ("label", "S")),
        record=Reward),
    "key_hash": Attribute("S", required=True),
    "created_at": Attribute("DATE", required=True),
    "updated_at": Attribute("DATE", required=True),
    "version": Attribute("N", required=True, default=lambda: 0),
    "first_day": Attribute("S"),
    "platform": Attribute("M", members=(("name", "S"), ("tag_param", "S"), ("tag_per", "S")),
        record=Platform),
    "email": Attribute("M", members=(("enabled", "BOOL"), ("from_name", "S"), ("reply_to", "S")),
        record=EmailSettings),
}


LINK: dict[str, Attribute] = {
    "code": Attribute("S", required=True),
    "campaign_id": Attribute("S", required=True),
    "name": Attribute("S"),
    "sealed_email": Attribute("S"),
    "claim": Attribute("S"),
    "referred_by": Attribute("S"),
    "depth": Attribute("N", required=True, default=lambda: 1),
    "hidden": Attribute("BOOL", required=True, default=lambda: False),
    "erased_at": Attribute("DATE"),
    "target": Attribute("S"),
    "rq": Attribute("S"),
    "created_at": Attribute("DATE", required=True),
    "platform_tags": Attribute("SS"),
    "channel": Attribute("S"),
    "notify": Attribute("BOOL"),
}


EVENT: dict[str, Attribute] = {
    "pk": Attribute("S", required=True),
    "sk": Attribute("S", required=True),
    "kind": Attribute("S", required=True),
    "campaign_id": Attribute("S", required=True),
    "code": Attribute("S"),
    "channel": Attribute("S"),
    "day": Attribute("S"),
    "visitor": Attribute("S"),
    "agent": Attribute("S"),
    "amount": Attribute("N"),
    "currency": Attribute("S"),
    "status": Attribute("S"),
    "goal_amount": Attribute("N"),
    "depth": Attribute("N"),
    "name": Attribute("S"),
    "referred_by": Attribute("S"),
    "hidden": Attribute("BOOL"),
    "erased": Attribute("BOOL"),
    "external_id": Attribute("S"),
    "rq": Attribute("S"),
    "erq": Attribute("S"),
    "occurred_at": Attribute("DATE"),
    "expires_at": Attribute("TTL"),
    "toks": Attribute("SS"),
    "repeat": Attribute("BOOL"),
    "source": Attribute("S"),
    "pledges": Attribute("N"),
    "prior_pledges": Attribute("N"),
    "prior_amount": Attribute("N"),
    "prior_currency": Attribute("S"),
}
