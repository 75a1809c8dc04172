"""Binding the models to the tables named by config, and creating them.

PynamoDB fixes a model's table name and endpoint in ``Meta`` at class definition;
``bind`` rewrites them from config whenever they differ, so the same process can serve
tests, ``chalice local`` and Lambda.

It also hands out the botocore clients, built from one session: PynamoDB would build a
session and a client per model, loading the DynamoDB service description each time.
Every model shares one patient client. The redirect and share beacons write through
``request_client`` instead: short timeouts and one quick retry, so that a throttled or
stalled write costs a redirect well under a second (the visit is dropped and counted,
never retried for 25 s).
"""
from __future__ import annotations

import botocore.config
import botocore.session
from pynamodb.models import Model

from chalicelib import config
from chalicelib.store.schema import ALL_MODELS, Event

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


def _client(budget: botocore.config.Config):
    global _session
    if budget not in _clients:
        bind()
        region, host, _ = _bound
        _session = _session or botocore.session.get_session()
        _clients[budget] = _session.create_client("dynamodb", region_name=region, endpoint_url=host, config=budget)
    return _clients[budget]


def model_client():
    """The client every model uses (PynamoDB's connections are given it)."""
    return _client(PATIENT)


def request_client():
    """The client of the request path: its cached-lookup misses and its one write."""
    return _client(REQUEST)


def fast_get(model: type[Model], **key: str) -> Model | None:
    """One item by its string key, through the request-path client."""
    response = request_client().get_item(TableName=model.Meta.table_name,
                                         Key={name: {"S": value} for name, value in key.items()})
    item = response.get("Item")
    return model.from_raw_data(item) if item else None


def create_tables(wait: bool = True) -> list[str]:
    """Create every missing table from its model definition, with stream and TTL."""
    bind()
    created = []
    for model in ALL_MODELS.values():
        if not model.exists():
            model.create_table(wait=wait)
            created.append(model.Meta.table_name)
        if model._ttl_attribute() is not None:
            _enable_ttl(model)
    return created


def _enable_ttl(model: type[Model]) -> None:
    client = model_client()
    status = client.describe_time_to_live(TableName=model.Meta.table_name)
    if status["TimeToLiveDescription"].get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
        return
    client.update_time_to_live(
        TableName=model.Meta.table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": model._ttl_attribute().attr_name},
    )


def events_stream_arn() -> str:
    return model_client().describe_table(TableName=Event.Meta.table_name)["Table"]["LatestStreamArn"]
