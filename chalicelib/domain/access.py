"""Bearer tokens: the operator token and per-campaign API keys.

A campaign key reads ``rk_<campaign id>_<secret>``. Only its SHA-256 is stored; the
campaign id inside lets us tell a key of another campaign (403) from a wrong one (401)
with a single read, and hashes are compared in constant time.
"""
from __future__ import annotations

import hashlib
import hmac

from chalicelib.core import config, ids
from chalicelib.core.errors import forbidden, unauthorized

KEY_PREFIX = "rk_"


def is_operator(token: str | None) -> bool:
    expected = config.admin_token()
    return bool(token and expected and hmac.compare_digest(token.encode(), expected.encode()))


def require_operator(token: str | None, action: str = "create campaigns") -> None:
    if token is None:
        raise unauthorized()
    if is_operator(token):
        return
    if parse_key(token):
        raise forbidden(f"Only the operator token may {action}.")
    raise unauthorized("The token is not valid.")


def new_key(campaign_id: str) -> tuple[str, str]:
    """A fresh API key for a campaign and the hash to store."""
    key = f"{KEY_PREFIX}{campaign_id}_{ids.random_base62(32)}"
    return key, hash_key(key)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def parse_key(token: str) -> str | None:
    """The campaign id a well-formed key names, or ``None``."""
    if not token.startswith(KEY_PREFIX):
        return None
    campaign_id, sep, secret = token[len(KEY_PREFIX):].partition("_")
    if not sep or not ids.is_base62(campaign_id, 1, 32) or not ids.is_base62(secret, 32, 32):
        return None
    return campaign_id


def key_matches(token: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_key(token), stored_hash)
