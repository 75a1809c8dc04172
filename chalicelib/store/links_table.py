"""Link items (a fan's link, an e-mail claim) and the transactions that create, moderate
and erase a fan."""
from __future__ import annotations

from dataclasses import asdict, replace
from datetime import datetime
from enum import Enum

from chalicelib.store import clients, codec, declared, keys
from chalicelib.store.records import Link


class Outcome(Enum):
    CREATED = "created"
    CODE_TAKEN = "code_taken"
    EMAIL_TAKEN = "email_taken"


def _record(item: dict) -> Link:
    return Link(**codec.from_item(declared.LINK, item))


def _get(key: str, request_path: bool) -> dict | None:
    client = clients.request() if request_path else clients.patient()
    response = client.get_item(TableName=clients.table("links"), Key={"code": codec.s(key)},
                               ConsistentRead=not request_path)
    return response.get("Item")


def get(code: str, request_path: bool = False) -> Link | None:
    item = _get(code, request_path)
    return _record(item) if item and not code.startswith("@") else None


def is_claimed(campaign_id: str, email_digest: str) -> bool:
    """Whether an e-mail already claimed a link in this campaign (one read)."""
    return _get(keys.email_claim_key(campaign_id, email_digest), False) is not None


def claimed(campaign_id: str, email_digest: str) -> Link | None:
    """The link an e-mail claimed in this campaign, if any."""
    claim = _get(keys.email_claim_key(campaign_id, email_digest), False)
    target = codec.text(claim.get("target")) if claim else None
    return get(target) if target else None


def create(link: Link, token: str, email_digest: str | None) -> Outcome:
    """One transaction: the link, its e-mail claim (if any) and the new-referrer fact.

    ``token`` identifies this request: it is the transaction's ClientRequestToken (DynamoDB
    applies a retried transaction once) and is stored on the link, so that a retry that
    finds the code taken can tell its own landed write from a collision. When no attempt
    got an answer at all, one read tells whether the transaction landed before the error is
    raised: the fan is never told "failed" about a link that exists (their retry would
    draw a second one).
    """
    now = link.created_at
    link_item = codec.to_item(declared.LINK, {**asdict(link), "rq": token})
    fact = codec.to_item(declared.EVENT, {
        "pk": keys.event_pk(link.campaign_id, keys.lane_of(link.code)), "sk": keys.referrer_sk(link.code),
        "kind": "referrer", "campaign_id": link.campaign_id, "code": link.code, "name": link.name,
        "depth": link.depth, "referred_by": link.referred_by, "occurred_at": now, "day": now.date().isoformat(),
    })
    absent = {"ConditionExpression": "attribute_not_exists(code)"}
    items = [{"Put": {"TableName": clients.table("links"), "Item": link_item, **absent}}]
    if email_digest:
        claim = codec.to_item(declared.LINK, {"code": keys.email_claim_key(link.campaign_id, email_digest),
                                          "campaign_id": link.campaign_id, "target": link.code,
                                          "rq": token, "created_at": now})
        items.append({"Put": {"TableName": clients.table("links"), "Item": claim, **absent}})
    items.append({"Put": {"TableName": clients.table("events"), "Item": fact}})
    try:
        clients.patient().transact_write_items(TransactItems=items, ClientRequestToken=token)
        return Outcome.CREATED
    except Exception as exc:
        if clients.error_code(exc) != "TransactionCanceledException":
            if _landed(link.code, token):
                return Outcome.CREATED
            raise
        reasons = [r.get("Code") for r in getattr(exc, "response", {}).get("CancellationReasons", [])]
    if _landed(link.code, token):
        return Outcome.CREATED  # our own write landed; only its answer was lost
    if email_digest and len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
        return Outcome.EMAIL_TAKEN
    if reasons and reasons[0] == "ConditionalCheckFailed":
        return Outcome.CODE_TAKEN
    raise RuntimeError(f"link transaction cancelled: {reasons}")


