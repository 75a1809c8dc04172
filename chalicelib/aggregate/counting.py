"""The stream aggregator: events in, rollup counters out, exact under replays.

Every event item maps to counter contributions on a few rollup items (``total``,
``day#<date>#<channel>``, ``ref#<code>``, ``depth#<n>``, ``direct``), and every stream
record adds ``f(new image) - f(old image)``: a pledge's refund takes it back out once, a
fact written again unchanged (the fallback replaying one that had landed) adds nothing,
TTL removals count nothing. A visit is a click when its user agent is a person's, else a
link preview (``aggregate.bots``). A known visitor's visits of a day through one link and
channel are one item (``store.events_table.put_fact``): its ``INSERT`` is a unique click, each
token it gains a click; likewise their landings (the widget's beacon from the creator's
page) are one item, one ``landed``. Who was seen needs no lookup of its own.

Exactness: each rollup item remembers, per events lane, the last record it applied
(``store.rollups_table.apply``), so a replayed batch, or any part of one, changes nothing. A
record the aggregator cannot use is skipped and counted (``SkippedEvents``), never the
batch. While a recount of a campaign runs (``aggregate.recount``), that campaign's
records between the recount's markers are held aside instead of applied.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from chalicelib.aggregate import board, notify, redaction
from chalicelib.aggregate.bots import is_bot
from chalicelib.core.observability import count, logger
from chalicelib.store import events_table, rollups_table
from chalicelib.store.records import (
    CHANNEL_COUNTERS,
    DIRECT,
    REPORTED_PREFIX,
    TOTAL,
    Event,
    RollupId,
    channel_counter,
    day_id,
    depth_id,
    referrer_id,
)
from chalicelib.store.rollups_table import Contribution, Held, RecountState
from chalicelib.store.stream import Change, decode_record

SCORE_SCALE = 1_000_000  # leaderboard score = amount in goal currency × scale + pledges
FACTS = ("visit", "preview", "share", "landing")


def is_person_visit(event: Event) -> bool:
    return event.kind == "visit" and not is_bot(event.agent or "")


def contributions(event: Event) -> dict[RollupId, Counter]:
    """The counters one event item adds to each rollup item (by sort key)."""
    kind, code = event.kind, event.code
    if kind in FACTS:
        return _fact(event)
    if kind == "pledge":
        return _pledge(event)
    if kind == "tag_total":
        return _tag_total(event)
    if kind == "referrer":
        if code is None or event.depth is None:
            raise ValueError("referrer event without code or depth")
        result = {TOTAL: Counter(referrers=1), depth_id(event.depth): Counter(referrers=1),
                  referrer_id(code): Counter(lb_score=0)}
        if event.referred_by:
            result[TOTAL] += Counter(children=1)
            result[referrer_id(event.referred_by)] = Counter(children=1)
        return result
    if kind == "recount" or events_table.is_ignored(event):
        return {}
    raise ValueError(f"unknown event kind {kind!r}")


def _fact(event: Event) -> dict[RollupId, Counter]:
    """A visit (a click or, from a crawler, a preview), a preview, a share or a landing.

    A known visitor's visits of a day through one link and channel are one item (its
    ``visits`` tokens): it is one unique click, or one landing, however many it holds;
    a visit stored on its own is one too, unless it is a ``repeat`` of a full item."""
    kind, day, channel, code = event.kind, event.day, event.channel, event.code
    if not (day and channel and code):
        raise ValueError(f"{kind} event without day, channel or code")
    new_visitor = 0 if event.repeat else 1
    if kind == "visit" and not is_person_visit(event):
        counters = Counter(previews=event.visits)
    elif kind == "visit":
        counters = Counter(clicks=event.visits, unique_clicks=new_visitor)
    elif kind == "landing":
        counters = Counter(landed=new_visitor)
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
    if event.source == "import":
        money.update(_reported(money))
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


def _reported(money: Counter) -> Counter:
    """The ``rep_`` copy of a platform's money: what stats show as ``reported``."""
    return Counter({f"{REPORTED_PREFIX}{name}": value for name, value in money.items()})


def _tag_total(event: Event) -> dict[RollupId, Counter]:
    """A platform tag's new total (``store.tag_totals``): the difference from the previous
    total, counted on the fan (and channel) the tag names, on the import's day. Counters may
    go down (the platform reports a refund) and money may change currency."""
    if event.amount is None or event.currency is None or event.pledges is None or not event.day or \
            event.code is None or event.depth is None:
        raise ValueError("tag total without figures, day or fan")
    money = Counter({"pledges": event.pledges - (event.prior_pledges or 0)})
    money[f"amt_{event.currency}"] += event.amount
    if event.prior_currency is not None:
        money[f"amt_{event.prior_currency}"] -= event.prior_amount or 0
    money.update(_reported(money))
    goal = event.goal_amount or 0
    channel = event.channel or "direct"
    fan = Counter(money)
    fan.update({"goal_amt": goal, "lb_score": goal * SCORE_SCALE + money["pledges"]})
    total = _with_channel(money, channel)
    total.update({"goal_amt": goal, "fan_goal_amt": goal, "fan_pledges": money["pledges"]})
    return {TOTAL: total, day_id(event.day, channel): money, referrer_id(event.code): fan,
            depth_id(event.depth): money}


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


def _delta(change: Change) -> dict[RollupId, Counter]:
    """``f(new image) - f(old image)``: a visitor's item gaining a token adds a click; a fact
    written again unchanged, nothing."""
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
    states = rollups_table.recount_states({change.campaign_id for change in changes}) if changes else {}
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
            delta = _delta(change)
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
            rollups_table.hold(change.campaign_id, state.run, Held(
                change.lane, change.seq, change.key, change.new_image,
                {rollup: dict(counters) for rollup, counters in delta.items()}, sets))
            held += 1
            continue
        for rollup, counters in delta.items():
            pending[(change.campaign_id, rollup)].append(
                Contribution(change.lane, change.seq, counters, sets.get(rollup, {})))
    outcomes = {key: rollups_table.apply(key[0], key[1], items) for key, items in pending.items()}
    for mark in marks:
        rollups_table.mark_lane(*mark)
    boards = board.refresh_after(pending, outcomes)
    notify.after_batch(changes)  # webhooks, milestones, rewards: from the counters just applied
    redaction.redact_deliveries(changes)  # after them: an erased fan's name leaves their delivery
    board.retire_salts()
    return {"records": total, "skipped": skipped, "held": held, "items": len(pending), "boards": boards,
            "writes": sum(o.writes for o in outcomes.values()), "changed": sum(o.changed for o in outcomes.values())}
