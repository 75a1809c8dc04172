"""The dispatcher: one queued message, one attempt at most, then the next message if needed.

For a message it reads the delivery; a delivery that is done (or whose attempt another
worker is running) ends there, one not yet due goes back on the queue with the time left.
Otherwise it takes one of the campaign's send slots (``RELAIS_WEBHOOK_CONCURRENCY`` at a
time per campaign, or the message waits a moment), takes the delivery's lease (counting
the attempt), checks the URL and every address it resolves to (:mod:`targets`), signs the
stored body with the campaign's current secret and POSTs it within the per-delivery
timeout. A 2xx delivers it. Anything else schedules the next attempt after an
exponential backoff with jitter (:func:`retry_delay`), or, past the deadline (24 h after the
event), leaves it ``dead``; the creator can re-arm it (``POST …/retry``).

The outcome is written before the next message is queued: if the worker dies in between,
the queue hands the same message out again (SQS after its visibility timeout, the local
spool when ``make dev`` restarts), and it finds the delivery's next attempt not yet due.
"""
from __future__ import annotations

import random
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalicelib.core import config
from chalicelib.core.observability import count, logger
from chalicelib.outbound import targets, webhook_signature
from chalicelib.store import campaigns_table, webhook_queue, webhook_records
from chalicelib.store.derived import Attempt, Delivery

GROWTH = 4
"""Each retry waits up to 4 times longer than the previous one."""
MAX_DELAY_SECONDS = 4 * 3600
BUSY_DELAY_SECONDS = 1.0
"""A campaign with every send slot taken: its message waits about this long."""
LEASE_MARGIN_MS = 30_000
WORKERS = 8


def retry_delay(failed_attempts: int, base: float | None = None, rng: random.Random | None = None) -> float:
    """Seconds from the ``failed_attempts``-th failure to the next attempt.

    ``base × 4^(n−1)``, capped at 4 h, times a uniform jitter in [0.5, 1] so that the
    deliveries of one outage do not all come back at once. With the default 10 s base the
    first retry comes 5–10 s after the first attempt and the second 20–40 s after that:
    both within a minute.
    """
    base = config.webhook_retry_base_seconds() if base is None else base
    ceiling = min(MAX_DELAY_SECONDS, base * GROWTH ** max(0, failed_attempts - 1))
    return ceiling * (rng or random).uniform(0.5, 1.0)


@dataclass(frozen=True)
class Outcome:
    """What handling a message did: ``delivered``, ``retry``, ``dead``, ``early``, ``busy``,
    ``done`` (nothing left to do) or ``missing`` (no such delivery)."""

    name: str
    delivery: Delivery | None = None


def _now() -> int:
    return int(time.time() * 1000)


def handle(message: webhook_queue.Message, resolver: targets.Resolver | None = None) -> Outcome:
    delivery = webhook_records.get_delivery(message.campaign_id, message.created, message.event_id)
    if delivery is None:
        return Outcome("missing")
    now = _now()
    if delivery.status != "pending" or delivery.lease_until >= now:
        return Outcome("done", delivery)
    if delivery.next_at > now:
        webhook_queue.send(message, (delivery.next_at - now) / 1000)
        return Outcome("early", delivery)
    token = secrets.token_urlsafe(12)
    timeout_ms = int(config.webhook_timeout_seconds() * 1000)
    slot = _take_slot(message.campaign_id, token, now, now + timeout_ms + LEASE_MARGIN_MS)
    if slot is None:
        webhook_queue.send(message, BUSY_DELAY_SECONDS * random.uniform(1.0, 2.0))
        return Outcome("busy", delivery)
    try:
        leased = webhook_records.start_attempt(delivery, token, now, now + timeout_ms + LEASE_MARGIN_MS)
        if leased is None:
            return Outcome("done", delivery)
        return _attempt(message, leased, token, resolver)
    finally:
        webhook_records.release_slot(message.campaign_id, slot, token)


def _take_slot(campaign_id: str, token: str, now: int, until: int) -> int | None:
    slots = list(range(config.webhook_concurrency()))
    random.shuffle(slots)
    return next((slot for slot in slots if webhook_records.acquire_slot(campaign_id, slot, token, now, until)), None)


