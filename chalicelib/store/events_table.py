"""Events-table items: facts, pledges, Stripe lookups; decoding stream images and campaign reads.

Every write here gives the same result applied once or twice:
- a fact (visit, preview, share) is a put under a key made from the request's token;
- a pledge is a conditional put keyed by its id, and carries the token of the request
  that created it, so a retry whose first attempt landed still learns it created it;
- a status change is conditional on the current status;
- aliases and refund memos are puts under deterministic keys.
"""
from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from chalicelib.core import config
from chalicelib.store import clients, codec, declared, keys
from chalicelib.store.records import Event, Fact, Pledge, visitor_identity

LANES = keys.LANES
_NOT_IN_EVENT = ("pk", "rq", "erq", "expires_at", "toks")  # the key and bookkeeping: ``schema.RECORDS`` leaves them out
TOKENS_CAP = 24
"""Visits one visitor's item holds (about 30 bytes each: the item stays under 1 KB, one
write unit); a visitor's further visits that day are items of their own (``repeat``)."""
_IGNORED_KINDS = frozenset({"alias", "refund_memo", "erasure", "settings"})
SETTINGS_DAYS = 7
"""How long a settings record stays: long after the stream (24 h) has carried it."""


def new_token() -> str:
    """A request token: unguessable, 22 characters (fits DynamoDB's ClientRequestToken)."""
    return secrets.token_urlsafe(16)


def _expiry(day: str) -> datetime:
    """Raw facts are dropped ``RELAIS_EVENT_TTL_DAYS`` after the end of their day."""
    return datetime.fromisoformat(day).replace(tzinfo=UTC) + timedelta(days=config.event_ttl_days() + 1)


def fact_item(fact: Fact, repeat: bool = False) -> dict:
    """The item of a fact of its own: its key is a function of the fact alone, so it can be
    replayed. ``repeat``: a visitor's visit beyond their item's token cap."""
    if fact.kind in ("visit", "landing"):
        identity = fact.token if fact.visitor is None else \
            visitor_identity(fact.day, fact.code, fact.channel, fact.visitor)
        sk = keys.visit_sk(fact.day, fact.code, fact.channel, fact.visitor, fact.token) if fact.kind == "visit" \
            else keys.landing_sk(fact.day, fact.token)
    elif fact.kind == "preview":
        identity, sk = fact.token, keys.preview_sk(fact.day, fact.token)
    elif fact.kind == "share":
        identity, sk = fact.token, keys.share_sk(fact.day, fact.token)
    else:
        raise ValueError(f"not a fact kind: {fact.kind!r}")
    return codec.to_item(declared.EVENT, {
        "pk": keys.event_pk(fact.campaign_id, keys.lane_of(identity)), "sk": sk, "kind": fact.kind,
        "campaign_id": fact.campaign_id, "code": fact.code, "channel": fact.channel, "day": fact.day,
        "visitor": fact.visitor, "agent": fact.agent, "expires_at": _expiry(fact.day), "repeat": repeat or None,
    })


def _visitors_item_key(fact: Fact, visitor: str) -> dict:
    """The key of the item that holds a visitor's visits (or landings) through one link and
    channel on one day: its first write is the stream's ``INSERT``, which is what makes the
    visitor new; later ones are ``MODIFY``s that add a token."""
    identity = visitor_identity(fact.day, fact.code, fact.channel, visitor)
    make_sk = keys.visitor_visits_sk if fact.kind == "visit" else keys.visitor_landings_sk
    return {"pk": codec.s(keys.event_pk(fact.campaign_id, keys.lane_of(identity))),
            "sk": codec.s(make_sk(fact.day, fact.code, fact.channel, visitor))}


def put_item(item: dict, request_path: bool = False) -> None:
    """Put an events item as it is (a fact of its own, or a legacy one replayed from the fallback)."""
    client = clients.request() if request_path else clients.patient()
    client.put_item(TableName=clients.table("events"), Item=item)


