"""Import wiring: the bucket platform exports wait in, the import queue and the importer
consuming it, who may read or write which file, environment, alarms and outputs.

``synth`` has no custom domain; ``synth_with_options`` serves the API on ``go.example.org``.
"""
from __future__ import annotations

import json
from typing import Any

import pytest

from infra.stack import (
    AGGREGATOR_FUNCTION,
    API_FUNCTION,
    DISPATCHER_FUNCTION,
    FALLBACK_FUNCTION,
    IMPORTER_FUNCTION,
    MAIL_FEEDBACK_FUNCTION,
    MAILER_FUNCTION,
    dashboard_origins,
)
from tests.infra.synthesis import IMPORT_BUCKET_NAME

FUNCTIONS = (API_FUNCTION, AGGREGATOR_FUNCTION, FALLBACK_FUNCTION, DISPATCHER_FUNCTION, MAILER_FUNCTION,
             MAIL_FEEDBACK_FUNCTION, IMPORTER_FUNCTION)
CONSUMER_ACTIONS = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"}
IMPORTER_TABLE_ACTIONS = {
    # pledges (a chunk's read in one batch, new ones put, ended ones updated) and tag totals
    # (the latest by Query, a version by GetItem, a new one put)
    "events": {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query",
               "dynamodb:BatchGetItem"},
    "rollups": {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},  # the job; a chunk's row errors
    "links": {"dynamodb:BatchGetItem"},  # a chunk's tags, then their fans' links
    "campaigns": {"dynamodb:GetItem", "dynamodb:UpdateItem"},
}


def _properties(synth, name: str) -> dict:
    return synth.resources[name]["Properties"]


def _variables(synth, function: str) -> dict:
    return _properties(synth, function)["Environment"]["Variables"]


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _role_of(synth, function: str) -> str:
    return _properties(synth, function)["Role"]["Fn::GetAtt"][0]


def _grants(synth, function: str, prefix: str) -> set[tuple[str, str]]:
    """``{(action, resource as JSON)}`` the function's role allows, of actions starting with ``prefix``."""
    role = {"Ref": _role_of(synth, function)}
    return {(action, json.dumps(resource, sort_keys=True))
            for policy in synth.of_type("AWS::IAM::Policy").values() if role in policy["Properties"]["Roles"]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"] if statement["Effect"] == "Allow"
            for action in _as_list(statement["Action"]) if action.startswith(prefix)
            for resource in _as_list(statement["Resource"])}


def _bucket_id(synth) -> str:
    return synth.logical_id(synth.stack.import_bucket)


def _bucket(synth) -> dict:
    return synth.resources[_bucket_id(synth)]


def _files(synth, prefix: str) -> str:
    """An object ARN pattern of the import bucket, as :func:`_grants` spells resources."""
    return json.dumps({"Fn::Join": ["", [{"Fn::GetAtt": [_bucket_id(synth), "Arn"]}, f"/{prefix}*"]]},
                      sort_keys=True)


def _bucket_arn(synth) -> str:
    return json.dumps({"Fn::GetAtt": [_bucket_id(synth), "Arn"]}, sort_keys=True)


def _queue_arn(synth, queue) -> str:
    return json.dumps({"Fn::GetAtt": [synth.logical_id(queue), "Arn"]}, sort_keys=True)


def _api_host_origin(synth) -> dict:
    return {"Fn::Join": ["", ["https://", {"Ref": synth.logical_id(synth.stack.front.http_api)},
                              ".execute-api.eu-west-1.", {"Ref": "AWS::URLSuffix"}]]}


def _import_mapping(synth) -> dict:
    (mapping,) = [m for m in synth.of_type("AWS::Lambda::EventSourceMapping").values()
                  if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [synth.logical_id(synth.stack.import_queue),
                                                                          "Arn"]}]
    return mapping


# The bucket ---------------------------------------------------------------------------

