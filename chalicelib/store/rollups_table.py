"""Rollup items: the counters readers read, and the aggregator's and recount's writes.

A rollup item's numeric attributes are counters (``clicks``, ``amt_EUR``, ``lb_score``…)
except ``depth`` and ``expires_at``; ``seq_<lane>`` remembers the last stream record of
each events lane applied to it, which is what makes a replayed batch change nothing.
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from chalicelib.store import clients, codec, keys
from chalicelib.store.derived import Board, BoardEntry, Rollup
from chalicelib.store.records import FAN_COUNTERS, RollupId

MAX_ATTEMPTS = 6
READERS = 10  # parallel queries of many campaigns' days: botocore's default connection pool size
_NOT_COUNTERS = frozenset({"depth", "expires_at", "ver"})


def _decode(item: dict) -> Rollup:
    counts: dict[str, int] = {}
    amounts: dict[str, int] = {}
    for name, typed in item.items():
        if not isinstance(typed, dict) or "N" not in typed or name in _NOT_COUNTERS:
            continue
        value = codec.number(typed)
        if name.startswith("amt_"):
            if value:
                amounts[name[4:]] = value
        else:
            counts[name] = value
    depth = item.get("depth")
    return Rollup(counts=counts, amounts=dict(sorted(amounts.items())), name=codec.text(item.get("name")),
                  referred_by=codec.text(item.get("referred_by")),
                  depth=codec.number(depth) if depth is not None else None,
                  hidden=_flag(item.get("hidden")), erased=_flag(item.get("erased")),
                  version=codec.optional_number(item.get("ver")))


def _flag(typed: Any) -> bool:
    return isinstance(typed, dict) and typed.get("BOOL") is True


def _key(pk: str, sk: str) -> dict:
    return {"pk": codec.s(pk), "sk": codec.s(sk)}


def _get_item(pk: str, sk: str, consistent: bool = False) -> dict:
    response = clients.patient().get_item(TableName=clients.table("rollups"), Key=_key(pk, sk),
                                          ConsistentRead=consistent)
    return response.get("Item", {})


def query_pages(**kwargs: Any) -> Iterable[dict]:
    """Every item a rollups-table query matches, page after page."""
    kwargs["TableName"] = clients.table("rollups")
    while True:
        page = clients.patient().query(**kwargs)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _between(pk: str, low: str, high: str) -> Iterable[dict]:
    return query_pages(KeyConditionExpression="pk = :pk AND sk BETWEEN :low AND :high",
                  ExpressionAttributeValues={":pk": codec.s(pk), ":low": codec.s(low), ":high": codec.s(high)})


# reads -----------------------------------------------------------------------------------

def total(campaign_id: str, consistent: bool = False) -> Rollup:
    return _decode(_get_item(campaign_id, keys.TOTAL, consistent))


def referrer(campaign_id: str, code: str) -> Rollup:
    return _decode(_get_item(campaign_id, keys.referrer_rollup_sk(code)))


def days(campaign_id: str, start: date, end: date) -> list[tuple[str, str, Rollup]]:
    """``(date, channel, counters)`` of every day item from ``start`` to ``end``."""
    low, high = keys.day_range(start.isoformat(), end.isoformat())
    return [(*keys.split_day_sk(item["sk"]["S"]), _decode(item)) for item in _between(campaign_id, low, high)]


def cascade(campaign_id: str) -> tuple[list[tuple[int, Rollup]], Rollup]:
    """The ``depth#<n>`` items (by depth) and the ``direct`` item."""
    depths: list[tuple[int, Rollup]] = []
    direct = Rollup()
    low, high = keys.cascade_range()
    for item in _between(campaign_id, low, high):
        sk = item["sk"]["S"]
        if sk == keys.DIRECT:
            direct = _decode(item)
        else:
            depths.append((keys.depth_of(sk), _decode(item)))
    return sorted(depths, key=lambda pair: pair[0]), direct


