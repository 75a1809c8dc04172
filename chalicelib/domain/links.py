"""Referral links: creation (one per e-mail per campaign)."""
from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

from chalicelib import config
from chalicelib.domain import ids
from chalicelib.domain.channels import share_urls
from chalicelib.domain.clock import utc_now
from chalicelib.errors import bad_request
from chalicelib.hotpath import lookups
from chalicelib.hotpath.signing import code_of, derived_key
from chalicelib.store import events, links
from chalicelib.store.records import Campaign, Link
from chalicelib.web import validation as v

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[a-zA-Z]{2,63}$")
CODE_ATTEMPTS = 5


def _email_digest(email: str) -> str:
    return hmac.new(derived_key("email"), email.encode(), hashlib.sha256).hexdigest()[:32]


def _parse(body: Any) -> tuple[str, str | None, str | None]:
    body = v.json_object(body)
    v.no_unknown_fields(body, {"name", "email", "referred_by"})
    name = v.text(body.get("name"), "invalid_name", "name", 1, 60)
    email = body.get("email")
    if email is not None:
        if not isinstance(email, str) or len(email) > 254 or not _EMAIL.match(email.strip()):
            raise bad_request("invalid_email", "email must be a valid e-mail address.")
        email = email.strip().lower()
    referred_by = body.get("referred_by")
    if referred_by is not None:
        if not isinstance(referred_by, str) or len(referred_by) > 64:
            raise bad_request("invalid_referred_by", "referred_by must be a link code.")
        referred_by = code_of(referred_by)  # a full ref is accepted too
    return name, email, referred_by


def create(campaign: Campaign, body: Any) -> tuple[Link, bool]:
    """A fan's link; ``(link, False)`` when their e-mail already had one."""
    name, email, referred_by = _parse(body)
    parent = lookups.link(referred_by) if referred_by else None
    if parent is not None and parent.campaign_id != campaign.id:
        parent = None
    digest = _email_digest(email) if email else None
    if digest:
        existing = links.claimed(campaign.id, digest)
        if existing is not None:
            return existing, False
    now = utc_now()
    for _ in range(CODE_ATTEMPTS):
        link = Link(code=ids.link_code(), campaign_id=campaign.id, created_at=now, name=name, email=email,
                    referred_by=parent.code if parent else None, depth=parent.depth + 1 if parent else 1)
        outcome = links.create(link, events.new_token(), digest)
        if outcome is links.Outcome.CREATED:
            return link, True
        if outcome is links.Outcome.EMAIL_TAKEN and digest:
            existing = links.claimed(campaign.id, digest)  # a concurrent request with the same e-mail won
            if existing is not None:
                return existing, False
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
    }