def put_fact(fact: Fact, request_path: bool = True) -> None:
    """A fact's one write (the request path's, or the fallback's replay of it).

    A known visitor's visit adds its token to the visitor's item of the day (``ADD`` to a
    set: applied twice, it is added once). Beyond ``TOKENS_CAP`` tokens the condition
    fails, and the visit is an item of its own marked ``repeat``, in a second write that
    only a visitor's 25th visit of a day through one link pays; a landing beyond the cap
    adds nothing (a landing counts once per visitor), and is not written.
    """
    if fact.visitor is None or fact.kind not in ("visit", "landing"):  # a fact of its own
        put_item(fact_item(fact), request_path)
        return
    client = clients.request() if request_path else clients.patient()
    names, sets = {"#toks": "toks"}, []
    values = {":tok": {"SS": [fact.token]}, ":token": codec.s(fact.token), ":cap": codec.n(TOKENS_CAP)}
    attributes = {name: value for name, value in fact_item(fact).items() if name not in ("pk", "sk")}
    for i, (name, value) in enumerate(sorted(attributes.items())):  # the same on every visit
        names[f"#a{i}"], values[f":a{i}"] = name, value
        sets.append(f"#a{i} = :a{i}")
    try:
        client.update_item(
            TableName=clients.table("events"), Key=_visitors_item_key(fact, fact.visitor),
            UpdateExpression=f"SET {', '.join(sets)} ADD #toks :tok",
            ConditionExpression="attribute_not_exists(#toks) OR size(#toks) < :cap OR contains(#toks, :token)",
            ExpressionAttributeNames=names, ExpressionAttributeValues=values)
    except client.exceptions.ConditionalCheckFailedException:
        if fact.kind == "visit":
            put_item(fact_item(fact, repeat=True), request_path)


# pledges ---------------------------------------------------------------------------------

def _pledge_key(campaign_id: str, pledge_id: str) -> dict:
    return {"pk": codec.s(keys.event_pk(campaign_id, keys.lane_of(pledge_id))),
            "sk": codec.s(keys.pledge_sk(pledge_id))}


def _pledge_record(item: dict) -> Pledge:
    v = codec.from_item(declared.EVENT, item)
    campaign_id, _ = keys.split_event_pk(v["pk"])
    return Pledge(campaign_id=campaign_id, pledge_id=keys.pledge_id_of(v["sk"]), amount=int(v["amount"]),
                  currency=v["currency"], status=v["status"], occurred_at=v["occurred_at"],
                  goal_amount=int(v["goal_amount"] or 0), channel=v["channel"] or "direct", code=v["code"],
                  depth=int(v["depth"]) if v["depth"] is not None else None, external_id=v["external_id"],
                  request_token=v["rq"], source=v["source"], end_token=v["erq"])


def insert_pledge(pledge: Pledge) -> tuple[bool, Pledge]:
    """``(True, pledge)`` when this call stored it; ``(False, stored)`` when the id existed.

    One conditional put: on refusal DynamoDB returns the stored item with the error
    (``ReturnValuesOnConditionCheckFailure``), so an exact replay costs no read. A
    stored item carrying this call's own token was written by this call (a retried
    put whose first answer was lost): it counts as created.
    """
    key = _pledge_key(pledge.campaign_id, pledge.pledge_id)
    item = {**codec.to_item(declared.EVENT, {
        "kind": "pledge", "campaign_id": pledge.campaign_id, "amount": pledge.amount, "currency": pledge.currency,
        "status": pledge.status, "goal_amount": pledge.goal_amount, "occurred_at": pledge.occurred_at,
        "day": pledge.occurred_at.date().isoformat(), "external_id": pledge.external_id, "code": pledge.code,
        "channel": pledge.channel, "depth": pledge.depth, "rq": pledge.request_token, "source": pledge.source,
        "pk": key["pk"]["S"], "sk": key["sk"]["S"]})}
    try:
        clients.patient().put_item(TableName=clients.table("events"), Item=item,
                                   ConditionExpression="attribute_not_exists(pk)",
                                   ReturnValuesOnConditionCheckFailure="ALL_OLD")
        return True, pledge
    except Exception as exc:
        if clients.error_code(exc) != "ConditionalCheckFailedException":
            raise
        stored_item = getattr(exc, "response", {}).get("Item") or _get(key)
    stored = _pledge_record(stored_item)
    return stored.request_token is not None and stored.request_token == pledge.request_token, stored