def top_referrers(campaign_id: str, limit: int) -> list[tuple[str, Rollup]]:
    """The first ``limit`` referrers in leaderboard order, from the index (no scan); their
    items read eventually consistent (half a read unit each): the creator's stats."""
    return _ranked(campaign_id, limit, "lb_pk = :campaign", {}, consistent=False)


def leaders(campaign_id: str, limit: int) -> list[tuple[str, Rollup]]:
    """The first ``limit`` fans with a score (a pledge brought) in leaderboard order, from the
    index: what :mod:`chalicelib.aggregate.board` rebuilds the leaderboard item from. Hidden
    fans are not in the index (their item has no ``lb_pk``)."""
    return _ranked(campaign_id, limit, "lb_pk = :campaign AND lb_score > :zero", {":zero": codec.n(0)},
                   consistent=True)


def _ranked(campaign_id: str, limit: int, condition: str, values: dict,
            consistent: bool) -> list[tuple[str, Rollup]]:
    """The index gives the candidates (its projection is the keys only), the table the items,
    ordered by their own scores (ties keep the index's order); read strongly consistent,
    they are fresher than the index, which DynamoDB updates asynchronously."""
    response = clients.patient().query(
        TableName=clients.table("rollups"), IndexName="leaderboard", Limit=limit, ScanIndexForward=False,
        KeyConditionExpression=condition, ExpressionAttributeValues={":campaign": codec.s(campaign_id), **values})
    order = [item["sk"]["S"] for item in response.get("Items", [])]
    items = {item["sk"]["S"]: item for item in _batch_get([_key(campaign_id, sk) for sk in order], consistent)}
    ranked = [(keys.code_of_referrer_rollup(sk), _decode(items[sk])) for sk in order if sk in items]
    return sorted(ranked, key=lambda pair: -pair[1].get("lb_score"))


BOARD_TOP = 10
"""Fans whose display fields the ``board`` item carries: the widget's list."""
_TOP_FIELDS = ("code", "name", "erased", "clicks", "pledges", "goal_amount")
_ROW_FIELDS = (*FAN_COUNTERS, "depth", "amounts")


def _board_items(campaign_id: str, built: Board) -> tuple[dict, dict]:
    """The two items of a leaderboard, each kept under 4 KB (one read unit, half eventually
    consistent) whatever the campaign: ``board`` (the first ``BOARD_TOP`` fans' display
    fields and every fan's code in order: the widget and a fan's rank) and ``rows`` (each
    fan's counters, no code or name: the public stats)."""
    def dump(value: object) -> dict:
        return codec.s(json.dumps(value, separators=(",", ":"), ensure_ascii=False))

    pk = keys.board_pk(campaign_id)
    top = [[getattr(entry, name) for name in _TOP_FIELDS] for entry in built.entries[:BOARD_TOP]]
    rows = [[getattr(entry, name) for name in _ROW_FIELDS] for entry in built.entries]
    return ({**_key(pk, keys.BOARD), "built_ms": codec.n(built.built_ms), "top": dump(top),
             "order": codec.s(" ".join(entry.code for entry in built.entries))},
            {**_key(pk, keys.BOARD_ROWS), "built_ms": codec.n(built.built_ms), "rows": dump(rows)})


def board(campaign_id: str, consistent: bool = False) -> Board:
    """The campaign's leaderboard (one item read): the first ``BOARD_TOP`` fans with their
    display fields in ``entries``, every fan's code in ``order``. Empty before the campaign's
    first fan with a pledge."""
    item = _get_item(keys.board_pk(campaign_id), keys.BOARD, consistent)
    if "top" not in item:
        return Board()
    top = json.loads(codec.text(item["top"]) or "[]")
    order = tuple((codec.text(item["order"]) or "").split())
    entries = tuple(BoardEntry(**dict(zip(_TOP_FIELDS, row, strict=True)), score=0, version=0) for row in top)
    return Board(entries, codec.number(item["built_ms"]), order)


