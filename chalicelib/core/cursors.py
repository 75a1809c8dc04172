"""Opaque, signed pagination cursors.

A cursor carries where the next page starts (a position the store hands back, such as the
last campaign id of a page) and an HMAC over it and the listing it belongs to, keyed from
the server secret. A client can pass it back but not forge, edit or move it to another
listing: anything that does not verify is ``400 invalid_cursor``, never a storage error.
"""
from __future__ import annotations

import base64
import binascii
import hmac

from chalicelib.core.derived_keys import derived_key, mac
from chalicelib.core.errors import ApiError, bad_request

MAX_LENGTH = 512
_MAC_LENGTH = 22  # 132 bits of HMAC-SHA256, base64url


def _mac(listing: str, position: str) -> str:
    return mac(derived_key(f"cursor:{listing}"), position, _MAC_LENGTH)


def _body(position: str) -> str:
    return base64.urlsafe_b64encode(position.encode()).decode().rstrip("=")


def encode(listing: str, position: str) -> str:
    """The cursor a client sends back to get the page after ``position`` of ``listing``."""
    return f"{_body(position)}.{_mac(listing, position)}"


def decode(listing: str, cursor: str) -> str:
    """The position a cursor of ``listing`` carries; ``400 invalid_cursor`` if it does not verify."""
    if not isinstance(cursor, str) or not 0 < len(cursor) <= MAX_LENGTH or not cursor.isascii():
        raise _invalid()
    body, sep, mac = cursor.partition(".")
    if not sep or not body or len(mac) != _MAC_LENGTH:
        raise _invalid()
    try:
        position = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    except (binascii.Error, ValueError):  # bad padding or alphabet, or not UTF-8
        raise _invalid() from None
    # One spelling per cursor: the decoder skips stray characters, so compare its re-encoding.
    if not position or _body(position) != body or not hmac.compare_digest(mac, _mac(listing, position)):
        raise _invalid()
    return position


def _invalid() -> ApiError:
    return bad_request("invalid_cursor", "cursor is not one this listing gave out.")
