"""Webhook wiring: the queue between the aggregator and the dispatcher, its dead letters,
alarms and outputs (least privilege is in test_iam.py)."""
from __future__ import annotations

from infra.stack import (
    AGGREGATOR_FUNCTION,
    API_FUNCTION,
    DISPATCHER_FUNCTION,
    FALLBACK_FUNCTION,
    WEBHOOK_MAX_CONCURRENCY,
)


def _properties(synth, name: str) -> dict:
    return synth.resources[name]["Properties"]


def _webhook_mapping(synth) -> dict:
    arn = {"Fn::GetAtt": [synth.logical_id(synth.stack.webhook_queue), "Arn"]}
    (mapping,) = [m["Properties"] for m in synth.of_type("AWS::Lambda::EventSourceMapping").values()
                  if m["Properties"]["EventSourceArn"] == arn]
    return mapping


def test_the_dispatcher_consumes_the_webhook_queue_in_batches_of_ten_reporting_each_failed_message(synth):
    mapping = _webhook_mapping(synth)
    function = _properties(synth, DISPATCHER_FUNCTION)
    assert mapping["FunctionName"] == {"Fn::Select": [6, {"Fn::Split": [
        ":", {"Fn::GetAtt": [DISPATCHER_FUNCTION, "Arn"]}]}]}
    assert (mapping["BatchSize"], mapping["FunctionResponseTypes"]) == (10, ["ReportBatchItemFailures"])
    assert mapping["ScalingConfig"]["MaximumConcurrency"] == WEBHOOK_MAX_CONCURRENCY
    assert function["Handler"] == "app.dispatcher"
    assert (function["Timeout"], function["MemorySize"]) == (60, 256)
    assert function["LoggingConfig"] == {"LogGroup": {"Ref": "DispatcherLogs"}}


def test_a_message_the_dispatcher_crashes_on_five_times_goes_to_the_dead_letter_queue(synth):
    queue = _properties(synth, synth.logical_id(synth.stack.webhook_queue))
    dead_letters = synth.logical_id(synth.stack.webhook_dead_letters)
    assert queue["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [dead_letters, "Arn"]},
                                      "maxReceiveCount": 5}
    assert queue["VisibilityTimeout"] >= 6 * _properties(synth, DISPATCHER_FUNCTION)["Timeout"]


def test_the_functions_that_queue_deliveries_know_the_queue_and_the_fallback_does_not(synth):
    queue = {"Ref": synth.logical_id(synth.stack.webhook_queue)}
    for name in (API_FUNCTION, AGGREGATOR_FUNCTION, DISPATCHER_FUNCTION):
        assert _properties(synth, name)["Environment"]["Variables"]["RELAIS_WEBHOOK_QUEUE_URL"] == queue, name
    assert "RELAIS_WEBHOOK_QUEUE_URL" not in _properties(synth, FALLBACK_FUNCTION)["Environment"]["Variables"]


def test_dead_letters_a_stuck_queue_and_dispatcher_crashes_each_raise_an_alarm(synth):
    alarms = {alarm["Properties"]["AlarmDescription"]: alarm["Properties"]
              for alarm in synth.of_type("AWS::CloudWatch::Alarm").values()}
    queue_names = {
        synth.logical_id(synth.stack.webhook_dead_letters): ("ApproximateNumberOfMessagesVisible", 0),
        synth.logical_id(synth.stack.webhook_queue): ("ApproximateAgeOfOldestMessage", 30 * 60),
    }
    for queue_id, (metric, threshold) in queue_names.items():
        (alarm,) = [a for a in alarms.values() if a.get("MetricName") == metric and a["Dimensions"] == [
            {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}]]
        assert alarm["Threshold"] == threshold
    (errors,) = [a for a in alarms.values() if a.get("MetricName") == "Errors" and a["Dimensions"] == [
        {"Name": "FunctionName", "Value": {"Ref": DISPATCHER_FUNCTION}}]]
    assert errors["Threshold"] == 1


def test_outputs_name_the_webhook_queue_and_its_dead_letters(synth):
    outputs = synth.template_json["Outputs"]
    assert outputs["WebhookQueueUrl"]["Value"] == {"Ref": synth.logical_id(synth.stack.webhook_queue)}
    assert outputs["WebhookDeadLetterQueueUrl"]["Value"] == {"Ref": synth.logical_id(synth.stack.webhook_dead_letters)}
