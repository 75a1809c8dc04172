"""Wiring of the synthesized stack: functions, the stream aggregator, edges, alarms, outputs."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from infra.stack import (
    AGGREGATOR_FUNCTION,
    API_FUNCTION,
    DISPATCHER_FUNCTION,
    FALLBACK_FUNCTION,
    STREAM_BATCH_SIZE,
    STREAM_RETRY_ATTEMPTS,
)
from tests.infra.synthesis import OFFLINE_ENV, REPO_ROOT

FUNCTIONS = (API_FUNCTION, AGGREGATOR_FUNCTION, FALLBACK_FUNCTION)


def _function(synth, name: str) -> dict:
    return synth.resources[name]["Properties"]


def _mapping_from(synth, source: dict) -> dict:
    """The one event source mapping reading ``source`` (a stream or queue ARN)."""
    (mapping,) = [m for m in synth.of_type("AWS::Lambda::EventSourceMapping").values()
                  if m["Properties"]["EventSourceArn"] == source]
    return mapping


def _stream_mapping(synth) -> dict:
    return _mapping_from(synth, {"Fn::GetAtt": [synth.table_ids()["events"], "StreamArn"]})


def _fallback_mapping(synth) -> dict:
    return _mapping_from(synth, {"Fn::GetAtt": [synth.logical_id(synth.stack.fallback_queue), "Arn"]})


def _function_name_of(function: str) -> dict:
    return {"Fn::Select": [6, {"Fn::Split": [":", {"Fn::GetAtt": [function, "Arn"]}]}]}


def test_every_function_gets_table_names_stage_and_secret_parameter_names(synth):
    table_ids = synth.table_ids()
    for name in FUNCTIONS:
        variables = _function(synth, name)["Environment"]["Variables"]
        assert variables["RELAIS_STAGE"] == "prod"
        for base, logical_id in table_ids.items():
            assert variables[f"RELAIS_TABLE_{base.upper()}"] == {"Ref": logical_id}
        assert variables["RELAIS_ADMIN_TOKEN_PARAM"] == "/relais/prod/admin-token"
        assert variables["RELAIS_SECRET_PARAM"] == "/relais/prod/secret"


def test_no_function_of_the_stack_is_local_even_in_a_stage_named_local_or_test(synth, monkeypatch):
    """Locality is ``RELAIS_LOCAL=1``, which the stack never sets; a stage's name is no flag."""
    from chalicelib.core import config

    assert "RELAIS_LOCAL" not in json.dumps(synth.template_json)
    for name in (*FUNCTIONS, DISPATCHER_FUNCTION):
        for stage in ("local", "test"):
            with monkeypatch.context() as patch:
                for variable in [variable for variable in os.environ if variable.startswith("RELAIS_")]:
                    patch.delenv(variable)
                for variable, value in {**synth.resolved_environment(name), "RELAIS_STAGE": stage}.items():
                    patch.setenv(variable, value)
                assert not config.is_local(), (name, stage)


def test_changing_the_secrets_version_changes_every_functions_configuration(synth, synth_with_options):
    for name in FUNCTIONS:
        assert _function(synth, name)["Environment"]["Variables"]["RELAIS_SECRETS_VERSION"] == "1"
        assert _function(synth_with_options, name)["Environment"]["Variables"]["RELAIS_SECRETS_VERSION"] == "2"


def test_no_secret_value_travels_in_the_template(synth):
    for name in FUNCTIONS:
        variables = _function(synth, name)["Environment"]["Variables"]
        assert "RELAIS_ADMIN_TOKEN" not in variables
        assert "RELAIS_SECRET" not in variables


def test_functions_log_to_their_own_group_with_retention(synth):
    for name, group in ((API_FUNCTION, "ApiLogs"), (AGGREGATOR_FUNCTION, "AggregatorLogs"),
                        (FALLBACK_FUNCTION, "FallbackLogs")):
        assert _function(synth, name)["LoggingConfig"] == {"LogGroup": {"Ref": group}}
        assert synth.resources[group]["Properties"]["RetentionInDays"] == 30


def test_aggregator_consumes_the_events_stream_from_trim_horizon(synth):
    properties = _stream_mapping(synth)["Properties"]
    assert properties["FunctionName"] == _function_name_of(AGGREGATOR_FUNCTION)
    assert properties["StartingPosition"] == "TRIM_HORIZON"
    assert properties["BatchSize"] == STREAM_BATCH_SIZE
    assert properties["MaximumBatchingWindowInSeconds"] == 5


