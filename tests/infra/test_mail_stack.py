"""E-mail wiring: the mail queue and the mailer consuming it, SES (the sender's identity, the
stage's configuration set, its bounce and complaint events through SNS to ``MailFeedback``),
their permissions, environment, alarms and outputs.

``synth`` is a stage without ``mailFrom`` (it sends no e-mail); ``synth_with_options`` sends
from ``MAIL_FROM``, its domain being the SES identity.
"""
from __future__ import annotations

import json

import pytest

from infra.stack import (
    AGGREGATOR_FUNCTION,
    API_FUNCTION,
    DISPATCHER_FUNCTION,
    FALLBACK_FUNCTION,
    IMPORTER_FUNCTION,
    MAIL_FEEDBACK_FUNCTION,
    MAIL_MAX_CONCURRENCY,
    MAILER_FUNCTION,
)
from tests.infra.synthesis import ACCOUNT, MAIL_FROM, REGION

MAIL_DOMAIN = MAIL_FROM.split("@")[1]
FUNCTIONS = (API_FUNCTION, AGGREGATOR_FUNCTION, FALLBACK_FUNCTION, DISPATCHER_FUNCTION, MAILER_FUNCTION,
             MAIL_FEEDBACK_FUNCTION, IMPORTER_FUNCTION)


def _properties(synth, name: str) -> dict:
    return synth.resources[name]["Properties"]


def _variables(synth, function: str) -> dict:
    return _properties(synth, function)["Environment"]["Variables"]


def _only(resources: dict[str, dict]) -> tuple[str, dict]:
    (item,) = resources.items()
    return item[0], item[1]["Properties"]


def _statements_of(synth, function: str) -> list[dict]:
    role = _properties(synth, function)["Role"]["Fn::GetAtt"][0]
    return [statement for policy in synth.of_type("AWS::IAM::Policy").values()
            if {"Ref": role} in policy["Properties"]["Roles"]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]]


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _mail_queue_arn(synth) -> dict:
    return {"Fn::GetAtt": [synth.logical_id(synth.stack.mail_queue), "Arn"]}


def test_the_mailer_consumes_the_mail_queue_three_jobs_at_a_time_reporting_each_failed_one(synth):
    (mapping,) = [m["Properties"] for m in synth.of_type("AWS::Lambda::EventSourceMapping").values()
                  if m["Properties"]["EventSourceArn"] == _mail_queue_arn(synth)]
    function = _properties(synth, MAILER_FUNCTION)
    assert mapping["FunctionName"] == {"Fn::Select": [6, {"Fn::Split": [":", {"Fn::GetAtt": [MAILER_FUNCTION,
                                                                                            "Arn"]}]}]}
    assert (mapping["BatchSize"], mapping["FunctionResponseTypes"]) == (3, ["ReportBatchItemFailures"])
    assert mapping["ScalingConfig"]["MaximumConcurrency"] == MAIL_MAX_CONCURRENCY
    assert function["Handler"] == "app.mailer"
    assert (function["Timeout"], function["MemorySize"]) == (120, 256)
    assert function["LoggingConfig"] == {"LogGroup": {"Ref": "MailerLogs"}}


