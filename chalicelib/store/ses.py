"""Amazon SES (v2 API), through the store's botocore session like every other AWS call: the
mailer's one call, a raw message sent through the stage's configuration set."""
from __future__ import annotations

from chalicelib.store import clients


def send_raw(raw: bytes, sender: str, recipient: str, campaign_id: str, configuration_set: str | None) -> str:
    """Send ``raw`` (a whole RFC 5322 message); SES's message id."""
    options = {"ConfigurationSetName": configuration_set} if configuration_set else {}
    answer = clients.sesv2().send_email(
        FromEmailAddress=sender, Destination={"ToAddresses": [recipient]}, Content={"Raw": {"Data": raw}},
        EmailTags=[{"Name": "campaign", "Value": campaign_id}], **options)
    return str(answer.get("MessageId", ""))
