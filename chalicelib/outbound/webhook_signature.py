"""The ``Relais-Signature`` header: Stripe's scheme, which creators already know.

``t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>``. The key is the whole
``rwh_…`` secret as UTF-8. ``t`` is the time of the attempt, so every retry is signed
afresh (the body, and its ``id``, stay the same). docs/webhooks.md has the receiver's side.

The campaigns table keeps the secret sealed (:func:`sealed_secret`); it is unsealed only to
sign an attempt (:func:`secret_in_use`) and, once, to show it to the creator who set it.
"""
from __future__ import annotations

import hashlib
import hmac
import time

from chalicelib.core import ids, sealed_text

HEADER = "Relais-Signature"
SECRET_PREFIX = "rwh_"
TOLERANCE_SECONDS = 300
SEAL_PURPOSE = "webhook-secret"


def new_secret() -> str:
    """A webhook signing secret: ``rwh_`` and 32 base62 characters (190 bits)."""
    return SECRET_PREFIX + ids.random_base62(32)


def sealed_secret(secret: str) -> str:
    """The secret as the campaigns table keeps it: sealed, never in plain text."""
    return sealed_text.seal(secret, SEAL_PURPOSE)


def secret_in_use(stored: str | None) -> str | None:
    """The secret to sign with, from what the campaigns table keeps: unsealed, or a secret
    stored in plain text before secrets were sealed, as it is; ``None`` if there is none or
    it cannot be unsealed (the server secret changed: the creator sets the URL again)."""
    return sealed_text.unseal_stored(stored, SEAL_PURPOSE)


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
