"""Campaign items."""
from __future__ import annotations

from dataclasses import asdict

from chalicelib.store import clients, codec
from chalicelib.store.records import Campaign, Milestone
from chalicelib.store.schema import CampaignModel, MilestoneMap


def _item(campaign: Campaign) -> dict:
    values = asdict(campaign)
    values["milestones"] = [MilestoneMap(amount=m.amount, label=m.label) for m in campaign.milestones]
    return codec.to_item(CampaignModel, values)


def _record(item: dict) -> Campaign:
    values = codec.from_item(CampaignModel, item)
    values["milestones"] = [Milestone(int(m.amount), m.label) for m in values["milestones"] or []]
    values["window_days"] = int(values["window_days"])
    if values["goal_amount"] is not None:
        values["goal_amount"] = int(values["goal_amount"])
    values["allowed_origins"] = list(values["allowed_origins"] or [])
    values["channels"] = list(values["channels"] or [])
    return Campaign(**values)


def get(campaign_id: str, request_path: bool = False) -> Campaign | None:
    """One campaign by id (a strongly consistent read, except on the request path)."""
    client = clients.request() if request_path else clients.patient()
    response = client.get_item(TableName=clients.table("campaigns"), Key={"id": codec.s(campaign_id)},
                               ConsistentRead=not request_path)
    item = response.get("Item")
    return _record(item) if item else None


def insert(campaign: Campaign) -> bool:
    """Store a new campaign; ``False`` when its id is taken by another campaign.

    A retried insert that had landed (its answer lost) finds its own item: same key hash.
    """
    try:
        clients.patient().put_item(TableName=clients.table("campaigns"), Item=_item(campaign),
                                   ConditionExpression="attribute_not_exists(id)")
        return True
    except Exception as exc:
        if clients.error_code(exc) != "ConditionalCheckFailedException":
            raise
    stored = get(campaign.id)
    return stored is not None and stored.key_hash == campaign.key_hash


def save(campaign: Campaign) -> None:
    """Replace the campaign's item: writing the same state twice is the same state."""
    clients.patient().put_item(TableName=clients.table("campaigns"), Item=_item(campaign))
