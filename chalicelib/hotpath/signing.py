"""Keys derived from the server secret, the daily visitor salt, and signed ``ref`` values.

A ``ref`` rides on the creator's page URL after a redirect and comes back with a pledge.
It reads ``<code>.<channel><day>.<mac>`` (or with ``_`` for the dots, the form Stripe
keeps): the link code, the channel (one base-36
character), the click's day (days since 2020-01-01, base 36) and 8 characters of an
HMAC over the campaign id and all of that. A ref that does not verify, or belongs to
another campaign, attributes nothing.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import date, timedelta

from chalicelib import config
from chalicelib.domain.channels import CHANNEL_OF_REF_CODE, REF_CODES
from chalicelib.domain.ids import is_base62

EPOCH = date(2020, 1, 1)
_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def derived_key(purpose: str) -> bytes:
    return hmac.new(config.secret(), f"relais:{purpose}".encode(), hashlib.sha256).digest()


def _mac(key: bytes, message: str, length: int) -> str:
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:length]


def visitor_hash(ip: str, user_agent: str, code: str, day: str) -> str:
    """A keyed hash that tells repeat visitors of one link apart on one day, and nothing else.

    The salt is derived from the secret and the day, so yesterday's hashes cannot be
    joined to today's, and without the secret no hash can be tied back to an IP.
    """
    salt = derived_key(f"visitor:{day}")
    return _mac(salt, f"{ip}\n{user_agent}\n{code}", 22)


def _b36(number: int) -> str:
    out = ""
    while True:
        number, digit = divmod(number, 36)
        out = _B36[digit] + out
        if not number:
            return out


def make_ref(campaign_id: str, code: str, channel: str, day: date) -> str:
    body = f"{code}.{REF_CODES[channel]}{_b36((day - EPOCH).days)}"
    return f"{body}.{_mac(derived_key('ref'), f'{campaign_id}.{body}', 8)}"


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
    code, middle, mac = parts
    if not is_base62(code, 4, 16) or not 2 <= len(middle) <= 6 or len(mac) != 8:
        return None
    expected = _mac(derived_key("ref"), f"{campaign_id}.{code}.{middle}", 8)
    if not hmac.compare_digest(expected, mac):
        return None
    channel = CHANNEL_OF_REF_CODE.get(middle[0])
    if channel is None or any(c not in _B36 for c in middle[1:]):
        return None
    return code, channel, EPOCH + timedelta(days=int(middle[1:], 36))
