"""The mailer: drains the outbox (``store.mail_queue``) and sends, never on a request's path.

For each job it decides, from what is stored, whether a message goes out:

- the campaign exists and its ``email`` setting is on;
- the fan exists and has an e-mail: a recovery's claim digest names a link
  (``links_table.claimed``); a reward's link has ``notify`` (opted in, not unsubscribed);
  an erased fan has no e-mail any more, so a job queued before the erasure sends nothing;
- the address is not suppressed (a bounce or a complaint, ``store.mail_records``);
- a recovery: the address got no sign-in message in the last ``GATE_SECONDS`` (a flood of
  recover requests sends one message per 10 minutes);
- the job was not sent already (a lease, then ``sent``): a job delivered twice, or a reward
  unlock replayed by the aggregator (its id is derived from the unlock), sends one message.

Then it builds the message (``mail_message``) and hands it over (``mail_transport``). A
send that fails is queued again, 1, 4, 16… times ``RELAIS_MAIL_RETRY_SECONDS`` later, up to
``MAX_ATTEMPTS`` tries. The fan's e-mail is unsealed here, in memory, for the send.
"""
from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from chalicelib.core import config, mail_tokens, sealed_text
from chalicelib.core.observability import count, logger
from chalicelib.outbound import mail_message, mail_transport
from chalicelib.store import campaigns_table, links_table, mail_queue, mail_records
from chalicelib.store.derived import RewardState
from chalicelib.store.records import Campaign, Link

EMAIL_PURPOSE = "email"
"""The purpose fans' e-mails are sealed under (``domain.sealing.PURPOSE``; a unit test holds them equal)."""
GATE_SECONDS = 600
LEASE_SECONDS = 120
MAX_ATTEMPTS = 6
SIGNIN_FRAGMENT = "relais-signin"
"""The sign-in link is the campaign page with ``#relais-signin=<token>``: a fragment is never
sent to a server nor in a Referer, so the token stays between the message and the widget."""


def _enabled(campaign: Campaign | None) -> bool:
    return campaign is not None and campaign.email is not None and campaign.email.enabled


def _recipient(job: mail_queue.Job) -> Link | None:
    if job.kind == "signin":
        link = links_table.claimed(job.campaign_id, job.key)
    elif job.kind == "reward":
        link = links_table.get(job.key)
        link = link if link is not None and link.notify else None
    else:
        return None
    if link is None or link.campaign_id != job.campaign_id or link.erased_at is not None or not link.sealed_email:
        return None
    return link


def _signin_url(target_url: str, token: str) -> str:
    parts = urlsplit(target_url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, f"{SIGNIN_FRAGMENT}={token}"))


def handle(job: mail_queue.Job) -> str:
    """Send the message of ``job`` if it is due (see the module's doc); what happened."""
    campaign = campaigns_table.get(job.campaign_id)
    if not _enabled(campaign):
        return "off"
    assert campaign is not None and campaign.email is not None
    link = _recipient(job)
    email = sealed_text.unseal(link.sealed_email, EMAIL_PURPOSE) if link and link.sealed_email else None
    if link is None or email is None:
        return "nobody"
    base = job.base or config.public_url()
    if base is None:
        logger.warning("e-mail not sent: no public URL for its links (RELAIS_PUBLIC_URL)", extra={"kind": job.kind})
        return "no_public_url"
    if link.claim and mail_records.is_suppressed(campaign.id, link.claim):
        return "suppressed"
    now = int(time.time())
    if job.kind == "signin" and not mail_records.take_gate(campaign.id, job.key, job.id, now, GATE_SECONDS):
        count("MailGated")
        return "gated"
    attempt = secrets.token_hex(8)
    if not mail_records.lease_send(campaign.id, job.id, now, LEASE_SECONDS, attempt):
        return "sent_already"
    try:
        provider_id = _send(job, campaign, link, email, base)
    except Exception:
        mail_records.release_send(campaign.id, job.id, attempt)
        raise
    mail_records.mark_sent(campaign.id, job.id, int(time.time()), provider_id)
    count("MailSent")
    return "sent"


def _send(job: mail_queue.Job, campaign: Campaign, link: Link, email: str, base: str) -> str:
    assert campaign.email is not None
    if job.kind == "signin":
        action = _signin_url(campaign.target_url, mail_tokens.signin(campaign.id, link.code))
        reward = None
    else:
        action = campaign.target_url
        labels = {r.pledges: r.label for r in reversed(campaign.rewards)}
        reward = labels.get(job.pledges or 0)
        if reward is None:
            return "reward_gone"
    unsubscribe = f"{base.rstrip('/')}/v1/unsubscribe/{mail_tokens.unsubscribe(campaign.id, link.code)}"
    mail = mail_message.Mail(
        kind=job.kind, locale=campaign.locale, campaign_name=campaign.name, sender=config.mail_sender(), to=email,
        action_url=action, unsubscribe_url=unsubscribe,
        from_name=campaign.email.from_name, reply_to=campaign.email.reply_to or None, reward=reward)
    raw = mail_message.to_bytes(mail_message.build(mail))
    return mail_transport.send(raw, config.mail_sender(), email, campaign.id)


def process(job: mail_queue.Job) -> str:
    """:func:`handle`, with a failed send queued again for later (or given up, logged)."""
    try:
        return handle(job)
    except Exception as exc:
        attempt = job.attempt + 1
        if attempt >= MAX_ATTEMPTS:
            count("MailGivenUp")
            logger.error("e-mail given up", extra={"kind": job.kind, "campaign": job.campaign_id,
                                                   "error": repr(exc)[:300]})
            return "given_up"
        count("MailRetried")
        logger.warning("e-mail not sent; retried later", extra={"kind": job.kind, "attempt": attempt,
                                                                "error": repr(exc)[:300]})
        mail_queue.send(replace(job, attempt=attempt), config.mail_retry_seconds() * 4 ** job.attempt)
        return "retried"


def reward_unlocked(campaign: Campaign, state: RewardState) -> bool:
    """Queue the e-mail of a reward unlock (``aggregate.notify``), once per unlock: the job's
    id is the unlock's (fan, threshold, generation), so queuing it again sends nothing more."""
    if not _enabled(campaign):
        return False
    job = mail_queue.Job("reward", campaign.id, state.code, f"rw-{state.code}-{state.pledges}-{state.generation}",
                         pledges=state.pledges, base=config.public_url())
    return mail_queue.send(job)


def handle_queue_messages(records: list[dict[str, Any]]) -> dict:
    """The SQS consumer (``mailer`` Lambda): each message's job; an unreadable one is dropped."""
    for record in records:
        try:
            job = mail_queue.Job.from_json(record["body"])
        except (ValueError, KeyError, TypeError):
            logger.warning("unreadable e-mail job dropped", extra={"message_id": record.get("messageId")})
            continue
        process(job)
    return {"batchItemFailures": []}


def run_spool(directory: Path, stop: threading.Event, interval: float = 0.2,
              on_error: Callable[[Exception], None] | None = None) -> None:
    """``make dev``'s mailer: send due spooled jobs until ``stop`` is set (jobs a previous run
    had taken are put back first)."""
    mail_queue.recover(directory)
    while not stop.is_set():
        taken = mail_queue.take_due(directory, 20)
        for path, job in taken:
            try:
                process(job)
            except Exception as exc:  # the outbox itself failed: keep the job
                mail_queue.send(job, config.mail_retry_seconds())
                if on_error:
                    on_error(exc)
            mail_queue.done(path)
        if not taken:
            stop.wait(interval)
