"""Table definitions read from the PynamoDB models, so the models stay the one source of truth.

``chalicelib/store/schema.py`` declares every key, index, stream and TTL attribute once.
``chalicelib.store.tables.create_tables`` (local and tests) and ``infra.stack`` (AWS) both
build their tables from the plain data this module reads out of those declarations,
through PynamoDB's public attribute and index API, so a new index or key change reaches
every environment from one edit. No CDK dependency here.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Literal, cast

from pynamodb.attributes import Attribute, TTLAttribute
from pynamodb.indexes import GlobalSecondaryIndex, Index, LocalSecondaryIndex
from pynamodb.models import Model

AttributeType = Literal["S", "N", "B"]
ProjectionType = Literal["ALL", "KEYS_ONLY", "INCLUDE"]
StreamViewType = Literal["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"]

ON_DEMAND = "PAY_PER_REQUEST"


class UnsupportedModel(ValueError):
    """A model declares something the stack cannot express (e.g. provisioned capacity)."""


@dataclass(frozen=True)
class KeyAttribute:
    name: str
    type: AttributeType


@dataclass(frozen=True)
class IndexSpec:
    name: str
    is_global: bool
    partition_key: KeyAttribute
    sort_key: KeyAttribute | None
    projection: ProjectionType
    non_key_attributes: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableSpec:
    """Everything about one table that the models decide; names and policies are the stack's."""

    partition_key: KeyAttribute
    sort_key: KeyAttribute | None
    indexes: tuple[IndexSpec, ...]
    stream_view_type: StreamViewType | None
    ttl_attribute: str | None


def _key(attribute: Attribute) -> KeyAttribute:
    if attribute.attr_type not in ("S", "N", "B"):
        raise UnsupportedModel(f"key attribute {attribute.attr_name!r} has type {attribute.attr_type!r}")
    return KeyAttribute(attribute.attr_name, cast(AttributeType, attribute.attr_type))


def _keys(attributes: dict[str, Attribute], owner: str) -> tuple[KeyAttribute, KeyAttribute | None]:
    hash_keys = [a for a in attributes.values() if a.is_hash_key]
    range_keys = [a for a in attributes.values() if a.is_range_key]
    if len(hash_keys) != 1 or len(range_keys) > 1:
        raise UnsupportedModel(f"{owner} needs exactly one hash key and at most one range key")
    return _key(hash_keys[0]), (_key(range_keys[0]) if range_keys else None)


def _index(index: Index) -> IndexSpec:
    meta = index.Meta
    partition, sort = _keys(meta.attributes, f"index {meta.index_name!r}")
    is_global = isinstance(index, GlobalSecondaryIndex)
    if not is_global and sort is None:
        raise UnsupportedModel(f"local index {meta.index_name!r} needs a range key")
    projection = meta.projection
    return IndexSpec(
        name=meta.index_name,
        is_global=is_global,
        partition_key=partition,
        sort_key=sort,
        projection=projection.projection_type,
        non_key_attributes=tuple(projection.non_key_attributes or ()),
    )


def indexes_of(model: type[Model]) -> tuple[IndexSpec, ...]:
    """The model's secondary indexes, declared as class attributes, sorted by name."""
    found = inspect.getmembers(model, lambda value: isinstance(value, (GlobalSecondaryIndex, LocalSecondaryIndex)))
    return tuple(sorted((_index(index) for _, index in found), key=lambda spec: spec.name))


def ttl_attribute_of(model: type[Model]) -> str | None:
    """PynamoDB itself refuses a model with two TTL attributes, so the first is the one."""
    return next((a.attr_name for a in model.get_attributes().values() if isinstance(a, TTLAttribute)), None)


def table_spec(model: type[Model]) -> TableSpec:
    """What ``model`` says its table looks like.

    Provisioned capacity is refused rather than translated: capacity numbers belong to
    the stage, and every Relais table is on-demand so a viral spike never throttles on
    a number someone forgot to raise.
    """
    billing_mode = getattr(model.Meta, "billing_mode", None)
    if billing_mode != ON_DEMAND:
        raise UnsupportedModel(f"{model.__name__}.Meta.billing_mode must be {ON_DEMAND!r}, not {billing_mode!r}")
    partition, sort = _keys(model.get_attributes(), model.__name__)
    return TableSpec(
        partition_key=partition,
        sort_key=sort,
        indexes=indexes_of(model),
        stream_view_type=getattr(model.Meta, "stream_view_type", None),
        ttl_attribute=ttl_attribute_of(model),
    )
