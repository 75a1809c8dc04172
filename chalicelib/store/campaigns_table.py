"""Campaign items."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from chalicelib.store import clients, codec, declared, events_table
from chalicelib.store.records import Campaign, CampaignSummary


def _item(campaign: Campaign) -> dict:
    return codec.to_item(declared.CAMPAIGN, asdict(campaign))


def _record(item: dict) -> Campaign:
    return Campaign(**codec.from_item(declared.CAMPAIGN, item))


def get(campaign_id: str, request_path: bool = False) -> Campaign | None:
    """One campaign by id (a strongly consistent read, except on the request path)."""
    client = clients.request() if request_path else clients.patient()
    response = client.get_item(TableName=clients.table("campaigns"), Key={"id": codec.s(campaign_id)},
                               ConsistentRead=not request_path)
    item = response.get("Item")
    return _record(item) if item else None


def page(limit: int, after: str | None = None) -> tuple[list[CampaignSummary], str | None]:
    """Up to ``limit`` campaigns after the one with id ``after``, and the id to resume after
    (``None`` when the table is done; a last page may be empty).

    A paginated Scan, in the table's own (hash) order: stable from page to page, but not by
    name or date. DynamoDB bills the whole items it reads (a campaign is ~0.5 KB, at half a
    read unit per 4 KB: about one unit per 16 campaigns), whatever the projection; the
    projection keeps the answer to the three attributes listed. Only the operator lists
    campaigns, so no index is kept for it (one would put every campaign under one key).
    """
    kwargs: dict = {"TableName": clients.table("campaigns"), "Limit": limit,
                    "ProjectionExpression": "#id, #name, #created", "ExpressionAttributeNames": {
                        "#id": "id", "#name": "name", "#created": "created_at"}}
    if after is not None:
        kwargs["ExclusiveStartKey"] = {"id": codec.s(after)}
    response = clients.patient().scan(**kwargs)
    last = response.get("LastEvaluatedKey")
    return [_summary(item) for item in response.get("Items", [])], codec.text(last["id"]) if last else None


def _summary(item: dict) -> CampaignSummary:
    values = codec.from_item(declared.CAMPAIGN, item)
    return CampaignSummary(values["id"], values["name"], values["created_at"])


def every() -> Iterator[CampaignSummary]:
    """Every campaign, by Scan pages of up to 1 MB (the cost of :func:`page`, for all of them)."""
    after: str | None = None
    while True:
        found, after = page(1000, after)
        yield from found
        if after is None:
            return


def insert(campaign: Campaign) -> bool:
    """Store a new campaign; ``False`` when its id is taken by another campaign.

    A retried insert that had landed (its answer lost) finds its own item: same key hash.
    When no attempt got an answer at all, one read tells whether the put landed before
    the error is raised: the caller then never answers "failed" for a campaign that exists.
    """
    try:
        clients.patient().put_item(TableName=clients.table("campaigns"), Item=_item(campaign),
                                   ConditionExpression="attribute_not_exists(id)")
        return True
    except Exception as exc:
        if clients.error_code(exc) != "ConditionalCheckFailedException":
            if _is_ours(campaign):
                return True
            raise
    return _is_ours(campaign)


def _is_ours(campaign: Campaign) -> bool:
    """Whether the stored campaign of this id is this one (same key hash); ``False`` if the
    read fails too."""
    try:
        stored = get(campaign.id)
    except Exception:
        return False
    return stored is not None and stored.key_hash == campaign.key_hash


def change(campaign: Campaign, values: Mapping[str, Any], expect: str = "version", announce: bool = False) -> bool:
    """Write ``values`` over the campaign as read, and nothing else, one version up.

    Conditioned on what was read: its ``version`` (``expect="version"``), or for a key
    rotation its ``key_hash`` (``expect="key_hash"``: the key being replaced). ``False``
    when another change came first: the caller re-reads and decides. A retry whose first
    attempt landed (its answer lost) finds the values already stored and is ``True``; so is
    a call whose every attempt failed without an answer when one read finds them stored.

    ``announce``: the change also writes, in the same transaction, a settings record to the
    events table (``events_table.settings_put``): through the stream, the aggregator
    re-derives every fan's rewards and the milestones reached under the new settings.
    """
    expression, names, typed = codec.update(declared.CAMPAIGN, values)
    names.update({"#id": "id", "#ver": "version"})
    typed[":one"] = codec.n(1)
    if expect == "key_hash":
        condition, names["#kh"], typed[":read"] = "#kh = :read", "key_hash", codec.s(campaign.key_hash)
    elif campaign.version:
        condition, typed[":read"] = "#ver = :read", codec.n(campaign.version)
    else:
        condition = "attribute_not_exists(#ver) OR #ver = :zero"
        typed[":zero"] = codec.n(0)
    update = {"TableName": clients.table("campaigns"), "Key": {"id": codec.s(campaign.id)},
              "UpdateExpression": f"{expression} ADD #ver :one",
              "ConditionExpression": f"attribute_exists(#id) AND ({condition})",
              "ExpressionAttributeNames": names, "ExpressionAttributeValues": typed}
    try:
        if announce:
            moment = values.get("updated_at") or datetime.now(UTC)
            clients.patient().transact_write_items(TransactItems=[
                {"Update": update}, events_table.settings_put(campaign.id, campaign.version + 1, moment)])
        else:
            clients.patient().update_item(**update)
        return True
    except Exception as exc:
        if _holds(campaign.id, values):
            return True
        if clients.error_code(exc) in ("ConditionalCheckFailedException", "TransactionCanceledException"):
            return False
        raise


def _holds(campaign_id: str, values: Mapping[str, Any]) -> bool:
    """Whether the stored campaign already holds ``values`` (``False`` if the read fails too)."""
    try:
        stored = get(campaign_id)
    except Exception:
        return False
    if stored is None:
        return False
    current = codec.to_item(declared.CAMPAIGN, asdict(stored))
    wanted = codec.to_item(declared.CAMPAIGN, {**asdict(stored), **values})
    return all(current.get(name) == wanted.get(name) for name in values)


def note_first_day(campaign_id: str, day: str) -> None:
    """Remember ``day`` as the campaign's first when it is earlier than the one remembered
    (an import of pledges made before the campaign was created in Relais). Conditioned on
    it, so imports racing keep the earliest; not a change of settings, so no ``version``."""
    try:
        clients.patient().update_item(
            TableName=clients.table("campaigns"), Key={"id": codec.s(campaign_id)},
            UpdateExpression="SET #first = :day",
            ConditionExpression="attribute_exists(#id) AND (attribute_not_exists(#first) OR #first > :day)",
            ExpressionAttributeNames={"#id": "id", "#first": "first_day"},
            ExpressionAttributeValues={":day": codec.s(day)})
    except Exception as exc:
        if clients.error_code(exc) != "ConditionalCheckFailedException":
            raise
