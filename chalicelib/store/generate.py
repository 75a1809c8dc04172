"""Writes :mod:`chalicelib.store.declared` from the PynamoDB models of :mod:`chalicelib.store.schema`.

The redirect's cold path must not import PynamoDB (about 10 ms of a ~320 ms cold start),
yet the tables are declared once, as models. So what the request path needs of them, the
codec's attribute declarations and the typed records, is generated source, never a
hand-kept copy: ``make generate`` (``python -m chalicelib.store.generate``) rewrites it, and
``tests/unit/test_declared.py`` fails when the file differs from what the models give.
Build-time only: the Lambda never imports this module.
"""
from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pynamodb.attributes as kinds
from pynamodb.attributes import Attribute

from chalicelib.store.schema import CODECS, RECORDS, Record

TARGET = Path(__file__).with_name("declared.py")
HEADER = '''"""Generated from chalicelib/store/schema.py by ``make generate``: do not edit.

The typed records services deal in, and how the codec stores each attribute, as the
PynamoDB models declare them (``tests/unit/test_declared.py`` holds this file equal to
what :mod:`chalicelib.store.generate` writes from them).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.store.codec import Attribute
'''
_SCALARS: tuple[tuple[type[Attribute], str, str], ...] = (
    (kinds.UTCDateTimeAttribute, "DATE", "datetime"), (kinds.TTLAttribute, "TTL", "datetime"),
    (kinds.UnicodeSetAttribute, "SS", "set[str]"), (kinds.BooleanAttribute, "BOOL", "bool"),
    (kinds.NumberAttribute, "N", "int"), (kinds.UnicodeAttribute, "S", "str"),
)


class UnsupportedAttribute(ValueError):
    """A model declares an attribute kind the codec does not store."""


def attributes(declaration: type) -> dict[str, Attribute]:
    """A model's or map's attributes in the order the class declares them (PynamoDB's own
    ``get_attributes`` sorts them by name; a record's fields keep the declaration's order)."""
    declared = declaration.get_attributes()  # type: ignore[attr-defined]
    order = dict.fromkeys(name for owner in reversed(declaration.__mro__) for name in vars(owner))
    return {name: declared[name] for name in order if name in declared}


def _map_record(map_class: type) -> str:
    for record in RECORDS:
        if record.declaration is map_class:
            return record.name
    raise UnsupportedAttribute(f"{map_class.__name__} has no record in schema.RECORDS")


def _members(map_class: type) -> tuple[tuple[str, str], ...]:
    """A map's members and their kinds: scalars only (the codec nests no list or map in a map)."""
    members = tuple((name, kind_of(member)[0]) for name, member in attributes(map_class).items())
    nested = [name for name, kind in members if kind in ("M", "LM", "LS")]
    if nested:
        raise UnsupportedAttribute(f"{map_class.__name__} nests {nested}: a map's members are scalars")
    return members


def kind_of(attribute: Attribute) -> tuple[str, str, tuple[tuple[str, str], ...], str | None]:
    """``(codec kind, Python type, map members, member record)`` of one attribute."""
    if isinstance(attribute, kinds.MapAttribute):
        record = _map_record(type(attribute))
        return "M", record, _members(type(attribute)), record
    if isinstance(attribute, kinds.ListAttribute):
        element = attribute.element_type
        if isinstance(element, type) and issubclass(element, kinds.MapAttribute):
            record = _map_record(element)
            return "LM", f"list[{record}]", _members(element), record
        if element is kinds.UnicodeAttribute:
            return "LS", "list[str]", (), None
        raise UnsupportedAttribute(f"a list of {element!r}")
    for attribute_class, kind, python_type in _SCALARS:
        if isinstance(attribute, attribute_class):
            return kind, python_type, (), None
    raise UnsupportedAttribute(type(attribute).__name__)


def _default_source(attribute: Attribute) -> str | None:
    """The default as source (``list`` for a factory of empty lists), or ``None``."""
    default = attribute.default
    if default is None:
        return None
    if default is list:
        return "list"
    value = default() if callable(default) else default
    if not isinstance(value, str | int | bool):
        raise UnsupportedAttribute(f"default {value!r} of {attribute.attr_name}")
    return json.dumps(value) if isinstance(value, str) else repr(value)


def codec_source(name: str, model: type) -> str:
    """The attribute declarations the codec converts ``model``'s items by."""
    lines = [f"{name}: dict[str, Attribute] = {{"]
    for attr_name, attribute in attributes(model).items():
        kind, _, members, record = kind_of(attribute)
        options = [json.dumps(kind)]
        if not attribute.null:
            options.append("required=True")
        default = _default_source(attribute)
        if default is not None:
            options.append(f"default={default if default == 'list' else f'lambda: {default}'}")
        if members:
            pairs = ", ".join(f"({json.dumps(member)}, {json.dumps(kind)})" for member, kind in members)
            options.append(f"members=({pairs}),\n        record={record}")
        lines.append(f"    {json.dumps(attr_name)}: Attribute({', '.join(options)}),")
    return "\n".join([*lines, "}"])


def _field(attr_name: str, attribute: Attribute) -> tuple[bool, str]:
    """``(has a default, the field's line)``."""
    _, python_type, _, _ = kind_of(attribute)
    default = _default_source(attribute)
    if default == "list":
        return True, f"    {attr_name}: {python_type} = field(default_factory=list)"
    if default is not None:
        return True, f"    {attr_name}: {python_type} = {default}"
    if attribute.null:
        return True, f"    {attr_name}: {python_type} | None = None"
    return False, f"    {attr_name}: {python_type}"


def record_source(record: Record) -> str:
    """The dataclass of one record."""
    fields = [_field(name, attribute) for name, attribute in attributes(record.declaration).items()
              if name not in record.leaves_out]
    fields += [(default is not None, f"    {name}: {python_type}" + (f" = {default}" if default is not None else ""))
               for name, python_type, default in record.extra]
    doc = textwrap.fill(record.doc or " ".join((record.declaration.__doc__ or "").split()), 96,
                        initial_indent='    """', subsequent_indent="    ") + '"""'
    decorator = "@dataclass(frozen=True)" if record.frozen else "@dataclass"
    body = [line for has_default, line in fields if not has_default] + \
        [line for has_default, line in fields if has_default]
    return "\n".join([decorator, f"class {record.name}:", doc, "", *body])


def source() -> str:
    """The whole of ``declared.py``, as the models say it should be."""
    parts = [HEADER, *(record_source(record) for record in RECORDS),
             *(codec_source(name, model) for name, model in CODECS.items())]
    return "\n\n\n".join(part.strip("\n") for part in parts) + "\n"


def main() -> int:
    TARGET.write_text(source(), encoding="utf-8")
    sys.stdout.write(f"wrote {TARGET}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
