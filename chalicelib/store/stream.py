"""Decoding the events table's stream records (in the shape Lambda hands them over)."""
from __future__ import annotations

from dataclasses import dataclass

from chalicelib.store import events_table
from chalicelib.store.records import Event


@dataclass(frozen=True)
class Change:
    """One INSERT or MODIFY of an events item, in stream order within its lane."""

    name: str  # INSERT | MODIFY
    lane: str
    seq: str  # zero-filled to 40 digits: compares as a string
    new: Event
    old: Event | None
    key: tuple[str, str]
    new_image: dict  # opaque: compared with what a recount read, never unpacked outside the store

    @property
    def campaign_id(self) -> str:
        return self.new.campaign_id


def decode_record(record: dict) -> Change | None:
    """A stream record as a change, ``None`` for a removal (TTL); ValueError if unusable."""
    name = record.get("eventName")
    if name == "REMOVE":
        return None
    if name not in ("INSERT", "MODIFY"):
        raise ValueError(f"unknown eventName {name!r}")
    ddb = record["dynamodb"]
    image = ddb["NewImage"]
    new = events_table.decode(image)
    old = events_table.decode(ddb["OldImage"]) if name == "MODIFY" and ddb.get("OldImage") else None
    seq = str(ddb["SequenceNumber"])
    if not seq.isdigit() or len(seq) > 40:
        raise ValueError("bad sequence number")
    return Change(name, new.lane, seq.zfill(40), new, old, (image["pk"]["S"], new.sk), image)
