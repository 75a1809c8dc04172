"""Least privilege: each function's role allows what its code does, on its own resources only."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from infra.stack import (
    AGGREGATOR_FUNCTION,
    API_FUNCTION,
    DISPATCHER_FUNCTION,
    FALLBACK_FUNCTION,
    IMPORTER_FUNCTION,
    MAIL_FEEDBACK_FUNCTION,
    MAILER_FUNCTION,
)

FUNCTIONS = (API_FUNCTION, AGGREGATOR_FUNCTION, FALLBACK_FUNCTION, DISPATCHER_FUNCTION, MAILER_FUNCTION,
             MAIL_FEEDBACK_FUNCTION, IMPORTER_FUNCTION)
MAIL_RECORDS_CONDITION = {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["*#ml"]}}
"""The mailer's and the feedback function's rollups grants: the e-mail partitions only (test_mail_stack.py)."""
STREAM_READS = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"}
NEVER_ON_THE_REQUEST_PATH = {"dynamodb:DeleteItem", "dynamodb:Scan", "dynamodb:BatchWriteItem",
                             "dynamodb:DeleteTable", "dynamodb:UpdateTable", "dynamodb:PartiQLDelete"}

# What each function's code does, table by table (docs/runbook.md, "Permissions"). Exact sets:
# a grant the code does not need fails as surely as a missing one.
API_TABLE_ACTIONS = {
    "campaigns": {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
    # referrer creation: a TransactWriteItems of Puts and ConditionChecks on links, Puts on events
    # the fan list reads links in batches; moderating, erasing or unsubscribing a fan updates
    # their link (only what changes); erasing a fan deletes their e-mail claim
    "links": {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem",
              "dynamodb:BatchGetItem", "dynamodb:DeleteItem"},
    "events": {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"},  # Query: an export
    # a creator's webhook retry re-arms a delivery; a reward is marked fulfilled; a rate-limit
    # counter (UpdateItem); the day's visitor salt (PutItem)
    "rollups": {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:UpdateItem",
                "dynamodb:PutItem"},
}
AGGREGATOR_ROLLUPS_ACTIONS = {"dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:Query",
                              "dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem"}
DISPATCHER_TABLE_ACTIONS = {"rollups": {"dynamodb:GetItem", "dynamodb:UpdateItem"}, "campaigns": {"dynamodb:GetItem"}}
FALLBACK_CONSUMER_ACTIONS = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                             "sqs:ChangeMessageVisibility"}


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


def _index_arn(synth, base: str, index: str) -> dict:
    return {"Fn::Join": ["", [_table_arn(synth, base), f"/index/{index}"]]}


def _queue_arn(synth, queue) -> dict:
    return {"Fn::GetAtt": [synth.logical_id(queue), "Arn"]}


def _grants(synth, role: str, prefix: str) -> set[tuple[str, str]]:
    """``{(action, resource as JSON)}`` of the role's ``prefix`` actions (``dynamodb:``, ``sqs:`` …)."""
    return {(action, json.dumps(resource, sort_keys=True)) for actions, resources in _allowed(synth, role)
            for action in actions if action.startswith(prefix) for resource in resources}


def _expected(grants: dict[str, set[str]], resources: dict[str, Any]) -> set[tuple[str, str]]:
    return {(action, json.dumps(resources[name], sort_keys=True)) for name, actions in grants.items()
            for action in actions}


def test_no_iam_statement_allows_every_action(synth):
    for owner, statement in _statements(synth):
        if statement["Effect"] != "Allow":
            continue
        for action in _as_list(statement["Action"]):
            assert action != "*" and not action.endswith(":*"), (owner, statement)
    for name in synth.of_type("AWS::IAM::Role"):
        assert not synth.resources[name]["Properties"].get("ManagedPolicyArns"), name


def test_no_action_is_allowed_on_every_resource(synth):
    for owner, statement in _statements(synth):
        if statement["Effect"] == "Allow":
            assert "*" not in _as_list(statement["Resource"]), (owner, statement)


