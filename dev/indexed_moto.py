"""moto's server as ``make dev`` runs it (:mod:`dev.moto_server`: DynamoDB and S3 on one port,
writes one at a time), with a Query that reads only the items its key condition selects.

moto answers a Query by sorting every item of the table, then walking the partition's items
until enough pass the sort-key condition: a Query costs the table's size (350 ms at 20,000
items on this machine) where DynamoDB seeks the partition and the sort-key range in its
index. An import of tag totals makes one Query per tag (its latest total), so on stock moto
the benchmark would measure that sort, not the import. :func:`install` hands moto's own
Query just the items it would have kept — those of the partition key asked for, and, when
there is a sort-key condition, those that meet it, tested with moto's own comparison — so
the answer holds the same items and only the cost changes. One difference: a page that a
``Limit`` fills with the range's last item carries no ``LastEvaluatedKey`` (moto, having
looked at the next item of the partition, gives one, and the next page is empty).
``python -m dev.indexed_moto -p PORT`` (``make bench``'s imports benchmark starts it).
"""
from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

RANGE_COMPARISON, RANGE_VALUES, INDEX_NAME = 0, 1, 6
"""Places after ``hash_key`` in ``Table.query(hash_key, range_comparison, range_objs, limit,
exclusive_start_key, scan_index_forward, projection_expressions, index_name, ...)``."""
_SELECTED = threading.local()
"""``(table, items)`` the Query running on this thread hands moto: reads run beside writes
(:mod:`dev.moto_atomic`), so the table's own items are never swapped, even for a moment."""


def _partition_only(query: Callable[..., Any]) -> Callable[..., Any]:
    from moto.dynamodb.comparisons import get_comparison_func

    @functools.wraps(query)
    def wrapped(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[INDEX_NAME] if len(args) > INDEX_NAME else kwargs.get("index_name")
        if index_name or hash_key is None or not self.range_key_attr or len(args) <= RANGE_VALUES:
            return query(self, hash_key, *args, **kwargs)
        comparison, values = args[RANGE_COMPARISON], args[RANGE_VALUES]
        partition = list(self.items.get(hash_key, {}).items())  # one step: writers may add meanwhile
        if comparison:  # DynamoType.compare, its lookups done once rather than per item
            test, wanted = get_comparison_func(comparison), [value.cast_value for value in values]
            partition = [(key, item) for key, item in partition if test(key.cast_value, *wanted)]
        _SELECTED.items = (self, [item for _, item in partition])
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            _SELECTED.items = None

    wrapped.__relais_partition_only__ = True  # type: ignore[attr-defined]
    return wrapped


def _selected_or_all(all_items: Callable[..., Any]) -> Callable[..., Any]:
    """``Table.all_items``: in a Query this thread runs on the table, the items it selected,
    in the order moto sorts all of them."""
    @functools.wraps(all_items)
    def wrapped(self: Any) -> Any:
        selected = getattr(_SELECTED, "items", None)
        if selected is None or selected[0] is not self:
            return all_items(self)
        return sorted(selected[1], key=lambda item: (item.hash_key, item.range_key))

    return wrapped


def install() -> None:
    """Make moto's table Query read only the items its key condition selects (idempotent)."""
    from moto.dynamodb.models.table import Table

    if not getattr(Table.query, "__relais_partition_only__", False):
        Table.all_items = _selected_or_all(Table.all_items)  # type: ignore[method-assign]
        Table.query = _partition_only(Table.query)  # type: ignore[method-assign]


def main() -> None:
    from dev import moto_server

    install()
    moto_server.main()


if __name__ == "__main__":
    main()
