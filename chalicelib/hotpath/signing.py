"""The random daily visitor salt, visitors' keyed hashes, and signed ``ref`` values.

A ``ref`` rides on the creator's page URL after a redirect and comes back with a pledge.
It reads ``<code>.<channel><day>.<mac>`` (or with ``_`` for the dots, the form Stripe
keeps): the link code, the channel (one base-36
character), the click's day (days since 2020-01-01, base 36) and 8 characters of an
HMAC over the campaign id and all of that. A ref that does not verify, or belongs to
another campaign, attributes nothing.
"""
from __future__ import annotations

import hmac
import secrets
import time
from datetime import UTC, date, datetime, timedelta

from chalicelib.core.channels import CHANNEL_OF_REF_CODE, REF_CODES
from chalicelib.core.derived_keys import derived_key, mac
from chalicelib.core.ids import is_base62
from chalicelib.store import salts

EPOCH = date(2020, 1, 1)
_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


SALT_GRACE = timedelta(minutes=10)
"""A day's salt is used until 00:10 UTC the next day (containers' clocks differ a little),
then it is gone: readers ignore it and the aggregator retires it."""
_salt: tuple[str, bytes] | None = None  # (day, salt): this container's copy of today's salt


def salt_expiry(day: str) -> int:
    """When ``day``'s salt stops being usable (seconds since the epoch)."""
    start = datetime.fromisoformat(day).replace(tzinfo=UTC)
    return int((start + timedelta(days=1) + SALT_GRACE).timestamp())


def daily_salt(day: str) -> bytes:
    """The day's random salt, the same in every container: drawn by the first container that
    needs it (a conditional put: the others read the winner's), then cached for the day.

    Random rather than derived from the server secret: once the day's salt is gone, no
    secret can bring it back, so nobody can test a stored visitor hash against addresses.
    """
    global _salt
    cached = _salt
    if cached is not None and cached[0] == day:
        return cached[1]
    stored = salts.get(day, request_path=True)
    if stored is None:
        stored = salts.create(day, secrets.token_urlsafe(32), salt_expiry(day), request_path=True)
    _salt = (day, stored.encode())
    return _salt[1]


def retire_salt(day: str) -> bool:
    """Overwrite ``day``'s salt once it is past its grace (the aggregator calls this; a put of
    the same tombstone is harmless); ``False`` while the day's salt may still be in use."""
    if time.time() < salt_expiry(day):
        return False
    salts.retire(day, salt_expiry(day) + 2 * 86400)
    return True


def visitor_hash(ip: str, user_agent: str, code: str, day: str) -> str:
    """A keyed hash that tells repeat visitors of one link apart on one day, and nothing else.

    Keyed with the day's random salt (:func:`daily_salt`): hashes of different days cannot
    be joined, and once the salt is gone no hash can be tied back to an IP.
    """
    return mac(daily_salt(day), f"{ip}\n{user_agent}\n{code}", 22)


def visitor_key(purpose: str, day: str, *parts: str) -> str:
    """A keyed hash of a visitor's request for ``purpose`` (a share's identity, a rate-limit
    bucket), with the day's salt: unlinkable across days and purposes."""
    return mac(daily_salt(day), "\n".join((purpose, *parts)), 22)


def _b36(number: int) -> str:
    out = ""
    while True:
        number, digit = divmod(number, 36)
        out = _B36[digit] + out
        if not number:
            return out


def make_ref(campaign_id: str, code: str, channel: str, day: date) -> str:
    body = f"{code}.{REF_CODES[channel]}{_b36((day - EPOCH).days)}"
    return f"{body}.{mac(derived_key('ref'), f'{campaign_id}.{body}', 8)}"


def _parts(ref: str) -> list[str]:
    """The three parts of a ref written with dots, or with underscores.

    Stripe keeps only ``[A-Za-z0-9_-]`` in ``client_reference_id``, so the widget writes
    the dots as underscores there. Code and middle part never hold ``_``; the MAC may.
    """
    return ref.split(".") if "." in ref else ref.split("_", 2)


def code_of(ref: str) -> str:
    """The link code a ref (in either form) or a bare code names."""
    return _parts(ref)[0]


def parse_ref(campaign_id: str, ref: object) -> tuple[str, str, date] | None:
    """``(code, channel, day)`` of a genuine ref of this campaign, else ``None``."""
    if not isinstance(ref, str) or len(ref) > 64 or not ref.isascii():
        return None
    parts = _parts(ref)
    if len(parts) != 3:
        return None
    code, middle, given = parts
    if not is_base62(code, 4, 16) or not 2 <= len(middle) <= 6 or len(given) != 8:
        return None
    expected = mac(derived_key("ref"), f"{campaign_id}.{code}.{middle}", 8)
    if not hmac.compare_digest(expected, given):
        return None
    channel = CHANNEL_OF_REF_CODE.get(middle[0])
    if channel is None or any(c not in _B36 for c in middle[1:]):
        return None
    return code, channel, EPOCH + timedelta(days=int(middle[1:], 36))
