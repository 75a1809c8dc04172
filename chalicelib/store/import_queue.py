"""The queue of import jobs to run: SQS on AWS (``RELAIS_IMPORT_QUEUE_URL``, the ``importer``
Lambda consumes it), a spool directory under ``make dev`` (``RELAIS_IMPORT_SPOOL``, its
importer thread takes the due ones). A message names the job; the job's item says how far
it got, so a message delivered twice, or sent again to continue, resumes where it stands.
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
    import_id: str

    def to_json(self) -> str:
        return json.dumps({"campaign_id": self.campaign_id, "import_id": self.import_id}, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Message:
        value = json.loads(text)
        return cls(str(value["campaign_id"]), str(value["import_id"]))


def send(message: Message, delay_seconds: float = 0.0) -> bool:
    """Queue the job; ``False`` when no queue is configured."""
    return delayed_queue.send(message.to_json(), delay_seconds, config.import_queue_url(), config.import_spool_dir(),
                              "import job", {"import": message.import_id})


def take_due(directory: Path, limit: int) -> list[tuple[Path, Message]]:
    return delayed_queue.take_due(directory, limit, Message.from_json, "import job")


done = delayed_queue.done
recover = delayed_queue.recover
