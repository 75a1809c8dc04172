"""Reading rollup items (written only by the aggregator)."""
from __future__ import annotations

from chalicelib.store import tables
from chalicelib.store.schema import Rollup

COUNTERS = ("shares", "previews", "clicks", "unique_clicks", "pledges")


def number(typed: dict | None) -> int:
    return int(typed["N"]) if typed and "N" in typed else 0


def amounts(item: dict) -> dict[str, int]:
    """``{"EUR": 1250}`` from the item's ``amt_<currency>`` counters; zeros left out."""
    return {name[4:]: number(value) for name, value in sorted(item.items())
            if name.startswith("amt_") and number(value)}


def read(campaign_id: str, sk: str) -> dict:
    """One rollup item in DynamoDB JSON (empty when nothing was counted yet)."""
    client = tables.model_client()
    response = client.get_item(TableName=Rollup.Meta.table_name,
                               Key={"pk": {"S": campaign_id}, "sk": {"S": sk}})
    return response.get("Item", {})


def counters(item: dict) -> dict[str, int]:
    return {name: number(item.get(name)) for name in COUNTERS}


def rank(campaign_id: str, score: int) -> int:
    """1 + the number of this campaign's referrers with a higher score (from the index)."""
    higher = Rollup.leaderboard.count(campaign_id, Rollup.lb_score > score)
    return higher + 1


def top_referrers(campaign_id: str, limit: int) -> list[dict]:
    """The first ``limit`` referrer rollups in leaderboard order, from the index (no scan)."""
    client = tables.model_client()
    response = client.query(
        TableName=Rollup.Meta.table_name, IndexName="leaderboard", Limit=limit, ScanIndexForward=False,
        KeyConditionExpression="lb_pk = :campaign", ExpressionAttributeValues={":campaign": {"S": campaign_id}},
    )
    return response.get("Items", [])


def query_range(campaign_id: str, low: str, high: str) -> list[dict]:
    """Every rollup item of a campaign whose sort key lies in ``[low, high]``, all pages."""
    client = tables.model_client()
    kwargs = {
        "TableName": Rollup.Meta.table_name,
        "KeyConditionExpression": "pk = :campaign AND sk BETWEEN :low AND :high",
        "ExpressionAttributeValues": {":campaign": {"S": campaign_id}, ":low": {"S": low}, ":high": {"S": high}},
    }
    items: list[dict] = []
    while True:
        page = client.query(**kwargs)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
