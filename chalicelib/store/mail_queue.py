"""The outbox: e-mails to send, one job per message, drained by the mailer off any request path.

- On AWS (``RELAIS_MAIL_QUEUE_URL``): an SQS queue; the ``mailer`` Lambda consumes it. A
  job whose send failed is sent again with a delay (at most SQS's 15 minutes).
- Locally (``RELAIS_MAIL_SPOOL``): one file per job, named by the time it is due, written
  durably (:func:`chalicelib.store.spool.write_durably`); ``make dev``'s mailer thread takes
  the due ones (:func:`take_due`).

A job holds no e-mail address and no name: it names the campaign and either a claim digest
(link recovery: the keyed hash of the e-mail the request gave) or a link code and reward
(a reward unlocked). The mailer reads the fan's sealed e-mail when it sends, so a fan
erased meanwhile gets nothing (erasure clears pending messages by construction) and a
spool file or a queue dump holds nothing personal.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from chalicelib.core import config
from chalicelib.store import delayed_queue


@dataclass(frozen=True)
class Job:
    """One message to send: ``kind`` (``signin`` or ``reward``), the campaign, ``key`` (a claim
    digest for ``signin``, a link code for ``reward``), the reward's threshold, the job's own
    ``id`` (a reward's is derived from the unlock, so a replay is the same job), the attempt and
    the public URL its links start with."""

    kind: str
    campaign_id: str
    key: str
    id: str
    pledges: int | None = None
    attempt: int = 0
    base: str | None = None  # the public URL links in the message start with (the request's, for a recovery)

    def to_json(self) -> str:
        return json.dumps({name: value for name, value in asdict(self).items() if value is not None},
                          separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Job:
        value = json.loads(text)
        pledges = value.get("pledges")
        base = value.get("base")
        return cls(str(value["kind"]), str(value["campaign_id"]), str(value["key"]), str(value["id"]),
                   int(pledges) if pledges is not None else None, int(value.get("attempt", 0)),
                   str(base) if base is not None else None)


def new_id() -> str:
    return secrets.token_hex(12)


def send(job: Job, delay_seconds: float = 0.0) -> bool:
    """Queue ``job`` to be sent in ``delay_seconds``; ``False`` when no outbox is configured."""
    return delayed_queue.send(job.to_json(), delay_seconds, config.mail_queue_url(), config.mail_spool_dir(),
                              "e-mail job", {"kind": job.kind})


def take_due(directory: Path, limit: int) -> list[tuple[Path, Job]]:
    """Claim up to ``limit`` spooled jobs that are due (renamed aside until :func:`done`)."""
    return delayed_queue.take_due(directory, limit, Job.from_json, "e-mail job")


done = delayed_queue.done
recover = delayed_queue.recover


def pending(directory: Path) -> list[Job]:
    """The jobs waiting in the local spool (tests and ``make dev`` look)."""
    jobs = []
    for path in sorted(directory.glob("*.json")) if directory.is_dir() else []:
        try:
            jobs.append(Job.from_json(path.read_text()))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return jobs
