"""A campaign's e-mail bookkeeping, in the rollups table under ``keys.mail_pk``: no address,
only claim digests (keyed hashes, ``domain.links.claim_digest``), nonces and job ids.

- **Recovery gate** (``g#<digest>``): at most one sign-in message per address per window
  (10 minutes): a conditional write that passes only once the last one's window is over.
- **Used sign-in tokens** (``t#<nonce>``): a conditional put; the second use finds it.
- **Sends** (``s#<job id>``): a lease taken before a message goes out and ``sent`` once it
  did, so a job delivered twice, or replayed by the aggregator, sends one message; a send
  that failed may be retried once its lease is over.
- **Suppressed addresses** (``x#<digest>``): bounced or complained; nothing more is sent.

Every item but a suppression expires (``expires_at``) once it no longer matters.
"""
from __future__ import annotations

from chalicelib.store import clients, codec, keys

SENT_TTL_SECONDS = 30 * 86_400


def _key(campaign_id: str, sk: str) -> dict:
    return {"pk": codec.s(keys.mail_pk(campaign_id)), "sk": codec.s(sk)}


def _conditional_put(item: dict, condition: str, values: dict | None = None, names: dict | None = None) -> bool:
    try:
        clients.patient().put_item(TableName=clients.table("rollups"), Item=item, ConditionExpression=condition,
                                   **({"ExpressionAttributeValues": values} if values else {}),
                                   **({"ExpressionAttributeNames": names} if names else {}))
        return True
    except Exception as exc:
        if clients.error_code(exc) != "ConditionalCheckFailedException":
            raise
        return False


def take_gate(campaign_id: str, email_digest: str, job_id: str, now: int, seconds: int) -> bool:
    """Whether the job ``job_id`` may send a sign-in message to this address now (the same
    job asking again, after a lost answer or a retry, is told yes again)."""
    until = now + seconds
    item = {**_key(campaign_id, keys.mail_gate_sk(email_digest)), "until": codec.n(until), "job": codec.s(job_id),
            "expires_at": codec.n(until + 60)}
    return _conditional_put(item, "attribute_not_exists(pk) OR #until <= :now OR #job = :job",
                            {":now": codec.n(now), ":job": codec.s(job_id)}, {"#until": "until", "#job": "job"})


def use_signin(campaign_id: str, nonce: str, expires_at: int) -> bool:
    """Mark a sign-in token used; ``False`` if it already was."""
    item = {**_key(campaign_id, keys.signin_used_sk(nonce)), "expires_at": codec.n(expires_at + 60)}
    return _conditional_put(item, "attribute_not_exists(pk)")


def lease_send(campaign_id: str, job_id: str, now: int, lease_seconds: int, owner: str) -> bool:
    """Take the right to send the message of ``job_id`` for ``lease_seconds``; ``False`` when
    it was sent already, or another attempt holds a lease that is not over.

    ``owner`` names this attempt: when the put landed but its answer was lost, the client's
    retry finds the attempt's own lease and is told yes again (without it, the message of
    that job would never be sent)."""
    item = {**_key(campaign_id, keys.mail_sent_sk(job_id)), "lease": codec.n(now + lease_seconds),
            "owner": codec.s(owner), "expires_at": codec.n(now + SENT_TTL_SECONDS)}
    return _conditional_put(
        item, "attribute_not_exists(pk) OR (attribute_not_exists(#sent) AND (#lease <= :now OR #owner = :owner))",
        {":now": codec.n(now), ":owner": codec.s(owner)}, {"#sent": "sent", "#lease": "lease", "#owner": "owner"})


def mark_sent(campaign_id: str, job_id: str, now: int, provider_id: str) -> None:
    clients.patient().update_item(
        TableName=clients.table("rollups"), Key=_key(campaign_id, keys.mail_sent_sk(job_id)),
        UpdateExpression="SET #sent = :now, #via = :via",
        ExpressionAttributeNames={"#sent": "sent", "#via": "via"},
        ExpressionAttributeValues={":now": codec.n(now), ":via": codec.s(provider_id or "-")})


def was_sent(campaign_id: str, job_id: str) -> bool:
    item = clients.patient().get_item(TableName=clients.table("rollups"),
                                      Key=_key(campaign_id, keys.mail_sent_sk(job_id)), ConsistentRead=True).get("Item")
    return bool(item and "sent" in item)


def suppress(campaign_id: str, email_digest: str, reason: str, now: int) -> None:
    """Send nothing more to this address in this campaign (a bounce, a complaint)."""
    clients.patient().put_item(TableName=clients.table("rollups"),
                               Item={**_key(campaign_id, keys.suppression_sk(email_digest)),
                                     "reason": codec.s(reason), "at": codec.n(now)})


def is_suppressed(campaign_id: str, email_digest: str) -> bool:
    item = clients.patient().get_item(TableName=clients.table("rollups"),
                                      Key=_key(campaign_id, keys.suppression_sk(email_digest)),
                                      ConsistentRead=True).get("Item")
    return item is not None


def release_send(campaign_id: str, job_id: str, owner: str) -> None:
    """A send failed: give its lease back (unless it was sent after all, or is no longer this
    attempt's), so a retry may send."""
    try:
        clients.patient().delete_item(TableName=clients.table("rollups"),
                                      Key=_key(campaign_id, keys.mail_sent_sk(job_id)),
                                      ConditionExpression="attribute_not_exists(#sent) AND #owner = :owner",
                                      ExpressionAttributeNames={"#sent": "sent", "#owner": "owner"},
                                      ExpressionAttributeValues={":owner": codec.s(owner)})
    except Exception as exc:
        if clients.error_code(exc) != "ConditionalCheckFailedException":
            raise
