"""The stream aggregator: events in, rollup counters out, exact under replays.

Every event item maps to counter contributions on a few rollup items (``total``,
``day#<date>#<channel>``, ``ref#<code>``, ``depth#<n>``, ``direct``). Facts (visits,
previews, shares) are written once each and count on INSERT; a rewritten fact (the
fallback replaying one that had landed) is a MODIFY with the same image and counts
nothing. Pledges and referrers contribute ``f(new image) - f(old image)``, so a refund
takes a pledge back out once. TTL removals count nothing. A visit is a click when its
user agent is a person's, else a link preview (``aggregate.bots``); the first click of a
visitor (per link, channel and day) is also a unique click, and a visitor's first landing
(the widget's beacon from the creator's page) counts as ``landed``: marker items remember
who was seen (``store.rollups.first_sightings``).

Exactness: each rollup item remembers, per events lane, the last record it applied
(``store.rollups.apply``), so a replayed batch, or any part of one, changes nothing. A
record the aggregator cannot use is skipped and counted (``SkippedEvents``), never the
batch. While a recount of a campaign runs (``aggregate.recount``), that campaign's
records between the recount's markers are held aside instead of applied.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from chalicelib.aggregate import board, erasure, notify
from chalicelib.aggregate.bots import is_bot
from chalicelib.observability import count, logger
from chalicelib.store import events, rollups
from chalicelib.store.records import (
    CHANNEL_COUNTERS,
    DIRECT,
    TOTAL,
    Event,
    RollupId,
    channel_counter,
    day_id,
    depth_id,
    referrer_id,
    visitor_identity,
)
from chalicelib.store.rollups import Contribution, Held, RecountState
from chalicelib.store.stream import Change, decode_record

SCORE_SCALE = 1_000_000  # leaderboard score = amount in goal currency × scale + pledges
FACTS = ("visit", "preview", "share", "landing")


def is_person_visit(event: Event) -> bool:
    return event.kind == "visit" and not is_bot(event.agent or "")


def counts_once_per_visitor(event: Event) -> bool:
    """A person's click (``unique_clicks``) and a landing (``landed``) count once per visitor."""
    return event.kind == "landing" or is_person_visit(event)


def unique_identity(event: Event) -> str | None:
    """What a click or landing is unique by (``None``: under DNT/GPC each counts on its own)."""
    if event.visitor is None or not (event.day and event.code and event.channel):
        return None
    identity = visitor_identity(event.day, event.code, event.channel, event.visitor)
    return f"landing|{identity}" if event.kind == "landing" else identity


def contributions(event: Event, unique: bool = True) -> dict[RollupId, Counter]:
    """The counters one event item adds to each rollup item (by sort key)."""
    kind, code = event.kind, event.code
    if kind in FACTS:
        return _fact(event, unique)
    if kind == "pledge":
        return _pledge(event)
    if kind == "referrer":
        if code is None or event.depth is None:
            raise ValueError("referrer event without code or depth")
        result = {TOTAL: Counter(referrers=1), depth_id(event.depth): Counter(referrers=1),
                  referrer_id(code): Counter(lb_score=0)}
        if event.referred_by:
            result[TOTAL] += Counter(children=1)
            result[referrer_id(event.referred_by)] = Counter(children=1)
        return result
    if kind == "recount" or events.is_ignored(event):
        return {}
    raise ValueError(f"unknown event kind {kind!r}")


def _fact(event: Event, unique: bool) -> dict[RollupId, Counter]:
    """A visit (a click or, from a crawler, a preview), a preview, a share or a landing."""
    kind, day, channel, code = event.kind, event.day, event.channel, event.code
    if not (day and channel and code):
        raise ValueError(f"{kind} event without day, channel or code")
    if kind == "visit" and not is_person_visit(event):
        counters = Counter(previews=1)
    elif kind == "visit":
        counters = Counter(clicks=1, unique_clicks=1 if unique else 0)
    elif kind == "landing":
        counters = Counter(landed=1 if unique else 0)
    else:
        counters = Counter({f"{kind}s": 1})
    return {TOTAL: _with_channel(counters, channel), day_id(day, channel): counters, referrer_id(code): counters}


def _pledge(event: Event) -> dict[RollupId, Counter]:
    if event.status != "confirmed":
        return {}
    if event.amount is None or event.currency is None or not event.day:
        raise ValueError("pledge without amount, currency or day")
    goal = event.goal_amount or 0
    money = Counter({"pledges": 1, f"amt_{event.currency}": event.amount})
    channel = event.channel or "direct"
    result = {TOTAL: _with_channel(money + Counter(goal_amt=goal), channel), day_id(event.day, channel): money}
    if event.code:
        if event.depth is None:
            raise ValueError("attributed pledge without depth")
        result[TOTAL] += Counter(fan_goal_amt=goal, fan_pledges=1)
        result[referrer_id(event.code)] = money + Counter(goal_amt=goal, lb_score=goal * SCORE_SCALE + 1)
        result[depth_id(event.depth)] = money
    else:
        result[DIRECT] = money
    return result


def _with_channel(counters: Counter, channel: str) -> Counter:
    """The total's counters plus their per-channel copies (``records.CHANNEL_COUNTERS``)."""
    total = Counter(counters)
    total.update({channel_counter(channel, name): value for name, value in counters.items()
                  if name in CHANNEL_COUNTERS})
    return total


