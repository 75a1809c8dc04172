"""What outlives an erasure, and for how long: the tables' point-in-time recovery and the
events stream.

One declaration: the CDK stack builds each table's ``PointInTimeRecoverySpecification``
from :data:`POINT_IN_TIME_RECOVERY_DAYS`, ``docs/privacy.md`` states it table by table
(``tests/infra/test_privacy_truth.py`` holds the template and the doc to it), and the
erasure answer (:func:`after_erasure`) reports what it leaves restorable.

**The decision, table by table** (the reasons are in ``docs/privacy.md``, "Backups"):

- ``campaigns``: on. Creators' settings and key hashes: no fan's data, and nowhere else.
- ``links``: off. Fans' names, sealed e-mails and the keyed hashes of those e-mails; all
  the rest of a link is in the events table's new-referrer fact.
- ``events``: on. The facts everything else is counted from, pledges above all. It holds a
  new referrer's name too: an erased name stays restorable for the recovery period.
- ``rollups``: off. Counters (rebuilt from the events by a recount), names copied from the
  links, and each day's random visitor salt, which must be gone for good after its day.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib.core.validation import iso

POINT_IN_TIME_RECOVERY_DAYS: dict[str, int | None] = {
    "campaigns": 35,
    "links": None,
    "events": 35,
    "rollups": None,
}
"""Each table's point-in-time recovery period in days (DynamoDB allows 1 to 35), or
``None`` where it is off."""

FAN_DATA: dict[str, tuple[str, ...]] = {
    "campaigns": (),
    "links": ("name", "email", "email_digest"),
    "events": ("name",),
    "rollups": ("name",),
}
"""What each table holds of a fan's erasable data (``email_digest``: the keyed hash that
keeps one link per e-mail)."""

STREAMED_TABLES = ("events",)
"""The tables with a DynamoDB stream (new and old images)."""
STREAM_RETENTION = timedelta(hours=24)
"""How long DynamoDB Streams keeps a record: fixed by DynamoDB."""


def after_erasure(erased_at: datetime) -> list[dict[str, Any]]:
    """What a fan erased at ``erased_at`` can still be restored from, what it holds of
    them, and until when: one entry per table with point-in-time recovery that held their
    data, and per stream of such a table."""
    restorable: list[dict[str, Any]] = []
    for table, days in POINT_IN_TIME_RECOVERY_DAYS.items():
        if days is not None and FAN_DATA[table]:
            restorable.append({"store": f"{table}_point_in_time_recovery", "holds": list(FAN_DATA[table]),
                               "until": iso(erased_at + timedelta(days=days))})
    for table in STREAMED_TABLES:
        if FAN_DATA[table]:
            restorable.append({"store": f"{table}_stream", "holds": list(FAN_DATA[table]),
                               "until": iso(erased_at + STREAM_RETENTION)})
    return restorable