def test_each_function_runs_with_its_own_role(synth):
    roles = [_role_of(synth, function) for function in FUNCTIONS]
    assert len(set(roles)) == len(FUNCTIONS)
    assert set(synth.of_type("AWS::IAM::Role")) == set(roles)


def test_api_handler_may_do_exactly_what_the_request_path_does_on_each_table(synth):
    role = _role_of(synth, API_FUNCTION)
    resources = {base: _table_arn(synth, base) for base in API_TABLE_ACTIONS}
    resources["leaderboard"] = _index_arn(synth, "rollups", "leaderboard")
    assert _grants(synth, role, "dynamodb:") == _expected(
        {**API_TABLE_ACTIONS, "leaderboard": {"dynamodb:Query"}}, resources)


def test_api_handler_can_neither_scan_nor_batch_write_and_deletes_only_e_mail_claims(synth):
    grants = _grants(synth, _role_of(synth, API_FUNCTION), "dynamodb:")
    granted = {action for action, _ in grants}
    assert granted & NEVER_ON_THE_REQUEST_PATH == {"dynamodb:DeleteItem"}
    assert {resource for action, resource in grants if action == "dynamodb:DeleteItem"} == {
        json.dumps(_table_arn(synth, "links"), sort_keys=True)}  # a fan's erasure deletes their e-mail claim
    assert not [action for action in granted if "*" in action]


def test_api_handler_may_delete_e_mail_claims_only_the_leading_key_condition_says_so(synth):
    """An erasure deletes the fan's e-mail claim (key ``@<campaign>:<digest>``); links, whose
    codes are base62, never start with ``@``: the condition keeps every link out of reach."""
    from chalicelib.core import ids
    from chalicelib.store import keys

    deletes = [statement for owner, statement in _statements(synth) if statement["Effect"] == "Allow"
               and "dynamodb:DeleteItem" in _as_list(statement["Action"])
               and _table_arn(synth, "links") in _as_list(statement["Resource"])]
    assert deletes == [{
        "Action": "dynamodb:DeleteItem", "Effect": "Allow", "Resource": _table_arn(synth, "links"),
        "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{keys.EMAIL_CLAIM_PREFIX}*"]}},
    }]
    assert [owner for owner, statement in _statements(synth) if statement in deletes] == [
        _role_of(synth, API_FUNCTION)]
    assert keys.email_claim_key("cmp", "0f" * 16).startswith(keys.EMAIL_CLAIM_PREFIX) and \
        keys.EMAIL_CLAIM_PREFIX not in ids.BASE62


def test_api_handler_cannot_read_the_events_stream(synth):
    stream = {"Fn::GetAtt": [synth.table_ids()["events"], "StreamArn"]}
    assert not _actions_on(synth, _role_of(synth, API_FUNCTION), stream)


def test_aggregator_writes_rollups_and_fans_platform_tags_and_reads_only_the_events_stream_and_campaigns(synth):
    role = _role_of(synth, AGGREGATOR_FUNCTION)
    events = synth.table_ids()["events"]
    assert _actions_on(synth, role, _table_arn(synth, "rollups")) == AGGREGATOR_ROLLUPS_ACTIONS
    assert _actions_on(synth, role, _table_arn(synth, "campaigns")) == {"dynamodb:GetItem"}
    # platform tags: the fans' links read in batches, their tags written (a transaction of Updates)
    assert _actions_on(synth, role, _table_arn(synth, "links")) == {"dynamodb:BatchGetItem", "dynamodb:UpdateItem"}
    assert not _actions_on(synth, role, _table_arn(synth, "events"))
    assert _actions_on(synth, role, {"Fn::GetAtt": [events, "StreamArn"]}) == STREAM_READS
    assert _actions_on(synth, role, {"Fn::Join": ["", [_table_arn(synth, "events"), "/stream/*"]]}) == {
        "dynamodb:ListStreams"}
    assert _actions_on(synth, role, _index_arn(synth, "rollups", "leaderboard")) == {"dynamodb:Query"}
    stream_and_tables = {json.dumps(r, sort_keys=True) for r in (
        _table_arn(synth, "rollups"), _table_arn(synth, "campaigns"), _table_arn(synth, "links"),
        {"Fn::GetAtt": [events, "StreamArn"]},
        {"Fn::Join": ["", [_table_arn(synth, "events"), "/stream/*"]]}, _index_arn(synth, "rollups", "leaderboard"))}
    assert {resource for _, resource in _grants(synth, role, "dynamodb:")} == stream_and_tables


