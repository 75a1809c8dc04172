"""The app in-process (app tier): the operator token it is configured with, a rollup read
through the store, and a client whose answers are lost."""
from __future__ import annotations

from chalicelib.store.derived import Rollup
from chalicelib.store.records import TOTAL, RollupId

ADMIN = "test-operator-token"


def rollup(campaign_id: str, which: RollupId = TOTAL) -> Rollup:
    """One of a campaign's rollups (``TOTAL``, ``day_id(day, channel)``, ``referrer_id(code)``,
    ``depth_id(n)``, ``DIRECT``) as the store reads it: counters that were never counted read 0
    (``Rollup.get``), and a rollup never written is an empty one."""
    from chalicelib.store import rollups_table

    return rollups_table.counter_items(campaign_id).get(which, Rollup())


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