def test_a_failing_batch_is_bisected_retried_a_bounded_number_of_times_then_sent_to_the_failure_queue(synth):
    queue_id = synth.logical_id(synth.stack.failure_queue)
    properties = _stream_mapping(synth)["Properties"]
    assert properties["BisectBatchOnFunctionError"] is True
    assert 0 < properties["MaximumRetryAttempts"] == STREAM_RETRY_ATTEMPTS <= 100
    assert 60 <= properties["MaximumRecordAgeInSeconds"] < 24 * 3600
    assert properties["DestinationConfig"] == {"OnFailure": {"Destination": {"Fn::GetAtt": [queue_id, "Arn"]}}}
    assert "FunctionResponseTypes" not in properties, "the aggregator fails whole batches; it reports no items"


def test_every_queue_keeps_messages_for_two_weeks_encrypted_and_refuses_plain_http(synth):
    queues = synth.of_type("AWS::SQS::Queue")
    assert {synth.logical_id(q) for q in (synth.stack.failure_queue, synth.stack.fallback_queue,
                                          synth.stack.fallback_dead_letters)} <= set(queues)
    policies = synth.of_type("AWS::SQS::QueuePolicy").values()
    for queue_id, queue in queues.items():
        assert queue["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600, queue_id
        assert queue["Properties"]["SqsManagedSseEnabled"] is True, queue_id
        (policy,) = [p for p in policies if p["Properties"]["Queues"] == [{"Ref": queue_id}]]
        assert {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}.items() <= \
            policy["Properties"]["PolicyDocument"]["Statement"][0].items(), queue_id


def test_the_event_source_mappings_wait_for_their_functions_permissions_and_log_groups(synth):
    for mapping, role, group in ((_stream_mapping(synth), "AggregatorRole", "AggregatorLogs"),
                                 (_fallback_mapping(synth), "FallbackRole", "FallbackLogs")):
        policy_id = next(name for name in synth.of_type("AWS::IAM::Policy") if name.startswith(f"{role}Default"))
        assert {policy_id, group} <= set(mapping["DependsOn"])


def test_a_fact_the_fallback_cannot_apply_goes_to_the_dead_letter_queue_after_five_receives(synth):
    queue = synth.resources[synth.logical_id(synth.stack.fallback_queue)]["Properties"]
    dead_letters = synth.logical_id(synth.stack.fallback_dead_letters)
    assert queue["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [dead_letters, "Arn"]},
                                      "maxReceiveCount": 5}
    assert "RedrivePolicy" not in synth.resources[dead_letters]["Properties"]


def test_the_fallback_queue_hides_a_message_for_six_times_the_consumers_timeout(synth):
    """AWS's rule for Lambda on SQS: a message still being processed is not handed out again."""
    queue = synth.resources[synth.logical_id(synth.stack.fallback_queue)]["Properties"]
    assert queue["VisibilityTimeout"] >= 6 * _function(synth, FALLBACK_FUNCTION)["Timeout"]


def test_the_fallback_function_applies_the_queue_in_batches_of_ten_reporting_each_failed_message(synth):
    properties = _fallback_mapping(synth)["Properties"]
    assert properties["FunctionName"] == _function_name_of(FALLBACK_FUNCTION)
    assert properties["BatchSize"] == 10
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert 2 <= properties["ScalingConfig"]["MaximumConcurrency"] <= 10
    assert _function(synth, FALLBACK_FUNCTION)["Handler"] == "app.fallback"


def test_only_the_api_handler_knows_the_fallback_queue_url(synth):
    queue_ref = {"Ref": synth.logical_id(synth.stack.fallback_queue)}
    assert _function(synth, API_FUNCTION)["Environment"]["Variables"]["RELAIS_FALLBACK_QUEUE_URL"] == queue_ref
    for name in (AGGREGATOR_FUNCTION, FALLBACK_FUNCTION):
        assert "RELAIS_FALLBACK_QUEUE_URL" not in _function(synth, name)["Environment"]["Variables"], name


def test_api_stage_is_throttled_at_the_accounts_default_quota(synth):
    synth.template.has_resource_properties("AWS::ApiGatewayV2::Api", {"Name": "relais-prod", "ProtocolType": "HTTP"})
    synth.template.has_resource_properties("AWS::ApiGatewayV2::Stage", {
        "StageName": "$default",
        "DefaultRouteSettings": {"ThrottlingRateLimit": 10_000, "ThrottlingBurstLimit": 5_000},
    })


def test_api_handler_fails_fast_and_the_aggregator_and_fallback_have_room_for_a_batch(synth):
    api, aggregator = _function(synth, API_FUNCTION), _function(synth, AGGREGATOR_FUNCTION)
    fallback = _function(synth, FALLBACK_FUNCTION)
    assert api["Timeout"] <= 15 and api["MemorySize"] == 512
    assert aggregator["Timeout"] >= 60 and aggregator["MemorySize"] == 256
    assert 10 <= fallback["Timeout"] <= 60 and fallback["MemorySize"] == 256


def test_each_functions_memory_comes_from_its_own_context_key(synth_with_options):
    memory = {name: _function(synth_with_options, name)["MemorySize"] for name in FUNCTIONS}
    assert memory == {API_FUNCTION: 1024, AGGREGATOR_FUNCTION: 512, FALLBACK_FUNCTION: 384}


def test_outputs_give_the_api_url_and_the_widget_snippet_on_the_cached_host(synth):
    outputs = synth.template_json["Outputs"]
    api_id = synth.logical_id(synth.stack.front.http_api)
    url = outputs["ApiUrl"]["Value"]["Fn::Join"][1]
    assert url[0] == "https://" and url[1] == {"Ref": api_id} and url[2] == ".execute-api.eu-west-1."
    distribution = {"Fn::GetAtt": [synth.logical_id(synth.stack.front.distribution), "DomainName"]}
    assert outputs["AssetsUrl"]["Value"] == {"Fn::Join": ["", ["https://", distribution]]}
    snippet = outputs["WidgetSnippet"]["Value"]["Fn::Join"][1]
    assert snippet == ['<script src="https://', distribution, '/widget.js" data-campaign="ID" async></script>']


def test_outputs_give_the_operators_every_queue_they_may_have_to_look_at(synth):
    outputs = synth.template_json["Outputs"]
    stack = synth.stack
    for output, queue in (("AggregatorFailureQueueUrl", stack.failure_queue),
                          ("FallbackQueueUrl", stack.fallback_queue),
                          ("FallbackDeadLetterQueueUrl", stack.fallback_dead_letters)):
        assert outputs[output]["Value"] == {"Ref": synth.logical_id(queue)}, output


def test_a_custom_domain_maps_the_api_regionally_and_becomes_the_public_url(synth_with_options):
    synth = synth_with_options
    synth.template.has_resource_properties("AWS::ApiGatewayV2::DomainName", {
        "DomainName": "go.example.org",
        "DomainNameConfigurations": [{"CertificateArn": synth.stack.settings.certificate_arn,
                                      "EndpointType": "REGIONAL", "SecurityPolicy": "TLS_1_2"}]})
    stage_id = synth.logical_id(synth.stack.front.stage)
    synth.template.has_resource_properties("AWS::ApiGatewayV2::ApiMapping", {"Stage": {"Ref": stage_id}})
    variables = _function(synth, API_FUNCTION)["Environment"]["Variables"]
    assert variables["RELAIS_PUBLIC_URL"] == "https://go.example.org"
    assert variables["RELAIS_STAGE"] == "staging"
    outputs = synth.template_json["Outputs"]
    assert outputs["ApiUrl"]["Value"] == "https://go.example.org"
    domain_id = synth.logical_id(synth.stack.front.domain)
    assert outputs["CustomDomainTarget"]["Value"] == {"Fn::GetAtt": [domain_id, "RegionalDomainName"]}
    assert outputs["CustomDomainHostedZoneId"]["Value"] == {"Fn::GetAtt": [domain_id, "RegionalHostedZoneId"]}


def test_an_assets_domain_names_the_cached_host_the_widget_snippet_and_the_qr_images(synth_with_options):
    synth = synth_with_options
    outputs = synth.template_json["Outputs"]
    assert outputs["AssetsUrl"]["Value"] == "https://cdn.example.org"
    assert outputs["WidgetSnippet"]["Value"] == (
        '<script src="https://cdn.example.org/widget.js" data-campaign="ID" async></script>')
    assert _function(synth, API_FUNCTION)["Environment"]["Variables"]["RELAIS_ASSETS_URL"] == "https://cdn.example.org"
    distribution_id = synth.logical_id(synth.stack.front.distribution)
    assert outputs["AssetsDomainTarget"]["Value"] == {"Fn::GetAtt": [distribution_id, "DomainName"]}
    config = synth.resources[distribution_id]["Properties"]["DistributionConfig"]
    assert config["Aliases"] == ["cdn.example.org"]
    assert config["ViewerCertificate"] == {"AcmCertificateArn": synth.stack.settings.assets_certificate_arn,
                                           "MinimumProtocolVersion": "TLSv1.2_2021", "SslSupportMethod": "sni-only"}


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
