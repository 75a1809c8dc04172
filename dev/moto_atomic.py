"""moto's DynamoDB made atomic, as DynamoDB is: one request at a time.

moto answers each request on a thread of its own and nothing holds a table while it works:

- a conditional write reads the item, checks the condition, then writes: two writes racing
  may both pass their condition (a lost update DynamoDB never allows);
- a ``TransactWriteItems`` keeps a deep copy of every table it names and, when one of its
  conditions fails, puts the copies back: every write other requests made to those tables
  meanwhile, and their stream records, is undone. (CI saw it: a campaign's rewards, written
  and acknowledged, vanished when another campaign's retried change was refused.) The
  copies also cost ~65 µs per item in the table: 2 s a transaction at 30,000 events.

:func:`install` makes every DynamoDB write run alone, under one lock, and has a
transaction keep copies of the items it touches only (and of how long each table's stream
was), putting back those when it is refused. Reads still run beside writes, as DynamoDB's
do: a redirect's lookup is never queued behind a long Query (holding every request behind
one lock made the fault matrix's redirects time out into 503s).
"""
from __future__ import annotations

import copy
import functools
import threading
import types
from collections.abc import Callable
from typing import Any

LOCK = threading.RLock()


WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})


def _writes_alone(call: Callable[..., Any]) -> Callable[..., Any]:
    """A DynamoDB request handler that runs writes one at a time. Reads are left to run
    beside them, as before: a read is never held behind a long Query or Scan (the request
    path reads with a 0.3 s budget), and may see a transaction half applied, locally only."""
    @functools.wraps(call)
    def wrapped(handler: Any, *args: Any, **kwargs: Any) -> Any:
        if handler.headers.get("X-Amz-Target", "").rpartition(".")[2] not in WRITES:
            return call(handler, *args, **kwargs)
        with LOCK:
            return call(handler, *args, **kwargs)

    wrapped.__relais_alone__ = True  # type: ignore[attr-defined]
    return wrapped


def _touched(backend: Any, transact_items: list[dict]) -> list[tuple[Any, Any, Any, Any]]:
    """``(table, hash, range, copy of the item or None)`` of each item a transaction names."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    saved = []
    for entry in transact_items:
        op_type, op = next(iter(entry.items()))
        table = backend.tables.get(op.get("TableName"))
        if table is None:
            continue
        key = op["Item"] if op_type == "Put" else op.get("Key", {})
        if table.hash_key_attr not in key or (table.range_key_attr and table.range_key_attr not in key):
            continue  # moto refuses it before writing anything
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        holder = table.items.get(hash_value, {}) if range_value is not None else table.items
        found = holder.get(range_value if range_value is not None else hash_value)
        saved.append((table, hash_value, range_value, copy.deepcopy(found)))
    return saved


def _put_back(saved: list[tuple[Any, Any, Any, Any]], streams: dict[Any, int]) -> None:
    for table, hash_value, range_value, item in reversed(saved):
        if range_value is None:
            holder, key = table.items, hash_value
        else:
            holder, key = table.items.setdefault(hash_value, {}), range_value
        if item is None:
            holder.pop(key, None)
        else:
            holder[key] = item
    for table, length in streams.items():
        del table.stream_shard.items[length:]


def _item_level(transact: Callable[..., Any]) -> Callable[..., Any]:
    """``transact_write_items`` without its whole-table copies (see the module's docstring)."""
    @functools.wraps(transact)
    def wrapped(backend: Any, transact_items: list[dict]) -> Any:
        with LOCK:
            saved = _touched(backend, transact_items)
            tables = {table for table, *_ in saved}
            streams = {table: len(table.stream_shard.items) for table in tables if table.stream_shard is not None}
            try:
                return transact(backend, transact_items)
            except Exception:
                _put_back(saved, streams)
                raise

    wrapped.__relais_alone__ = True  # type: ignore[attr-defined]
    return wrapped


def _copy_but_tables(table_type: type) -> types.SimpleNamespace:
    """The ``copy`` module as moto's DynamoDB models see it: a table is not copied (its
    transaction's items are, by :func:`_item_level`); anything else is."""
    def deepcopy(value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, table_type) else copy.deepcopy(value, memo)

    return types.SimpleNamespace(deepcopy=deepcopy, copy=copy.copy)


def install() -> None:
    """Serialize moto's DynamoDB writes; item-level transaction rollback (idempotent)."""
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler

    if not getattr(DynamoHandler.call_action, "__relais_alone__", False):
        DynamoHandler.call_action = _writes_alone(DynamoHandler.call_action)  # type: ignore[method-assign]
    backend = models.DynamoDBBackend
    if not getattr(backend.transact_write_items, "__relais_alone__", False):
        backend.transact_write_items = _item_level(backend.transact_write_items)  # type: ignore[method-assign]
        models.copy = _copy_but_tables(Table)  # type: ignore[assignment]
