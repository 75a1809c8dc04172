"""Binding the models to the tables named by config, and creating them.

PynamoDB fixes a model's table name and endpoint in ``Meta`` at class definition;
``bind`` rewrites them from config whenever they differ, so the same process can serve
tests, ``chalice local`` and Lambda.

It also gives every model one of two botocore clients built from a single session.
PynamoDB would otherwise build a session and a client per model, loading the DynamoDB
service description each time. The tables a request reads and writes one item at a
time (campaigns, links, events) share the request budget: short timeouts and one quick
retry, so that a throttled or stalled write costs a redirect well under a second (the
visit is dropped and counted, never retried for 25 s). The rollups, read in pages by the
stats and written by the aggregator, get a patient budget.
"""
from __future__ import annotations

import botocore.config
import botocore.session
from pynamodb.models import Model

from chalicelib import config
from chalicelib.models import ALL_MODELS, Rollup

REQUEST = botocore.config.Config(connect_timeout=0.25, read_timeout=0.3, parameter_validation=False,
                                 retries={"total_max_attempts": 2, "mode": "legacy"})  # DynamoDB legacy: 50 ms base
PATIENT = botocore.config.Config(connect_timeout=2, read_timeout=10, parameter_validation=False,
                                 retries={"total_max_attempts": 4, "mode": "standard"})

_bound: tuple | None = None
_session: botocore.session.Session | None = None
_clients: dict = {}


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
    _clients.clear()
    for model, name in zip(ALL_MODELS.values(), names):
        model.Meta.table_name = name
        model.Meta.region = region
        model.Meta.host = host
        model._connection = None
    _bound = wanted


def client_for(model: type[Model]):
    """The shared botocore client of a model's budget, created on first use."""
    global _session
    budget = PATIENT if model is Rollup else REQUEST
    if budget not in _clients:
        _session = _session or botocore.session.get_session()
        _clients[budget] = _session.create_client("dynamodb", region_name=model.Meta.region,
                                                  endpoint_url=model.Meta.host, config=budget)
    return _clients[budget]


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
