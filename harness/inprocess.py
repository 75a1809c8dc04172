"""The app in-process (app tier): the operator token it is configured with, and rollup readers."""
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


class AnswersLost:
    """A client whose ``operation`` calls reach DynamoDB (``applied``) or not, and never answer:
    what a client sees when every attempt's answer is lost. Other calls go through."""

    def __init__(self, real, operation: str, applied: bool) -> None:
        self.real, self.operation, self.applied = real, operation, applied

    def __getattr__(self, name):
        if name != self.operation:
            return getattr(self.real, name)

        def lost(**kwargs):
            from botocore.exceptions import ConnectionClosedError

            if self.applied:
                getattr(self.real, name)(**kwargs)
            raise ConnectionClosedError(endpoint_url="http://dynamodb")
        return lost
