"""Wiring of the synthesized stack: functions, the stream aggregator, edges, alarms, outputs."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from infra.stack import (
    AGGREGATOR_FUNCTION,
    API_FUNCTION,
    LOST_EVENTS_METRIC,
    METRICS_SERVICE,
    SKIPPED_RECORDS_METRIC,
    STREAM_BATCH_SIZE,
    STREAM_RETRY_ATTEMPTS,
)
from tests.infra.synthesis import OFFLINE_ENV, REPO_ROOT


def _function(synth, name: str) -> dict:
    return synth.resources[name]["Properties"]


def test_both_functions_get_table_names_stage_and_secret_parameter_names(synth):
    table_ids = synth.table_ids()
    for name in (API_FUNCTION, AGGREGATOR_FUNCTION):
        variables = _function(synth, name)["Environment"]["Variables"]
        assert variables["RELAIS_STAGE"] == "prod"
        for base, logical_id in table_ids.items():
            assert variables[f"RELAIS_TABLE_{base.upper()}"] == {"Ref": logical_id}
        assert variables["RELAIS_ADMIN_TOKEN_PARAM"] == "/relais/prod/admin-token"
        assert variables["RELAIS_SECRET_PARAM"] == "/relais/prod/secret"


def test_changing_the_secrets_version_changes_both_functions_configuration(synth, synth_with_options):
    for name in (API_FUNCTION, AGGREGATOR_FUNCTION):
        assert _function(synth, name)["Environment"]["Variables"]["RELAIS_SECRETS_VERSION"] == "1"
        assert _function(synth_with_options, name)["Environment"]["Variables"]["RELAIS_SECRETS_VERSION"] == "2"


def test_no_secret_value_travels_in_the_template(synth):
    for name in (API_FUNCTION, AGGREGATOR_FUNCTION):
        variables = _function(synth, name)["Environment"]["Variables"]
        assert "RELAIS_ADMIN_TOKEN" not in variables
        assert "RELAIS_SECRET" not in variables


def test_functions_log_to_their_own_group_with_retention(synth):
    for name, group in ((API_FUNCTION, "ApiLogs"), (AGGREGATOR_FUNCTION, "AggregatorLogs")):
        assert _function(synth, name)["LoggingConfig"] == {"LogGroup": {"Ref": group}}
        assert synth.resources[group]["Properties"]["RetentionInDays"] == 30


def test_aggregator_consumes_the_events_stream_from_trim_horizon(synth):
    events = synth.table_ids()["events"]
    synth.template.resource_count_is("AWS::Lambda::EventSourceMapping", 1)
    synth.template.has_resource_properties("AWS::Lambda::EventSourceMapping", {
        "EventSourceArn": {"Fn::GetAtt": [events, "StreamArn"]},
        "FunctionName": {"Fn::Select": [6, {"Fn::Split": [":", {"Fn::GetAtt": [AGGREGATOR_FUNCTION, "Arn"]}]}]},
        "StartingPosition": "TRIM_HORIZON",
        "BatchSize": STREAM_BATCH_SIZE,
        "MaximumBatchingWindowInSeconds": 5,
    })


def test_a_failing_batch_is_bisected_retried_a_bounded_number_of_times_then_sent_to_the_failure_queue(synth):
    (queue_id,) = synth.of_type("AWS::SQS::Queue")
    (mapping,) = synth.of_type("AWS::Lambda::EventSourceMapping").values()
    properties = mapping["Properties"]
    assert properties["BisectBatchOnFunctionError"] is True
    assert 0 < properties["MaximumRetryAttempts"] == STREAM_RETRY_ATTEMPTS <= 100
    assert 60 <= properties["MaximumRecordAgeInSeconds"] < 24 * 3600
    assert properties["DestinationConfig"] == {"OnFailure": {"Destination": {"Fn::GetAtt": [queue_id, "Arn"]}}}
    assert "FunctionResponseTypes" not in properties, "the aggregator fails whole batches; it reports no items"


def test_failure_queue_keeps_messages_for_two_weeks_encrypted(synth):
    synth.template.has_resource_properties("AWS::SQS::Queue", {
        "MessageRetentionPeriod": 14 * 24 * 3600,
        "SqsManagedSseEnabled": True,
    })


def test_the_event_source_mapping_waits_for_the_aggregators_permissions(synth):
    (mapping,) = synth.of_type("AWS::Lambda::EventSourceMapping").values()
    policy_id = next(name for name, policy in synth.of_type("AWS::IAM::Policy").items()
                     if name.startswith("AggregatorRole"))
    assert policy_id in mapping["DependsOn"]


def test_api_stage_is_throttled(synth):
    synth.template.has_resource_properties("AWS::Serverless::Api", {
        "Name": "relais-prod",
        "StageName": "api",
        "MethodSettings": [{"ResourcePath": "/*", "HttpMethod": "*",
                            "ThrottlingRateLimit": 250, "ThrottlingBurstLimit": 500}],
    })


def test_api_handler_fails_fast_and_the_aggregator_has_room_for_a_batch(synth):
    api, aggregator = _function(synth, API_FUNCTION), _function(synth, AGGREGATOR_FUNCTION)
    assert api["Timeout"] <= 15 and api["MemorySize"] == 512
    assert aggregator["Timeout"] >= 60 and aggregator["MemorySize"] == 256


def _alarm_metrics(alarm: dict) -> set[tuple[str, str]]:
    properties = alarm["Properties"]
    if "MetricName" in properties:
        return {(properties["Namespace"], properties["MetricName"])}
    return {(m["MetricStat"]["Metric"]["Namespace"], m["MetricStat"]["Metric"]["MetricName"])
            for m in properties["Metrics"] if "MetricStat" in m}


def _dimension(alarm: dict, name: str) -> object:
    return next(d["Value"] for d in alarm["Properties"]["Dimensions"] if d["Name"] == name)


def test_alarms_cover_api_5xx_rate_function_errors_iterator_age_and_failure_queue_depth(synth):
    alarms = synth.of_type("AWS::CloudWatch::Alarm")
    by_metric: dict[tuple[str, str], list[dict]] = {}
    for alarm in alarms.values():
        for metric in _alarm_metrics(alarm):
            by_metric.setdefault(metric, []).append(alarm)

    (api_rate,) = by_metric[("AWS/ApiGateway", "5XXError")]
    assert ("AWS/ApiGateway", "Count") in _alarm_metrics(api_rate), "a rate, not a raw count"
    assert any("errors / requests" in m.get("Expression", "") for m in api_rate["Properties"]["Metrics"])

    errors = by_metric[("AWS/Lambda", "Errors")]
    assert {json.dumps(_dimension(a, "FunctionName")) for a in errors} == {
        json.dumps({"Ref": API_FUNCTION}), json.dumps({"Ref": AGGREGATOR_FUNCTION})}

    (iterator_age,) = by_metric[("AWS/Lambda", "IteratorAge")]
    assert _dimension(iterator_age, "FunctionName") == {"Ref": AGGREGATOR_FUNCTION}
    assert iterator_age["Properties"]["Statistic"] == "Maximum"

    (queue_depth,) = by_metric[("AWS/SQS", "ApproximateNumberOfMessagesVisible")]
    assert queue_depth["Properties"]["Threshold"] == 0
    assert queue_depth["Properties"]["ComparisonOperator"] == "GreaterThanThreshold"


@pytest.mark.parametrize("metric", [SKIPPED_RECORDS_METRIC, LOST_EVENTS_METRIC])
def test_skipped_or_lost_events_raise_an_alarm_in_the_stages_own_metrics_namespace(synth, metric):
    namespace = _function(synth, AGGREGATOR_FUNCTION)["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
    assert namespace == "Relais/prod"
    (alarm,) = [a for a in synth.of_type("AWS::CloudWatch::Alarm").values()
                if a["Properties"].get("MetricName") == metric]
    assert alarm["Properties"]["Namespace"] == namespace
    assert alarm["Properties"]["Dimensions"] == [{"Name": "service", "Value": METRICS_SERVICE}]
    assert (alarm["Properties"]["Threshold"], alarm["Properties"]["ComparisonOperator"]) == (0, "GreaterThanThreshold")


@pytest.mark.parametrize("metric", [SKIPPED_RECORDS_METRIC, LOST_EVENTS_METRIC])
def test_the_application_still_counts_the_metrics_the_alarms_watch(metric):
    """An alarm on a metric nobody emits any more would stay green forever."""
    sources = "".join(path.read_text() for path in (REPO_ROOT / "chalicelib").glob("*.py"))
    assert f'count("{metric}"' in sources
    observability = (REPO_ROOT / "chalicelib" / "observability.py").read_text()
    assert f'SERVICE = "{METRICS_SERVICE}"' in observability


def test_every_alarm_notifies_the_alarm_topic(synth):
    (topic_id,) = synth.of_type("AWS::SNS::Topic")
    alarms = synth.of_type("AWS::CloudWatch::Alarm")
    assert len(alarms) == 7
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]
        assert alarm["Properties"]["TreatMissingData"] == "notBreaching"


def test_outputs_give_the_api_url_and_the_widget_snippet(synth):
    outputs = synth.template_json["Outputs"]
    url = outputs["ApiUrl"]["Value"]["Fn::Join"][1]
    assert url[0] == "https://" and url[1] == {"Ref": "RestAPI"} and url[-1] == "/api"
    snippet = outputs["WidgetSnippet"]["Value"]["Fn::Join"][1]
    assert snippet[0] == '<script src="https://'
    assert snippet[-1] == '/api/widget.js" data-campaign="ID" async></script>'


def test_a_custom_domain_maps_the_api_and_becomes_the_public_url(synth_with_options):
    synth = synth_with_options
    synth.template.has_resource_properties("AWS::ApiGateway::DomainName", {"DomainName": "go.example.org"})
    synth.template.has_resource_properties("AWS::ApiGateway::BasePathMapping", {"Stage": "api"})
    variables = _function(synth, API_FUNCTION)["Environment"]["Variables"]
    assert variables["RELAIS_PUBLIC_URL"] == "https://go.example.org"
    assert variables["RELAIS_STAGE"] == "staging"
    outputs = synth.template_json["Outputs"]
    assert outputs["ApiUrl"]["Value"] == "https://go.example.org"
    assert outputs["WidgetSnippet"]["Value"] == (
        '<script src="https://go.example.org/widget.js" data-campaign="ID" async></script>')
    assert "CustomDomainTarget" in outputs


def test_alarm_email_subscribes_to_the_alarm_topic(synth_with_options):
    synth_with_options.template.has_resource_properties("AWS::SNS::Subscription", {
        "Protocol": "email", "Endpoint": "oncall@example.org"})


def test_synthesis_leaves_the_process_environment_as_it_found_it(synth):
    assert not [name for name in os.environ if name.startswith("RELAIS_TABLE_")]
    assert os.environ.get("RELAIS_ADMIN_TOKEN_PARAM") is None


def test_the_cdk_entry_point_synthesizes_from_any_working_directory(tmp_path):
    """``cdk synth`` runs ``python3 main.py``; the CLI passes the output directory in CDK_OUTDIR."""
    outdir = tmp_path / "cdk.out"
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env = {**inherited, **OFFLINE_ENV, "CDK_OUTDIR": str(outdir), "CDK_CONTEXT_JSON": json.dumps({"stage": "smoke"})}
    result = subprocess.run([sys.executable, str(REPO_ROOT / "infra" / "main.py")], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    template = json.loads((outdir / "smoke.template.json").read_text())
    assert template["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]["RELAIS_STAGE"] == "smoke"