def test_the_import_bucket_is_encrypted_by_s3_closed_to_the_public_and_owned_by_the_account(synth):
    properties = _bucket(synth)["Properties"]
    assert properties["BucketEncryption"] == {"ServerSideEncryptionConfiguration": [
        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    assert properties["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}


def test_the_import_bucket_refuses_every_request_over_plain_http_or_tls_below_1_2(synth):
    (policy,) = [p["Properties"] for p in synth.of_type("AWS::S3::BucketPolicy").values()
                 if p["Properties"]["Bucket"] == {"Ref": _bucket_id(synth)}]
    everything = [{"Fn::GetAtt": [_bucket_id(synth), "Arn"]},
                  {"Fn::Join": ["", [{"Fn::GetAtt": [_bucket_id(synth), "Arn"]}, "/*"]]}]
    assert policy["PolicyDocument"]["Statement"] == [
        {"Action": "s3:*", "Effect": "Deny", "Principal": {"AWS": "*"}, "Resource": everything,
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Action": "s3:*", "Effect": "Deny", "Principal": {"AWS": "*"}, "Resource": everything,
         "Condition": {"NumericLessThan": {"s3:TlsVersion": 1.2}}},
    ]


def test_every_import_file_is_deleted_a_day_after_it_was_written_and_leaves_no_old_version(synth):
    properties = _bucket(synth)["Properties"]
    assert properties["LifecycleConfiguration"] == {"Rules": [{
        "Id": "DeleteImportFilesAfterADay", "Status": "Enabled", "ExpirationInDays": 1,
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]}
    assert "VersioningConfiguration" not in properties


def test_the_import_bucket_is_kept_like_the_tables_when_the_stack_goes(synth):
    """Its lifecycle rule stays with it: a kept bucket still empties itself."""
    bucket = _bucket(synth)
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Retain", "Retain")
    for table in synth.table_ids().values():
        assert synth.resources[table]["DeletionPolicy"] == "Retain"


def test_the_dashboard_on_the_api_host_may_put_an_upload_with_its_content_type_and_nothing_else(synth):
    assert _bucket(synth)["Properties"]["CorsConfiguration"] == {"CorsRules": [{
        "AllowedMethods": ["PUT"], "AllowedHeaders": ["Content-Type"], "AllowedOrigins": [_api_host_origin(synth)],
        "MaxAge": 3600}]}


def test_with_a_custom_domain_uploads_may_come_from_it_and_from_the_api_host(synth_with_options):
    (rule,) = _bucket(synth_with_options)["Properties"]["CorsConfiguration"]["CorsRules"]
    assert rule["AllowedOrigins"] == [_api_host_origin(synth_with_options), "https://go.example.org"]


def test_a_public_url_adds_its_origin_without_its_path_and_an_origin_is_named_once():
    api_host = "https://abc123defg.execute-api.eu-west-1.amazonaws.com"
    assert dashboard_origins(api_host, api_host, None) == [api_host]
    assert dashboard_origins(api_host, "https://go.example.org", "https://go.example.org") == [
        api_host, "https://go.example.org"]
    assert dashboard_origins(api_host, api_host, "https://example.org:8443/relais") == [
        api_host, "https://example.org:8443"]


# The importer and its queue -------------------------------------------------------------

def test_the_importer_has_fifteen_minutes_and_room_for_a_100_mb_file_and_its_own_log_group(synth, synth_with_options):
    for variant in (synth, synth_with_options):
        function = _properties(variant, IMPORTER_FUNCTION)
        assert (function["Handler"], function["Timeout"], function["MemorySize"]) == ("app.importer", 900, 2048)
        assert function["LoggingConfig"] == {"LogGroup": {"Ref": "ImporterLogs"}}
    group = _properties(synth, "ImporterLogs")
    assert (group["LogGroupName"], group["RetentionInDays"]) == ("/aws/lambda/relais-prod-importer", 30)


def test_the_importer_takes_one_job_at_a_time_two_at_most_and_reports_a_failed_one(synth):
    mapping = _import_mapping(synth)
    properties = mapping["Properties"]
    assert properties["FunctionName"] == {"Fn::Select": [6, {"Fn::Split": [
        ":", {"Fn::GetAtt": [IMPORTER_FUNCTION, "Arn"]}]}]}
    assert (properties["BatchSize"], properties["FunctionResponseTypes"]) == (1, ["ReportBatchItemFailures"])
    assert properties["ScalingConfig"] == {"MaximumConcurrency": 2}
    policy = next(name for name in synth.of_type("AWS::IAM::Policy") if name.startswith("ImporterRoleDefault"))
    assert {policy, "ImporterLogs"} <= set(mapping["DependsOn"])


def test_a_job_the_importer_crashes_on_five_times_goes_to_the_dead_letter_queue(synth):
    queue = _properties(synth, synth.logical_id(synth.stack.import_queue))
    dead_letters = synth.logical_id(synth.stack.import_dead_letters)
    assert queue["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [dead_letters, "Arn"]},
                                      "maxReceiveCount": 5}
    assert "RedrivePolicy" not in _properties(synth, dead_letters)
    for queue_id in (synth.logical_id(synth.stack.import_queue), dead_letters):
        assert _properties(synth, queue_id)["SqsManagedSseEnabled"] is True


def test_a_chunk_being_applied_is_hidden_from_other_invocations_until_it_has_timed_out(synth):
    """Past the function's timeout, not six times it: a crashed chunk is retried 16 minutes later."""
    visibility = _properties(synth, synth.logical_id(synth.stack.import_queue))["VisibilityTimeout"]
    assert _properties(synth, IMPORTER_FUNCTION)["Timeout"] < visibility == 960


def test_the_api_and_the_importer_know_the_bucket_and_the_queue_and_no_other_function_does(synth):
    bucket, queue = {"Ref": _bucket_id(synth)}, {"Ref": synth.logical_id(synth.stack.import_queue)}
    for function in FUNCTIONS:
        variables = _variables(synth, function)
        known = (variables.get("RELAIS_IMPORT_BUCKET"), variables.get("RELAIS_IMPORT_QUEUE_URL"))
        assert known == ((bucket, queue) if function in (API_FUNCTION, IMPORTER_FUNCTION) else (None, None)), function


def test_the_api_and_the_importer_find_the_bucket_and_the_queue_where_the_app_reads_them(synth, monkeypatch):
    from chalicelib.core import config

    for function in (API_FUNCTION, IMPORTER_FUNCTION):
        with monkeypatch.context() as patch:
            for name, value in synth.resolved_environment(function).items():
                patch.setenv(name, value)
            assert config.import_bucket() == IMPORT_BUCKET_NAME, function
            assert config.import_queue_url() == "https://sqs.eu-west-1.amazonaws.com/123456789012/relais-imports"


# Permissions --------------------------------------------------------------------------

def test_only_the_api_writes_import_files_the_importer_reads_them_and_nobody_deletes_them(synth):
    """The API puts a small file and signs the PUT of an upload (a signed URL lends its role's
    PutObject); it reads no file: ``GetObject`` on uploads is IAM's name for ``HeadObject``,
    an upload's size. The importer reads and never writes one. Both may list the bucket, or a
    missing key would be 403, not 404. No other function may touch it."""
    granted = {(function, action, resource) for function in FUNCTIONS
               for action, resource in _grants(synth, function, "s3:")}
    assert granted == {(API_FUNCTION, "s3:PutObject", _files(synth, "imports/")),
                       (API_FUNCTION, "s3:PutObject", _files(synth, "uploads/")),
                       (API_FUNCTION, "s3:GetObject", _files(synth, "uploads/")),
                       (API_FUNCTION, "s3:ListBucket", _bucket_arn(synth)),
                       (IMPORTER_FUNCTION, "s3:GetObject", _files(synth, "imports/")),
                       (IMPORTER_FUNCTION, "s3:GetObject", _files(synth, "uploads/")),
                       (IMPORTER_FUNCTION, "s3:ListBucket", _bucket_arn(synth))}


def test_the_api_cannot_read_a_file_sent_in_a_request_nor_the_importer_write_any(synth):
    api, importer = _grants(synth, API_FUNCTION, "s3:"), _grants(synth, IMPORTER_FUNCTION, "s3:")
    assert ("s3:GetObject", _files(synth, "imports/")) not in api
    assert not [action for action, _ in importer if action.startswith(("s3:Put", "s3:Delete"))]


def test_the_importer_may_do_exactly_what_an_import_does_on_each_table(synth):
    tables = {base: json.dumps({"Fn::GetAtt": [logical_id, "Arn"]}, sort_keys=True)
              for base, logical_id in synth.table_ids().items()}
    assert _grants(synth, IMPORTER_FUNCTION, "dynamodb:") == {
        (action, tables[base]) for base, actions in IMPORTER_TABLE_ACTIONS.items() for action in actions}


def test_the_importer_consumes_its_own_queue_and_queues_the_rest_of_a_job_there(synth):
    queue = _queue_arn(synth, synth.stack.import_queue)
    assert _grants(synth, IMPORTER_FUNCTION, "sqs:") == {(action, queue) for action in (*CONSUMER_ACTIONS,
                                                                                        "sqs:SendMessage")}


def test_the_importer_reads_no_secret_and_uses_no_other_service(synth):
    services = {action.split(":")[0] for action, _ in _grants(synth, IMPORTER_FUNCTION, "")}
    assert services == {"logs", "s3", "sqs", "dynamodb"}


def test_the_api_may_only_send_import_jobs_and_no_other_function_may_touch_the_import_queues(synth):
    queues = {_queue_arn(synth, synth.stack.import_queue), _queue_arn(synth, synth.stack.import_dead_letters)}
    for function in FUNCTIONS:
        on_queues = {action for action, resource in _grants(synth, function, "sqs:") if resource in queues}
        expected = {API_FUNCTION: {"sqs:SendMessage"}, IMPORTER_FUNCTION: {*CONSUMER_ACTIONS, "sqs:SendMessage"}}
        assert on_queues == expected.get(function, set()), function


# Alarms and outputs -----------------------------------------------------------------------

@pytest.mark.parametrize(("metric", "dimensions", "comparison", "threshold"), [
    ("ApproximateNumberOfMessagesVisible", "dead letters", "GreaterThanThreshold", 0),
    ("ApproximateAgeOfOldestMessage", "queue", "GreaterThanOrEqualToThreshold", 3600),
    ("Errors", "function", "GreaterThanOrEqualToThreshold", 1),
])
def test_dead_letters_an_hour_old_job_and_importer_crashes_each_raise_an_alarm_that_reaches_on_call(
        synth, metric, dimensions, comparison, threshold):
    def queue(construct) -> list:
        return [{"Name": "QueueName", "Value": {"Fn::GetAtt": [synth.logical_id(construct), "QueueName"]}}]

    watched = {"dead letters": queue(synth.stack.import_dead_letters), "queue": queue(synth.stack.import_queue),
               "function": [{"Name": "FunctionName", "Value": {"Ref": IMPORTER_FUNCTION}}]}[dimensions]
    (alarm,) = [a["Properties"] for a in synth.of_type("AWS::CloudWatch::Alarm").values()
                if a["Properties"].get("MetricName") == metric and a["Properties"].get("Dimensions") == watched]
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == (comparison, threshold)
    assert alarm["AlarmActions"] == [{"Ref": synth.logical_id(synth.stack.alarm_topic)}]
    assert "docs/runbook.md, 'Imports'" in alarm["AlarmDescription"]


def test_outputs_name_the_import_bucket_its_queue_and_its_dead_letters(synth):
    outputs = synth.template_json["Outputs"]
    assert outputs["ImportBucketName"]["Value"] == {"Ref": _bucket_id(synth)}
    assert outputs["ImportQueueUrl"]["Value"] == {"Ref": synth.logical_id(synth.stack.import_queue)}
    assert outputs["ImportDeadLetterQueueUrl"]["Value"] == {"Ref": synth.logical_id(synth.stack.import_dead_letters)}
