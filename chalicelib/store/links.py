"""Link items (a fan's link, an e-mail claim) and the transaction that creates a fan."""
from __future__ import annotations

from dataclasses import asdict
from enum import Enum

from chalicelib.store import clients, codec, keys
from chalicelib.store.records import Link
from chalicelib.store.schema import EventModel, LinkModel

_LINK_FIELDS = frozenset(Link.__dataclass_fields__)


class Outcome(Enum):
    CREATED = "created"
    CODE_TAKEN = "code_taken"
    EMAIL_TAKEN = "email_taken"


def _record(item: dict) -> Link:
    values = codec.from_item(LinkModel, item)
    values["depth"] = int(values["depth"] or 1)
    return Link(**{name: value for name, value in values.items() if name in _LINK_FIELDS})


def _get(key: str, request_path: bool) -> dict | None:
    client = clients.request() if request_path else clients.patient()
    response = client.get_item(TableName=clients.table("links"), Key={"code": codec.s(key)},
                               ConsistentRead=not request_path)
    return response.get("Item")


def get(code: str, request_path: bool = False) -> Link | None:
    item = _get(code, request_path)
    return _record(item) if item and not code.startswith("@") else None


def claimed(campaign_id: str, email_digest: str) -> Link | None:
    """The link an e-mail claimed in this campaign, if any."""
    claim = _get(keys.email_claim_key(campaign_id, email_digest), False)
    target = codec.text(claim.get("target")) if claim else None
    return get(target) if target else None


def create(link: Link, token: str, email_digest: str | None) -> Outcome:
    """One transaction: the link, its e-mail claim (if any) and the new-referrer fact.

    ``token`` identifies this request: it is the transaction's ClientRequestToken (DynamoDB
    applies a retried transaction once) and is stored on the link, so that a retry that
    finds the code taken can tell its own landed write from a collision.
    """
    now = link.created_at
    link_item = codec.to_item(LinkModel, {**asdict(link), "rq": token})
    fact = codec.to_item(EventModel, {
        "pk": keys.event_pk(link.campaign_id, keys.lane_of(link.code)), "sk": keys.referrer_sk(link.code),
        "kind": "referrer", "campaign_id": link.campaign_id, "code": link.code, "name": link.name,
        "depth": link.depth, "referred_by": link.referred_by, "occurred_at": now, "day": now.date().isoformat(),
    })
    absent = {"ConditionExpression": "attribute_not_exists(code)"}
    items = [{"Put": {"TableName": clients.table("links"), "Item": link_item, **absent}}]
    if email_digest:
        claim = codec.to_item(LinkModel, {"code": keys.email_claim_key(link.campaign_id, email_digest),
                                          "campaign_id": link.campaign_id, "target": link.code,
                                          "rq": token, "created_at": now})
        items.append({"Put": {"TableName": clients.table("links"), "Item": claim, **absent}})
    items.append({"Put": {"TableName": clients.table("events"), "Item": fact}})
    try:
        clients.patient().transact_write_items(TransactItems=items, ClientRequestToken=token)
        return Outcome.CREATED
    except Exception as exc:
        if clients.error_code(exc) != "TransactionCanceledException":
            raise
        reasons = [r.get("Code") for r in getattr(exc, "response", {}).get("CancellationReasons", [])]
    stored = _get(link.code, False)
    if stored is not None and codec.text(stored.get("rq")) == token:
        return Outcome.CREATED  # our own write landed; only its answer was lost
    if email_digest and len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
        return Outcome.EMAIL_TAKEN
    if reasons and reasons[0] == "ConditionalCheckFailed":
        return Outcome.CODE_TAKEN
    raise RuntimeError(f"link transaction cancelled: {reasons}")
