"""Small, strict checks for JSON input. Each returns the clean value or raises a 400."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib.core.errors import bad_request

MAX_INT = 10**15  # minor units: far above any real pledge, far below float trouble in JS


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def integer(value: Any, code: str, what: str, minimum: int, maximum: int = MAX_INT) -> int:
    """A whole number; JSON does not tell ``19`` from ``19.0``, so neither do we."""
    if isinstance(value, float) and value.is_integer() and abs(value) <= MAX_INT:
        value = int(value)
    if not is_int(value) or not minimum <= value <= maximum:
        raise bad_request(code, f"{what} must be a whole number from {minimum} to {maximum}.")
    return value


def text(value: Any, code: str, what: str, min_length: int, max_length: int) -> str:
    if not isinstance(value, str):
        raise bad_request(code, f"{what} must be a string.")
    value = value.strip()
    if not min_length <= len(value) <= max_length:
        raise bad_request(code, f"{what} must be {min_length} to {max_length} characters long.")
    if any((ord(ch) < 32 and ch not in "\n\t") or 0x7F <= ord(ch) < 0xA0 for ch in value):
        raise bad_request(code, f"{what} must not contain control characters.")
    return value


def boolean(value: Any, code: str, what: str) -> bool:
    if not isinstance(value, bool):
        raise bad_request(code, f"{what} must be true or false.")
    return value


def one_of(value: Any, choices: tuple | frozenset, code: str, what: str) -> str:
    if not isinstance(value, str) or value not in choices:
        raise bad_request(code, f"{what} must be one of: {', '.join(sorted(choices))}.")
    return value


def timestamp(value: Any, code: str, what: str) -> datetime:
    """An ISO-8601 time; a time without offset is taken as UTC."""
    if not isinstance(value, str) or len(value) > 40:
        raise bad_request(code, f"{what} must be an ISO-8601 time.")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise bad_request(code, f"{what} must be an ISO-8601 time.") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if not 2000 <= parsed.year <= 2200:
        raise bad_request(code, f"{what} is out of range.")
    return parsed.astimezone(UTC)


def json_object(body: Any) -> dict:
    if not isinstance(body, dict):
        raise bad_request("invalid_body", "The body must be a JSON object.")
    return body


def no_unknown_fields(body: dict, allowed: frozenset | set) -> None:
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise bad_request("unknown_field", f"Unknown field(s): {', '.join(unknown)[:200]}.")


def iso(moment: datetime | None) -> str | None:
    """UTC ISO-8601 with a ``Z``, as every response writes times."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
