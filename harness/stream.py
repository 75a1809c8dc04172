"""Synthetic DynamoDB stream records of the events table, as Lambda hands them to the aggregator."""
from __future__ import annotations

import copy
import itertools

from chalicelib.core import ids

_seq = itertools.count(10**20)
_items: dict[tuple[str, str], dict] = {}

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


def next_sequence_number() -> str:
    return str(next(_seq))


def click_record(campaign, code, channel, visitor, day="2026-11-01", lane="03", rewritten=False):
    """The stream record of a visitor's click, as ``store.events_table.put_fact`` makes it: their item
    of the day (per link and channel) gains the click's token, an ``INSERT`` for their first
    click and a ``MODIFY`` after (``rewritten``: the item written again unchanged, as a
    fallback replay of a write that had landed does)."""
    key = (f"{campaign}#{lane}", f"v#{day}#{code}#{channel}#{visitor}")
    old = _items.get(key)
    new = copy.deepcopy(old) if old else {
        "pk": {"S": key[0]}, "sk": {"S": key[1]}, "kind": {"S": "visit"}, "agent": {"S": FIREFOX},
        "campaign_id": {"S": campaign}, "code": {"S": code}, "channel": {"S": channel}, "day": {"S": day},
        "visitor": {"S": visitor}, "toks": {"SS": []},
    }
    if not rewritten or not new["toks"]["SS"]:
        new["toks"]["SS"].append(ids.random_base62(22))
    _items[key] = new
    ddb = {"Keys": {"pk": new["pk"], "sk": new["sk"]}, "NewImage": copy.deepcopy(new),
           "SequenceNumber": next_sequence_number()}
    if old is not None:
        ddb["OldImage"] = copy.deepcopy(old)
    return {"eventID": ids.random_base62(20), "eventName": "MODIFY" if old else "INSERT", "dynamodb": ddb}
