"""Creating the tables from their model declarations (``make dev``, tests), and the
table-wide calls the local tooling needs. On AWS the CDK stack creates the tables from
the same declarations (:mod:`chalicelib.store.specs`)."""
from __future__ import annotations

from collections.abc import Iterator

from chalicelib.store import clients
from chalicelib.store.schema import ALL_MODELS
from chalicelib.store.specs import TableSpec, table_spec


def _create_arguments(name: str, spec: TableSpec) -> dict:
    keys = [spec.partition_key, spec.sort_key] + [k for index in spec.indexes
                                                  for k in (index.partition_key, index.sort_key)]
    definitions = {key.name: key.type for key in keys if key is not None}

    def schema(partition, sort) -> list[dict]:
        return [{"AttributeName": partition.name, "KeyType": "HASH"}] + \
            ([{"AttributeName": sort.name, "KeyType": "RANGE"}] if sort else [])

    arguments: dict = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": k, "AttributeType": t} for k, t in sorted(definitions.items())],
        "KeySchema": schema(spec.partition_key, spec.sort_key),
    }
    for wanted, flag in (("GlobalSecondaryIndexes", True), ("LocalSecondaryIndexes", False)):
        indexes = [{"IndexName": index.name, "KeySchema": schema(index.partition_key, index.sort_key),
                    "Projection": {"ProjectionType": index.projection,
                                   **({"NonKeyAttributes": list(index.non_key_attributes)}
                                      if index.non_key_attributes else {})}}
                   for index in spec.indexes if index.is_global is flag]
        if indexes:
            arguments[wanted] = indexes
    if spec.stream_view_type:
        arguments["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": spec.stream_view_type}
    return arguments


def create_tables() -> list[str]:
    """Create every missing table from its model, with its stream and TTL; returns the new names."""
    client = clients.patient()
    existing = set(client.list_tables().get("TableNames", []))
    created = []
    for base, model in ALL_MODELS.items():
        name = clients.table(base)
        spec = table_spec(model)
        if name not in existing:
            client.create_table(**_create_arguments(name, spec))
            client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
            created.append(name)
        if spec.ttl_attribute:
            status = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"].get("TimeToLiveStatus")
            if status not in ("ENABLED", "ENABLING"):
                client.update_time_to_live(TableName=name, TimeToLiveSpecification={
                    "Enabled": True, "AttributeName": spec.ttl_attribute})
    return created


def events_stream_arn() -> str:
    return clients.patient().describe_table(TableName=clients.table("events"))["Table"]["LatestStreamArn"]


def scan(base: str) -> Iterator[dict]:
    """Every item of a table, page by page (local tooling and tests only: never a request path)."""
    kwargs: dict = {"TableName": clients.table(base)}
    while True:
        page = clients.patient().scan(**kwargs)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