def _get(key: dict) -> dict:
    return clients.patient().get_item(TableName=clients.table("events"), Key=key, ConsistentRead=True)["Item"]


def get_pledge(campaign_id: str, pledge_id: str) -> Pledge | None:
    response = clients.patient().get_item(TableName=clients.table("events"),
                                          Key=_pledge_key(campaign_id, pledge_id), ConsistentRead=True)
    return _pledge_record(response["Item"]) if "Item" in response else None


def get_pledges(campaign_id: str, pledge_ids: list[str]) -> dict[str, Pledge]:
    """The stored pledges among ``pledge_ids`` (BatchGetItem, 100 keys a request, strongly
    consistent): an import's chunk reads its rows' pledges at once and writes only those
    that change."""
    table = clients.table("events")
    found: dict[str, Pledge] = {}
    ordered = list(dict.fromkeys(pledge_ids))
    for start in range(0, len(ordered), 100):
        pending: dict = {table: {"Keys": [_pledge_key(campaign_id, pid) for pid in ordered[start:start + 100]],
                                 "ConsistentRead": True}}
        while pending:
            response = clients.patient().batch_get_item(RequestItems=pending)
            for item in response.get("Responses", {}).get(table, []):
                pledge = _pledge_record(item)
                found[pledge.pledge_id] = pledge
            pending = response.get("UnprocessedKeys") or {}
    return found


def end_pledge(campaign_id: str, pledge_id: str, status: str, token: str | None = None) -> Pledge:
    """Confirmed → ``status`` (refunded/cancelled), once; a repeat or concurrent change is a
    no-op. ``token``, the ending request's, is kept: its retry learns the change was its own."""
    names, values = {"#s": "status"}, {":new": codec.s(status), ":confirmed": codec.s("confirmed")}
    expression = "SET #s = :new"
    if token is not None:
        names["#e"], values[":token"] = "erq", codec.s(token)
        expression += ", #e = :token"
    try:
        response = clients.patient().update_item(
            TableName=clients.table("events"), Key=_pledge_key(campaign_id, pledge_id),
            UpdateExpression=expression, ConditionExpression="#s = :confirmed",
            ExpressionAttributeNames=names, ExpressionAttributeValues=values, ReturnValues="ALL_NEW")
        return _pledge_record(response["Attributes"])
    except Exception as exc:
        if clients.error_code(exc) != "ConditionalCheckFailedException":
            raise
    return _pledge_record(_get(_pledge_key(campaign_id, pledge_id)))


# Stripe lookups ---------------------------------------------------------------------------

def _lookup_key(campaign_id: str, identity: str, sk: str) -> dict:
    return {"pk": codec.s(keys.event_pk(campaign_id, keys.lane_of(identity))), "sk": codec.s(sk)}


def _put_lookup(campaign_id: str, payment_intent: str, sk: str, kind: str, value: str) -> None:
    key = _lookup_key(campaign_id, payment_intent, sk)
    item = codec.to_item(declared.EVENT, {"pk": key["pk"]["S"], "sk": sk, "kind": kind, "campaign_id": campaign_id,
                                      "external_id": value})
    clients.patient().put_item(TableName=clients.table("events"), Item=item)


def _get_lookup(campaign_id: str, payment_intent: str, sk: str) -> str | None:
    response = clients.patient().get_item(TableName=clients.table("events"),
                                          Key=_lookup_key(campaign_id, payment_intent, sk), ConsistentRead=True)
    return codec.text(response["Item"].get("external_id")) if "Item" in response else None


def put_alias(campaign_id: str, payment_intent: str, pledge_id: str) -> None:
    _put_lookup(campaign_id, payment_intent, keys.alias_sk(payment_intent), "alias", pledge_id)


def pledge_of_payment(campaign_id: str, payment_intent: str) -> str | None:
    return _get_lookup(campaign_id, payment_intent, keys.alias_sk(payment_intent))


def remember_refund(campaign_id: str, payment_intent: str, charge_id: str) -> None:
    _put_lookup(campaign_id, payment_intent, keys.refund_memo_sk(payment_intent), "refund_memo", charge_id)


def refund_remembered(campaign_id: str, payment_intent: str) -> bool:
    return _get_lookup(campaign_id, payment_intent, keys.refund_memo_sk(payment_intent)) is not None