def _landed(code: str, token: str) -> bool:
    """Whether the link ``code`` was written by the request ``token`` (``False`` if the read fails too)."""
    try:
        stored = _get(code, False)
    except Exception:
        return False
    return stored is not None and codec.text(stored.get("rq")) == token


def get_many(codes: list[str]) -> dict[str, Link]:
    """The links of ``codes`` that exist (BatchGetItem, 100 keys a request, strongly consistent)."""
    found: dict[str, Link] = {}
    table = clients.table("links")
    for start in range(0, len(codes), 100):
        pending: dict = {table: {"Keys": [{"code": codec.s(code)} for code in codes[start:start + 100]],
                                 "ConsistentRead": True}}
        while pending:
            response = clients.patient().batch_get_item(RequestItems=pending)
            for item in response.get("Responses", {}).get(table, []):
                link = _record(item)
                found[link.code] = link
            pending = response.get("UnprocessedKeys") or {}
    return found


def _link_put(link: Link) -> dict:
    """The whole link item again (a retry writes the same item), only over an existing link."""
    item = codec.to_item(declared.LINK, asdict(link))
    return {"Put": {"TableName": clients.table("links"), "Item": item,
                    "ConditionExpression": "attribute_exists(code)"}}


def _fact_key(link: Link, sk: str) -> dict:
    return {"pk": codec.s(keys.event_pk(link.campaign_id, keys.lane_of(link.code))), "sk": codec.s(sk)}


def _referrer_fact_update(link: Link) -> dict:
    """The new-referrer fact takes the fan's current name and moderation: its stream record
    (a MODIFY) carries them to the fan's rollup and the leaderboard (``aggregate.counting``)."""
    names = {"#h": "hidden", "#e": "erased", "#n": "name"}
    values = {":h": {"BOOL": link.hidden}, ":e": {"BOOL": link.erased_at is not None}}
    if link.name is None:
        expression = "SET #h = :h, #e = :e REMOVE #n"
    else:
        expression, values[":n"] = "SET #h = :h, #e = :e, #n = :n", codec.s(link.name)
    return {"Update": {"TableName": clients.table("events"), "Key": _fact_key(link, keys.referrer_sk(link.code)),
                       "UpdateExpression": expression, "ConditionExpression": "attribute_exists(sk)",
                       "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}}


def moderate(link: Link, token: str) -> None:
    """Store a fan's new name or visibility: their link and their new-referrer fact, in one
    transaction (``token`` is its ClientRequestToken: applied twice, it is applied once, and
    either way both items end in the same state)."""
    clients.patient().transact_write_items(TransactItems=[_link_put(link), _referrer_fact_update(link)],
                                           ClientRequestToken=token)


def erase(link: Link, token: str, erased_at: datetime) -> Link:
    """Erase a fan's name and e-mail, in one transaction: the link loses them (and the key of
    its claim), the e-mail claim is deleted, the new-referrer fact loses the name, and an
    erasure record (no personal data) is written. The link keeps redirecting.

    Applied twice, the same: puts of the same items, a delete of what is gone, an update
    that sets what it set (DynamoDB writes no stream record for an unchanged item)."""
    erased = replace(link, name=None, sealed_email=None, claim=None, erased_at=link.erased_at or erased_at)
    record = codec.to_item(declared.EVENT, {
        "pk": keys.event_pk(link.campaign_id, keys.lane_of(link.code)), "sk": keys.erasure_sk(link.code),
        "kind": "erasure", "campaign_id": link.campaign_id, "code": link.code, "occurred_at": erased.erased_at})
    items = [_link_put(erased), _referrer_fact_update(erased),
             {"Put": {"TableName": clients.table("events"), "Item": record}}]
    if link.claim:
        items.append({"Delete": {"TableName": clients.table("links"),
                                 "Key": {"code": codec.s(keys.email_claim_key(link.campaign_id, link.claim))}}})
    clients.patient().transact_write_items(TransactItems=items, ClientRequestToken=token)
    return erased
