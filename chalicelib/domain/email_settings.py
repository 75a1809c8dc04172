"""A campaign's ``email`` setting (fans by e-mail, ``docs/email.md``): validation and answer.

``null`` (off, the default) or ``{"enabled": bool, "from_name": 1..60 characters,
"reply_to": e-mail or null}``. ``from_name`` is the display name of the platform's sender
address; it is kept as given (one line) and cleaned again when a header is written
(``outbound.mail_message.header_text``).
"""
from __future__ import annotations

from typing import Any

from chalicelib.core import validation as v
from chalicelib.core.errors import bad_request
from chalicelib.domain.links import parse_email
from chalicelib.domain.names import normalise
from chalicelib.store.declared import EmailSettings
from chalicelib.store.records import Campaign

FROM_NAME_LENGTH = 60


def _invalid(message: str) -> Exception:
    return bad_request("invalid_email_settings", message)


def parse(value: Any) -> EmailSettings | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not {"enabled", "from_name"} <= set(value) or \
            not set(value) <= {"enabled", "from_name", "reply_to"}:
        raise _invalid('email is null or {"enabled": true|false, "from_name": "…", "reply_to": "…"|null}.')
    enabled = v.boolean(value["enabled"], "invalid_email_settings", "email.enabled")
    from_name = normalise(v.text(value["from_name"], "invalid_email_settings", "email.from_name", 1,
                                 FROM_NAME_LENGTH))
    if not from_name:
        raise _invalid("email.from_name must contain visible characters.")
    reply_to = value.get("reply_to")
    if reply_to is not None:
        try:
            reply_to = parse_email(reply_to)
        except Exception:
            raise _invalid("email.reply_to must be an e-mail address or null.") from None
    return EmailSettings(enabled=enabled, from_name=from_name, reply_to=reply_to or "")


def to_dict(settings: EmailSettings | None) -> dict | None:
    if settings is None:
        return None
    return {"enabled": settings.enabled, "from_name": settings.from_name, "reply_to": settings.reply_to or None}


def enabled(campaign: Campaign) -> bool:
    return campaign.email is not None and campaign.email.enabled
