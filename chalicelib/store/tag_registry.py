"""The platform tags issued to fans (``hotpath.platform_tags``), beside their links.

Each issued tag is kept twice in the links table, both append-only:

- on the fan's link, in ``platform_tags`` (a string set: ``ADD`` only), so that the
  creator's tag list reads the tags with the links it already reads;
- as an item of its own, key ``#<campaign>:tag:<tag>`` (``keys.platform_tag_key``), with
  ``target`` (the fan's code) and ``channel``, written only when absent or already naming
  the same fan: a tag can never be handed to a second fan, and an import reads a tag back
  with one ``GetItem``. Nothing deletes these items (the API role's only ``DeleteItem`` on
  links is held to e-mail claims' keys, ``infra/stack.py``).

A fan's tags are issued in one transaction, and applying it twice is applying it once: a
set gains what it has, an item is set to what it holds and keeps its first ``created_at``.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from chalicelib.store import clients, codec, declared, keys

MAX_TAGS = 99
"""A transaction holds 100 items: the link and up to 99 tags (a fan has at most 15)."""


class TagTaken(Exception):
    """A tag's item names another fan: what derivation rules out, refused rather than reassigned."""


def _tag_update(campaign_id: str, code: str, tag: str, channel: str | None, moment: datetime) -> dict:
    """The tag's item: set to name this fan (and channel) if free or already theirs; the
    first ``created_at`` kept."""
    _, _, typed = codec.update(declared.LINK, {"target": code, "campaign_id": campaign_id, "created_at": moment,
                                               "channel": channel})
    names = {"#key": "code", "#target": "target", "#campaign": "campaign_id", "#at": "created_at"}
    values = {":code": typed[":u0"], ":campaign": typed[":u1"], ":at": typed[":u2"]}
    expression = "SET #target = :code, #campaign = :campaign, #at = if_not_exists(#at, :at)"
    if channel is not None:
        names["#channel"], values[":channel"] = "channel", typed[":u3"]
        expression += ", #channel = :channel"
    return {"Update": {"TableName": clients.table("links"),
                       "Key": {"code": codec.s(keys.platform_tag_key(campaign_id, tag))},
                       "UpdateExpression": expression,
                       "ConditionExpression": "attribute_not_exists(#key) OR #target = :code",
                       "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}}


def _link_update(campaign_id: str, code: str, tags: Iterable[str]) -> dict:
    """The fan's link gains the tags (``ADD`` to a set), if it is a link of this campaign."""
    _, _, typed = codec.update(declared.LINK, {"platform_tags": set(tags), "campaign_id": campaign_id})
    return {"Update": {"TableName": clients.table("links"), "Key": {"code": codec.s(code)},
                       "UpdateExpression": "ADD #tags :tags",
                       "ConditionExpression": "attribute_exists(#code) AND #campaign = :campaign",
                       "ExpressionAttributeNames": {"#tags": "platform_tags", "#code": "code",
                                                    "#campaign": "campaign_id"},
                       "ExpressionAttributeValues": {":tags": typed[":u0"], ":campaign": typed[":u1"]}}}


def issue(campaign_id: str, code: str, tags: Mapping[str | None, str], moment: datetime) -> bool:
    """Record ``tags`` (by channel, ``None`` for a fan's one tag) as the fan ``code``'s: one
    transaction. ``False`` (nothing written) when ``code`` is no link of this campaign;
    :class:`TagTaken` when a tag's item names another fan."""
    if not tags:
        return True
    if len(tags) > MAX_TAGS:
        raise ValueError(f"{len(tags)} tags for one fan: at most {MAX_TAGS}")
    ordered = sorted(tags.items(), key=lambda pair: pair[1])
    items = [_link_update(campaign_id, code, tags.values()),
             *(_tag_update(campaign_id, code, tag, channel, moment) for channel, tag in ordered)]
    try:
        clients.patient().transact_write_items(TransactItems=items)
        return True
    except Exception as exc:
        if clients.error_code(exc) != "TransactionCanceledException":
            raise
        reasons = [r.get("Code") for r in getattr(exc, "response", {}).get("CancellationReasons", [])]
    if reasons and reasons[0] == "ConditionalCheckFailed":
        return False
    taken = [tag for (_, tag), reason in zip(ordered, reasons[1:], strict=False) if reason == "ConditionalCheckFailed"]
    if taken:
        raise TagTaken(f"tags of another fan: {taken}")
    raise RuntimeError(f"tag transaction cancelled: {reasons}")


def owners(campaign_id: str, tags: Iterable[str]) -> dict[str, tuple[str, str | None]]:
    """``{tag: (code, channel)}`` of the issued tags among ``tags`` (BatchGetItem, 100 keys a
    request, strongly consistent); a tag never issued in this campaign is left out."""
    wanted = {keys.platform_tag_key(campaign_id, tag): tag for tag in dict.fromkeys(tags)}
    table = clients.table("links")
    found: dict[str, tuple[str, str | None]] = {}
    ordered = list(wanted)
    for start in range(0, len(ordered), 100):
        pending: dict = {table: {"Keys": [{"code": codec.s(key)} for key in ordered[start:start + 100]],
                                 "ConsistentRead": True}}
        while pending:
            response = clients.patient().batch_get_item(RequestItems=pending)
            for item in response.get("Responses", {}).get(table, []):
                values = codec.from_item(declared.LINK, item)
                found[wanted[values["code"]]] = (values["target"], values["channel"])
            pending = response.get("UnprocessedKeys") or {}
    return found
