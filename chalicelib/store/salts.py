"""The daily visitor salts: one random value per UTC day, shared by every container, gone
after its day (items in the rollups table under ``keys.SALT_PK``).

The first container that needs a day's salt draws one and writes it with a conditional
put; a container that loses the race reads the winner's, so every container hashes a
visitor alike. Each salt carries a TTL at the end of its day; readers treat a salt past it
as absent (DynamoDB deletes expired items lazily), and the aggregator overwrites past days'
salts with nothing (``retire``), so that after its day nobody — the operator included —
can rebuild the salt and link a stored visitor hash back to an address.
"""
from __future__ import annotations

import time

from chalicelib.store import clients, codec, keys


def _key(day: str) -> dict:
    return {"pk": codec.s(keys.SALT_PK), "sk": codec.s(keys.salt_sk(day))}


def _live(item: dict | None) -> str | None:
    """The salt an item holds, unless it expired or was retired."""
    if not item or "salt" not in item:
        return None
    if codec.optional_number(item.get("expires_at")) <= time.time():
        return None
    return codec.text(item["salt"])


def get(day: str, request_path: bool = False) -> str | None:
    """The salt of ``day`` if it exists (a strongly consistent read: a salt never changes)."""
    client = clients.request() if request_path else clients.patient()
    return _live(client.get_item(TableName=clients.table("rollups"), Key=_key(day), ConsistentRead=True).get("Item"))


def create(day: str, salt: str, expires_at: int, request_path: bool = False) -> str:
    """Store ``salt`` as the salt of ``day`` unless one exists; returns the day's salt.

    A conditional put: applied twice (a retry after a lost answer), the second finds its own
    salt and returns it; a concurrent container's salt wins the same way.
    """
    client = clients.request() if request_path else clients.patient()
    try:
        client.put_item(TableName=clients.table("rollups"),
                        Item={**_key(day), "salt": codec.s(salt), "expires_at": codec.n(expires_at)},
                        ConditionExpression="attribute_not_exists(pk)")
        return salt
    except Exception as exc:
        if clients.error_code(exc) != "ConditionalCheckFailedException":
            raise
    stored = get(day, request_path)
    if stored is None:
        raise RuntimeError(f"the salt of {day} is retired or expired")
    return stored


def retire(day: str, expires_at: int) -> None:
    """Overwrite a past day's salt with an item that holds none (a put: the same twice); the
    tombstone expires too, and keeps the day from ever drawing a salt again."""
    clients.patient().put_item(TableName=clients.table("rollups"),
                               Item={**_key(day), "retired": {"BOOL": True}, "expires_at": codec.n(expires_at)})