def test_fallback_consumer_may_only_write_events(synth):
    """A fact of its own is put; a known visitor's visit is added to their item (UpdateItem)."""
    role = _role_of(synth, FALLBACK_FUNCTION)
    events = json.dumps(_table_arn(synth, "events"))
    assert _grants(synth, role, "dynamodb:") == {("dynamodb:PutItem", events), ("dynamodb:UpdateItem", events)}


def test_fallback_consumer_may_only_consume_its_own_queue(synth):
    role = _role_of(synth, FALLBACK_FUNCTION)
    queue = json.dumps(_queue_arn(synth, synth.stack.fallback_queue))
    assert _grants(synth, role, "sqs:") == {(action, queue) for action in FALLBACK_CONSUMER_ACTIONS}
    services = {action.split(":")[0] for actions, _ in _allowed(synth, role) for action in actions}
    assert services == {"logs", "dynamodb", "sqs"}


def test_api_handler_may_only_send_to_the_fallback_webhook_and_import_queues(synth):
    role = _role_of(synth, API_FUNCTION)
    assert _grants(synth, role, "sqs:") == {
        ("sqs:SendMessage", json.dumps(_queue_arn(synth, synth.stack.fallback_queue))),
        ("sqs:SendMessage", json.dumps(_queue_arn(synth, synth.stack.webhook_queue))),
        ("sqs:SendMessage", json.dumps(_queue_arn(synth, synth.stack.import_queue)))}


def test_the_aggregator_may_send_webhook_messages_and_nothing_else_to_that_queue(synth):
    role = _role_of(synth, AGGREGATOR_FUNCTION)
    webhooks = json.dumps(_queue_arn(synth, synth.stack.webhook_queue))
    assert {action for action, queue in _grants(synth, role, "sqs:") if queue == webhooks} == {"sqs:SendMessage"}


def test_the_dispatcher_reads_campaigns_updates_deliveries_and_consumes_its_own_queue(synth):
    role = _role_of(synth, DISPATCHER_FUNCTION)
    resources = {base: _table_arn(synth, base) for base in DISPATCHER_TABLE_ACTIONS}
    assert _grants(synth, role, "dynamodb:") == _expected(DISPATCHER_TABLE_ACTIONS, resources)
    queue = json.dumps(_queue_arn(synth, synth.stack.webhook_queue))
    assert _grants(synth, role, "sqs:") == {(action, queue) for action in (*FALLBACK_CONSUMER_ACTIONS,
                                                                           "sqs:SendMessage")}
    services = {action.split(":")[0] for actions, _ in _allowed(synth, role) for action in actions}
    assert services == {"logs", "dynamodb", "sqs", "ssm"}  # ssm: the server secret, to unseal webhook secrets


def test_no_function_may_delete_counters_a_recount_is_run_by_an_operator(synth):
    """``make recount`` deletes and rewrites rollups with an operator's own credentials; the
    only deletes functions make are an erased fan's e-mail claim, in the links table, and the
    mailer's lease of a failed send, in the rollups table's e-mail partitions only."""
    for function in FUNCTIONS:
        grants = _grants(synth, _role_of(synth, function), "dynamodb:")
        deletable = {resource for action, resource in grants if action == "dynamodb:DeleteItem"}
        if function == MAILER_FUNCTION:
            assert deletable == {json.dumps(_table_arn(synth, "rollups"), sort_keys=True)}
        else:
            assert deletable <= {json.dumps(_table_arn(synth, "links"), sort_keys=True)}, function
    rollups_deletes = [(owner, s) for owner, s in _statements(synth) if s["Effect"] == "Allow"
                       and "dynamodb:DeleteItem" in _as_list(s["Action"])
                       and _table_arn(synth, "rollups") in _as_list(s["Resource"])]
    assert [(owner, s["Condition"]) for owner, s in rollups_deletes] == [
        (_role_of(synth, MAILER_FUNCTION), MAIL_RECORDS_CONDITION)]


