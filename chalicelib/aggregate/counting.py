"""The stream aggregator: events in, rollup counters out, exact under replays.

Every event item maps to counter contributions on a few rollup items (``total``,
``day#<date>#<channel>``, ``ref#<code>``, ``depth#<n>``, ``direct``). A stream record
contributes ``f(new image) - f(old image)``: an insert counts, a visitor's second hit
counts one more click but no new unique visitor, a refund takes a pledge back out. TTL
removals count nothing. A visit is a click when its user agent is a person's, else a
link preview (``chalicelib.bots``).

Exactness: each rollup item remembers, per event lane, the sequence number of the last
record it applied (``seq_<lane>``). Records of one lane reach us in order, so a write
is conditioned on every lane's stored number being below the batch's first record for
that item; when it is not (a replayed batch, or a retried part of one) we read what the
item has applied and add only the newer records. One write per rollup item per batch.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable

from botocore.exceptions import ClientError

from chalicelib.store import tables
from chalicelib.aggregate.bots import is_bot
from chalicelib.store.schema import Rollup
from chalicelib.observability import count, logger

SCORE_SCALE = 1_000_000  # leaderboard score = amount in goal currency × scale + pledges
MAX_ATTEMPTS = 6


@dataclass
class Contribution:
    """What one stream record adds to one rollup item."""

    lane: str
    seq: str
    counters: Counter
    fields: dict = field(default_factory=dict)


def _plain(image: dict | None) -> dict:
    """DynamoDB JSON → plain values (strings and ints are all events hold)."""
    out: dict[str, Any] = {}
    for name, typed in (image or {}).items():
        (kind, value), = typed.items()
        if kind == "S":
            out[name] = value
        elif kind == "N":
            out[name] = int(value) if value.lstrip("-").isdigit() else float(value)
        elif kind == "NULL":
            out[name] = None
    return out


def contributions(item: dict) -> dict[str, Counter]:
    """The counters one event item adds to each rollup item (by sort key)."""
    kind = item.get("kind")
    day, channel, code = item.get("day"), item.get("channel"), item.get("code")
    if kind in ("visit", "preview", "share"):
        if not (day and channel and code):
            raise ValueError(f"{kind} event without day, channel or code")
        if kind == "visit" and is_bot(item.get("agent", "")):
            counters = Counter(previews=int(item["hits"]))
        elif kind == "visit":
            counters = Counter(clicks=int(item["hits"]), unique_clicks=1)
        else:
            counters = Counter({f"{kind}s": 1})
        return {"total": counters, f"day#{day}#{channel}": counters, f"ref#{code}": counters}
    if kind == "pledge":
        if item.get("status") != "confirmed":
            return {}
        amount, goal = int(item["amount"]), int(item.get("goal_amount") or 0)
        money = Counter({"pledges": 1, f"amt_{item['currency']}": amount})
        result = {"total": money + Counter(goal_amt=goal), f"day#{day}#{channel or 'direct'}": money}
        if code:
            result["total"] += Counter(fan_goal_amt=goal)
            result[f"ref#{code}"] = money + Counter(goal_amt=goal, lb_score=goal * SCORE_SCALE + 1)
            result[f"depth#{int(item['depth'])}"] = money
        else:
            result["direct"] = money
        return result
    if kind == "alias":
        return {}  # a lookup item (e.g. Stripe payment intent → pledge), not a fact
    if kind == "referrer":
        depth = int(item["depth"])
        result = {"total": Counter(referrers=1), f"depth#{depth}": Counter(referrers=1),
                  f"ref#{code}": Counter(lb_score=0)}
        if item.get("referred_by"):
            result["total"] += Counter(children=1)
            result[f"ref#{item['referred_by']}"] = Counter(children=1)
        return result
    raise ValueError(f"unknown event kind {kind!r}")


def _fields(item: dict) -> dict[str, dict]:
    """Values a new referrer sets on its own rollup item (names for the leaderboard)."""
    if item.get("kind") != "referrer":
        return {}
    values = {"lb_pk": item["campaign_id"], "name": item.get("name"), "depth": int(item["depth"])}
    if item.get("referred_by"):
        values["referred_by"] = item["referred_by"]
    return {f"ref#{item['code']}": values}


def _record_contributions(record: dict) -> tuple[str, dict[str, Contribution]] | None:
    """``(campaign, {rollup sk: contribution})`` of one stream record, or ``None`` to skip."""
    if record.get("eventName") not in ("INSERT", "MODIFY"):
        return None  # REMOVE: TTL expiry of an event already counted
    ddb = record["dynamodb"]
    new, old = _plain(ddb.get("NewImage")), _plain(ddb.get("OldImage"))
    campaign, _, lane = new["pk"].rpartition("#")
    seq = ddb["SequenceNumber"].zfill(40)
    delta: dict[str, Counter] = defaultdict(Counter)
    for sk, counters in contributions(new).items():
        delta[sk].update(counters)
    if record["eventName"] == "MODIFY":
        for sk, counters in contributions(old).items():
            delta[sk].subtract(counters)
    sets = _fields(new) if record["eventName"] == "INSERT" else {}
    for sk in sets:
        delta.setdefault(sk, Counter())
    return campaign, {
        sk: Contribution(lane, seq, counters, sets.get(sk, {}))
        for sk, counters in delta.items()
    }


def handle_records(records: Iterable[dict]) -> dict:
    """Apply one batch of stream records. Returns what it did, for logs and benchmarks."""
    pending: dict[tuple[str, str], list[Contribution]] = defaultdict(list)
    skipped = 0
    total = 0
    for record in records:
        total += 1
        try:
            parsed = _record_contributions(record)
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            skipped += 1
            count("SkippedEvents")
            logger.warning("stream record skipped", extra={"reason": str(exc), "event_id": record.get("eventID")})
            continue
        if parsed is None:
            continue
        campaign, per_item = parsed
        for sk, contribution in per_item.items():
            pending[(campaign, sk)].append(contribution)
    outcomes = [_apply(campaign, sk, items) for (campaign, sk), items in pending.items()]
    return {"records": total, "skipped": skipped, "items": len(pending),
            "writes": sum(writes for writes, _ in outcomes), "changed": sum(changed for _, changed in outcomes)}


def _apply(campaign: str, sk: str, items: list[Contribution]) -> tuple[int, bool]:
    """Write one rollup item: ``(write requests made, whether the item changed)``.

    Normally one write. A replay costs one conditional write that fails, one read, no change.
    """
    stored: dict[str, str] | None = None  # lane → applied seq, once known
    writes = 0
    for _ in range(MAX_ATTEMPTS):
        todo = items if stored is None else [c for c in items if c.seq > stored.get(c.lane, "")]
        if not todo:
            return writes, False
        writes += 1
        try:
            _update(campaign, sk, todo, stored)
            return writes, True
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
        response = tables.model_client().get_item(TableName=Rollup.Meta.table_name,
                                      Key={"pk": {"S": campaign}, "sk": {"S": sk}}, ConsistentRead=True)
        item = response.get("Item", {})
        stored = {name[4:]: value["S"] for name, value in item.items() if name.startswith("seq_")}
    raise RuntimeError(f"rollup {campaign}/{sk} kept changing under us")


def _update(campaign: str, sk: str, todo: list[Contribution], stored: dict[str, str] | None) -> None:
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
    adds, assignments, conditions = [], [], []
    for i, (name, amount) in enumerate(sorted(counters.items())):
        # ADD 0 is kept: it materialises a counter (a new referrer's lb_score puts it in the index).
        names[f"#c{i}"], values[f":c{i}"] = name, {"N": str(amount)}
        adds.append(f"#c{i} :c{i}")
    for i, (name, value) in enumerate(sorted(sets.items())):
        names[f"#f{i}"] = name
        values[f":f{i}"] = {"N": str(value)} if isinstance(value, int) else {"S": str(value)}
        assignments.append(f"#f{i} = :f{i}")
    for i, lane in enumerate(sorted(last)):
        names[f"#q{i}"] = f"seq_{lane}"
        values[f":q{i}"] = {"S": last[lane]}
        assignments.append(f"#q{i} = :q{i}")
        if stored is None:
            values[f":p{i}"] = {"S": first[lane]}
            conditions.append(f"(attribute_not_exists(#q{i}) OR #q{i} < :p{i})")
        elif lane in stored:
            values[f":p{i}"] = {"S": stored[lane]}
            conditions.append(f"#q{i} = :p{i}")
        else:
            conditions.append(f"attribute_not_exists(#q{i})")
    expression = "SET " + ", ".join(assignments)
    if adds:
        expression += " ADD " + ", ".join(adds)
    tables.model_client().update_item(
        TableName=Rollup.Meta.table_name,
        Key={"pk": {"S": campaign}, "sk": {"S": sk}},
        UpdateExpression=expression,
        ConditionExpression=" AND ".join(conditions),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )
