"""The two tokens e-mails carry, signed with keys derived from the server secret.

- A **sign-in token** (``s1.<campaign>.<code>.<expiry>.<nonce>.<mac>``): the fan's link in
  one campaign, for 30 minutes. Its signature proves Relais made it; that it is used only
  once is the store's part (a conditional write of its nonce: ``store.mail_records``).
- An **unsubscribe token** (``u1.<campaign>.<code>.<mac>``): stops that fan's e-mails. It
  does not expire: a message may be read months later.

Campaign ids and link codes are base62, so ``.`` never occurs inside a part. A token made
for one purpose never verifies for the other (each has its own key).
"""
from __future__ import annotations

import hmac
import secrets
import time
from typing import NamedTuple

from chalicelib.core.derived_keys import derived_key, mac

SIGNIN_SECONDS = 30 * 60
MAC_LENGTH = 32
MAX_LENGTH = 200


class SignIn(NamedTuple):
    campaign_id: str
    code: str
    expires_at: int
    nonce: str


def _mac(purpose: str, body: str) -> str:
    return mac(derived_key(f"mail-{purpose}"), body, MAC_LENGTH)


def _base62(part: str) -> bool:
    return 0 < len(part) <= 64 and part.isascii() and part.isalnum()


def signin(campaign_id: str, code: str, now: float | None = None) -> str:
    """A new sign-in token for ``code`` in ``campaign_id``, valid ``SIGNIN_SECONDS``."""
    expires = int((time.time() if now is None else now) + SIGNIN_SECONDS)
    body = f"s1.{campaign_id}.{code}.{expires}.{secrets.token_hex(12)}"
    return f"{body}.{_mac('signin', body)}"


def read_signin(token: object, now: float | None = None) -> SignIn | None:
    """What a sign-in token says, if Relais made it and it has not expired; else ``None``."""
    if not isinstance(token, str) or len(token) > MAX_LENGTH:
        return None
    parts = token.split(".")
    if len(parts) != 6 or parts[0] != "s1" or not all(_base62(part) for part in parts[1:5]):
        return None
    body, signature = token.rpartition(".")[0], parts[5]
    if not hmac.compare_digest(signature.encode(), _mac("signin", body).encode()) or not parts[3].isdigit():
        return None
    expires = int(parts[3])
    if expires <= (time.time() if now is None else now):
        return None
    return SignIn(parts[1], parts[2], expires, parts[4])


def unsubscribe(campaign_id: str, code: str) -> str:
    body = f"u1.{campaign_id}.{code}"
    return f"{body}.{_mac('unsubscribe', body)}"


def read_unsubscribe(token: object) -> tuple[str, str] | None:
    """``(campaign id, code)`` of an unsubscribe token Relais made; else ``None``."""
    if not isinstance(token, str) or len(token) > MAX_LENGTH:
        return None
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != "u1" or not all(_base62(part) for part in parts[1:3]):
        return None
    if not hmac.compare_digest(parts[3].encode(), _mac("unsubscribe", token.rpartition(".")[0]).encode()):
        return None
    return parts[1], parts[2]
