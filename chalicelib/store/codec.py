"""Items ↔ plain values, through the models' public ``serialize``/``from_raw_data``.

PynamoDB knows how each declared attribute is stored (dates, lists, maps, TTL); these
two functions are the only place that relies on it. Counters of rollup items are not
declared (their names vary), so :func:`number` and :func:`text` read those.
"""
from __future__ import annotations

import re
from typing import Any

from pynamodb.models import Model

_INTEGER = re.compile(r"-?\d{1,38}")


def to_item(model: type[Model], values: dict[str, Any]) -> dict:
    """The DynamoDB item of ``values`` (declared attributes only; ``None`` left out)."""
    return model(**{name: value for name, value in values.items() if value is not None}).serialize()


def from_item(model: type[Model], item: dict) -> dict[str, Any]:
    """The declared attributes of an item as Python values (absent ones are ``None``)."""
    instance = model.from_raw_data(item)
    return {name: getattr(instance, name) for name in model.get_attributes()}


def same_item(one: dict | None, other: dict | None) -> bool:
    """Whether two item images hold the same values: a set (``SS``, ``NS``, ``BS``) has no
    order, and DynamoDB may list one set's members in any order from one read to the next."""
    def canonical(item: dict | None) -> dict | None:
        if item is None:
            return None
        return {name: {kind: sorted(members) if kind in ("SS", "NS", "BS") else members
                       for kind, members in typed.items()} for name, typed in item.items()}
    return canonical(one) == canonical(other)


def number(typed: Any) -> int:
    """An ``{"N": "…"}`` whole number; anything else (``1e309``, ``"x"``, a float) is a ValueError."""
    if not isinstance(typed, dict) or set(typed) != {"N"} or not _INTEGER.fullmatch(str(typed["N"])):
        raise ValueError(f"not a whole number: {str(typed)[:60]}")
    return int(typed["N"])


def optional_number(typed: Any) -> int:
    """A counter that may not exist yet (0)."""
    return 0 if typed is None else number(typed)


def text(typed: Any) -> str | None:
    if typed is None or (isinstance(typed, dict) and typed.get("NULL")):
        return None
    if not isinstance(typed, dict) or set(typed) != {"S"} or not isinstance(typed["S"], str):
        raise ValueError(f"not a string: {str(typed)[:60]}")
    return typed["S"]


def s(value: str) -> dict:
    return {"S": value}


def n(value: int) -> dict:
    return {"N": str(value)}
