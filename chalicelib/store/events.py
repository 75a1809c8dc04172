"""Building event items: the one synchronous write behind every fact.

An event's partition key is ``<campaign>#<lane>``. Facts with an identity (a pledge id,
a visitor of the day, a new referrer) take the lane their identity hashes to, so the
same fact always lands on the same item; the others take a random lane.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from chalicelib import config
from chalicelib.store.schema import Event

LANES = 16


def lane_of(identity: str) -> int:
    return hashlib.blake2b(identity.encode(), digest_size=2).digest()[0] % LANES


def partition(campaign_id: str, lane: int) -> str:
    return f"{campaign_id}#{lane:02d}"


def expiry(now: datetime) -> datetime:
    return now + timedelta(days=config.event_ttl_days())


def new_event(campaign_id: str, sk: str, identity: str | None = None, **attributes) -> Event:
    """An event item in the lane of ``identity`` (random when none)."""
    lane = lane_of(identity) if identity is not None else secrets.randbelow(LANES)
    return Event(partition(campaign_id, lane), sk, campaign_id=campaign_id, **attributes)


def random_suffix() -> str:
    return secrets.token_urlsafe(12)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)