def board_rows(campaign_id: str) -> tuple[BoardEntry, ...]:
    """The leaderboard's fans in order with their counters, without codes or names (one
    item read): the public stats' referrers."""
    item = _get_item(keys.board_pk(campaign_id), keys.BOARD_ROWS)
    rows = json.loads(codec.text(item.get("rows")) or "[]")
    return tuple(BoardEntry(code="", score=0, version=0, **dict(zip(_ROW_FIELDS, row, strict=True))) for row in rows)


def put_board(campaign_id: str, built: Board) -> bool:
    """Store a rebuilt leaderboard unless one built from a later index read is there already
    (``False`` then), or the stored one is the same (``False`` too, and no write).

    Whole-item puts, the ``rows`` item first: applied twice, the same items; a crash between
    the two leaves ``board`` older, and the next rebuild writes both again.
    """
    wanted = _board_items(campaign_id, built)
    stored = _batch_get([_key(item["pk"]["S"], item["sk"]["S"]) for item in wanted])
    by_sk = {item["sk"]["S"]: item for item in stored}
    newer = [item for item in stored if codec.number(item.get("built_ms", codec.n(0))) > built.built_ms]
    unchanged = all({**by_sk.get(item["sk"]["S"], {}), "built_ms": item["built_ms"]} == item for item in wanted)
    if newer or unchanged:
        return False
    try:
        for item in reversed(wanted):
            clients.patient().put_item(
                TableName=clients.table("rollups"), Item=item,
                ConditionExpression="attribute_not_exists(built_ms) OR built_ms <= :built",
                ExpressionAttributeValues={":built": codec.n(built.built_ms)})
        return True
    except Exception as exc:
        if clients.error_code(exc) != "ConditionalCheckFailedException":
            raise
        return False


def referrer_page(campaign_id: str, limit: int,
                  after: str | None = None) -> tuple[list[tuple[str, Rollup]], str | None]:
    """Up to ``limit`` fans' rollups in code order after the fan ``after``, and the code to
    resume after (``None`` when there are no more): the creator's fan list."""
    kwargs: dict = {"TableName": clients.table("rollups"), "Limit": limit, "ConsistentRead": True,
                    "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
                    "ExpressionAttributeValues": {":pk": codec.s(campaign_id),
                                                  ":prefix": codec.s(keys.REFERRER_PREFIX)}}
    if after is not None:
        kwargs["ExclusiveStartKey"] = _key(campaign_id, keys.referrer_rollup_sk(after))
    response = clients.patient().query(**kwargs)
    found = [(keys.code_of_referrer_rollup(item["sk"]["S"]), _decode(item)) for item in response.get("Items", [])]
    last = response.get("LastEvaluatedKey")
    return found, keys.code_of_referrer_rollup(last["sk"]["S"]) if last and found else None


def every_referrer(campaign_id: str) -> Iterable[tuple[str, Rollup]]:
    """Every fan's rollup of a campaign (``ref#…``), page after page, strongly consistent."""
    items = query_pages(ConsistentRead=True, KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
                        ExpressionAttributeValues={":pk": codec.s(campaign_id),
                                                   ":prefix": codec.s(keys.REFERRER_PREFIX)})
    return ((keys.code_of_referrer_rollup(item["sk"]["S"]), _decode(item)) for item in items)


def of_campaigns(campaign_ids: Sequence[str], levels: Sequence[RollupId]) -> dict[str, dict[RollupId, Rollup]]:
    """The ``levels`` items (``TOTAL``, ``DIRECT``…) of many campaigns: BatchGetItem, 100 keys
    a request and ``READERS`` requests at a time, eventually consistent (half a read unit per
    item under 4 KB). An item never written reads as an empty :class:`Rollup`."""
    sks = {keys.rollup_sk(level): level for level in levels}
    found: dict[str, dict[RollupId, Rollup]] = {c: {level: Rollup() for level in levels} for c in campaign_ids}
    wanted = [_key(campaign_id, sk) for campaign_id in found for sk in sks]
    chunks = [wanted[start:start + 100] for start in range(0, len(wanted), 100)]
    if not chunks:
        return found
    clients.patient()  # built once here, then shared by the threads (clients are thread-safe)
    with ThreadPoolExecutor(max_workers=min(READERS, len(chunks))) as pool:
        for items in pool.map(lambda chunk: _batch_get(chunk, consistent=False), chunks):
            for item in items:
                found[item["pk"]["S"]][sks[item["sk"]["S"]]] = _decode(item)
    return found


