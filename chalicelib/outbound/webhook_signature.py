"""The ``Relais-Signature`` header: Stripe's scheme, which creators already know.

``t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>``. The key is the whole
``rwh_…`` secret as UTF-8. ``t`` is the time of the attempt, so every retry is signed
afresh (the body, and its ``id``, stay the same). docs/webhooks.md has the receiver's side.
"""
from __future__ import annotations

import hashlib
import hmac
import time

from chalicelib.core import ids

HEADER = "Relais-Signature"
SECRET_PREFIX = "rwh_"
TOLERANCE_SECONDS = 300


def new_secret() -> str:
    """A webhook signing secret: ``rwh_`` and 32 base62 characters (190 bits)."""
    return SECRET_PREFIX + ids.random_base62(32)


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header's value for ``body`` sent at ``timestamp`` (default: now)."""
    moment = int(time.time()) if timestamp is None else timestamp
    return f"t={moment},v1={_mac(secret, moment, body)}"


def verify(secret: str, body: bytes, header: str | None, now: float | None = None,
           tolerance: int = TOLERANCE_SECONDS) -> bool:
    """What a receiver checks: one ``v1`` matches, and ``t`` is at most ``tolerance`` old."""
    parts = [part.partition("=") for part in (header or "").split(",")]
    stamps = [value for name, _, value in parts if name == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit():
        return False
    timestamp = int(stamps[0])
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = _mac(secret, timestamp, body)
    return any(name == "v1" and hmac.compare_digest(value, expected) for name, _, value in parts)