def test_the_api_handler_reads_the_three_secret_parameters_the_dispatcher_and_mail_functions_the_server_secret(
        synth):
    ssm = [(owner, statement) for owner, statement in _statements(synth)
           if any(a.startswith("ssm:") for a in _as_list(statement["Action"]))]
    assert sorted(owner for owner, _ in ssm) == sorted(_role_of(synth, function) for function in (
        API_FUNCTION, DISPATCHER_FUNCTION, MAILER_FUNCTION, MAIL_FEEDBACK_FUNCTION))
    for owner, statement in ssm:
        if owner != _role_of(synth, API_FUNCTION):
            assert statement["Action"] == "ssm:GetParameter"
            assert statement["Resource"] == "arn:aws:ssm:eu-west-1:123456789012:parameter/relais/prod/secret"
    ((owner, statement),) = [(owner, s) for owner, s in ssm if owner == _role_of(synth, API_FUNCTION)]
    assert _as_list(statement["Action"]) == ["ssm:GetParameter"]
    resources = json.dumps(statement["Resource"])
    assert len(statement["Resource"]) == 3
    assert ":parameter/relais/prod/admin-token" in resources
    assert ":parameter/relais/prod/secret" in resources
    assert ":parameter/relais/prod/origin-secret" in resources
    assert "*" not in resources


def test_default_ssm_key_needs_no_kms_statement(synth):
    assert not [s for _, s in _statements(synth) if any(a.startswith("kms:") for a in _as_list(s["Action"]))]


def test_a_customer_managed_ssm_key_is_usable_only_through_ssm(synth_with_options):
    synth = synth_with_options
    kms = [(owner, s) for owner, s in _statements(synth) if any(a.startswith("kms:") for a in _as_list(s["Action"]))]
    readers = (API_FUNCTION, DISPATCHER_FUNCTION, MAILER_FUNCTION, MAIL_FEEDBACK_FUNCTION)  # of the server secret
    assert sorted(owner for owner, _ in kms) == sorted(_role_of(synth, function) for function in readers)
    for _, statement in kms:
        assert statement["Action"] == "kms:Decrypt"
        assert statement["Resource"].endswith(":key/11111111-1111-1111-1111-111111111111")
        assert statement["Condition"] == {"StringEquals": {"kms:ViaService": "ssm.eu-west-1.amazonaws.com"}}


def test_custom_secret_parameter_names_are_granted_instead_of_the_defaults(synth_with_options):
    synth = synth_with_options
    (statement,) = [s for owner, s in _statements(synth) if s["Action"] == "ssm:GetParameter"
                    and owner == _role_of(synth, API_FUNCTION)]
    resources = json.dumps(statement["Resource"])
    assert ":parameter/custom/path/admin" in resources and ":parameter/custom/path/secret" in resources
    assert ":parameter/custom/path/origin" in resources
    assert "/relais/" not in resources
    variables = synth.resources[API_FUNCTION]["Properties"]["Environment"]["Variables"]
    assert variables["RELAIS_ADMIN_TOKEN_PARAM"] == "/custom/path/admin"
    assert variables["RELAIS_ORIGIN_SECRET_PARAM"] == "/custom/path/origin"


def test_functions_write_logs_only_to_their_own_log_group(synth):
    for function, group in ((API_FUNCTION, "ApiLogs"), (AGGREGATOR_FUNCTION, "AggregatorLogs"),
                            (FALLBACK_FUNCTION, "FallbackLogs"), (DISPATCHER_FUNCTION, "DispatcherLogs"),
                            (MAILER_FUNCTION, "MailerLogs"), (MAIL_FEEDBACK_FUNCTION, "MailFeedbackLogs"),
                            (IMPORTER_FUNCTION, "ImporterLogs")):
        logs = [(actions, resources) for actions, resources in _allowed(synth, _role_of(synth, function))
                if any(a.startswith("logs:") for a in actions)]
        assert logs == [({"logs:CreateLogStream", "logs:PutLogEvents"}, [{"Fn::GetAtt": [group, "Arn"]}])]
