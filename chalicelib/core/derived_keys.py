"""Keys derived from the server secret, one per purpose, and the short MACs made with them.

Every keyed value Relais hands out or stores (signed refs, pagination cursors, sealed
e-mails, e-mail claim digests, pseudonyms) uses its own key, derived here from the one
server secret: a value made for one purpose never verifies for another.
"""
from __future__ import annotations

import base64
import hashlib
import hmac

from chalicelib.core import config


def derived_key(purpose: str) -> bytes:
    return hmac.new(config.secret(), f"relais:{purpose}".encode(), hashlib.sha256).digest()


def mac(key: bytes, message: str, length: int) -> str:
    """The first ``length`` characters of the base64url HMAC-SHA256 of ``message``."""
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:length]
