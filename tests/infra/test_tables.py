"""The synthesized tables are what the PynamoDB models declare, plus the stage's data safety.

The expected schemas come from PynamoDB itself (``Model._get_schema()``, which
``Model.create_table`` sends to DynamoDB), not from ``chalicelib.store.specs``: a bug in the stack's
translation must not be able to confirm itself.
"""
from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match
from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.indexes import IncludeProjection, LocalSecondaryIndex
from pynamodb.models import Model

from chalicelib.store.schema import ALL_MODELS, EventModel
from chalicelib.store.specs import UnsupportedModel, table_spec


def _indexes(indexes: list[dict]) -> list[dict]:
    return sorted(({"IndexName": index["index_name"],
                    "KeySchema": sorted(index["key_schema"], key=lambda key: key["KeyType"]),
                    "Projection": index["projection"]} for index in indexes),
                  key=lambda index: index["IndexName"])


def _pynamodb_create_table_arguments(model: type[Model]) -> dict:
    """The CloudFormation-shaped equivalent of what ``model.create_table()`` would send."""
    schema: dict[str, Any] = dict(model._get_schema())
    expected = {
        "KeySchema": sorted(schema["key_schema"], key=lambda key: key["KeyType"]),
        "AttributeDefinitions": sorted(schema["attribute_definitions"], key=lambda a: a["AttributeName"]),
        "GlobalSecondaryIndexes": _indexes(schema["global_secondary_indexes"]),
        "LocalSecondaryIndexes": _indexes(schema["local_secondary_indexes"]),
    }
    return expected


def _synthesized_schema(properties: dict) -> dict:
    def normalized_index(index: dict) -> dict:
        return {"IndexName": index["IndexName"],
                "KeySchema": sorted(index["KeySchema"], key=lambda key: key["KeyType"]),
                "Projection": index["Projection"]}

    return {
        "KeySchema": sorted(properties["KeySchema"], key=lambda key: key["KeyType"]),
        "AttributeDefinitions": sorted(properties["AttributeDefinitions"], key=lambda a: a["AttributeName"]),
        "GlobalSecondaryIndexes": sorted((normalized_index(i) for i in properties.get("GlobalSecondaryIndexes", [])),
                                         key=lambda index: index["IndexName"]),
        "LocalSecondaryIndexes": sorted((normalized_index(i) for i in properties.get("LocalSecondaryIndexes", [])),
                                        key=lambda index: index["IndexName"]),
    }


def test_every_model_has_exactly_one_table_named_after_the_stage(synth):
    synth.template.resource_count_is("AWS::DynamoDB::Table", len(ALL_MODELS))
    assert sorted(synth.table_ids()) == sorted(ALL_MODELS)
    for base in ALL_MODELS:
        synth.template.has_resource_properties("AWS::DynamoDB::Table", {"TableName": f"relais-prod-{base}"})


@pytest.mark.parametrize("base", sorted(ALL_MODELS))
def test_table_keys_attributes_and_indexes_equal_what_pynamodb_would_create(synth, base):
    properties = synth.resources[synth.table_ids()[base]]["Properties"]
    assert _synthesized_schema(properties) == _pynamodb_create_table_arguments(ALL_MODELS[base])


def test_rollups_table_has_a_keys_only_leaderboard_index_over_lb_pk_and_numeric_lb_score(synth):
    synth.template.has_resource_properties("AWS::DynamoDB::Table", {
        "TableName": "relais-prod-rollups",
        "AttributeDefinitions": Match.array_with([{"AttributeName": "lb_score", "AttributeType": "N"}]),
        "GlobalSecondaryIndexes": [{
            "IndexName": "leaderboard",
            "KeySchema": [{"AttributeName": "lb_pk", "KeyType": "HASH"},
                          {"AttributeName": "lb_score", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }],
    })


def test_events_table_has_a_stream_with_new_and_old_images(synth):
    assert EventModel.Meta.stream_view_type == "NEW_AND_OLD_IMAGES"
    synth.template.has_resource_properties("AWS::DynamoDB::Table", {
        "TableName": "relais-prod-events",
        "StreamSpecification": {"StreamViewType": EventModel.Meta.stream_view_type},
    })


def test_events_table_expires_items_by_the_models_ttl_attribute(synth):
    ttl = [a.attr_name for a in EventModel.get_attributes().values() if isinstance(a, TTLAttribute)]
    assert ttl == ["expires_at"]
    synth.template.has_resource_properties("AWS::DynamoDB::Table", {
        "TableName": "relais-prod-events",
        "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
    })


def test_only_models_that_declare_a_stream_or_ttl_get_one(synth):
    for base, logical_id in synth.table_ids().items():
        properties = synth.resources[logical_id]["Properties"]
        model = ALL_MODELS[base]
        assert ("StreamSpecification" in properties) == hasattr(model.Meta, "stream_view_type"), base
        declares_ttl = any(isinstance(a, TTLAttribute) for a in model.get_attributes().values())
        assert ("TimeToLiveSpecification" in properties) == declares_ttl, base


def test_data_tables_are_on_demand_and_deletion_protected(synth):
    """Point-in-time recovery is per table: tests/infra/test_privacy_truth.py."""
    for logical_id in synth.table_ids().values():
        properties = synth.resources[logical_id]["Properties"]
        assert properties["BillingMode"] == "PAY_PER_REQUEST"
        assert properties["DeletionProtectionEnabled"] is True


def test_data_tables_survive_stack_deletion_and_replacement(synth):
    for logical_id in synth.table_ids().values():
        resource = synth.resources[logical_id]
        assert resource["DeletionPolicy"] == "Retain"
        assert resource["UpdateReplacePolicy"] == "Retain"


def test_schema_translation_refuses_a_provisioned_model():
    class Provisioned(Model):
        class Meta:
            table_name = "provisioned"
            region = "us-east-1"
            read_capacity_units = 5
            write_capacity_units = 5

        id = UnicodeAttribute(hash_key=True)

    with pytest.raises(UnsupportedModel, match="billing_mode"):
        table_spec(Provisioned)


def test_schema_translation_keeps_local_indexes_and_included_attributes():
    class ByScore(LocalSecondaryIndex):
        class Meta:
            index_name = "by_score"
            projection = IncludeProjection(["name"])

        pk = UnicodeAttribute(hash_key=True)
        score = NumberAttribute(range_key=True)

    class Indexed(Model):
        class Meta:
            table_name = "indexed"
            region = "us-east-1"
            billing_mode = "PAY_PER_REQUEST"

        pk = UnicodeAttribute(hash_key=True)
        sk = UnicodeAttribute(range_key=True)
        score = NumberAttribute()
        by_score = ByScore()

    (index,) = table_spec(Indexed).indexes
    assert index.sort_key is not None
    assert (index.name, index.is_global, index.projection) == ("by_score", False, "INCLUDE")
    assert (index.partition_key.name, index.sort_key.name, index.sort_key.type) == ("pk", "score", "N")
    assert index.non_key_attributes == ("name",)