def fields(event: Event) -> dict[RollupId, dict[str, Any]]:
    """Values a referrer's fact sets on their rollup item: name and moderation, for the
    leaderboard. Set from every version of the fact (a rename, hiding or erasure is a MODIFY
    of it); ``None`` removes: an erased name, and a hidden fan's ``lb_pk``, which takes the
    item out of the leaderboard index while its counters keep counting."""
    if event.kind != "referrer" or event.code is None:
        return {}
    values: dict[str, Any] = {"lb_pk": None if event.hidden else event.campaign_id, "depth": event.depth,
                              "name": event.name or None, "hidden": bool(event.hidden), "erased": bool(event.erased)}
    if event.referred_by:
        values["referred_by"] = event.referred_by
    return {referrer_id(event.code): values}


def _delta(change: Change, unique: bool) -> dict[RollupId, Counter]:
    if change.new.kind in FACTS:
        return contributions(change.new, unique) if change.name == "INSERT" else {}
    delta: dict[RollupId, Counter] = defaultdict(Counter)
    for rollup, counters in contributions(change.new).items():
        delta[rollup].update(counters)
    if change.old is not None:
        for rollup, counters in contributions(change.old).items():
            delta[rollup].subtract(counters)
        # a MODIFY that moves no counter (a fan renamed or hidden) writes no counter item
        return {rollup: counters for rollup, counters in delta.items() if any(counters.values())}
    return dict(delta)


def _decode_all(records: Iterable[dict]) -> tuple[list[Change], int, int]:
    changes, skipped, total = [], 0, 0
    for record in records:
        total += 1
        try:
            change = decode_record(record)
        except Exception as exc:  # a poison record costs itself, never the batch
            skipped += 1
            count("SkippedEvents")
            logger.warning("stream record skipped", extra={"reason": repr(exc)[:300],
                                                           "event_id": str(record.get("eventID"))[:100]})
            continue
        if change is not None:
            changes.append(change)
    return changes, skipped, total


def _first_sightings(changes: list[Change]) -> set[tuple[str, str, str, str]]:
    """``(campaign, lane, identity, sequence number)`` of each person's visit that is its visitor's first."""
    wanted: dict[str, dict[tuple[str, str], tuple[str, str]]] = defaultdict(dict)
    for change in changes:
        identity = unique_identity(change.new)
        if change.name == "INSERT" and identity and counts_once_per_visitor(change.new):
            pair = (change.lane, identity)
            wanted[change.campaign_id].setdefault(pair, (change.seq, change.new.day or ""))
    firsts: set[tuple[str, str, str, str]] = set()
    for campaign_id, sightings in wanted.items():
        firsts.update((campaign_id, lane, identity, sightings[(lane, identity)][0]) for lane, identity in
                      rollups.first_sightings(campaign_id, sightings))
    return firsts


def _recount_marker(change: Change, states: dict[str, RecountState]) -> tuple[str, str, str, str, str] | None:
    """This lane reached a recount's start or end marker: hold (or stop holding) from here.

    Returned for :func:`handle_records` to record once this batch's earlier records are
    applied: the recount reads the rollups as soon as every lane's start is recorded.
    """
    state, run, phase = states.get(change.campaign_id), change.new.external_id, change.new.status
    if state is None or run != state.run or phase not in ("start", "end"):
        return None
    (state.started if phase == "start" else state.ended)[change.lane] = change.seq
    return change.campaign_id, run, change.lane, phase, change.seq


def handle_records(records: Iterable[dict]) -> dict:
    """Apply one batch of stream records. Returns what it did, for logs and benchmarks."""
    changes, skipped, total = _decode_all(records)
    states = rollups.recount_states({change.campaign_id for change in changes}) if changes else {}
    firsts = _first_sightings(changes)
    pending: dict[tuple[str, RollupId], list[Contribution]] = defaultdict(list)
    marks = []
    held = 0
    for change in changes:
        if change.new.kind == "recount":
            mark = _recount_marker(change, states)
            if mark:
                marks.append(mark)
            continue
        try:
            identity = unique_identity(change.new)
            first = identity is None or (change.campaign_id, change.lane, identity, change.seq) in firsts
            delta = _delta(change, first)
            sets = fields(change.new) if change.name == "INSERT" or change.new.kind == "referrer" else {}
        except ValueError as exc:
            skipped += 1
            count("SkippedEvents")
            logger.warning("stream record skipped", extra={"reason": str(exc)[:300]})
            continue
        for rollup in sets:
            delta.setdefault(rollup, Counter())
        if not delta:
            continue
        state = states.get(change.campaign_id)
        if state is not None and state.holds(change.lane, change.seq):
            rollups.hold(change.campaign_id, state.run, Held(
                change.lane, change.seq, change.key, change.new_image,
                {rollup: dict(counters) for rollup, counters in delta.items()}, sets))
            held += 1
            continue
        for rollup, counters in delta.items():
            pending[(change.campaign_id, rollup)].append(
                Contribution(change.lane, change.seq, counters, sets.get(rollup, {})))
    outcomes = {key: rollups.apply(key[0], key[1], items) for key, items in pending.items()}
    for mark in marks:
        rollups.mark_lane(*mark)
    boards = board.refresh_after(pending, outcomes)
    notify.after_batch(changes)  # webhooks, milestones, rewards: from the counters just applied
    erasure.redact_deliveries(changes)  # after them: an erased fan's name leaves their delivery
    board.retire_salts()
    return {"records": total, "skipped": skipped, "held": held, "items": len(pending), "boards": boards,
            "writes": sum(o.writes for o in outcomes.values()), "changed": sum(o.changed for o in outcomes.values())}
