"""Fans' reward states (rollups table, partition ``<campaign>#rw``, one item per fan and reward).

A state changes only in a transaction that also checks the fan's pledge count on their
rollup item (``ref#<code>``): an unlock needs ``pledges >= threshold`` *now*, a re-lock
``pledges < threshold`` and no fulfilment, so two aggregator shards acting on stale counts
can never leave a state that contradicts the count. Each write is conditioned on the
generation it read, and the transaction carries a ``ClientRequestToken``: applying it twice
changes nothing. Marking a generation notified, or a reward fulfilled, sets a value that a
repeat sets again.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from chalicelib.store import clients, codec, keys, rollups_table
from chalicelib.store.derived import RewardState


def _table() -> str:
    return clients.table("rollups")


def _key(campaign_id: str, code: str, pledges: int) -> dict:
    return {"pk": codec.s(keys.rewards_pk(campaign_id)), "sk": codec.s(keys.reward_sk(code, pledges))}


def _optional(item: dict, name: str) -> int | None:
    return codec.number(item[name]) if name in item else None


def _state(item: dict) -> RewardState:
    code, pledges = keys.split_reward_sk(codec.text(item["sk"]) or "")
    return RewardState(code=code, pledges=pledges, label=codec.text(item.get("label")) or "",
                       unlocked=bool(item.get("unlocked", {}).get("BOOL")),
                       generation=codec.optional_number(item.get("gen")),
                       notified=codec.optional_number(item.get("notified")),
                       unlocked_at=_optional(item, "unlocked_at"), fulfilled_at=_optional(item, "fulfilled_at"))


def states_of(campaign_id: str, code: str) -> dict[int, RewardState]:
    """One fan's stored states by threshold (one query of at most one item per reward)."""
    items = rollups_table.query_pages(ConsistentRead=True, KeyConditionExpression="pk = :pk AND begins_with(sk, :code)",
                   ExpressionAttributeValues={":pk": codec.s(keys.rewards_pk(campaign_id)),
                                              ":code": codec.s(keys.reward_prefix(code))})
    return {state.pledges: state for state in map(_state, items)}


def every_state(campaign_id: str) -> list[RewardState]:
    """Every fan's stored states: the fans who unlocked a reward once (locked again or not)."""
    items = rollups_table.query_pages(ConsistentRead=True, KeyConditionExpression="pk = :pk",
                   ExpressionAttributeValues={":pk": codec.s(keys.rewards_pk(campaign_id))})
    return [_state(item) for item in items]


def fans(campaign_id: str, codes: Iterable[str]) -> dict[str, tuple[int, str | None]]:
    """``{code: (confirmed attributed pledges, display name)}`` from the fans' rollup items,
    strongly consistent (the aggregator reads them right after adding to them)."""
    wanted = [{"pk": codec.s(campaign_id), "sk": codec.s(keys.referrer_rollup_sk(code))} for code in sorted(set(codes))]
    found: dict[str, tuple[int, str | None]] = {}
    for start in range(0, len(wanted), 100):
        pending: dict[str, Any] = {_table(): {"Keys": wanted[start:start + 100], "ConsistentRead": True}}
        while pending:
            response = clients.patient().batch_get_item(RequestItems=pending)
            for item in response.get("Responses", {}).get(_table(), []):
                code = keys.code_of_referrer_rollup(codec.text(item["sk"]) or "")
                found[code] = (codec.optional_number(item.get("pledges")), codec.text(item.get("name")))
            pending = response.get("UnprocessedKeys") or {}
    return found


def _token(campaign_id: str, state: RewardState, now_ms: int) -> str:
    seed = f"{campaign_id}|{state.code}|{state.pledges}|{state.generation}|{state.unlocked}|{now_ms}"
    return hashlib.sha256(seed.encode()).hexdigest()[:36]


