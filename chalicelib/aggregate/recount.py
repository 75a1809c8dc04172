"""Rebuild a campaign's counters from its events, exactly, while traffic continues.

The aggregator applies stream records in each events lane's order; the events table
holds the facts. A recount must compare the two at one consistent point per lane, or
records in flight would count twice or not at all. It gets one with markers:

1. It writes a *start* marker into each of the campaign's 16 lanes. When the aggregator
   meets a lane's marker it records the marker's sequence number, and from then on
   *holds* that lane's records for this campaign aside (an item per record, with the
   record's new image and its contributions) instead of applying them. Once all 16
   start markers are recorded, the campaign's rollups no longer move: they are read.
2. It reads every event of the campaign (strongly consistent) and computes what the
   rollups should hold from them, with the aggregator's own ``contributions``.
3. It writes an *end* marker into each lane; the aggregator stops holding that lane's
   records at its marker and applies later ones as usual.
4. Held records that the read in step 2 had not seen yet (their new image is not what
   the read found, nor earlier than it) are added to the target. The difference between
   target and the rollups of step 1 is added to each rollup item, once per run.

Records applied after an end marker land on top of the correction; addition commutes,
so the order does not matter. ``CHECK`` mode runs steps 1-4 and changes nothing.

What can be rebuilt: pledges and new referrers never expire, so their figures always
are. Raw visits, previews and shares expire ``RELAIS_EVENT_TTL_DAYS`` after their day:
for days older than that, those counters are kept as they are, and a referrer's own
click counters are kept whenever such days exist (they have no per-day breakdown).
"""
from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from chalicelib.aggregate import board, counting
from chalicelib.core import config
from chalicelib.core.clock import utc_now
from chalicelib.store import events_table, rollups_table
from chalicelib.store.derived import Rollup
from chalicelib.store.records import CHANNEL_COUNTERS, FACT_COUNTERS, TOTAL, RollupId, channel_counter

LANES = events_table.LANES
WAIT_SECONDS = 120


class RecountError(RuntimeError):
    """The recount could not reach a consistent point (the aggregator is not running)."""


@dataclass
class Difference:
    rollup: RollupId
    counter: str
    stored: int
    rebuilt: int


@dataclass
class Report:
    campaign_id: str
    run: str
    events_read: int
    held: int
    items: int
    differences: list[Difference] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    applied: bool = False

    def lines(self) -> list[str]:
        head = (f"campaign {self.campaign_id}: {self.events_read} events read, {self.held} records held, "
                f"{self.items} rollup items compared, {len(self.differences)} counters differ")
        rows = [f"  {d.rollup!s:<40} {d.counter:<16} stored {d.stored:>12}  rebuilt {d.rebuilt:>12}  "
                f"({d.rebuilt - d.stored:+d})" for d in self.differences]
        notes = [f"  kept as stored (raw facts expired): {note}" for note in self.kept]
        tail = ["  corrected." if self.applied else ("  nothing to correct." if not self.differences
                                                     else "  CHECK only: nothing changed.")]
        return [head, *rows, *notes, *tail]


