"""Link items (a fan's link, an e-mail claim) and the transactions that create, moderate
and erase a fan."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, replace
from datetime import datetime
from enum import Enum
from typing import Any

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


def _fact_key(link: Link, sk: str) -> dict:
    return {"pk": codec.s(keys.event_pk(link.campaign_id, keys.lane_of(link.code))), "sk": codec.s(sk)}


def _fact_update(link: Link, values: Mapping[str, Any]) -> dict:
    """The new-referrer fact takes the fan's new name, moderation or erasure: its stream
    record (a MODIFY) carries them to the fan's rollup and the leaderboard (``aggregate.counting``)."""
    expression, names, typed = codec.update(declared.EVENT, values)
    return {"Update": {"TableName": clients.table("events"), "Key": _fact_key(link, keys.referrer_sk(link.code)),
                       "UpdateExpression": expression, "ConditionExpression": "attribute_exists(sk)",
                       "ExpressionAttributeNames": names, **({"ExpressionAttributeValues": typed} if typed else {})}}


def _link_update(link: Link, expression: str, names: dict[str, str], typed: dict[str, dict],
                 condition: str) -> dict:
    return {"Update": {"TableName": clients.table("links"), "Key": {"code": codec.s(link.code)},
                       "UpdateExpression": expression, "ConditionExpression": condition,
                       "ExpressionAttributeNames": names, **({"ExpressionAttributeValues": typed} if typed else {})}}


def moderate(link: Link, changes: Mapping[str, Any], token: str) -> bool:
    """Store a fan's new ``name`` and/or ``hidden``, and nothing else, on their link and their
    new-referrer fact, in one transaction (``token`` is its ClientRequestToken: applied
    twice, it is applied once). A new name is conditioned on the fan not being erased:
    erasure wins over any moderation that read the fan before it (``False`` then, nothing
    written). Hiding or showing an erased fan is allowed: it brings no data back."""
    expression, names, typed = codec.update(declared.LINK, changes)
    condition = "attribute_exists(#code)"
    names["#code"] = "code"
    if "name" in changes:
        condition += " AND attribute_not_exists(#erased)"
        names["#erased"] = "erased_at"
    items = [_link_update(link, expression, names, typed, condition), _fact_update(link, changes)]
    try:
        clients.patient().transact_write_items(TransactItems=items, ClientRequestToken=token)
        return True
    except Exception as exc:
        if clients.error_code(exc) != "TransactionCanceledException":
            raise
        stored = get(link.code)
        if "name" in changes and stored is not None and stored.erased_at is not None:
            return False
        raise


def erase(link: Link, token: str, erased_at: datetime) -> Link:
    """Erase a fan's name and e-mail, in one transaction: the link loses them (and the key of
    its claim), the e-mail claim is deleted, the new-referrer fact loses the name, and an
    erasure record (no personal data) is written. The link keeps redirecting.

    Each write removes or sets only what erasure changes, whatever was read before: a
    moderation racing it cannot bring a name back (a new name is conditioned on the fan not
    being erased). Applied twice, the same: removals of what is gone, the first erasure time
    kept (``if_not_exists``), the same record put again, a delete of what is gone."""
    moment = link.erased_at or erased_at
    removals, names, _ = codec.update(declared.LINK, {"name": None, "sealed_email": None, "claim": None})
    at = codec.update(declared.LINK, {"erased_at": moment})[2][":u0"]
    names.update({"#code": "code", "#erased": "erased_at"})
    erase_link = _link_update(link, f"SET #erased = if_not_exists(#erased, :at) {removals}", names, {":at": at},
                              "attribute_exists(#code)")
    record = codec.to_item(declared.EVENT, {
        "pk": keys.event_pk(link.campaign_id, keys.lane_of(link.code)), "sk": keys.erasure_sk(link.code),
        "kind": "erasure", "campaign_id": link.campaign_id, "code": link.code, "occurred_at": moment})
    items = [erase_link, _fact_update(link, {"name": None, "erased": True}),
             {"Put": {"TableName": clients.table("events"), "Item": record}}]
    if link.claim:
        items.append({"Delete": {"TableName": clients.table("links"),
                                 "Key": {"code": codec.s(keys.email_claim_key(link.campaign_id, link.claim))}}})
    clients.patient().transact_write_items(TransactItems=items, ClientRequestToken=token)
    return replace(link, name=None, sealed_email=None, claim=None, erased_at=moment)


def stop_notifying(code: str) -> None:
    """The fan unsubscribed: ``notify`` false on their link, and nothing else written (applied
    twice, the same; a link that does not exist is not created)."""
    try:
        clients.patient().update_item(
            TableName=clients.table("links"), Key={"code": codec.s(code)}, UpdateExpression="SET #notify = :no",
            ConditionExpression="attribute_exists(#code)",
            ExpressionAttributeNames={"#notify": "notify", "#code": "code"},
            ExpressionAttributeValues={":no": {"BOOL": False}})
    except Exception as exc:
        if clients.error_code(exc) != "ConditionalCheckFailedException":
            raise
