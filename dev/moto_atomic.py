"""moto's DynamoDB made atomic, as DynamoDB is: one request at a time.

moto answers each request on a thread of its own and nothing holds a table while it works:

- a conditional write reads the item, checks the condition, then writes: two writes racing
  may both pass their condition (a lost update DynamoDB never allows);
- a ``TransactWriteItems`` keeps a deep copy of every table it names and, when one of its
  conditions fails, puts the copies back: every write other requests made to those tables
  meanwhile, and their stream records, is undone. (CI saw it: a campaign's rewards, written
  and acknowledged, vanished when another campaign's retried change was refused.)

:func:`install` makes every DynamoDB and DynamoDB Streams request run alone, under one lock.
The copies a transaction keeps are then of tables nobody else changes while it runs, so
putting them back undoes that transaction only. moto is pure Python under the GIL: its
requests never ran in parallel anyway, so the lock costs little.
"""
from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

LOCK = threading.RLock()


def _alone(call: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(call)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        with LOCK:
            return call(*args, **kwargs)

    wrapped.__relais_alone__ = True  # type: ignore[attr-defined]
    return wrapped


def install() -> None:
    """Serialize moto's DynamoDB and DynamoDB Streams request handlers (idempotent)."""
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    for handler in (DynamoHandler, DynamoDBStreamsHandler):
        if not getattr(handler.call_action, "__relais_alone__", False):
            handler.call_action = _alone(handler.call_action)  # type: ignore[method-assign]
