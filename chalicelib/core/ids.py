"""Unguessable identifiers from the OS's cryptographic random source."""
from __future__ import annotations

import secrets
import string

BASE62 = string.digits + string.ascii_letters


def random_base62(length: int) -> str:
    return "".join(secrets.choice(BASE62) for _ in range(length))


def is_base62(value: object, min_length: int = 1, max_length: int = 64) -> bool:
    return (
        isinstance(value, str)
        and min_length <= len(value) <= max_length
        and value.isascii()
        and value.isalnum()
    )


def campaign_id() -> str:
    return random_base62(12)


def link_code() -> str:
    """8 base62 characters: 47 bits, so guessing a live code is hopeless."""
    return random_base62(8)
