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
from dataclasses import dataclass
from pathlib import Path

from chalicelib.core import config
from chalicelib.store import delayed_queue


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
    return delayed_queue.send(message.to_json(), delay_seconds, config.webhook_queue_url(),
                              config.webhook_spool_dir(), "webhook message", {"event_id": message.event_id})


def take_due(directory: Path, limit: int) -> list[tuple[Path, Message]]:
    """Claim up to ``limit`` spooled messages that are due (renamed aside until :func:`done`)."""
    return delayed_queue.take_due(directory, limit, Message.from_json, "webhook message")


done = delayed_queue.done
recover = delayed_queue.recover


