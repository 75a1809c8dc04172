"""Alarms: each required one exists, named by what it watches, and reaches on-call.

The list below is what the operator's runbook (docs/runbook.md, "Alarms") relies on. Adding
an alarm to the stack needs no change here; removing or re-pointing a required one fails
its own test, by name.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import pytest

from chalicelib.hotpath.rate_limits import FAN_CEILING_METRIC
from infra.stack import (
    AGGREGATOR_FUNCTION,
    API_FUNCTION,
    FALLBACK_FUNCTION,
    IMPORTER_FUNCTION,
    LOST_EVENTS_METRIC,
    METRICS_SERVICE,
    SKIPPED_RECORDS_METRIC,
)
from tests.infra.observed_metrics import ADMIN_TOKEN, ORIGIN_SECRET
from tests.infra.synthesis import OFFLINE_ENV, REPO_ROOT

APP_NAMESPACE = "Relais/prod"  # the default stage's own namespace: two stages never share alarms


@dataclass(frozen=True)
class Required:
    """One alarm the runbook relies on: what it watches and when it fires."""

    namespace: str
    metric: str
    dimensions: dict[str, Any]
    statistic: str
    comparison: str
    threshold: float


def _function(name: str) -> dict[str, Any]:
    return {"FunctionName": {"Ref": name}}


def _queue(synth, queue) -> dict[str, Any]:
    return {"QueueName": {"Fn::GetAtt": [synth.logical_id(queue), "QueueName"]}}


ANY_AT_ALL = ("GreaterThanThreshold", 0)
"""One occurrence is one too many: the alarm fires on the first."""


def _required(synth) -> dict[str, Required]:
    stack = synth.stack
    return {
        "API handler crashes or timeouts": Required(
            "AWS/Lambda", "Errors", _function(API_FUNCTION), "Sum", "GreaterThanOrEqualToThreshold", 5),
        "facts lost (neither written nor sent to the fallback queue)": Required(
            APP_NAMESPACE, LOST_EVENTS_METRIC, {"service": METRICS_SERVICE}, "Sum", *ANY_AT_ALL),
        "aggregator failed a batch": Required(
            "AWS/Lambda", "Errors", _function(AGGREGATOR_FUNCTION), "Sum", "GreaterThanOrEqualToThreshold", 1),
        "counters behind the events stream": Required(
            "AWS/Lambda", "IteratorAge", _function(AGGREGATOR_FUNCTION), "Maximum",
            "GreaterThanOrEqualToThreshold", 120_000),
        "aggregator skipped unreadable records": Required(
            APP_NAMESPACE, SKIPPED_RECORDS_METRIC, {"service": METRICS_SERVICE}, "Sum", *ANY_AT_ALL),
        "aggregator gave up on a batch (failure queue)": Required(
            "AWS/SQS", "ApproximateNumberOfMessagesVisible", _queue(synth, stack.failure_queue), "Maximum",
            *ANY_AT_ALL),
        "fallback could not apply a fact (dead-letter queue)": Required(
            "AWS/SQS", "ApproximateNumberOfMessagesVisible", _queue(synth, stack.fallback_dead_letters), "Maximum",
            *ANY_AT_ALL),
        "facts waiting too long on the fallback queue": Required(
            "AWS/SQS", "ApproximateAgeOfOldestMessage", _queue(synth, stack.fallback_queue), "Maximum",
            "GreaterThanOrEqualToThreshold", 15 * 60),
        "fallback consumer crashes or timeouts": Required(
            "AWS/Lambda", "Errors", _function(FALLBACK_FUNCTION), "Sum", "GreaterThanOrEqualToThreshold", 1),
        "a campaign refused new fans at its ceiling": Required(
            APP_NAMESPACE, FAN_CEILING_METRIC, {"service": METRICS_SERVICE}, "Sum", *ANY_AT_ALL),
        "importer gave up on a job (dead-letter queue)": Required(
            "AWS/SQS", "ApproximateNumberOfMessagesVisible", _queue(synth, stack.import_dead_letters), "Maximum",
            *ANY_AT_ALL),
        "import jobs waiting too long": Required(
            "AWS/SQS", "ApproximateAgeOfOldestMessage", _queue(synth, stack.import_queue), "Maximum",
            "GreaterThanOrEqualToThreshold", 60 * 60),
        "importer crashes or timeouts": Required(
            "AWS/Lambda", "Errors", _function(IMPORTER_FUNCTION), "Sum", "GreaterThanOrEqualToThreshold", 1),
    }


REQUIRED = [
    "API handler crashes or timeouts",
    "facts lost (neither written nor sent to the fallback queue)",
    "aggregator failed a batch",
    "counters behind the events stream",
    "aggregator skipped unreadable records",
    "aggregator gave up on a batch (failure queue)",
    "fallback could not apply a fact (dead-letter queue)",
    "facts waiting too long on the fallback queue",
    "fallback consumer crashes or timeouts",
    "a campaign refused new fans at its ceiling",
    "importer gave up on a job (dead-letter queue)",
    "import jobs waiting too long",
    "importer crashes or timeouts",
]


def _alarms(synth) -> list[dict]:
    return [alarm["Properties"] for alarm in synth.of_type("AWS::CloudWatch::Alarm").values()]


def _watches(alarm: dict, required: Required) -> bool:
    dimensions = {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}
    return (alarm.get("Namespace"), alarm.get("MetricName"), json.dumps(dimensions, sort_keys=True)) == (
        required.namespace, required.metric, json.dumps(required.dimensions, sort_keys=True))


def test_the_required_list_names_every_requirement_once(synth):
    assert sorted(REQUIRED) == sorted(_required(synth))


@pytest.mark.parametrize("purpose", REQUIRED)
def test_required_alarm_exists(synth, purpose):
    required = _required(synth)[purpose]
    matching = [alarm for alarm in _alarms(synth) if _watches(alarm, required)]
    assert len(matching) == 1, f"{purpose}: {len(matching)} alarms watch {required.namespace}/{required.metric}"
    (alarm,) = matching
    assert alarm["Statistic"] == required.statistic, purpose
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == (required.comparison, required.threshold), purpose


def test_required_alarm_exists_api_5xx_rate(synth):
    """A rate (5xx / requests, quiet periods ignored), not a raw count of 5xx: the HTTP API's
    own metric names (``5xx``, ``Count``) and dimensions (``ApiId``, ``Stage``)."""
    dimensions = [{"Name": "ApiId", "Value": {"Ref": synth.logical_id(synth.stack.front.http_api)}},
                  {"Name": "Stage", "Value": "$default"}]
    (alarm,) = [a for a in _alarms(synth) if "Metrics" in a and any(
        m.get("MetricStat", {}).get("Metric", {}).get("MetricName") == "5xx" for m in a["Metrics"])]
    stats = {m["MetricStat"]["Metric"]["MetricName"]: m["MetricStat"] for m in alarm["Metrics"] if "MetricStat" in m}
    assert set(stats) == {"5xx", "Count"}
    for stat in stats.values():
        assert stat["Metric"]["Namespace"] == "AWS/ApiGateway"
        assert stat["Metric"]["Dimensions"] == dimensions
        assert stat["Stat"] == "Sum"
    (expression,) = [m for m in alarm["Metrics"] if "Expression" in m]
    assert "errors / requests" in expression["Expression"] and expression["ReturnData"] is True
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1)


def test_every_alarm_notifies_the_alarm_topic_and_treats_missing_data_as_fine(synth):
    (topic_id,) = synth.of_type("AWS::SNS::Topic")
    for alarm in _alarms(synth):
        assert alarm["AlarmActions"] == [{"Ref": topic_id}], alarm["AlarmDescription"]
        assert alarm["TreatMissingData"] == "notBreaching", alarm["AlarmDescription"]


def test_application_metrics_are_in_the_namespace_every_function_is_given(synth):
    """The alarms above watch ``Relais/<stage>``: the functions must emit there."""
    for function in (API_FUNCTION, AGGREGATOR_FUNCTION, FALLBACK_FUNCTION, IMPORTER_FUNCTION):
        variables = synth.resources[function]["Properties"]["Environment"]["Variables"]
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == APP_NAMESPACE, function


@pytest.mark.parametrize(("metric", "function", "scenario"), [
    (LOST_EVENTS_METRIC, API_FUNCTION, "lost_event"),
    (SKIPPED_RECORDS_METRIC, AGGREGATOR_FUNCTION, "skipped_record"),
    (FAN_CEILING_METRIC, API_FUNCTION, "fan_ceiling"),
])
def test_the_function_emits_the_metric_its_alarm_watches(synth, metric, function, scenario):
    """An alarm on a metric nobody emits any more would stay green forever: play the failure
    through the function's entry point, with its template environment, and read the EMF it logs."""
    environment = {**OFFLINE_ENV, **synth.resolved_environment(function)}
    parameters = {environment["RELAIS_ADMIN_TOKEN_PARAM"]: ADMIN_TOKEN, environment["RELAIS_SECRET_PARAM"]: "s" * 48,
                  environment["RELAIS_ORIGIN_SECRET_PARAM"]: ORIGIN_SECRET}
    tables = {base: synth.resources[logical_id]["Properties"] for base, logical_id in synth.table_ids().items()}
    inherited = {name: value for name, value in os.environ.items()
                 if not name.startswith(("AWS_", "RELAIS_", "POWERTOOLS_"))}
    result = subprocess.run(
        [sys.executable, "-m", "tests.infra.observed_metrics"], cwd=REPO_ROOT, env=inherited,
        input=json.dumps({"scenario": scenario, "environment": environment, "tables": tables,
                          "parameters": parameters}),
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    emitted = [line for line in map(_json_or_none, result.stdout.splitlines()) if line and "_aws" in line]
    observed = [(directive["Namespace"], metric_name["Name"], {name: line[name] for group in directive["Dimensions"]
                                                              for name in group}, line[metric_name["Name"]])
                for line in emitted for directive in line["_aws"]["CloudWatchMetrics"]
                for metric_name in directive["Metrics"]]
    watched = [(ns, name, dims) for ns, name, dims, _ in observed if name == metric]
    assert watched == [(APP_NAMESPACE, metric, {"service": METRICS_SERVICE})], (result.stdout[-3000:],
                                                                              result.stderr[-3000:])


def _json_or_none(line: str) -> dict | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
