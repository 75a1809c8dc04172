"""Items ↔ plain values, by each table's declared attribute types, without PynamoDB.

The tables are declared once, as PynamoDB models (:mod:`chalicelib.store.schema`).
Converting items does not import PynamoDB: that import alone cost a cold redirect about
10 ms of a ~320 ms budget. How each attribute is stored (dates as PynamoDB's UTC strings,
TTLs as epoch seconds, maps and lists of maps) is generated from the models into
:mod:`chalicelib.store.declared`; ``tests/unit/test_codec.py`` fails if an item differs by
one byte from what the model's own ``serialize`` gives, either way.

Counters of rollup items are not declared (their names vary): :func:`number` and
:func:`text` read those.
"""
from __future__ import annotations

import calendar
import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

_INTEGER = re.compile(r"-?\d{1,38}")
_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S.%f+0000"
_TAGS = {"S": "S", "DATE": "S", "N": "N", "TTL": "N", "BOOL": "BOOL", "SS": "SS", "LS": "L", "LM": "L", "M": "M"}
"""The DynamoDB type tag each attribute kind is stored under."""


class Attribute(NamedTuple):
    """How one attribute is stored: ``kind`` is ``S``, ``N``, ``BOOL``, ``SS``, ``DATE`` (a
    UTC datetime as a string), ``TTL`` (a datetime as epoch seconds), ``LS`` (a list of
    strings), ``M`` (a map whose members are ``members``, read back as a ``record``) or
    ``LM`` (a list of such maps, read back as ``record``s)."""

    kind: str
    required: bool = False
    default: Callable[[], Any] | None = None
    members: tuple[tuple[str, str], ...] = ()
    record: Callable[..., Any] | None = None


def _epoch(value: datetime) -> int:
    if value.tzinfo is None:
        raise ValueError("a TTL needs a timezone-aware datetime")
    return calendar.timegm(value.utctimetuple())


def _encode(kind: str, value: Any, members: tuple[tuple[str, str], ...] = ()) -> dict | None:
    """The typed value of ``value`` (``None`` for an empty set: DynamoDB has none)."""
    if kind == "S":
        return {"S": value}
    if kind == "N":
        return {"N": json.dumps(value)}
    if kind == "BOOL":
        return {"BOOL": bool(value)}
    if kind == "DATE":
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return {"S": moment.astimezone(UTC).strftime(_DATE_FORMAT).zfill(31)}
    if kind == "TTL":
        return {"N": json.dumps(_epoch(value))}
    if kind == "SS":
        return {"SS": list(value)} if value else None
    if kind == "LS":
        return {"L": [{"S": member} for member in value]}
    if kind == "LM":
        return {"L": [_encode("M", element, members) for element in value]}
    if kind == "M":
        return {"M": {name: _required(_typed_member(member_kind, _member(value, name)), name)
                      for name, member_kind in members}}
    raise ValueError(f"not an attribute kind: {kind}")


def _member(element: Any, name: str) -> Any:
    """A map member's value, from a dict or from a record (``Milestone``…)."""
    return element[name] if isinstance(element, Mapping) else getattr(element, name)


def _typed_member(kind: str, value: Any) -> dict | None:
    return None if value is None else _encode(kind, value)


def _required(typed: dict | None, name: str) -> dict:
    if typed is None:
        raise ValueError(f"attribute {name!r} cannot be empty")
    return typed


def _decode(kind: str, typed: Any, members: tuple[tuple[str, str], ...] = ()) -> Any:
    tag = _TAGS[kind]
    if not isinstance(typed, dict) or tag not in typed:
        raise ValueError(f"not a {kind} value: {str(typed)[:60]}")
    raw = typed[tag]
    if kind == "S":
        return raw
    if kind == "N":
        return json.loads(raw)
    if kind == "BOOL":
        return bool(raw)
    if kind == "DATE":
        return _date(raw)
    if kind == "TTL":
        return datetime.fromtimestamp(json.loads(raw), tz=UTC)
    if kind == "SS":
        return set(raw)
    if kind == "LS":
        return [_decode("S", member) for member in raw]
    if kind == "M":
        return {name: _decode(member_kind, _map(typed).get(name)) for name, member_kind in members}
    return [{name: _decode(member_kind, _map(element).get(name)) for name, member_kind in members}
            for element in raw]


