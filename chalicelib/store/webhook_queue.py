"""The deliveries to attempt: one message per attempt, delayed until it is due.

- On AWS (``RELAIS_WEBHOOK_QUEUE_URL``): an SQS queue. SQS delays a message by at most 15
  minutes; a message that arrives before its delivery is due is sent again with the time
  left, so a backoff of hours is a few hops. The ``dispatcher`` Lambda consumes it.
- Locally (``RELAIS_WEBHOOK_SPOOL``): one file per message, named by the time it is due,
  fsynced; ``make dev``'s dispatcher thread takes the due ones (:func:`take_due`).

A message names a delivery (campaign, creation time, event id) and nothing else: the
delivery item holds the state, so a duplicate message is harmless (the dispatcher's lease
lets one attempt run at a time) and a lost one is sent again by whoever finds the delivery
stuck (a replayed batch, a creator's retry).
"""
from __future__ import annotations

import json
import math
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import botocore.config

from chalicelib.core import config
from chalicelib.core.observability import logger
from chalicelib.store import clients
from chalicelib.store.spool import write_durably

MAX_SQS_DELAY = 900
SQS_BUDGET = botocore.config.Config(connect_timeout=1, read_timeout=3,
                                    retries={"total_max_attempts": 3, "mode": "standard"})
WORKING = ".work"


@dataclass(frozen=True)
class Message:
    campaign_id: str
    created: int
    event_id: str

    def to_json(self) -> str:
        return json.dumps({"c": self.campaign_id, "k": self.created, "i": self.event_id}, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Message:
        value = json.loads(text)
        return cls(str(value["c"]), int(value["k"]), str(value["i"]))


def send(message: Message, delay_seconds: float = 0.0) -> bool:
    """Queue ``message`` to be handled in ``delay_seconds``; ``False`` when no queue is configured."""
    url = config.webhook_queue_url()
    if url:
        delay = max(0, min(MAX_SQS_DELAY, math.ceil(delay_seconds)))
        clients.sqs(SQS_BUDGET).send_message(QueueUrl=url, MessageBody=message.to_json(), DelaySeconds=delay)
        return True
    directory = config.webhook_spool_dir()
    if directory:
        due = int((time.time() + max(0.0, delay_seconds)) * 1000)
        write_durably(Path(directory), f"{due:013d}-{secrets.token_hex(6)}.json", message.to_json())
        return True
    logger.warning("webhook delivery not queued: no queue configured", extra={"event_id": message.event_id})
    return False


def take_due(directory: Path, limit: int) -> list[tuple[Path, Message]]:
    """Claim up to ``limit`` spooled messages that are due (renamed aside until :func:`done`)."""
    now = int(time.time() * 1000)
    taken: list[tuple[Path, Message]] = []
    try:
        names = sorted(name for name in os.listdir(directory) if name.endswith(".json"))
    except FileNotFoundError:
        return []
    for name in names:
        if len(taken) >= limit or not name[:13].isdigit() or int(name[:13]) > now:
            break
        path, working = directory / name, directory / (name + WORKING)
        try:
            os.replace(path, working)
        except FileNotFoundError:
            continue  # another taker was first
        try:
            taken.append((working, Message.from_json(working.read_text())))
        except (ValueError, KeyError, TypeError):
            logger.warning("unreadable webhook message dropped", extra={"file": name})
            working.unlink(missing_ok=True)
    return taken


def done(path: Path) -> None:
    path.unlink(missing_ok=True)


def recover(directory: Path) -> int:
    """Put back the messages a stopped dispatcher had taken (they are handled again)."""
    if not directory.is_dir():
        return 0
    back = 0
    for path in directory.glob(f"*.json{WORKING}"):
        os.replace(path, path.with_name(path.name.removesuffix(WORKING)))
        back += 1
    return back
