"""Handing a built message to whoever delivers it: Amazon SES (v2 API, raw content, through
the stage's configuration set) on AWS, or ``make dev``'s local SMTP server on 127.0.0.1
(``RELAIS_SMTP``: :mod:`dev.mail_server` keeps each message as an ``.eml`` file).

Called only by the mailer, never on a request's path; a failure raises, and the mailer puts
the job back on the outbox to be tried again.
"""
from __future__ import annotations

import smtplib

from chalicelib.core import config
from chalicelib.store import ses

SMTP_TIMEOUT = 10.0


def send(raw: bytes, sender: str, recipient: str, campaign_id: str) -> str:
    """Deliver ``raw`` (a whole RFC 5322 message) to ``recipient``; the provider's message id."""
    server = config.smtp_server()
    if server is not None:
        with smtplib.SMTP(server[0], server[1], timeout=SMTP_TIMEOUT) as smtp:
            refused = smtp.sendmail(sender, [recipient], raw)
        if refused:
            raise smtplib.SMTPRecipientsRefused(refused)
        return "smtp"
    return ses.send_raw(raw, sender, recipient, campaign_id, config.ses_configuration_set())
