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
import math
import os
import secrets
import time
from dataclasses import asdict, dataclass
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
    url = config.mail_queue_url()
    if url:
        delay = max(0, min(MAX_SQS_DELAY, math.ceil(delay_seconds)))
        clients.sqs(SQS_BUDGET).send_message(QueueUrl=url, MessageBody=job.to_json(), DelaySeconds=delay)
        return True
    directory = config.mail_spool_dir()
    if directory:
        due = int((time.time() + max(0.0, delay_seconds)) * 1000)
        write_durably(Path(directory), f"{due:013d}-{secrets.token_hex(6)}.json", job.to_json())
        return True
    logger.warning("e-mail not queued: no outbox configured", extra={"kind": job.kind})
    return False


def take_due(directory: Path, limit: int) -> list[tuple[Path, Job]]:
    """Claim up to ``limit`` spooled jobs that are due (renamed aside until :func:`done`)."""
    now = int(time.time() * 1000)
    taken: list[tuple[Path, Job]] = []
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
            taken.append((working, Job.from_json(working.read_text())))
        except (ValueError, KeyError, TypeError):
            logger.warning("unreadable e-mail job dropped", extra={"file": name})
            working.unlink(missing_ok=True)
    return taken


def done(path: Path) -> None:
    path.unlink(missing_ok=True)


def recover(directory: Path) -> int:
    """Put back the jobs a stopped mailer had taken (they are handled again)."""
    if not directory.is_dir():
        return 0
    back = 0
    for path in directory.glob(f"*.json{WORKING}"):
        os.replace(path, path.with_name(path.name.removesuffix(WORKING)))
        back += 1
    return back


def pending(directory: Path) -> list[Job]:
    """The jobs waiting in the local spool (tests and ``make dev`` look)."""
    jobs = []
    for path in sorted(directory.glob("*.json")) if directory.is_dir() else []:
        try:
            jobs.append(Job.from_json(path.read_text()))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return jobs