def _wait_for(campaign_id: str, run: str, phase: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        state = rollups_table.recount_state(campaign_id)
        marks = (state.started if phase == "start" else state.ended) if state and state.run == run else {}
        if len(marks) == LANES:
            return
        if time.monotonic() > deadline:
            raise RecountError(f"the aggregator met {len(marks)} of {LANES} {phase} markers within "
                               f"{timeout:.0f} s: is the events stream being consumed?")
        time.sleep(0.2)


def _mark(campaign_id: str, run: str, phase: str, timeout: float) -> None:
    for lane in range(LANES):
        events_table.put_recount_marker(campaign_id, lane, run, phase)
    _wait_for(campaign_id, run, phase, timeout)


@dataclass
class _Target:
    counters: dict[RollupId, Counter] = field(default_factory=lambda: defaultdict(Counter))
    fields: dict[RollupId, dict[str, Any]] = field(default_factory=lambda: defaultdict(dict))

    def add(self, contributions: dict[RollupId, Any], fields: dict[RollupId, dict[str, Any]]) -> None:
        for rollup, counters in contributions.items():
            self.counters[rollup].update(counters)
        for rollup, values in fields.items():
            self.fields[rollup].update(values)


def _rebuild(campaign_id: str, horizon: str) -> tuple[_Target, dict[tuple[str, str], dict], int]:
    """The target from every event read, and what the read saw of each event (by key)."""
    target = _Target()
    seen: dict[tuple[str, str], dict] = {}
    read = 0
    for event, key, image in events_table.campaign_items(campaign_id):
        read += 1
        seen[key] = image
        if event.kind in counting.FACTS and (event.day or "") < horizon:
            continue  # a raw fact of a day whose facts may have expired: its counters are kept
        try:
            target.add(counting.contributions(event), counting.fields(event))
        except ValueError:
            continue  # what the aggregator skips, the recount skips
    return target, seen, read


def _add_unseen_held(target: _Target, held: list[rollups_table.Held], seen: dict[tuple[str, str], dict]) -> None:
    """Held records the event read had not seen yet are still to count."""
    by_event: dict[tuple[str, str], list[rollups_table.Held]] = defaultdict(list)
    for record in held:
        by_event[record.event_key].append(record)
    for key, records in by_event.items():
        records.sort(key=lambda r: r.seq)
        read = seen.get(key)
        included = max((i for i, r in enumerate(records) if events_table.same_image(r.new_image, read)), default=-1)
        for record in records[included + 1:]:
            target.add(record.contributions, record.fields)


def _keep_expired(target: _Target, stored: dict[RollupId, Rollup], horizon: str, report: Report) -> None:
    """Counters rebuilt from raw facts keep their stored values where those facts may be gone."""
    old_days = {rollup: item for rollup, item in stored.items() if rollup.level == "day" and rollup.day < horizon}
    if not old_days:
        return
    for rollup, item in old_days.items():
        for name in FACT_COUNTERS:
            target.counters[rollup][name] = item.get(name)
    old = Counter({name: sum(item.get(name) for item in old_days.values()) for name in FACT_COUNTERS})
    for rollup, item in old_days.items():  # and the total's per-channel copies of them
        old.update({channel_counter(rollup.channel, name): item.get(name) for name in FACT_COUNTERS
                    if name in CHANNEL_COUNTERS})
    target.counters[TOTAL].update(old)
    for rollup, item in stored.items():
        if rollup.level == "referrer":
            for name in FACT_COUNTERS:
                target.counters[rollup][name] = item.get(name)
    report.kept.append(f"{len(old_days)} day items before {horizon}, their share of the totals, "
                       "and referrers' click counters")


def _differences(target: _Target, stored: dict[RollupId, Rollup]) -> list[Difference]:
    out = []
    for rollup in sorted(set(target.counters) | set(stored)):
        have = stored.get(rollup, Rollup())
        current = {**have.counts, **{f"amt_{c}": v for c, v in have.amounts.items()}}
        wanted = target.counters.get(rollup, Counter())
        for name in sorted(set(current) | set(wanted)):
            if current.get(name, 0) != wanted.get(name, 0):
                out.append(Difference(rollup, name, current.get(name, 0), wanted.get(name, 0)))
    return out


def recount(campaign_id: str, check_only: bool = False, timeout: float = WAIT_SECONDS,
            progress: Callable[[str], None] = lambda line: None) -> Report:
    run = events_table.new_token()
    horizon = (utc_now().date() - timedelta(days=config.event_ttl_days())).isoformat()
    rollups_table.begin_recount(campaign_id, run)
    progress("waiting for the aggregator to meet the start markers…")
    _mark(campaign_id, run, "start", timeout)
    stored = rollups_table.counter_items(campaign_id)
    progress(f"rollups frozen ({len(stored)} items); reading events…")
    target, seen, read = _rebuild(campaign_id, horizon)
    progress(f"{read} events read; waiting for the end markers…")
    _mark(campaign_id, run, "end", timeout)
    held = rollups_table.held_records(campaign_id, run)
    _add_unseen_held(target, held, seen)
    report = Report(campaign_id, run, read, len(held), len(set(target.counters) | set(stored)))
    _keep_expired(target, stored, horizon, report)
    report.differences = _differences(target, stored)
    if not check_only:
        deltas: dict[RollupId, dict[str, int]] = defaultdict(dict)
        for difference in report.differences:
            deltas[difference.rollup][difference.counter] = difference.rebuilt - difference.stored
        for rollup in sorted(set(deltas) | {r for r in target.fields if r not in stored}):
            rollups_table.correct(campaign_id, rollup, deltas.get(rollup, {}), target.fields.get(rollup, {}), run)
        report.applied = bool(deltas)
        if deltas:
            board.rebuild(campaign_id, {})  # the leaderboard item follows the corrected scores
    return report


def _local_endpoint() -> None:
    """Under ``make dev``, find the running stack's DynamoDB endpoint in its data dir."""
    import os
    from pathlib import Path

    if config.dynamodb_endpoint() or not config.is_local():
        return
    path = Path(os.environ.get("RELAIS_DATA_DIR") or ".relais") / "dynamodb-endpoint"
    if not path.exists():
        raise SystemExit(f"no running local stack found ({path} is missing): start `make dev` first")
    os.environ["RELAIS_DYNAMODB_ENDPOINT"] = path.read_text().strip()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")


def main(argv: list[str] | None = None) -> int:
    """``make recount CAMPAIGN=<id> [CHECK=1] [STAGE=<stage>]``."""
    import argparse

    parser = argparse.ArgumentParser(description="Rebuild a campaign's counters from its events.")
    parser.add_argument("--campaign", required=True)
    parser.add_argument("--check", action="store_true", help="only report the differences")
    parser.add_argument("--timeout", type=float, default=WAIT_SECONDS)
    args = parser.parse_args(argv)
    _local_endpoint()
    try:
        report = recount(args.campaign, check_only=args.check, timeout=args.timeout, progress=print)
    except RecountError as exc:
        print(f"recount failed: {exc}")
        return 2
    print("\n".join(report.lines()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
