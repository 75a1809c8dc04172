"""What the aggregator does when a fan's data is erased, beyond their counters.

An erasure writes an erasure record (``store.links_table.erase``); the aggregator meets it in the
erased fan's lane after their ``referrer.created`` record, whose webhook delivery
(``aggregate.notify``) holds the fan's name in its stored body for its 30 days. The name is
taken out of that body here, after the batch's deliveries are made: a retry sends the
redacted body. What a receiver got before the erasure is the creator's to erase
(docs/privacy.md).
"""
from __future__ import annotations

import json
from collections.abc import Iterable

from chalicelib.core.observability import logger
from chalicelib.outbound.webhook_events import OutboundEvent
from chalicelib.store import webhook_records
from chalicelib.store.stream import Change


def redact_deliveries(changes: Iterable[Change]) -> int:
    """Take erased fans' names out of their ``referrer.created`` deliveries; returns how many."""
    redacted = 0
    for change in changes:
        if change.name != "INSERT" or change.new.kind != "erasure" or change.new.code is None:
            continue
        event_id = OutboundEvent(change.campaign_id, "referrer.created", change.new.code, {}).id
        delivery = webhook_records.find_delivery(change.campaign_id, event_id)
        if delivery is None:
            continue
        try:
            body = json.loads(delivery.body)
            body["data"]["referrer"]["name"] = None
        except (ValueError, KeyError, TypeError):
            logger.warning("an erased fan's webhook delivery has an unexpected body", extra={"event": event_id})
            continue
        webhook_records.replace_body(delivery, json.dumps(body, separators=(",", ":"), ensure_ascii=False))
        redacted += 1
    return redacted
