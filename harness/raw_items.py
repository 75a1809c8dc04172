"""Items as DynamoDB holds them, behind the store's back: the one place where tests read or
change raw items.

Tests assert through the store's API (``chalicelib.store.*`` functions and their typed
records) or through the HTTP surface. A few must look past it, on purpose:

- that something is *not* at rest: an erased fan's name, an e-mail other than sealed, a
  campaign's API key other than hashed, a retired salt (a typed record shows only what it
  decodes, so only the whole item can prove an absence): :func:`stored`, :func:`stored_rollup`,
  :func:`stored_salt`;
- counters that disagree with the facts, as a lost stream batch or an item older than a
  counter leaves them, for the recount to find and mend: :func:`add_to_counters`,
  :func:`remove_counters`;
- what an item written by an earlier version holds (a secret stored in plain text before
  secrets were sealed), for the code to read as it is: :func:`set_text`.

Each takes and gives plain values; DynamoDB's attribute-value JSON (``{"S": ...}``,
``{"N": ...}``) stays inside this module and the store. The tests of the wire format itself
keep theirs: the codec's (``tests/unit/test_codec.py``), the store boundary's, the journal's,
the journaling proxy's, and the aggregator's handling of malformed stream records.

The functions use the store's own client and table names, so they reach whichever DynamoDB
the test's environment points at: moto's in-memory one (``tests/app``) or the local stack's
(``tests/integration``).
"""
from __future__ import annotations

from collections.abc import Mapping

from chalicelib.store import clients, codec, keys
from chalicelib.store.records import RollupId


def stored(table: str, **key: str) -> dict:
    """The item of ``table`` (``"links"``, ``"campaigns"``, ``"rollups"``...) under ``key``
    (its string key attributes), read strongly consistent; ``{}`` when there is none."""
    response = clients.patient().get_item(TableName=clients.table(table), ConsistentRead=True,
                                          Key={name: codec.s(value) for name, value in key.items()})
    return response.get("Item", {})


def stored_rollup(campaign_id: str, rollup: RollupId) -> dict:
    """A campaign's rollup item (``total``, a day, a referrer...) as DynamoDB holds it."""
    return stored("rollups", pk=campaign_id, sk=keys.rollup_sk(rollup))


def stored_salt(day: str) -> dict:
    """The item that holds (or held) the visitors' salt of ``day`` as DynamoDB holds it."""
    return stored("rollups", pk=keys.SALT_PK, sk=keys.salt_sk(day))


def set_text(table: str, key: Mapping[str, str], **values: str) -> None:
    """Set string attributes of the item of ``table`` under ``key``, without the store."""
    clients.patient().update_item(
        TableName=clients.table(table), Key={name: codec.s(value) for name, value in key.items()},
        UpdateExpression="SET " + ", ".join(f"#{name} = :{name}" for name in values),
        ExpressionAttributeNames={f"#{name}": name for name in values},
        ExpressionAttributeValues={f":{name}": codec.s(value) for name, value in values.items()})


def add_to_counters(campaign_id: str, rollup: RollupId, **deltas: int) -> None:
    """Add ``deltas`` (negative: take away) to a rollup's counters without the aggregator:
    counters that miss or exceed the facts, as a lost stream batch leaves them."""
    clients.patient().update_item(
        TableName=clients.table("rollups"), Key=rollup_key(campaign_id, rollup),
        UpdateExpression="ADD " + ", ".join(f"#{name} :{name}" for name in deltas),
        ExpressionAttributeNames={f"#{name}": name for name in deltas},
        ExpressionAttributeValues={f":{name}": codec.n(value) for name, value in deltas.items()})


def remove_counters(campaign_id: str, rollup: RollupId, *names: str) -> None:
    """Take counters off a rollup item, as an item written before those counters existed lacks them."""
    clients.patient().update_item(
        TableName=clients.table("rollups"), Key=rollup_key(campaign_id, rollup),
        UpdateExpression="REMOVE " + ", ".join(f"#{name}" for name in names),
        ExpressionAttributeNames={f"#{name}": name for name in names})


def rollup_key(campaign_id: str, rollup: RollupId) -> dict:
    """A rollup item's key as a DynamoDB request names it (to recognise the requests that write it)."""
    return {"pk": codec.s(campaign_id), "sk": codec.s(keys.rollup_sk(rollup))}
