"""Synthetic DynamoDB stream records of the events table, as Lambda hands them to the aggregator."""
from __future__ import annotations

import itertools

from chalicelib.domain import ids

_seq = itertools.count(10**20)

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


def next_sequence_number() -> str:
    return str(next(_seq))


def click_record(campaign, code, channel, visitor, day="2026-11-01", lane="03", rewritten=False):
    """The stream record of one click: a fact item of its own (``rewritten``: the same item
    written again, as a fallback replay of a write that had landed does)."""
    token = ids.random_base62(22)
    image = {
        "pk": {"S": f"{campaign}#{lane}"}, "sk": {"S": f"v#{day}#{code}#{channel}#{visitor}#{token}"},
        "kind": {"S": "visit"}, "agent": {"S": FIREFOX}, "campaign_id": {"S": campaign}, "code": {"S": code},
        "channel": {"S": channel}, "day": {"S": day}, "visitor": {"S": visitor},
    }
    ddb = {"Keys": {"pk": image["pk"], "sk": image["sk"]}, "NewImage": image, "SequenceNumber": next_sequence_number()}
    if rewritten:
        ddb["OldImage"] = dict(image)
    return {"eventID": ids.random_base62(20), "eventName": "MODIFY" if rewritten else "INSERT", "dynamodb": ddb}
