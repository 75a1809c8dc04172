"""Bounces and complaints from SES suppress the address for that campaign, by keyed hash only,
and the mailer then sends it nothing (app tier: moto's DynamoDB)."""
from __future__ import annotations

import json

import boto3

from chalicelib.core import config
from chalicelib.domain import mail_feedback
from chalicelib.domain.links import claim_digest
from chalicelib.outbound import mailer
from chalicelib.store import mail_queue, mail_records

MAIL_ON = {"enabled": True, "from_name": "Ada"}


def _ses_event(kind: str, campaign_id: str | None, address: str, bounce_type: str = "Permanent") -> dict:
    event: dict = {"eventType": kind, "mail": {"tags": {"campaign": [campaign_id]} if campaign_id else {}}}
    if kind == "Bounce":
        event["bounce"] = {"bounceType": bounce_type, "bouncedRecipients": [{"emailAddress": address}]}
    else:
        event["complaint"] = {"complainedRecipients": [{"emailAddress": address}]}
    return event


def _through_sns(*events: dict) -> dict:
    return {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": json.dumps(event)}} for event in events]}


def _suppressed(campaign_id: str, address: str) -> bool:
    return mail_records.is_suppressed(campaign_id, claim_digest(campaign_id, address))


def test_a_permanent_bounce_suppresses_the_address_in_its_campaign_only_and_keeps_no_address(api):
    campaign, _ = api.create_campaign(email=MAIL_ON)
    other, _ = api.create_campaign(email=MAIL_ON)
    assert mail_feedback.handle(_through_sns(_ses_event("Bounce", campaign["id"], "Gone@Example.org"))) == 1
    assert (_suppressed(campaign["id"], "gone@example.org"), _suppressed(other["id"], "gone@example.org")) == \
        (True, False)
    items = boto3.client("dynamodb").scan(TableName=config.table_name("rollups"))["Items"]
    assert "gone@example.org" not in json.dumps(items).lower()


def test_a_complaint_through_eventbridge_suppresses_and_a_transient_bounce_or_an_untagged_message_does_not(api):
    campaign, _ = api.create_campaign(email=MAIL_ON)
    assert mail_feedback.handle({"detail": _ses_event("Complaint", campaign["id"], "angry@example.org")}) == 1
    assert mail_feedback.handle(_through_sns(_ses_event("Bounce", campaign["id"], "full@example.org", "Transient"),
                                             _ses_event("Bounce", None, "untagged@example.org"),
                                             _ses_event("Delivery", campaign["id"], "fine@example.org"))) == 0
    assert mail_feedback.handle({"Records": [{"Sns": {"Message": "not json"}}]}) == 0
    assert [_suppressed(campaign["id"], address) for address in
            ("angry@example.org", "full@example.org", "untagged@example.org", "fine@example.org")] == \
        [True, False, False, False]


def test_the_mailer_sends_nothing_to_a_suppressed_address(api):
    campaign, _ = api.create_campaign(email=MAIL_ON)
    path = f"/v1/campaigns/{campaign['id']}/referrers"
    assert api.call("POST", path, {"name": "Bounced", "email": "bounced@example.org"}).status_code == 201
    digest = claim_digest(campaign["id"], "bounced@example.org")
    mail_feedback.handle(_through_sns(_ses_event("Bounce", campaign["id"], "bounced@example.org")))
    job = mail_queue.Job("signin", campaign["id"], digest, mail_queue.new_id(), base="https://go.example.org")
    assert mailer.handle(job) == "suppressed"
