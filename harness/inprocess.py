"""The app in-process (unit tier): the operator token it is configured with, and rollup readers."""
from __future__ import annotations

ADMIN = "test-operator-token"


def rollup(campaign_id, sk):
    """A rollup item as DynamoDB holds it (read straight from the table, not through the store)."""
    from chalicelib.store import clients

    response = clients.patient().get_item(TableName=clients.table("rollups"),
                                          Key={"pk": {"S": campaign_id}, "sk": {"S": sk}}, ConsistentRead=True)
    return response.get("Item", {})


def number(item, name):
    """A counter of a rollup item in DynamoDB JSON; 0 when it was never counted."""
    return int(item.get(name, {"N": "0"})["N"])