def _send(delivery: Delivery, resolver: targets.Resolver | None) -> targets.Answer:
    campaign = campaigns_table.get(delivery.campaign_id)
    if campaign is None or not campaign.webhook_url or not campaign.webhook_secret:
        return targets.Answer(None, error="the campaign has no webhook URL any more")
    secret = webhook_signature.secret_in_use(campaign.webhook_secret)  # unsealed here only, to sign
    if secret is None:
        return targets.Answer(None, error="the webhook secret cannot be unsealed (the server secret changed): "
                                          "set the webhook_url again")
    try:
        target = targets.resolve(campaign.webhook_url, config.is_local(), resolver)
    except targets.Refused as refused:
        return targets.Answer(None, error=f"refused: {refused}"[:targets.EXCERPT_CHARS])
    body = delivery.body.encode()
    signature = webhook_signature.signature(secret, body)
    return targets.post(target, body, {webhook_signature.HEADER: signature}, config.webhook_timeout_seconds())


def _attempt(message: webhook_queue.Message, delivery: Delivery, token: str,
             resolver: targets.Resolver | None) -> Outcome:
    started = _now()
    answer = _send(delivery, resolver)
    ended = _now()
    attempt = Attempt(at=started, duration_ms=ended - started, status_code=answer.status, error=answer.error,
                      response=answer.excerpt)
    if answer.status is not None and 200 <= answer.status < 300:
        webhook_records.finish_attempt(delivery, token, "delivered", 0, attempt)
        count("WebhooksDelivered")
        return Outcome("delivered", delivery)
    next_at = ended + int(retry_delay(delivery.attempts) * 1000)
    if next_at > delivery.deadline:
        finished = webhook_records.finish_attempt(delivery, token, "dead", 0, attempt)
        count("WebhooksDead")
        logger.info("webhook delivery given up", extra={"campaign": delivery.campaign_id, "event_id": delivery.event_id,
                                                          "attempts": delivery.attempts})
        return Outcome("dead", finished)
    finished = webhook_records.finish_attempt(delivery, token, "pending", next_at, attempt)
    webhook_queue.send(message, (next_at - _now()) / 1000)
    return Outcome("retry", finished)


# entry points --------------------------------------------------------------------------------

def handle_queue_messages(records: list[dict[str, Any]]) -> dict:
    """The SQS consumer (``dispatcher`` Lambda): a batch's messages side by side; those that
    failed unexpectedly are reported, for SQS to hand out again."""
    def one(record: dict[str, Any]) -> dict[str, str] | None:
        try:
            handle(webhook_queue.Message.from_json(record["body"]))
            return None
        except (ValueError, KeyError, TypeError):
            logger.warning("unreadable webhook message dropped", extra={"message_id": record.get("messageId")})
            return None
        except Exception:
            logger.exception("webhook message not handled", extra={"message_id": record.get("messageId")})
            return {"itemIdentifier": str(record.get("messageId"))}

    if not records:
        return {"batchItemFailures": []}
    with ThreadPoolExecutor(max_workers=min(WORKERS, len(records))) as pool:
        failures = [failure for failure in pool.map(one, records) if failure]
    return {"batchItemFailures": failures}


def run_spool(directory: Path, stop: threading.Event, interval: float = 0.1,
              on_error: Callable[[Exception], None] | None = None) -> None:
    """``make dev``'s dispatcher: handle due spooled messages until ``stop`` is set.

    A message whose handling fails (DynamoDB unreachable…) goes back on the spool, due once
    the lease its attempt may hold has run out; messages taken by a previous run that
    stopped are put back first.
    """
    webhook_queue.recover(directory)
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="webhook") as pool:
        while not stop.is_set():
            taken = webhook_queue.take_due(directory, WORKERS * 4)
            for path, outcome in zip(taken, pool.map(_handle_spooled, taken), strict=True):
                if outcome is not None and on_error:
                    on_error(outcome)
                webhook_queue.done(path[0])
            if not taken:
                stop.wait(interval)


def _handle_spooled(taken: tuple[Path, webhook_queue.Message]) -> Exception | None:
    try:
        handle(taken[1])
        return None
    except Exception as exc:
        # Keep the message, due again once a lease this attempt may have taken has run out
        # (another message would find the delivery leased and leave it): SQS's visibility timeout.
        webhook_queue.send(taken[1], config.webhook_timeout_seconds() + LEASE_MARGIN_MS / 1000 + 1)
        return exc

