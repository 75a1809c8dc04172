"""Where a request-path fact goes when DynamoDB did not take it within the budget.

The fact is spooled whole and applied later with the request path's own write
(``store.events_table.put_fact``), which is idempotent: a fact of its own is an item keyed by its
request token, put again; a known visitor's visit adds its token to a set. If the first
write did land after all (its answer was lost), the replay changes nothing and nothing
counts twice (the aggregator sees no change, or a MODIFY with identical images).

- On AWS (``RELAIS_FALLBACK_QUEUE_URL``): an SQS message, sent with its own short budget;
  the ``fallback`` Lambda (app.py) applies each message, reporting failures per message
  so that SQS retries only those, then its dead-letter queue.
- Locally (``RELAIS_FALLBACK_DIR``): one file per fact, fsynced before the request is
  answered; ``make dev`` drains the directory every second.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import botocore.config

from chalicelib.core import config
from chalicelib.store import clients, events_table
from chalicelib.store.records import Fact
from chalicelib.store.spool import write_durably

SQS_BUDGET = botocore.config.Config(connect_timeout=0.25, read_timeout=0.5,
                                    retries={"total_max_attempts": 2, "mode": "standard"})


def _spool(message: dict, token: str) -> bool:
    """Hand a message to the durable fallback; ``False`` when there is none or it failed too."""
    queue = config.fallback_queue_url()
    if queue:
        clients.sqs(SQS_BUDGET).send_message(QueueUrl=queue, MessageBody=json.dumps(message))
        return True
    directory = config.fallback_dir()
    if directory:
        write_durably(Path(directory), f"{token}.json", json.dumps(message))
        return True
    return False


def spool_fact(fact: Fact) -> bool:
    """The fact itself: replayed, it takes the same write as on the request path."""
    return _spool({"fact": asdict(fact), "token": fact.token}, fact.token)


def _apply(body: str) -> None:
    message = json.loads(body)
    if "fact" in message:
        events_table.put_fact(Fact(**message["fact"]), request_path=False)
    else:  # spooled before facts were: the item itself
        events_table.put_item(message["item"])


def drain_local() -> int:
    """Apply every spooled fact, oldest first; a file is removed only once its put succeeded."""
    directory = config.fallback_dir()
    if not directory or not os.path.isdir(directory):
        return 0
    applied = 0
    for path in sorted(Path(directory).glob("*.json"), key=lambda p: p.stat().st_mtime):
        _apply(path.read_text())
        path.unlink()
        applied += 1
    return applied


def apply_queue_messages(records: list[dict[str, Any]]) -> dict:
    """The SQS consumer: apply each message; report those that failed for a retry."""
    from chalicelib.core.observability import logger

    failures = []
    for record in records:
        try:
            _apply(record["body"])
        except Exception:
            logger.exception("fallback fact not applied", extra={"message_id": record.get("messageId")})
            failures.append({"itemIdentifier": record.get("messageId")})
    return {"batchItemFailures": failures}
