"""What platforms' referral reports said of each platform tag, import after import.

Each import of a tag that changes its figures is a new events item, ``tt#<tag>#<version>``,
holding the new figures and the previous ones (``prior_*``): the aggregator counts the
difference on the import's day (``aggregate.counting``), and the newest item is the tag's
current total. The put is conditional on the version being free, so of two imports racing
on one tag, one takes the version and the other reads again: neither difference is lost
or counted twice. No item is ever rewritten, and an unchanged tag costs a query, no write.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.store import clients, codec, declared, keys


@dataclass(frozen=True)
class TagTotal:
    """A tag's figures as one import reported them: ``version`` counts the imports that
    changed them; ``import_id`` is the import that wrote them."""

    tag: str
    version: int
    pledges: int
    amount: int
    currency: str
    import_id: str


@dataclass(frozen=True)
class Attributed:
    """Whose tag: the fan's link, the channel (``None``: the fan's own tag) and its depth."""

    code: str
    channel: str | None
    depth: int


def _pk(campaign_id: str, tag: str) -> str:
    return keys.event_pk(campaign_id, keys.lane_of(tag))


def _total(tag: str, item: dict) -> TagTotal:
    values = codec.from_item(declared.EVENT, item)
    return TagTotal(tag, keys.tag_total_version(values["sk"]), int(values["pledges"] or 0), int(values["amount"] or 0),
                    values["currency"] or "", values["external_id"] or "")


def version(campaign_id: str, tag: str, number: int) -> TagTotal | None:
    """The ``number``-th total imported for ``tag``, or ``None``."""
    response = clients.patient().get_item(
        TableName=clients.table("events"), ConsistentRead=True,
        Key={"pk": codec.s(_pk(campaign_id, tag)), "sk": codec.s(keys.tag_total_sk(tag, number))})
    return _total(tag, response["Item"]) if "Item" in response else None


def latest(campaign_id: str, tag: str) -> TagTotal | None:
    """The newest total imported for ``tag`` (strongly consistent), or ``None``."""
    response = clients.patient().query(
        TableName=clients.table("events"), ConsistentRead=True, ScanIndexForward=False, Limit=1,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues={":pk": codec.s(_pk(campaign_id, tag)),
                                   ":prefix": codec.s(keys.tag_total_prefix(tag))})
    items = response.get("Items", [])
    return _total(tag, items[0]) if items else None


def record(campaign_id: str, new: TagTotal, prior: TagTotal | None, owner: Attributed, day: str,
           moment: datetime, goal_amount: int) -> bool:
    """Store ``new`` (``prior`` is what it replaces); ``False`` when another import took its
    version first. ``goal_amount``: the difference in the campaign's goal currency."""
    item = codec.to_item(declared.EVENT, {
        "pk": _pk(campaign_id, new.tag), "sk": keys.tag_total_sk(new.tag, new.version), "kind": "tag_total",
        "campaign_id": campaign_id, "code": owner.code, "channel": owner.channel or "direct", "depth": owner.depth,
        "day": day, "occurred_at": moment, "external_id": new.import_id, "source": "import",
        "pledges": new.pledges, "amount": new.amount, "currency": new.currency, "goal_amount": goal_amount,
        "prior_pledges": prior.pledges if prior else None, "prior_amount": prior.amount if prior else None,
        "prior_currency": prior.currency if prior else None})
    try:
        clients.patient().put_item(TableName=clients.table("events"), Item=item,
                                   ConditionExpression="attribute_not_exists(pk)")
        return True
    except Exception as exc:
        if clients.error_code(exc) != "ConditionalCheckFailedException":
            raise
    stored = latest(campaign_id, new.tag)
    return stored is not None and stored.version == new.version and stored.import_id == new.import_id and \
        (stored.pledges, stored.amount, stored.currency) == (new.pledges, new.amount, new.currency)
