"""Referral links: creation (one link per e-mail per campaign, told to nobody).

A fan gives a name, optionally an e-mail and the code of the fan who referred them. The
e-mail is stored sealed (:mod:`chalicelib.domain.sealing`) on the first link that claims it
in the campaign; the claim is an item keyed by a keyed hash of the e-mail, with a key of
the campaign's own (:func:`claim_digest`: one person's claims in two campaigns share
nothing). Asking again with an e-mail that already has a link is *not* answered with that
link — that would tell anyone who knows an e-mail whether its owner signed up, and hand
them the fan's code and name.
Every caller gets ``201`` and a new link of their own, with the name they sent; the e-mail
is not stored a second time. A fan keeps their link in the browser that made it; on
another device they reopen their own short link's page or ask the creator, who sees fans'
e-mails (docs/privacy.md, "Getting a link back").
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any

from chalicelib.core import config, ids
from chalicelib.core import validation as v
from chalicelib.core.channels import share_urls
from chalicelib.core.clock import utc_now
from chalicelib.core.derived_keys import derived_key
from chalicelib.core.errors import bad_request
from chalicelib.domain import names, platforms, sealing
from chalicelib.hotpath import lookups
from chalicelib.hotpath.signing import code_of
from chalicelib.store import events_table, links_table
from chalicelib.store.records import Campaign, Link

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[a-zA-Z]{2,63}$")
CODE_ATTEMPTS = 5
NAME_LENGTH = 60


def claim_digest(campaign_id: str, email: str) -> str:
    """The keyed hash an e-mail's claim in this campaign is stored under.

    The key is derived per campaign, so the same e-mail gives unrelated digests in two
    campaigns: a dump of the links table cannot tell that one person is a fan of both.
    Claims made before the key was per campaign (one key for all) no longer match: the
    fan's next request claims the e-mail anew (docs/runbook.md, Upgrades between versions).
    """
    return hmac.new(derived_key(f"email-claim:{campaign_id}"), email.encode(), hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class NewFan:
    """A valid request for a link: the normalised name, the e-mail (lower case), the
    referrer's code as given, and whether the fan asked to be e-mailed when a reward unlocks."""

    name: str
    email: str | None
    referred_by: str | None
    notify: bool = False


def display_name(raw: Any, code: str = "invalid_name") -> str:
    """A name as it will be shown: 1 to 60 characters once normalised (``domain.names``)."""
    text = v.text(raw, code, "name", 1, NAME_LENGTH)
    name = names.normalise(text)
    if not name:
        raise bad_request(code, "name must contain visible characters.")
    return name


def parse_email(email: Any) -> str:
    """An e-mail address as stored and hashed: trimmed, lower case (400 ``invalid_email``)."""
    if not isinstance(email, str) or len(email) > 254 or not _EMAIL.match(email.strip()):
        raise bad_request("invalid_email", "email must be a valid e-mail address.")
    return email.strip().lower()


def parse(body: Any) -> NewFan:
    body = v.json_object(body)
    v.no_unknown_fields(body, {"name", "email", "referred_by", "notify"})
    name = display_name(body.get("name"))
    email = body.get("email")
    if email is not None:
        email = parse_email(email)
    notify = v.boolean(body.get("notify", False), "invalid_notify", "notify")
    if notify and email is None:
        raise bad_request("invalid_notify", "notify needs an email to write to.")
    referred_by = body.get("referred_by")
    if referred_by is not None:
        if not isinstance(referred_by, str) or len(referred_by) > 64:
            raise bad_request("invalid_referred_by", "referred_by must be a link code.")
        referred_by = code_of(referred_by)  # a full ref is accepted too
    return NewFan(name, email, referred_by, notify)


def create(campaign: Campaign, fan: NewFan) -> Link:
    """A new link for this fan, whatever their e-mail already has (see the module's doc).

    The depth is the referrer's plus one, capped at ``RELAIS_MAX_DEPTH``: a chain of
    self-referrals cannot grow the cascade (or its cost to read) without bound.
    """
    parent = lookups.link(fan.referred_by) if fan.referred_by else None
    if parent is not None and parent.campaign_id != campaign.id:
        parent = None
    depth = min(parent.depth + 1, config.max_depth()) if parent else 1
    digest = claim_digest(campaign.id, fan.email) if fan.email else None
    if digest and links_table.is_claimed(campaign.id, digest):
        digest = None  # one read either way: the answer's timing says nothing either
    now = utc_now()
    for _ in range(CODE_ATTEMPTS):
        link = Link(code=ids.link_code(), campaign_id=campaign.id, created_at=now, name=fan.name,
                    sealed_email=sealing.seal(fan.email) if fan.email and digest else None, claim=digest,
                    referred_by=parent.code if parent else None, depth=depth,
                    notify=True if fan.notify and digest else None)
        outcome = links_table.create(link, events_table.new_token(), digest)
        if outcome is links_table.Outcome.CREATED:
            return link
        if outcome is links_table.Outcome.EMAIL_TAKEN:
            digest = None  # a concurrent request with the same e-mail won the claim
    raise RuntimeError("could not draw a free link code")


def to_dict(link: Link, campaign: Campaign, base_url: str) -> dict:
    """What a fan gets back: their short link, QR code and prefilled share dialogs.

    The QR images come from the cached host when there is one (``RELAIS_ASSETS_URL``); the
    code they draw is the short link all the same.
    """
    short_url = f"{base_url}/r/{link.code}"
    images = f"{config.assets_url() or base_url}/r/{link.code}"
    return {
        "code": link.code,
        "name": link.name,
        "referred_by": link.referred_by,
        "short_url": short_url,
        "qr": {"svg": f"{images}/qr.svg", "png": f"{images}/qr.png"},
        "share_urls": share_urls(short_url, campaign.share_text or campaign.name, list(campaign.channels)),
        **platforms.fan_fields(campaign, link.code),
    }