def _decoded(attribute: Attribute, typed: Any) -> Any:
    value = _decode(attribute.kind, typed, attribute.members)
    if attribute.record is None:
        return value
    return attribute.record(**value) if attribute.kind == "M" else [attribute.record(**member) for member in value]


def _map(typed: Any) -> dict:
    if not isinstance(typed, dict) or not isinstance(typed.get("M"), dict):
        raise ValueError(f"not a map: {str(typed)[:60]}")
    return typed["M"]


def _date(raw: Any) -> datetime:
    """PynamoDB's UTC date string (``2026-11-29T19:36:06.000000+0000``) as an aware datetime.

    ``fromisoformat``, not ``strptime``: the first ``strptime`` of a process imports
    ``_strptime`` and its locale machinery, 6 ms of a cold redirect."""
    if not isinstance(raw, str) or len(raw) != 31 or raw[10] != "T" or raw[19] != "." or raw[26:] != "+0000":
        raise ValueError(f"not a UTC date: {str(raw)[:40]}")
    return datetime.fromisoformat(raw)


def to_item(declared: Mapping[str, Attribute], values: Mapping[str, Any]) -> dict:
    """The DynamoDB item of ``values``: declared attributes only (any other name is a
    ValueError), ``None`` left out or replaced by the attribute's default, a required
    attribute missing a ValueError."""
    unknown = set(values) - set(declared)
    if unknown:
        raise ValueError(f"undeclared attributes: {sorted(unknown)}")
    item = {}
    for name, attribute in declared.items():
        value = values.get(name)
        if value is None and attribute.default is not None:
            value = attribute.default()
        typed = None if value is None else _encode(attribute.kind, value, attribute.members)
        if typed is not None:
            item[name] = typed
        elif attribute.required:
            raise ValueError(f"attribute {name!r} is required")
    return item


def update(declared: Mapping[str, Attribute], values: Mapping[str, Any]) -> tuple[str, dict[str, str], dict[str, dict]]:
    """``(UpdateExpression, names, values)`` that write ``values`` and nothing else: each
    declared attribute ``SET`` to its typed value, ``None`` (or an empty set) ``REMOVE``d,
    or set to its default when it has one. Placeholders are ``#u<i>`` and ``:u<i>``: a
    caller's own condition uses other names."""
    unknown = set(values) - set(declared)
    if unknown:
        raise ValueError(f"undeclared attributes: {sorted(unknown)}")
    sets, removes, names, typed_values = [], [], {}, {}
    for index, (name, value) in enumerate(values.items()):
        attribute = declared[name]
        if value is None and attribute.default is not None:
            value = attribute.default()
        typed = None if value is None else _encode(attribute.kind, value, attribute.members)
        names[f"#u{index}"] = name
        if typed is None:
            if attribute.required:
                raise ValueError(f"attribute {name!r} is required")
            removes.append(f"#u{index}")
        else:
            typed_values[f":u{index}"] = typed
            sets.append(f"#u{index} = :u{index}")
    expression = " ".join(part for part in (
        "SET " + ", ".join(sets) if sets else "", "REMOVE " + ", ".join(removes) if removes else "") if part)
    return expression, names, typed_values


def from_item(declared: Mapping[str, Attribute], item: Mapping[str, Any]) -> dict[str, Any]:
    """The declared attributes of an item as Python values: an absent (or ``NULL``) one is its
    default, else ``None``; a value of the wrong type is a ValueError."""
    values: dict[str, Any] = {}
    for name, attribute in declared.items():
        typed = item.get(name)
        if not typed or (isinstance(typed, dict) and "NULL" in typed):
            values[name] = attribute.default() if attribute.default is not None else None
        else:
            values[name] = _decoded(attribute, typed)
    return values


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
