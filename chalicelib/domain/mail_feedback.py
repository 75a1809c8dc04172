"""Bounces and complaints SES reports (the configuration set's event destination): the address
is suppressed for that campaign, by its keyed hash only.

SES publishes each event as JSON (``eventType`` ``Bounce`` or ``Complaint``, the ``mail``
with its tags, the recipients), delivered through SNS (``Records[].Sns.Message``) or
EventBridge (``detail``); both are read. The campaign is the message's ``campaign`` tag
(``store.ses.send_raw`` sets it). A permanent bounce or a complaint suppresses each named
recipient (``store.mail_records.suppress``, keyed by ``domain.links.claim_digest``); a
transient bounce (a full mailbox, a server down) does not: SES has retried already and the
next message may well arrive. Nothing of the report is kept, nor logged, but the count.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from chalicelib.core.observability import count, logger
from chalicelib.domain.links import claim_digest
from chalicelib.store import mail_records


def _events(event: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The SES events of a Lambda invocation, whichever way they came."""
    if isinstance(event.get("detail"), dict):
        yield event["detail"]
    for record in event.get("Records") or []:
        try:
            message = json.loads(record["Sns"]["Message"])
        except (KeyError, TypeError, ValueError):
            logger.warning("unreadable mail feedback dropped")
            continue
        if isinstance(message, dict):
            yield message


def _suppressed_recipients(ses_event: dict[str, Any]) -> tuple[str, list[str]]:
    """``(reason, addresses)`` this event suppresses; no addresses for anything else."""
    kind = str(ses_event.get("eventType") or ses_event.get("notificationType") or "")
    if kind == "Bounce":
        bounce = ses_event.get("bounce") or {}
        if bounce.get("bounceType") != "Permanent":
            return "transient", []
        return "bounce", [r.get("emailAddress") for r in bounce.get("bouncedRecipients") or []]
    if kind == "Complaint":
        complaint = ses_event.get("complaint") or {}
        return "complaint", [r.get("emailAddress") for r in complaint.get("complainedRecipients") or []]
    return kind or "unknown", []


def _campaign(ses_event: dict[str, Any]) -> str | None:
    tags = (ses_event.get("mail") or {}).get("tags") or {}
    values = tags.get("campaign") or []
    value = values[0] if isinstance(values, list) and values else None
    return value if isinstance(value, str) and value.isascii() and value.isalnum() else None


def handle(event: dict[str, Any], now: float | None = None) -> int:
    """Suppress every address a bounce or complaint of ``event`` names; how many were."""
    suppressed = 0
    for ses_event in _events(event):
        reason, addresses = _suppressed_recipients(ses_event)
        campaign_id = _campaign(ses_event)
        if campaign_id is None:
            continue
        for address in addresses:
            if isinstance(address, str) and "@" in address:
                mail_records.suppress(campaign_id, claim_digest(campaign_id, address.strip().lower()), reason,
                                      int(time.time() if now is None else now))
                suppressed += 1
    if suppressed:
        count("MailSuppressed", suppressed)
    return suppressed
