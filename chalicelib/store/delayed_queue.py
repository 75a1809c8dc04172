"""A queue of messages each handled once it is due: SQS on AWS, a spool directory locally.

- On AWS (a queue URL): SQS delays a message by at most 15 minutes; a consumer that gets a
  message before it is due sends it again with the time left.
- Locally (a spool directory): one file per message, named by the time it is due and written
  durably (:func:`chalicelib.store.spool.write_durably`); ``make dev``'s thread takes the due
  ones (:func:`take_due`), renamed aside until :func:`done`, and :func:`recover` puts back
  what a stopped thread had taken.

The webhook deliveries (``store.webhook_queue``) and the e-mail outbox (``store.mail_queue``)
are two such queues; each says what its messages hold.
"""
from __future__ import annotations

import math
import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import botocore.config

from chalicelib.core.observability import logger
from chalicelib.store import clients
from chalicelib.store.spool import write_durably

MAX_SQS_DELAY = 900
SQS_BUDGET = botocore.config.Config(connect_timeout=1, read_timeout=3,
                                    retries={"total_max_attempts": 3, "mode": "standard"})
WORKING = ".work"
T = TypeVar("T")


def send(body: str, delay_seconds: float, queue_url: str | None, spool_dir: str | None, what: str,
         detail: dict[str, str]) -> bool:
    """Queue ``body`` to be handled in ``delay_seconds`` on the queue (or else the spool) given;
    ``False``, and a warning naming ``what`` with ``detail``, when neither is configured."""
    if queue_url:
        delay = max(0, min(MAX_SQS_DELAY, math.ceil(delay_seconds)))
        clients.sqs(SQS_BUDGET).send_message(QueueUrl=queue_url, MessageBody=body, DelaySeconds=delay)
        return True
    if spool_dir:
        due = int((time.time() + max(0.0, delay_seconds)) * 1000)
        write_durably(Path(spool_dir), f"{due:013d}-{secrets.token_hex(6)}.json", body)
        return True
    logger.warning(f"{what} not queued: no queue configured", extra=detail)
    return False


def take_due(directory: Path, limit: int, parse: Callable[[str], T], what: str) -> list[tuple[Path, T]]:
    """Claim up to ``limit`` spooled messages that are due, read by ``parse`` (an unreadable one
    is dropped, and logged as an unreadable ``what``)."""
    now = int(time.time() * 1000)
    taken: list[tuple[Path, T]] = []
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
            taken.append((working, parse(working.read_text())))
        except (ValueError, KeyError, TypeError):
            logger.warning(f"unreadable {what} dropped", extra={"file": name})
            working.unlink(missing_ok=True)
    return taken


def done(path: Path) -> None:
    path.unlink(missing_ok=True)


def recover(directory: Path) -> int:
    """Put back the messages a stopped consumer had taken (they are handled again)."""
    if not directory.is_dir():
        return 0
    back = 0
    for path in directory.glob(f"*.json{WORKING}"):
        os.replace(path, path.with_name(path.name.removesuffix(WORKING)))
        back += 1
    return back
