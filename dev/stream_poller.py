"""Feeds the events table's stream to the aggregator, as Lambda's event source mapping would.

Used by ``make dev`` (a background thread) and by the tests (``drain()`` after a workload),
so that local counting runs exactly the code that runs on AWS.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

import boto3

from chalicelib.core import config
from chalicelib.store import tables

Handler = Callable[[dict, object], object]
log = logging.getLogger("relais_dev")


def _lambda_record(record: dict, stream_arn: str) -> dict:
    """A GetRecords record in the shape Lambda hands to a DynamoDB stream consumer."""
    ddb = dict(record["dynamodb"])
    created = ddb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        ddb["ApproximateCreationDateTime"] = created.timestamp()
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": record.get("awsRegion", config.region()),
        "dynamodb": ddb,
        "eventSourceARN": stream_arn,
    }


def _is_moto_key_only_insert(record: dict) -> bool:
    """moto emits an extra INSERT holding only the key when UpdateItem creates an item.

    DynamoDB emits one INSERT with the whole item; dropping moto's extra record keeps
    local counting identical to AWS (none of our writes creates a key-only item).
    """
    ddb = record["dynamodb"]
    return record["eventName"] == "INSERT" and set(ddb.get("NewImage", {})) <= set(ddb.get("Keys", {}))


class StreamPoller:
    """Reads every shard of the events stream and hands batches to ``handler``."""

    def __init__(self, handler: Handler, batch_size: int = 100, start: str = "TRIM_HORIZON") -> None:
        self.handler = handler
        self.batch_size = batch_size
        self.start = start
        self.stream_arn = tables.events_stream_arn()
        self.client = boto3.client("dynamodbstreams", region_name=config.region(),
                                   endpoint_url=config.dynamodb_endpoint())
        self.iterators: dict[str, str | None] = {}
        self.batches: list[dict] = []  # what each handler call returned, for tests and benchmarks
        self._lock = threading.Lock()
        self._discover()

    def _discover(self) -> None:
        shards = self.client.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id not in self.iterators:
                self.iterators[shard_id] = self.client.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType=self.start,
                )["ShardIterator"]

    def drain(self) -> int:
        """Hand every record written so far to the handler; returns how many."""
        with self._lock:
            self._discover()
            handled = 0
            for shard_id, iterator in list(self.iterators.items()):
                while iterator:
                    response = self.client.get_records(ShardIterator=iterator, Limit=self.batch_size)
                    records = [r for r in response.get("Records", []) if not _is_moto_key_only_insert(r)]
                    if records:
                        event = {"Records": [_lambda_record(r, self.stream_arn) for r in records]}
                        result = self.handler(event, None)  # raises: the batch is retried next time
                        self.batches.append({"event": event, "result": result})
                        handled += len(records)
                    iterator = response.get("NextShardIterator")
                    self.iterators[shard_id] = iterator
                    if not response.get("Records"):
                        break
            return handled

    def run(self, stop: threading.Event, interval: float = 0.5) -> None:
        """Drain until ``stop`` is set (the ``make dev`` loop)."""
        while not stop.is_set():
            try:
                self.drain()
            except Exception as exc:  # keep polling; a poison batch is retried, as Lambda would
                log.error("aggregator batch failed: %s", exc)
            stop.wait(interval)
