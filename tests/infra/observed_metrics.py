"""Run the synthesized functions' code on moto and print the metrics it emits.

``python -m tests.infra.observed_metrics`` reads ``{"scenario", "environment", "tables",
"parameters"}`` on stdin: the environment a function gets in the template (references
replaced by the names they resolve to), the template's tables and the SSM parameters the
functions read. It builds that account in moto's in-memory AWS, plays the scenario
through the function's entry point, and the Powertools metrics the code flushes come out
on stdout as EMF lines, exactly as CloudWatch would ingest them from the function's log.

A separate process, because ``app`` and Powertools keep module state (the metrics
namespace is fixed on first use) that other tiers of a ``make test`` session set differently.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from typing import Any

POISON_RECORD = {"eventID": "poison", "eventName": "INSERT", "eventSource": "aws:dynamodb",
                 "dynamodb": {"SequenceNumber": "1", "NewImage": "not an image"}}
"""A stream record the aggregator cannot use: its new image is not a map of attributes."""
ADMIN_TOKEN = "observed-metrics-admin-token"  # exists only in moto
ORIGIN_SECRET = "observed-metrics-origin-secret"  # exists only in moto


def _create_table(properties: dict[str, Any]) -> None:
    import boto3

    arguments = {key: properties[key] for key in (
        "TableName", "KeySchema", "AttributeDefinitions", "BillingMode", "GlobalSecondaryIndexes",
        "LocalSecondaryIndexes") if key in properties}
    if "StreamSpecification" in properties:
        arguments["StreamSpecification"] = {"StreamEnabled": True, **properties["StreamSpecification"]}
    boto3.client("dynamodb").create_table(**arguments)


def _lost_event(tables: dict[str, str]) -> None:
    """A redirect whose event write fails, with a fallback queue that is not there either."""
    import boto3
    from chalice.test import Client

    from app import app

    # A project directory without .chalice/config.json: the test client then adds no
    # variables of its own (it would layer that file's over the process's, as ``chalice
    # local`` does), and the function sees the template's environment, as on Lambda.
    with tempfile.TemporaryDirectory() as no_project, Client(app, project_dir=no_project) as client:
        created = client.http.post("/v1/campaigns", headers={
            "Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"},
            body=json.dumps({"name": "Observed", "target_url": "https://example.org/observed"}))
        assert created.status_code == 201, created.body
        campaign = json.loads(created.body)["campaign"]["id"]
        fan = client.http.post(f"/v1/campaigns/{campaign}/referrers", headers={"Content-Type": "application/json"},
                               body=json.dumps({"name": "Observer"}))
        assert fan.status_code == 201, fan.body
        code = json.loads(fan.body)["code"]
        boto3.client("dynamodb").delete_table(TableName=tables["events"])
        visit = client.http.get(f"/r/{code}", headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"})
        assert visit.status_code == 302, visit.body


def _fan_ceiling() -> None:
    """New fans from ever new networks, through the cached host, until the campaign's ceiling
    refuses one (a fixed window may turn over on the way: then the next one fills up). The
    ceiling is lowered to 2 per 10 minutes: the shipped 60 costs 60 new fans, half a minute
    on moto, to prove the same metric line."""
    from chalice.test import Client

    from app import app
    from chalicelib.core.config import fan_ceiling

    os.environ["RELAIS_FAN_CEILING"] = "2/600"
    with tempfile.TemporaryDirectory() as no_project, Client(app, project_dir=no_project) as client:
        created = client.http.post("/v1/campaigns", headers={
            "Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"},
            body=json.dumps({"name": "Flooded", "target_url": "https://example.org/flooded"}))
        assert created.status_code == 201, created.body
        campaign = json.loads(created.body)["campaign"]["id"]
        for n in range(3 * fan_ceiling()[0]):
            fan = client.http.post(f"/v1/campaigns/{campaign}/referrers", body=json.dumps({"name": f"Fan {n}"}),
                                   headers={"Content-Type": "application/json", "X-Relais-Origin": ORIGIN_SECRET,
                                            "CloudFront-Viewer-Address": f"2001:db8:{n:x}::1:40000"})
            if fan.status_code == 429:
                assert json.loads(fan.body)["error"]["code"] == "rate_limited", fan.body
                return
            assert fan.status_code == 201, fan.body
        raise AssertionError("no new fan was refused")


def _skipped_record() -> None:
    from app import aggregator

    aggregator({"Records": [POISON_RECORD]}, None)


def main() -> None:
    request = json.load(sys.stdin)
    os.environ.update(request["environment"])
    from moto import mock_aws

    with mock_aws():
        import boto3

        for name, value in request["parameters"].items():
            boto3.client("ssm").put_parameter(Name=name, Value=value, Type="SecureString")
        for properties in request["tables"].values():
            _create_table(properties)
        if request["scenario"] == "lost_event":
            _lost_event({base: properties["TableName"] for base, properties in request["tables"].items()})
        elif request["scenario"] == "fan_ceiling":
            _fan_ceiling()
        else:
            _skipped_record()


if __name__ == "__main__":
    main()
