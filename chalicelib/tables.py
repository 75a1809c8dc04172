"""Binding the models to the tables named by config, and creating them.

PynamoDB fixes a model's table name and endpoint in ``Meta`` at class definition;
``bind`` rewrites them from config whenever they differ and drops the cached connection,
so the same process can serve tests, ``chalice local`` and Lambda.
"""
from __future__ import annotations

from pynamodb.models import Model

from chalicelib import config
from chalicelib.models import ALL_MODELS

_bound: tuple | None = None


def bind() -> None:
    """Point every model at the tables the current config names. Cheap when unchanged."""
    global _bound
    wanted = (
        config.region(),
        config.dynamodb_endpoint(),
        tuple(config.table_name(base) for base in ALL_MODELS),
    )
    if wanted == _bound:
        return
    region, host, names = wanted
    for model, name in zip(ALL_MODELS.values(), names):
        model.Meta.table_name = name
        model.Meta.region = region
        model.Meta.host = host
        model._connection = None
    _bound = wanted


def create_tables(wait: bool = True) -> list[str]:
    """Create every missing table from its model definition, with stream and TTL."""
    bind()
    created = []
    for model in ALL_MODELS.values():
        if not model.exists():
            model.create_table(wait=wait)
            created.append(model.Meta.table_name)
        if _ttl_attribute(model):
            _enable_ttl(model)
    return created


def _ttl_attribute(model: type[Model]) -> str | None:
    from pynamodb.attributes import TTLAttribute

    for name, attribute in model.get_attributes().items():
        if isinstance(attribute, TTLAttribute):
            return attribute.attr_name
    return None


def _enable_ttl(model: type[Model]) -> None:
    client = model._get_connection().connection.client
    status = client.describe_time_to_live(TableName=model.Meta.table_name)
    if status["TimeToLiveDescription"].get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
        return
    client.update_time_to_live(
        TableName=model.Meta.table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": _ttl_attribute(model)},
    )


def delete_tables() -> None:
    bind()
    for model in ALL_MODELS.values():
        if model.exists():
            model.delete_table()


def events_stream_arn() -> str:
    bind()
    from chalicelib.models import Event

    client = Event._get_connection().connection.client
    return client.describe_table(TableName=Event.Meta.table_name)["Table"]["LatestStreamArn"]
