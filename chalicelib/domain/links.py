"""Referral links: creation (one per e-mail per campaign) and the cached lookup the redirect uses."""
from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.domain import ids
from chalicelib.hotpath import lookups
from chalicelib.domain.channels import share_urls
from chalicelib.errors import bad_request
from chalicelib.store.events import new_event, utc_now
from chalicelib.store.schema import Campaign, Link
from chalicelib.hotpath.signing import code_of, derived_key
from chalicelib.web import validation as v

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[a-zA-Z]{2,63}$")


def _email_claim_key(campaign_id: str, email: str) -> str:
    digest = hmac.new(derived_key("email"), email.encode(), hashlib.sha256).hexdigest()[:32]
    return f"@{campaign_id}:{digest}"


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
    claim_key = _email_claim_key(campaign.id, email) if email else None
    if claim_key:
        existing = _claimed_link(claim_key)
        if existing is not None:
            return existing, False
    now = utc_now()
    depth = parent.depth + 1 if parent else 1
    for _ in range(5):
        link = Link(ids.link_code(), campaign_id=campaign.id, name=name, email=email,
                    referred_by=parent.code if parent else None, depth=depth, created_at=now)
        event = new_event(campaign.id, f"r#{link.code}", identity=link.code, kind="referrer",
                          code=link.code, name=name, depth=depth, referred_by=link.referred_by,
                          occurred_at=now, day=now.date().isoformat())
        try:
            with TransactWrite(connection=Link._get_connection().connection) as transaction:
                transaction.save(link, condition=Link.code.does_not_exist())
                if claim_key:
                    claim = Link(claim_key, campaign_id=campaign.id, target=link.code, created_at=now)
                    transaction.save(claim, condition=Link.code.does_not_exist())
                transaction.save(event)
        except TransactWriteError as exc:
            reasons = exc.cancellation_reasons or []
            if claim_key and len(reasons) > 1 and reasons[1] is not None:
                existing = _claimed_link(claim_key)  # a concurrent request with the same e-mail won
                if existing is not None:
                    return existing, False
            if reasons and reasons[0] is not None:
                continue  # code collision: draw another
            raise
        return link, True
    raise RuntimeError("could not draw a free link code")


def _claimed_link(claim_key: str) -> Link | None:
    try:
        claim = Link.get(claim_key, consistent_read=True)
        return Link.get(claim.target, consistent_read=True)
    except DoesNotExist:
        return None


def to_dict(link: Link, campaign: Campaign, base_url: str) -> dict:
    """What a fan gets back: their short link, QR code and prefilled share dialogs."""
    short_url = f"{base_url}/r/{link.code}"
    return {
        "code": link.code,
        "name": link.name,
        "referred_by": link.referred_by,
        "short_url": short_url,
        "qr": {"svg": f"{short_url}/qr.svg", "png": f"{short_url}/qr.png"},
        "share_urls": share_urls(short_url, campaign.share_text or campaign.name, list(campaign.channels)),
    }
