"""Rate-limit counters: what one visitor (or network) wrote to one campaign in one time window,
and what a campaign took from everyone in one window.

One item per visitor, campaign, action and window, in the rollups table under
``keys.limit_pk`` (spread by the visitor's keyed hash: no campaign's partition takes them
all), expiring with its window; a campaign's ceiling is one item per action and window under
``keys.ceiling_pk``. Every container counts on the same item, so a limit holds however many
Lambda containers serve the visitor.

Taking a slot is one conditional update that adds 1 and the request's token, and only while
the count is under the limit. Applied twice (a retry after a lost answer), the second finds
its token and is told the slot is its own: the count is never raised twice by one request.
The token set holds at most ``limit`` tokens, so the item stays small.
"""
from __future__ import annotations

from chalicelib.store import clients, codec, keys


def take(visitor: str, campaign_id: str, action: str, window: int, limit: int, token: str, expires_at: int) -> bool:
    """Take one of the ``limit`` slots of this visitor, campaign, action and window for the
    request ``token``; ``False`` when none is left."""
    return _take(keys.limit_pk(visitor), keys.limit_sk(campaign_id, action, window), limit, token, expires_at)


def take_ceiling(campaign_id: str, action: str, window: int, limit: int, token: str, expires_at: int) -> bool:
    """Take one of the ``limit`` slots the campaign has for ``action`` in this window, whoever
    asks; ``False`` when none is left."""
    return _take(keys.ceiling_pk(campaign_id), keys.ceiling_sk(action, window), limit, token, expires_at)


def _take(pk: str, sk: str, limit: int, token: str, expires_at: int) -> bool:
    try:
        clients.request().update_item(
            TableName=clients.table("rollups"),
            Key={"pk": codec.s(pk), "sk": codec.s(sk)},
            UpdateExpression="ADD #hits :one, #tokens :token SET #expires = :expires",
            ConditionExpression="(attribute_not_exists(#hits) OR #hits < :limit) "
                                "AND (attribute_not_exists(#tokens) OR NOT contains(#tokens, :raw))",
            ExpressionAttributeNames={"#hits": "hits", "#tokens": "tokens", "#expires": "expires_at"},
            ExpressionAttributeValues={":one": codec.n(1), ":token": {"SS": [token]}, ":raw": codec.s(token),
                                       ":limit": codec.n(limit), ":expires": codec.n(expires_at)},
            ReturnValuesOnConditionCheckFailure="ALL_OLD")
        return True
    except Exception as exc:
        if clients.error_code(exc) != "ConditionalCheckFailedException":
            raise
        stored = getattr(exc, "response", {}).get("Item") or {}
    return token in (stored.get("tokens") or {}).get("SS", [])
