"""Least privilege: each function's role allows what its code does, on its own resources only."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from infra.stack import AGGREGATOR_FUNCTION, API_FUNCTION

TABLE_READS = {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem"}
TABLE_WRITES = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
STREAM_READS = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"}


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _statements(synth) -> Iterator[tuple[str, dict]]:
    """``(role logical id or resource, statement)`` for every identity-policy statement."""
    for name, resource in synth.resources.items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Policy":
            for role in properties.get("Roles", []):
                for statement in properties["PolicyDocument"]["Statement"]:
                    yield role["Ref"], statement
        elif resource["Type"] == "AWS::IAM::Role":
            for policy in properties.get("Policies", []):
                for statement in policy["PolicyDocument"]["Statement"]:
                    yield name, statement
        elif resource["Type"] == "AWS::IAM::ManagedPolicy":
            for statement in properties["PolicyDocument"]["Statement"]:
                yield name, statement


def _role_of(synth, function: str) -> str:
    role = synth.resources[function]["Properties"]["Role"]
    assert set(role) == {"Fn::GetAtt"}, f"{function} must run with a role of this stack, got {role}"
    return role["Fn::GetAtt"][0]


def _allowed(synth, role: str) -> list[tuple[set[str], list]]:
    return [(set(_as_list(s["Action"])), _as_list(s["Resource"]))
            for r, s in _statements(synth) if r == role and s["Effect"] == "Allow"]


def _actions_on(synth, role: str, resource: Any) -> set[str]:
    return {action for actions, resources in _allowed(synth, role) if resource in resources for action in actions}


def _table_arn(synth, base: str) -> dict:
    return {"Fn::GetAtt": [synth.table_ids()[base], "Arn"]}


def test_no_iam_statement_allows_every_action(synth):
    for owner, statement in _statements(synth):
        if statement["Effect"] != "Allow":
            continue
        for action in _as_list(statement["Action"]):
            assert action != "*" and not action.endswith(":*"), (owner, statement)
    for name in synth.of_type("AWS::IAM::Role"):
        assert not synth.resources[name]["Properties"].get("ManagedPolicyArns"), name


def test_no_dynamodb_action_is_allowed_on_every_resource(synth):
    for owner, statement in _statements(synth):
        actions = _as_list(statement["Action"])
        if statement["Effect"] == "Allow" and any(a.startswith("dynamodb:") for a in actions):
            assert "*" not in _as_list(statement["Resource"]), (owner, statement)


def test_each_function_runs_with_its_own_role(synth):
    api_role, aggregator_role = _role_of(synth, API_FUNCTION), _role_of(synth, AGGREGATOR_FUNCTION)
    assert api_role != aggregator_role
    assert set(synth.of_type("AWS::IAM::Role")) == {api_role, aggregator_role}


def test_api_handler_reads_and_writes_campaigns_links_events_and_only_reads_rollups(synth):
    role = _role_of(synth, API_FUNCTION)
    for base in ("campaigns", "links", "events"):
        assert TABLE_READS | TABLE_WRITES <= _actions_on(synth, role, _table_arn(synth, base)), base
    rollups = _actions_on(synth, role, _table_arn(synth, "rollups"))
    assert TABLE_READS <= rollups
    assert not rollups & TABLE_WRITES
    leaderboard = {"Fn::Join": ["", [_table_arn(synth, "rollups"), "/index/*"]]}
    assert "dynamodb:Query" in _actions_on(synth, role, leaderboard)


def test_api_handler_cannot_read_the_events_stream(synth):
    stream = {"Fn::GetAtt": [synth.table_ids()["events"], "StreamArn"]}
    assert not _actions_on(synth, _role_of(synth, API_FUNCTION), stream)


def test_aggregator_writes_only_rollups_and_reads_only_the_events_stream(synth):
    role = _role_of(synth, AGGREGATOR_FUNCTION)
    events = synth.table_ids()["events"]
    assert TABLE_READS | TABLE_WRITES <= _actions_on(synth, role, _table_arn(synth, "rollups"))
    for base in ("campaigns", "links", "events"):
        assert not _actions_on(synth, role, _table_arn(synth, base)), base
    assert STREAM_READS <= _actions_on(synth, role, {"Fn::GetAtt": [events, "StreamArn"]})
    assert _actions_on(synth, role, {"Fn::Join": ["", [_table_arn(synth, "events"), "/stream/*"]]}) == {
        "dynamodb:ListStreams"}


def test_only_the_api_handler_reads_the_two_secret_parameters_and_nothing_else_in_ssm(synth):
    ssm = [(owner, statement) for owner, statement in _statements(synth)
           if any(a.startswith("ssm:") for a in _as_list(statement["Action"]))]
    assert len(ssm) == 1
    owner, statement = ssm[0]
    assert owner == _role_of(synth, API_FUNCTION)
    assert _as_list(statement["Action"]) == ["ssm:GetParameter"]
    resources = json.dumps(statement["Resource"])
    assert len(statement["Resource"]) == 2
    assert ":parameter/relais/prod/admin-token" in resources
    assert ":parameter/relais/prod/secret" in resources
    assert "*" not in resources


def test_default_ssm_key_needs_no_kms_statement(synth):
    assert not [s for _, s in _statements(synth) if any(a.startswith("kms:") for a in _as_list(s["Action"]))]


def test_a_customer_managed_ssm_key_is_usable_only_through_ssm(synth_with_options):
    synth = synth_with_options
    kms = [(owner, s) for owner, s in _statements(synth) if any(a.startswith("kms:") for a in _as_list(s["Action"]))]
    assert len(kms) == 1
    owner, statement = kms[0]
    assert owner == _role_of(synth, API_FUNCTION)
    assert statement["Action"] == "kms:Decrypt"
    assert statement["Resource"].endswith(":key/11111111-1111-1111-1111-111111111111")
    assert statement["Condition"] == {"StringEquals": {"kms:ViaService": "ssm.eu-west-1.amazonaws.com"}}


def test_custom_secret_parameter_names_are_granted_instead_of_the_defaults(synth_with_options):
    synth = synth_with_options
    (statement,) = [s for _, s in _statements(synth) if s["Action"] == "ssm:GetParameter"]
    resources = json.dumps(statement["Resource"])
    assert ":parameter/custom/path/admin" in resources and ":parameter/custom/path/secret" in resources
    assert "/relais/" not in resources
    variables = synth.resources[API_FUNCTION]["Properties"]["Environment"]["Variables"]
    assert variables["RELAIS_ADMIN_TOKEN_PARAM"] == "/custom/path/admin"


def test_functions_write_logs_only_to_their_own_log_group(synth):
    for function, group in ((API_FUNCTION, "ApiLogs"), (AGGREGATOR_FUNCTION, "AggregatorLogs")):
        logs = [(actions, resources) for actions, resources in _allowed(synth, _role_of(synth, function))
                if any(a.startswith("logs:") for a in actions)]
        assert logs == [({"logs:CreateLogStream", "logs:PutLogEvents"}, [{"Fn::GetAtt": [group, "Arn"]}])]
