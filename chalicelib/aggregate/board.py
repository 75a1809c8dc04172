"""The leaderboard item: what every public request about ranks reads, in one item.

A public request must cost a bounded number of reads however many fans a campaign has
(anyone can mint fans). The widget's leaderboard, a fan's rank and the public stats'
referrers therefore read one item per campaign, ``board``: the first :data:`BOARD_SIZE`
visible fans *with a pledge*, in leaderboard order (amount in the goal currency, then
pledges). The aggregator rebuilds it at the end of a batch that changed such a fan
(a pledge or refund, a click on a fan already on it, a rename, hiding, erasure): one
leaderboard-index query of at most ``BOARD_SIZE + SLACK`` items, overlaid with the items
the batch has just written (fresher than the index, which DynamoDB updates
asynchronously), then two puts (``store.rollups_table.put_board``: each item under 4 KB, one read
unit at most), skipped when nothing changed.

Why only fans with a pledge: a pledge is the one thing a stranger cannot make (the creator
reports it, with the campaign's key), so spam names never reach the public board, and the
index query skips the zero scores anyone can mint.

Rebuilds of one campaign can race (its lanes are read by several stream shards): each
board records when its index read began, and a put never replaces a board built from a
later read (``store.rollups_table.put_board``); an item in two states keeps the one with the
higher ``ver`` (the aggregator's write count of that item).
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import timedelta

from chalicelib.core.clock import utc_now
from chalicelib.core.observability import logger
from chalicelib.hotpath import signing
from chalicelib.store import rollups_table
from chalicelib.store.derived import Board, BoardEntry, Rollup
from chalicelib.store.records import FAN_COUNTERS, RollupId
from chalicelib.store.rollups_table import Applied, Contribution

BOARD_SIZE = 100
SLACK = 10  # more index items than the board holds: entries this batch took out are replaced
ATTEMPTS = 3


def entry(code: str, item: Rollup) -> BoardEntry:
    return BoardEntry(code=code, score=item.get("lb_score"), version=item.version, name=item.name,
                      erased=item.erased, depth=item.depth or 1, goal_amount=item.get("goal_amt"),
                      amounts=dict(item.amounts), **{name: item.get(name) for name in FAN_COUNTERS})


def ordered(items: Mapping[str, Rollup]) -> tuple[BoardEntry, ...]:
    """The visible fans with a pledge among ``items``, in leaderboard order (ties by code)."""
    shown = [entry(code, item) for code, item in items.items() if item.get("lb_score") > 0 and not item.hidden]
    return tuple(sorted(shown, key=lambda e: (-e.score, e.code))[:BOARD_SIZE])


def rebuild(campaign_id: str, touched: Mapping[str, Rollup]) -> bool:
    """Rebuild the campaign's board from the index and ``touched`` (code → item just written).
    ``True`` when it was stored, ``False`` when unchanged or a newer board won."""
    for _ in range(ATTEMPTS):
        started = int(time.time() * 1000)
        found = dict(rollups_table.leaders(campaign_id, BOARD_SIZE + SLACK))
        for code, item in touched.items():
            if code not in found or item.version >= found[code].version:
                found[code] = item
        built = Board(ordered(found), started)
        if rollups_table.put_board(campaign_id, built):
            return True
        if rollups_table.board(campaign_id, consistent=True).built_ms <= started:
            return False  # unchanged: nothing to write
    logger.warning("leaderboard not rebuilt: newer builds kept winning", extra={"campaign": campaign_id})
    return False


def refresh_after(pending: Mapping[tuple[str, RollupId], list[Contribution]],
                  outcomes: Mapping[tuple[str, RollupId], Applied]) -> int:
    """Rebuild the board of each campaign whose batch touched a fan that is or was on it: a
    fan with a score now, or whose score moved. Returns the boards rebuilt."""
    touched: dict[str, dict[str, Rollup]] = {}
    for (campaign_id, rollup), applied in outcomes.items():
        if rollup.level != "referrer":
            continue
        moved = any(c.counters.get("lb_score") for c in pending[(campaign_id, rollup)])
        if moved or applied.state.get("lb_score") > 0:
            touched.setdefault(campaign_id, {})[rollup.code] = applied.state
    return sum(rebuild(campaign_id, items) for campaign_id, items in sorted(touched.items()))


_retired: set[str] = set()
RETIRED_DAYS_BACK = 2  # yesterday, and the day before in case no batch ran yesterday after its grace


def retire_salts() -> None:
    """Overwrite the visitor salts of past days (see ``hotpath.signing``), each once per
    container: the aggregator runs whenever there is traffic."""
    today = utc_now().date()
    for back in range(1, RETIRED_DAYS_BACK + 1):
        day = (today - timedelta(days=back)).isoformat()
        if day in _retired:
            continue
        try:
            if signing.retire_salt(day):
                _retired.add(day)
        except Exception as exc:  # tried again at the next batch; never fails one
            logger.warning("past salt not retired", extra={"error": repr(exc)[:300], "day": day})