def days_of(campaign_ids: Sequence[str], start: date | None = None,
            end: date | None = None) -> dict[str, list[tuple[str, str, Rollup]]]:
    """:func:`days` of many campaigns (every day when no bounds are given), ``READERS``
    queries at a time: one query per campaign, whose cost is its day-and-channel items."""
    low, high = start or date.min, end or date.max
    if not campaign_ids:
        return {}
    clients.patient()  # built once here, then shared by the threads (clients are thread-safe)
    with ThreadPoolExecutor(max_workers=min(READERS, len(campaign_ids))) as pool:
        found = pool.map(lambda campaign_id: days(campaign_id, low, high), campaign_ids)
        return dict(zip(campaign_ids, found, strict=True))


def counter_items(campaign_id: str) -> dict[RollupId, Rollup]:
    """Every counter item of a campaign (the recount's comparison)."""
    return {keys.rollup_id(item["sk"]["S"]): _decode(item) for item in query_pages(
        KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": codec.s(campaign_id)})
        if item["sk"]["S"] != keys.RECOUNT_STATE}


# the aggregator's writes --------------------------------------------------------------------

@dataclass
class Contribution:
    """What one stream record adds to one rollup item."""

    lane: str
    seq: str
    counters: Counter
    fields: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Applied:
    """What :func:`apply` did to one rollup item, and the item as it now stands."""

    writes: int
    changed: bool
    state: Rollup


def apply(campaign_id: str, rollup: RollupId, items: list[Contribution]) -> Applied:
    """Add a batch's contributions to one rollup item; :class:`Applied` says how, with the
    item after the write (or as read, when a replay found nothing left to add).

    The write is conditioned on every lane's stored sequence number being below the
    batch's first record of that lane. When it is not (a replayed batch, or the retried
    half of a bisected one) we read what the item has applied and add only the newer
    records, conditioned on the numbers read. Normally one write; a replay costs one
    refused write and one read, and changes nothing.
    """
    sk = keys.rollup_sk(rollup)
    stored: dict[str, str] | None = None
    item: dict = {}
    for writes in range(MAX_ATTEMPTS):
        todo = items if stored is None else [c for c in items if c.seq > stored.get(c.lane, "")]
        if not todo:
            return Applied(writes, False, _decode(item))
        try:
            return Applied(writes + 1, True, _decode(_update(campaign_id, sk, todo, stored)))
        except Exception as exc:
            if clients.error_code(exc) != "ConditionalCheckFailedException":
                raise
        item = _get_item(campaign_id, sk, consistent=True)
        stored = {name[4:]: value["S"] for name, value in item.items() if name.startswith("seq_")}
    raise RuntimeError(f"rollup {campaign_id}/{sk} kept changing under us")


def _typed(value: Any) -> dict:
    if isinstance(value, bool):
        return {"BOOL": value}
    return codec.n(value) if isinstance(value, int) else codec.s(str(value))


def _set_or_remove(fields: dict[str, Any], names: dict[str, str], values: dict[str, dict],
                   assignments: list[str]) -> list[str]:
    """``SET name = value`` for each field, ``REMOVE name`` for a field set to ``None``
    (an erased name, a hidden fan's ``lb_pk``); returns the names to remove."""
    removals = []
    for i, (name, value) in enumerate(sorted(fields.items())):
        names[f"#f{i}"] = name
        if value is None:
            removals.append(f"#f{i}")
        else:
            values[f":f{i}"] = _typed(value)
            assignments.append(f"#f{i} = :f{i}")
    return removals


def _update(campaign_id: str, sk: str, todo: list[Contribution], stored: dict[str, str] | None) -> dict:
    """One conditional update of a rollup item; returns the item as it now stands."""
    counters: Counter = Counter()
    sets: dict[str, Any] = {}
    first: dict[str, str] = {}
    last: dict[str, str] = {}
    for contribution in todo:
        counters.update(contribution.counters)
        sets.update(contribution.fields)
        first[contribution.lane] = min(first.get(contribution.lane, contribution.seq), contribution.seq)
        last[contribution.lane] = max(last.get(contribution.lane, ""), contribution.seq)
    names: dict[str, str] = {}
    values: dict[str, dict] = {}
    adds: list[str] = []
    assignments: list[str] = []
    conditions: list[str] = []
    for i, (name, amount) in enumerate(sorted(counters.items())):
        # ADD 0 is kept: it materialises a counter (a new referrer's lb_score puts it in the index).
        names[f"#c{i}"], values[f":c{i}"] = name, codec.n(amount)
        adds.append(f"#c{i} :c{i}")
    removals = _set_or_remove(sets, names, values, assignments)
    names["#ver"], values[":one"] = "ver", codec.n(1)
    adds.append("#ver :one")
    for i, lane in enumerate(sorted(last)):
        names[f"#q{i}"], values[f":q{i}"] = f"seq_{lane}", codec.s(last[lane])
        assignments.append(f"#q{i} = :q{i}")
        if stored is None:
            values[f":p{i}"] = codec.s(first[lane])
            conditions.append(f"(attribute_not_exists(#q{i}) OR #q{i} < :p{i})")
        elif lane in stored:
            values[f":p{i}"] = codec.s(stored[lane])
            conditions.append(f"#q{i} = :p{i}")
        else:
            conditions.append(f"attribute_not_exists(#q{i})")
    expression = "SET " + ", ".join(assignments) + " ADD " + ", ".join(adds)
    if removals:
        expression += " REMOVE " + ", ".join(removals)
    return clients.patient().update_item(
        TableName=clients.table("rollups"), Key=_key(campaign_id, sk), UpdateExpression=expression,
        ConditionExpression=" AND ".join(conditions), ExpressionAttributeNames=names,
        ExpressionAttributeValues=values, ReturnValues="ALL_NEW").get("Attributes", {})


def _batch_get(keys_: list[dict], consistent: bool = True) -> list[dict]:
    found: list[dict] = []
    for start in range(0, len(keys_), 100):
        pending: dict = {clients.table("rollups"): {"Keys": keys_[start:start + 100], "ConsistentRead": consistent}}
        while pending:
            response = clients.patient().batch_get_item(RequestItems=pending)
            found.extend(response.get("Responses", {}).get(clients.table("rollups"), []))
            pending = response.get("UnprocessedKeys") or {}
    return found


# recount ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RecountState:
    """A recount's progress, as the aggregator records it: per lane, the sequence numbers
    of the start and end markers it has seen. Records of a lane between them are held."""

    run: str
    started: dict[str, str]
    ended: dict[str, str]

    def holds(self, lane: str, seq: str) -> bool:
        return lane in self.started and self.started[lane] < seq and (lane not in self.ended or seq < self.ended[lane])


def _state(item: dict) -> RecountState:
    return RecountState(
        run=item["run"]["S"],
        started={name[6:]: value["S"] for name, value in item.items() if name.startswith("start_")},
        ended={name[4:]: value["S"] for name, value in item.items() if name.startswith("end_")})


def recount_states(campaign_ids: Iterable[str]) -> dict[str, RecountState]:
    """The recount in progress (or last run) of each campaign that has one."""
    items = _batch_get([_key(campaign_id, keys.RECOUNT_STATE) for campaign_id in sorted(set(campaign_ids))])
    return {item["pk"]["S"]: _state(item) for item in items if "run" in item}


def begin_recount(campaign_id: str, run: str) -> None:
    expires = datetime.now(UTC) + timedelta(days=7)
    clients.patient().put_item(TableName=clients.table("rollups"), Item={
        **_key(campaign_id, keys.RECOUNT_STATE), "run": codec.s(run), "expires_at": codec.n(int(expires.timestamp()))})


def recount_state(campaign_id: str) -> RecountState | None:
    item = _get_item(campaign_id, keys.RECOUNT_STATE, consistent=True)
    return _state(item) if "run" in item else None


def mark_lane(campaign_id: str, run: str, lane: str, phase: str, seq: str) -> None:
    """The aggregator met ``run``'s start or end marker in ``lane`` at ``seq``."""
    name = f"start_{lane}" if phase == "start" else f"end_{lane}"
    try:
        clients.patient().update_item(
            TableName=clients.table("rollups"), Key=_key(campaign_id, keys.RECOUNT_STATE),
            UpdateExpression="SET #m = :seq", ConditionExpression="#run = :run",
            ExpressionAttributeNames={"#m": name, "#run": "run"},
            ExpressionAttributeValues={":seq": codec.s(seq), ":run": codec.s(run)})
    except Exception as exc:
        if clients.error_code(exc) != "ConditionalCheckFailedException":
            raise  # a marker of an abandoned run: nothing to record


@dataclass(frozen=True)
class Held:
    """A stream record held back during a recount: its event's key and new image, and
    what it would have added to each rollup item."""

    lane: str
    seq: str
    event_key: tuple[str, str]
    new_image: dict | None
    contributions: dict[RollupId, dict[str, int]]
    fields: dict[RollupId, dict]


def hold(campaign_id: str, run: str, held: Held) -> None:
    """Keep one record aside (a put under its sequence number: a replay stores it once)."""
    expires = datetime.now(UTC) + timedelta(days=7)
    body = {"event_key": list(held.event_key), "new_image": held.new_image,
            "contributions": {keys.rollup_sk(r): c for r, c in held.contributions.items()},
            "fields": {keys.rollup_sk(r): f for r, f in held.fields.items()}}
    clients.patient().put_item(TableName=clients.table("rollups"), Item={
        **_key(keys.held_pk(campaign_id), keys.held_sk(run, held.lane, held.seq)),
        "body": codec.s(json.dumps(body, sort_keys=True)), "expires_at": codec.n(int(expires.timestamp()))})


def held_records(campaign_id: str, run: str) -> list[Held]:
    out = []
    for item in query_pages(KeyConditionExpression="pk = :pk AND begins_with(sk, :run)",
                       ExpressionAttributeValues={":pk": codec.s(keys.held_pk(campaign_id)),
                                                  ":run": codec.s(keys.held_prefix(run))}, ConsistentRead=True):
        _, lane, seq = item["sk"]["S"].split("#", 2)
        body = json.loads(item["body"]["S"])
        out.append(Held(lane, seq, (body["event_key"][0], body["event_key"][1]), body["new_image"],
                        {keys.rollup_id(sk): c for sk, c in body["contributions"].items()},
                        {keys.rollup_id(sk): f for sk, f in body["fields"].items()}))
    return sorted(out, key=lambda h: (h.lane, h.seq))


def correct(campaign_id: str, rollup: RollupId, delta: dict[str, int], fields: dict[str, Any], run: str) -> None:
    """Add a recount's correction to one item, once per run (a retried write changes nothing)."""
    names = {"#rc": "recount_run"}
    values: dict[str, dict] = {":run": codec.s(run)}
    assignments = ["#rc = :run"]
    adds = []
    for i, (name, amount) in enumerate(sorted(delta.items())):
        names[f"#c{i}"], values[f":c{i}"] = name, codec.n(amount)
        adds.append(f"#c{i} :c{i}")
    removals = _set_or_remove(fields, names, values, assignments)
    expression = "SET " + ", ".join(assignments) + (" ADD " + ", ".join(adds) if adds else "")
    if removals:
        expression += " REMOVE " + ", ".join(removals)
    try:
        clients.patient().update_item(
            TableName=clients.table("rollups"), Key=_key(campaign_id, keys.rollup_sk(rollup)),
            UpdateExpression=expression, ConditionExpression="attribute_not_exists(#rc) OR #rc <> :run",
            ExpressionAttributeNames=names, ExpressionAttributeValues=values)
    except Exception as exc:
        if clients.error_code(exc) != "ConditionalCheckFailedException":
            raise