# recount markers ---------------------------------------------------------------------------

def put_recount_marker(campaign_id: str, lane: int, run: str, phase: str) -> None:
    """A marker in one lane: the aggregator sees it in that lane's order (see ``aggregate.recount``)."""
    item = codec.to_item(declared.EVENT, {
        "pk": keys.event_pk(campaign_id, lane), "sk": keys.recount_marker_sk(run, phase), "kind": "recount",
        "campaign_id": campaign_id, "external_id": run, "status": phase})
    clients.patient().put_item(TableName=clients.table("events"), Item=item)


# reading events ----------------------------------------------------------------------------

def decode(item: dict) -> Event:
    """An events item (a stream image or a query result) as a record; ValueError if unusable."""
    if not isinstance(item, dict):
        raise ValueError("not an item")
    for name in ("amount", "goal_amount", "depth"):
        if name in item:
            codec.number(item[name])  # rejects 1e309, NaN and other numbers that are not counts
    values = codec.from_item(declared.EVENT, item)
    if not values["pk"] or not values["sk"] or not values["kind"]:
        raise ValueError("an event needs pk, sk and kind")
    campaign_id, lane = keys.split_event_pk(values["pk"])
    fields = {name: value for name, value in values.items() if name not in _NOT_IN_EVENT}
    return Event(**{**fields, "campaign_id": campaign_id}, lane=lane, visits=len(values["toks"] or ()) or 1)


def same_image(one: dict | None, other: dict | None) -> bool:
    """Whether two images of an events item hold the same values (a visitor's token set may
    come back with its members in any order)."""
    return codec.same_item(one, other)


def pledge_id(event: Event) -> str:
    """The pledge id of a pledge event (ValueError for any other kind)."""
    return keys.pledge_id_of(event.sk)


def settings_put(campaign_id: str, version: int, moment: datetime) -> dict:
    """The transaction item that records a change of a campaign's rewards or milestones."""
    item = codec.to_item(declared.EVENT, {
        "pk": keys.event_pk(campaign_id, 0), "sk": keys.settings_sk(version), "kind": "settings",
        "campaign_id": campaign_id, "occurred_at": moment, "expires_at": moment + timedelta(days=SETTINGS_DAYS)})
    return {"Put": {"TableName": clients.table("events"), "Item": item}}


def is_ignored(event: Event) -> bool:
    """Items that are not counted (Stripe alias, refund memo, a fan's erasure record, a
    campaign's settings change)."""
    return event.kind in _IGNORED_KINDS


def campaign_items(campaign_id: str) -> Iterator[tuple[Event, tuple[str, str], dict]]:
    """Every events item of a campaign, lane by lane (strongly consistent): the recount's input.
    Yields the record, its key and its image (as a stream record would carry it)."""
    for lane in range(keys.LANES):
        kwargs: dict = {"TableName": clients.table("events"), "ConsistentRead": True,
                        "KeyConditionExpression": "pk = :pk",
                        "ExpressionAttributeValues": {":pk": codec.s(keys.event_pk(campaign_id, lane))}}
        while True:
            page = clients.patient().query(**kwargs)
            for item in page.get("Items", []):
                yield decode(item), (item["pk"]["S"], item["sk"]["S"]), item
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def pledges_of(campaign_id: str, code: str) -> list[Pledge]:
    """Every pledge attributed to the link ``code`` (a fan's export): one query per lane over
    the campaign's pledges, filtered by code. Its cost grows with the campaign's pledges; only
    the creator asks, one fan at a time."""
    found: list[Pledge] = []
    for lane in range(keys.LANES):
        kwargs: dict = {"TableName": clients.table("events"), "ConsistentRead": True,
                        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
                        "FilterExpression": "code = :code",
                        "ExpressionAttributeValues": {":pk": codec.s(keys.event_pk(campaign_id, lane)),
                                                      ":prefix": codec.s(keys.pledge_sk("")),
                                                      ":code": codec.s(code)}}
        while True:
            page = clients.patient().query(**kwargs)
            found.extend(_pledge_record(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return sorted(found, key=lambda pledge: (pledge.occurred_at, pledge.pledge_id))
