"""Synthetic DynamoDB stream records of the events table, as Lambda hands them to the aggregator.

Their images are encoded by the store's own codec from plain values (:func:`event_image`),
so they are the items the store writes; a test that feeds the aggregator a malformed record
on purpose changes one after it is built.
"""
from __future__ import annotations

import copy
import itertools

from chalicelib.core import ids
from chalicelib.store import codec, declared, keys

_seq = itertools.count(10**20)
_tokens: dict[tuple[str, str], list[str]] = {}  # each visitor's item's tokens so far

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


def next_sequence_number() -> str:
    return str(next(_seq))


def event_image(campaign: str, sk: str, lane: int | str = 5, **values) -> dict:
    """An events item of ``campaign`` in ``lane`` (0-15, or its name ``"05"``) as the store
    writes it: ``values`` (``kind``, ``code``, ``amount``...) encoded by the store's codec."""
    return codec.to_item(declared.EVENT, {"pk": keys.event_pk(campaign, int(lane)), "sk": sk,
                                          "campaign_id": campaign, **values})


def insert_record(image: dict) -> dict:
    """The stream record of ``image``'s first write (an ``INSERT``)."""
    return {"eventID": ids.random_base62(20), "eventName": "INSERT",
            "dynamodb": {"Keys": {"pk": image["pk"], "sk": image["sk"]}, "NewImage": image,
                         "SequenceNumber": next_sequence_number()}}


def click_record(campaign, code, channel, visitor, day="2026-11-01", lane=3, rewritten=False):
    """The stream record of a visitor's click, as ``store.events_table.put_fact`` makes it: their item
    of the day (per link and channel) gains the click's token, an ``INSERT`` for their first
    click and a ``MODIFY`` after (``rewritten``: the item written again unchanged, as a
    fallback replay of a write that had landed does)."""
    key = (keys.event_pk(campaign, int(lane)), keys.visitor_visits_sk(day, code, channel, visitor))
    before = _tokens.get(key)
    tokens = list(before or [])
    if not rewritten or not tokens:
        tokens.append(ids.random_base62(22))
    _tokens[key] = tokens

    def image(toks: list[str]) -> dict:
        return event_image(campaign, key[1], lane, kind="visit", agent=FIREFOX, code=code, channel=channel, day=day,
                           visitor=visitor, toks=toks)

    record = insert_record(image(tokens))
    if before is not None:
        record["eventName"] = "MODIFY"
        record["dynamodb"]["OldImage"] = copy.deepcopy(image(before))
    return record