def test_a_job_the_mailer_crashes_on_five_times_goes_to_the_dead_letter_queue_both_queues_encrypted(synth):
    queue = _properties(synth, synth.logical_id(synth.stack.mail_queue))
    dead_letters = synth.logical_id(synth.stack.mail_dead_letters)
    assert queue["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [dead_letters, "Arn"]},
                                      "maxReceiveCount": 5}
    assert queue["VisibilityTimeout"] >= 6 * _properties(synth, MAILER_FUNCTION)["Timeout"]
    for name in (synth.logical_id(synth.stack.mail_queue), dead_letters):
        assert _properties(synth, name)["SqsManagedSseEnabled"] is True
        (policy,) = [p["Properties"] for p in synth.of_type("AWS::SQS::QueuePolicy").values()
                     if p["Properties"]["Queues"] == [{"Ref": name}]]
        assert policy["PolicyDocument"]["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_a_stage_without_a_sender_has_no_ses_resource_and_queues_no_e_mail(synth):
    assert not [r for r in synth.resources.values() if r["Type"].startswith("AWS::SES::")]
    assert synth.stack.mail_feedback_topic is None
    for function in (API_FUNCTION, AGGREGATOR_FUNCTION):
        assert "RELAIS_MAIL_QUEUE_URL" not in _variables(synth, function), function
        assert not [s for s in _statements_of(synth, function) if _mail_queue_arn(synth) in _as_list(s["Resource"])]
    assert not [s for s in _statements_of(synth, MAILER_FUNCTION)
                if any(a.startswith("ses:") for a in _as_list(s["Action"]))]
    assert "Events" not in _properties(synth, MAIL_FEEDBACK_FUNCTION)


def test_the_configuration_set_suppresses_and_publishes_bounces_and_complaints_to_the_feedback_topic(
        synth_with_options):
    synth = synth_with_options
    configuration_set, properties = _only(synth.of_type("AWS::SES::ConfigurationSet"))
    assert properties["Name"] == "relais-staging"
    assert properties["SuppressionOptions"] == {"SuppressedReasons": ["BOUNCE", "COMPLAINT"]}
    _, destination = _only(synth.of_type("AWS::SES::ConfigurationSetEventDestination"))
    topic = synth.logical_id(synth.stack.mail_feedback_topic)
    assert destination == {"ConfigurationSetName": {"Ref": configuration_set}, "EventDestination": {
        "Enabled": True, "MatchingEventTypes": ["bounce", "complaint"], "SnsDestination": {"TopicARN": {"Ref": topic}}}}
    (policy,) = [p["Properties"]["PolicyDocument"] for p in synth.of_type("AWS::SNS::TopicPolicy").values()
                 if p["Properties"]["Topics"] == [{"Ref": topic}]]
    (statement,) = policy["Statement"]
    assert (statement["Principal"], statement["Action"]) == ({"Service": "ses.amazonaws.com"}, "sns:Publish")
    assert statement["Condition"]["StringEquals"]["AWS:SourceAccount"] == ACCOUNT
    assert f":ses:{REGION}:{ACCOUNT}:configuration-set/" in json.dumps(statement["Condition"])


def test_the_sender_domain_is_the_ses_identity_sending_through_the_configuration_set(synth_with_options):
    synth = synth_with_options
    _, identity = _only(synth.of_type("AWS::SES::EmailIdentity"))
    configuration_set, _ = _only(synth.of_type("AWS::SES::ConfigurationSet"))
    assert identity == {"EmailIdentity": MAIL_DOMAIN,
                        "ConfigurationSetAttributes": {"ConfigurationSetName": {"Ref": configuration_set}}}


def test_bounces_and_complaints_reach_the_feedback_function_through_the_topic(synth_with_options):
    synth = synth_with_options
    function = _properties(synth, MAIL_FEEDBACK_FUNCTION)
    topic = synth.logical_id(synth.stack.mail_feedback_topic)
    assert function["Events"] == {"MailFeedback": {"Type": "SNS", "Properties": {"Topic": {"Ref": topic}}}}
    assert function["Handler"] == "app.mail_feedback"
    assert function["LoggingConfig"] == {"LogGroup": {"Ref": "MailFeedbackLogs"}}


def test_the_mailer_may_send_only_from_the_sender_through_its_identity_and_configuration_set(synth_with_options):
    synth = synth_with_options
    configuration_set, _ = _only(synth.of_type("AWS::SES::ConfigurationSet"))
    (statement,) = [s for s in _statements_of(synth, MAILER_FUNCTION)
                    if any(a.startswith("ses:") for a in _as_list(s["Action"]))]
    assert statement == {
        "Action": ["ses:SendEmail", "ses:SendRawEmail"], "Effect": "Allow",
        "Condition": {"StringEquals": {"ses:FromAddress": MAIL_FROM}},
        "Resource": [f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/{MAIL_DOMAIN}",
                     {"Fn::Join": ["", [f"arn:aws:ses:{REGION}:{ACCOUNT}:configuration-set/",
                                        {"Ref": configuration_set}]]}],
    }


@pytest.mark.parametrize("variant", ["synth", "synth_with_options"])
def test_no_role_but_the_mailers_has_any_ses_action_and_none_on_every_resource(variant, request):
    synth = request.getfixturevalue(variant)
    for function in FUNCTIONS:
        for statement in _statements_of(synth, function):
            actions = _as_list(statement["Action"])
            if any(action.startswith("ses:") for action in actions):
                assert function == MAILER_FUNCTION
                assert "*" not in _as_list(statement["Resource"]) and "ses:*" not in actions
    for name, resource in synth.resources.items():
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
                actions = _as_list(statement["Action"])
                assert not ({"ses:*", "*"} & set(actions)), name


def test_the_mailer_reads_campaigns_and_links_and_writes_only_the_e_mail_partitions_of_rollups(synth):
    tables = synth.table_ids()
    dynamodb = [s for s in _statements_of(synth, MAILER_FUNCTION)
                if any(a.startswith("dynamodb:") for a in _as_list(s["Action"]))]
    assert sorted(dynamodb, key=json.dumps) == sorted([
        {"Action": "dynamodb:GetItem", "Effect": "Allow",
         "Resource": [{"Fn::GetAtt": [tables["campaigns"], "Arn"]}, {"Fn::GetAtt": [tables["links"], "Arn"]}]},
        {"Action": ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
         "Effect": "Allow", "Resource": {"Fn::GetAtt": [tables["rollups"], "Arn"]},
         "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["*#ml"]}}},
    ], key=json.dumps)


def test_the_feedback_function_may_only_put_suppressions_in_the_e_mail_partitions(synth):
    tables = synth.table_ids()
    dynamodb = [s for s in _statements_of(synth, MAIL_FEEDBACK_FUNCTION)
                if any(a.startswith("dynamodb:") for a in _as_list(s["Action"]))]
    assert dynamodb == [{"Action": "dynamodb:PutItem", "Effect": "Allow",
                         "Resource": {"Fn::GetAtt": [tables["rollups"], "Arn"]},
                         "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["*#ml"]}}}]


def test_the_e_mail_partitions_condition_matches_the_mail_records_keys_and_no_other_rollups_partition(synth):
    """``*#ml`` is what ``keys.mail_pk`` makes of every campaign; a campaign id is
    alphanumeric, so no other partition of the rollups table ends that way."""
    from fnmatch import fnmatchcase

    from chalicelib.store import keys
    from infra.stack import MAIL_RECORDS_PARTITIONS

    assert MAIL_RECORDS_PARTITIONS == "*#ml" and fnmatchcase(keys.mail_pk("c8Xk2"), MAIL_RECORDS_PARTITIONS)
    others = (keys.held_pk("c8Xk2"), keys.webhook_pk("c8Xk2"), keys.rewards_pk("c8Xk2"), keys.board_pk("c8Xk2"),
              keys.limit_pk("0f" * 16), keys.ceiling_pk("c8Xk2"), "c8Xk2")
    assert [other for other in others if fnmatchcase(other, MAIL_RECORDS_PARTITIONS)] == []


def test_the_mailer_and_the_feedback_function_read_the_server_secret_and_nothing_else_in_ssm(synth):
    for function in (MAILER_FUNCTION, MAIL_FEEDBACK_FUNCTION):
        ssm = [s for s in _statements_of(synth, function) if any(a.startswith("ssm:") for a in _as_list(s["Action"]))]
        assert ssm == [{"Action": "ssm:GetParameter", "Effect": "Allow",
                        "Resource": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/relais/prod/secret"}], function


def test_the_mailer_consumes_its_queue_and_queues_its_retries_there_and_nowhere_else(synth):
    sqs = [s for s in _statements_of(synth, MAILER_FUNCTION)
           if any(a.startswith("sqs:") for a in _as_list(s["Action"]))]
    assert sqs == [{"Action": ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                               "sqs:ReceiveMessage", "sqs:SendMessage"], "Effect": "Allow",
                    "Resource": _mail_queue_arn(synth)}]
    assert not [s for s in _statements_of(synth, MAIL_FEEDBACK_FUNCTION)
                if any(a.startswith("sqs:") for a in _as_list(s["Action"]))]


def test_the_api_and_the_aggregator_may_only_send_to_the_mail_queue_and_know_its_url(synth_with_options):
    synth = synth_with_options
    queue = _mail_queue_arn(synth)
    for function in (API_FUNCTION, AGGREGATOR_FUNCTION):
        on_queue = {action for s in _statements_of(synth, function) if queue in _as_list(s["Resource"])
                    for action in _as_list(s["Action"])}
        assert on_queue == {"sqs:SendMessage"}, function
        assert _variables(synth, function)["RELAIS_MAIL_QUEUE_URL"] == {"Ref": synth.logical_id(synth.stack.mail_queue)}
    for function in (FALLBACK_FUNCTION, DISPATCHER_FUNCTION, MAIL_FEEDBACK_FUNCTION, IMPORTER_FUNCTION):
        assert not [s for s in _statements_of(synth, function) if queue in _as_list(s["Resource"])], function
        assert "RELAIS_MAIL_QUEUE_URL" not in _variables(synth, function), function


def test_the_mailer_knows_its_queue_the_sender_and_the_configuration_set(synth_with_options):
    synth = synth_with_options
    configuration_set, _ = _only(synth.of_type("AWS::SES::ConfigurationSet"))
    variables = _variables(synth, MAILER_FUNCTION)
    assert variables["RELAIS_MAIL_QUEUE_URL"] == {"Ref": synth.logical_id(synth.stack.mail_queue)}
    assert variables["RELAIS_MAIL_FROM"] == MAIL_FROM
    assert variables["RELAIS_SES_CONFIGURATION_SET"] == {"Ref": configuration_set}
    environment = synth.resolved_environment(MAILER_FUNCTION)
    assert environment["RELAIS_SES_CONFIGURATION_SET"] == "relais-staging"


def test_dead_letters_a_stuck_queue_given_up_e_mails_and_crashes_each_raise_an_alarm(synth):
    alarms = [a["Properties"] for a in synth.of_type("AWS::CloudWatch::Alarm").values()]

    def one(metric: str, dimensions: list) -> dict:
        (alarm,) = [a for a in alarms if a.get("MetricName") == metric and a.get("Dimensions") == dimensions]
        return alarm

    def queue(construct) -> list:
        return [{"Name": "QueueName", "Value": {"Fn::GetAtt": [synth.logical_id(construct), "QueueName"]}}]

    assert one("ApproximateNumberOfMessagesVisible", queue(synth.stack.mail_dead_letters))["Threshold"] == 0
    assert one("ApproximateAgeOfOldestMessage", queue(synth.stack.mail_queue))["Threshold"] == 30 * 60
    for function in (MAILER_FUNCTION, MAIL_FEEDBACK_FUNCTION):
        assert one("Errors", [{"Name": "FunctionName", "Value": {"Ref": function}}])["Threshold"] == 1
    given_up = one("MailGivenUp", [{"Name": "service", "Value": "relais"}])
    assert (given_up["Namespace"], given_up["Threshold"], given_up["ComparisonOperator"]) == (
        "Relais/prod", 0, "GreaterThanThreshold")
    for alarm in alarms:
        if "Mail" in json.dumps(alarm.get("Dimensions")) or alarm.get("MetricName") == "MailGivenUp":
            assert alarm["AlarmActions"] == [{"Ref": synth.logical_id(synth.stack.alarm_topic)}]


def test_outputs_name_the_queues_the_configuration_set_and_the_three_dkim_records(synth, synth_with_options):
    outputs = synth.template_json["Outputs"]
    assert outputs["MailQueueUrl"]["Value"] == {"Ref": synth.logical_id(synth.stack.mail_queue)}
    assert outputs["MailDeadLetterQueueUrl"]["Value"] == {"Ref": synth.logical_id(synth.stack.mail_dead_letters)}
    assert not [name for name in outputs if name.startswith(("MailDkim", "MailConfigurationSet"))]
    outputs = synth_with_options.template_json["Outputs"]
    identity, _ = _only(synth_with_options.of_type("AWS::SES::EmailIdentity"))
    assert outputs["MailConfigurationSetName"]["Value"] == {
        "Ref": synth_with_options.logical_id(synth_with_options.stack.mail_configuration_set)}
    for n in (1, 2, 3):
        assert outputs[f"MailDkimRecord{n}"]["Value"] == {"Fn::Join": [" ", [
            {"Fn::GetAtt": [identity, f"DkimDNSTokenName{n}"]}, "CNAME",
            {"Fn::GetAtt": [identity, f"DkimDNSTokenValue{n}"]}]]}


def test_a_stage_whose_mail_region_is_not_its_own_is_refused_before_anything_is_packaged(tmp_path):
    """SES production access is granted per region: a stage deployed elsewhere would send from the sandbox."""
    import aws_cdk as cdk

    from infra.settings import SettingsError, StageSettings
    from infra.stack import create_stack
    from tests.infra.synthesis import REPO_ROOT, offline

    app = cdk.App(outdir=str(tmp_path / "cdk.out"))
    settings = StageSettings(mail_from=MAIL_FROM, mail_region="us-east-1")
    with offline(tmp_path), pytest.raises(SettingsError, match="mailRegion is us-east-1 but the stage deploys to "
                                                                 f"{REGION}"):
        create_stack(app, settings, source_dir=str(REPO_ROOT), env=cdk.Environment(account=ACCOUNT, region=REGION))
    assert not (tmp_path / "chalice.out").exists()
