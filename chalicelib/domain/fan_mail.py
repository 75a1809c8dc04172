"""Fans by e-mail, as strangers reach it: link recovery, sign-in, unsubscribe.

**Recovery** (``POST …/referrers/recover``) answers ``202`` whatever the e-mail and does the
same work for every one: it hashes the e-mail with the campaign's claim key
(``links.claim_digest``) and queues a job naming that digest. Whether the digest has a
link, whether the campaign's e-mail is on, whether the address was e-mailed in the last
10 minutes are for the mailer to find, off the request path (``outbound.mailer``). The
answer, its timing class and the work done therefore say nothing about the e-mail.

**Sign-in** (``POST …/referrers/signin``) takes the token of the message: signed by Relais
(``core.mail_tokens``), for this campaign, not expired, and used once (a conditional write
of its nonce: ``store.mail_records``). Anything else is ``400 invalid_token``, the same for
every reason.

**Unsubscribe** (``POST /v1/unsubscribe/{token}``, RFC 8058's one-click POST, or the form
of the page ``GET`` shows) turns the fan's reward e-mails off for good (``notify`` false on
their link).
"""
from __future__ import annotations

from typing import Any

from chalicelib.core import mail_tokens
from chalicelib.core import validation as v
from chalicelib.core.errors import bad_request
from chalicelib.domain.links import claim_digest, parse_email
from chalicelib.store import links_table, mail_queue, mail_records
from chalicelib.store.records import Campaign, Link


def invalid_token() -> Exception:
    return bad_request("invalid_token", "This link is not valid: it was used already, has expired, or is "
                                        "for another campaign. Ask for a new one.")


def recover(campaign: Campaign, body: Any, base_url: str) -> None:
    """Queue the recovery of the link of ``body``'s e-mail (see the module's doc)."""
    body = v.json_object(body)
    v.no_unknown_fields(body, {"email"})
    email = parse_email(body.get("email"))
    job = mail_queue.Job("signin", campaign.id, claim_digest(campaign.id, email), mail_queue.new_id(), base=base_url)
    mail_queue.send(job)


def signin(campaign: Campaign, body: Any) -> Link:
    """The fan's link a sign-in token names, using the token up."""
    body = v.json_object(body)
    v.no_unknown_fields(body, {"token"})
    token = mail_tokens.read_signin(body.get("token"))
    if token is None or token.campaign_id != campaign.id:
        raise invalid_token()
    link = links_table.get(token.code)
    if link is None or link.campaign_id != campaign.id or link.erased_at is not None:
        raise invalid_token()
    if not mail_records.use_signin(campaign.id, token.nonce, token.expires_at):
        raise invalid_token()
    return link


def unsubscribe(token: str) -> bool:
    """Stop the e-mails of the fan ``token`` names; ``False`` for a token Relais did not make.
    Unsubscribing twice, or a fan since erased, is the same as once."""
    named = mail_tokens.read_unsubscribe(token)
    if named is None:
        return False
    campaign_id, code = named
    link = links_table.get(code)
    if link is not None and link.campaign_id == campaign_id:
        links_table.stop_notifying(code)
    return True

