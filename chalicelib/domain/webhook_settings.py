"""The creator's side of webhooks: the endpoint URL, its secret, the deliveries, a retry."""
from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from chalicelib.core import config
from chalicelib.core.errors import ApiError, bad_request, not_found
from chalicelib.core.urls import MAX_URL_LENGTH
from chalicelib.core.validation import iso
from chalicelib.outbound import targets, webhook_signature
from chalicelib.outbound.webhook_events import now_ms
from chalicelib.store import webhook_queue, webhook_records
from chalicelib.store.derived import Attempt, Delivery
from chalicelib.store.records import Campaign

LISTED = 100
_EVENT_ID = re.compile(r"evt_[0-9a-f]{32}")


def endpoint(value: Any) -> str | None:
    """The ``webhook_url`` of a request body (``None`` removes it): ``400 invalid_webhook_url``
    unless this stage accepts it (:func:`chalicelib.outbound.targets.allowed_url`)."""
    if value is None:
        return None
    local = config.is_local()
    url = targets.allowed_url(value, local) if isinstance(value, str) and len(value) <= MAX_URL_LENGTH else None
    if url is None:
        raise bad_request("invalid_webhook_url",
                          "webhook_url must be an absolute https URL on a public host name, without IP address, "
                          "user-info, port or control characters" +
                          (" (or http://127.0.0.1 or localhost, locally)." if local else "."))
    return url


def new_sealed_secret() -> str:
    """A new signing secret, sealed as the campaigns table keeps it; the creator who set the
    URL is shown it once (:func:`shown_secret`)."""
    return webhook_signature.sealed_secret(webhook_signature.new_secret())


def shown_secret(stored: str | None) -> str | None:
    """The secret a campaign keeps sealed, unsealed to be shown the once it is drawn."""
    return webhook_signature.secret_in_use(stored)


def _moment(ms: int | None) -> str | None:
    return iso(datetime.fromtimestamp(ms / 1000, tz=UTC)) if ms else None


def _attempt(attempt: Attempt) -> dict[str, Any]:
    return {"at": _moment(attempt.at), "duration_ms": attempt.duration_ms, "status_code": attempt.status_code,
            "error": attempt.error, "response": attempt.response}


def to_dict(delivery: Delivery) -> dict[str, Any]:
    """A delivery as the creator sees it: status, attempts (the last ten in ``history``), the event."""
    return {
        "id": delivery.event_id,
        "type": delivery.type,
        "created_at": _moment(delivery.created),
        "status": delivery.status,
        "attempts": delivery.attempts,
        "next_attempt_at": _moment(delivery.next_at) if delivery.status == "pending" else None,
        "gives_up_at": _moment(delivery.deadline),
        "last_attempt": _attempt(delivery.history[-1]) if delivery.history else None,
        "history": [_attempt(attempt) for attempt in delivery.history],
        "event": json.loads(delivery.body),
    }


def deliveries(campaign: Campaign) -> dict[str, Any]:
    """The campaign's last 100 deliveries, newest first."""
    return {"deliveries": [to_dict(delivery) for delivery in webhook_records.recent_deliveries(campaign.id, LISTED)]}


def retry(campaign: Campaign, delivery_id: str) -> dict[str, Any]:
    """Make a delivery due now, with a fresh 24 h of retries (the same event, the same ``id``)."""
    delivery = webhook_records.find_delivery(campaign.id, delivery_id) if _EVENT_ID.fullmatch(delivery_id) else None
    if delivery is None:
        raise not_found("delivery")
    if not campaign.webhook_url:
        raise ApiError(409, "webhook_not_configured", "Set a webhook_url first: there is nowhere to deliver.")
    now = now_ms()
    rearmed = webhook_records.rearm(delivery, now, now + int(config.webhook_give_up_seconds() * 1000))
    if rearmed is None:
        raise ApiError(409, "delivery_in_progress", "An attempt of this delivery is running; retry once it ends.")
    webhook_queue.send(webhook_queue.Message(campaign.id, rearmed.created, rearmed.event_id))
    return {"delivery": to_dict(rearmed)}