def transition(campaign_id: str, state: RewardState, unlock: bool, label: str, now_ms: int) -> RewardState | None:
    """Unlock (a new generation) or re-lock the reward, if the fan's count still says so and
    nobody changed the state since ``state`` was read; ``None`` otherwise (read again)."""
    values: dict[str, dict] = {":t": codec.n(state.pledges), ":now": codec.n(now_ms)}
    if unlock:
        new = replace(state, unlocked=True, generation=state.generation + 1, unlocked_at=now_ms, label=label)
        count_check = "pledges >= :t"
        update = ("SET #l = :label, unlocked = :yes, gen = :gen, unlocked_at = :now, "
                  "notified = if_not_exists(notified, :zero)")
        values.update({":label": codec.s(label), ":yes": {"BOOL": True}, ":gen": codec.n(new.generation),
                       ":zero": codec.n(0)})
        if state.generation == 0:
            condition = "attribute_not_exists(pk)"
        else:
            condition = "gen = :old AND unlocked = :no"
            values.update({":old": codec.n(state.generation), ":no": {"BOOL": False}})
    else:
        new = replace(state, unlocked=False)
        count_check = "attribute_not_exists(pledges) OR pledges < :t"
        update = "SET unlocked = :no, locked_at = :now"
        condition = "gen = :old AND unlocked = :yes AND attribute_not_exists(fulfilled_at)"
        values.update({":no": {"BOOL": False}, ":yes": {"BOOL": True}, ":old": codec.n(state.generation)})
    check_values = {name: value for name, value in values.items() if name == ":t"}
    state_values = {name: value for name, value in values.items() if name != ":t"}
    items = [
        {"ConditionCheck": {"TableName": _table(), "ConditionExpression": count_check,
                            "Key": {"pk": codec.s(campaign_id), "sk": codec.s(keys.referrer_rollup_sk(state.code))},
                            "ExpressionAttributeValues": check_values}},
        {"Update": {"TableName": _table(), "Key": _key(campaign_id, state.code, state.pledges),
                    "UpdateExpression": update, "ConditionExpression": condition,
                    **({"ExpressionAttributeNames": {"#l": "label"}} if unlock else {}),
                    "ExpressionAttributeValues": state_values}},
    ]
    try:
        clients.patient().transact_write_items(TransactItems=items,
                                               ClientRequestToken=_token(campaign_id, state, now_ms))
        return new
    except Exception as exc:
        if clients.error_code(exc) != "TransactionCanceledException":
            raise
    return None


def mark_notified(campaign_id: str, code: str, pledges: int, generation: int) -> None:
    """The ``reward.unlocked`` of ``generation`` went out (or was not due)."""
    try:
        clients.patient().update_item(
            TableName=_table(), Key=_key(campaign_id, code, pledges), UpdateExpression="SET notified = :gen",
            ConditionExpression="attribute_exists(pk) AND notified < :gen",
            ExpressionAttributeValues={":gen": codec.n(generation)})
    except Exception as exc:
        if clients.error_code(exc) != "ConditionalCheckFailedException":
            raise


def fulfil(campaign_id: str, code: str, pledges: int, now_ms: int) -> RewardState | None:
    """Mark an unlocked reward fulfilled (it then stays unlocked); ``None`` if it is locked.
    The first fulfilment's time is kept: a repeat changes nothing."""
    try:
        response = clients.patient().update_item(
            TableName=_table(), Key=_key(campaign_id, code, pledges), ReturnValues="ALL_NEW",
            UpdateExpression="SET fulfilled_at = if_not_exists(fulfilled_at, :now)",
            ConditionExpression="unlocked = :yes", ExpressionAttributeValues={":now": codec.n(now_ms),
                                                                             ":yes": {"BOOL": True}})
        return _state(response["Attributes"])
    except Exception as exc:
        if clients.error_code(exc) != "ConditionalCheckFailedException":
            raise
    return None


def unfulfil(campaign_id: str, code: str, pledges: int) -> RewardState | None:
    """Take back a fulfilment marked by mistake: the reward is then unlocked and unfulfilled,
    as before the mark. Conditioned, in one transaction, on the fulfilment being there and on
    the fan's count still reaching the threshold (a refund since the mark would otherwise leave
    an unlocked reward that the count says is locked). The state after, or ``None`` when the
    count no longer reaches it (the reward stays fulfilled). Undoing twice is the same as once."""
    items = [
        {"ConditionCheck": {"TableName": _table(), "ConditionExpression": "pledges >= :t",
                            "Key": {"pk": codec.s(campaign_id), "sk": codec.s(keys.referrer_rollup_sk(code))},
                            "ExpressionAttributeValues": {":t": codec.n(pledges)}}},
        {"Update": {"TableName": _table(), "Key": _key(campaign_id, code, pledges),
                    "UpdateExpression": "REMOVE fulfilled_at",
                    "ConditionExpression": "unlocked = :yes AND attribute_exists(fulfilled_at)",
                    "ExpressionAttributeValues": {":yes": {"BOOL": True}}}},
    ]
    try:
        clients.patient().transact_write_items(TransactItems=items)
    except Exception as exc:
        if clients.error_code(exc) != "TransactionCanceledException":
            raise
        state = states_of(campaign_id, code).get(pledges)
        return state if state is not None and state.unlocked and state.fulfilled_at is None else None
    return states_of(campaign_id, code).get(pledges)
