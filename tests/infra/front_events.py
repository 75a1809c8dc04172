"""Invoke the packaged API handler with the events the HTTP API sends, on moto.

``python -m tests.infra.front_events`` reads ``{"package", "environment",
"importer_environment", "tables", "parameters", "api_host"}`` on stdin: the directory where
the Lambda package was unzipped, the API function's and the importer's environments from the
template (references resolved), the template's tables and the SSM parameters the function
reads. It puts the package first on ``sys.path`` (so ``app``, ``chalicelib`` and every
dependency come from the package, as on Lambda), builds that account in moto's in-memory
AWS, plays a fan's journey as HTTP API payload format 1.0 events through ``app.app`` (the
handler the template names) and prints every answer as JSON, keyed by step; then an import,
from the API's queued message through the packaged ``importer`` and ``aggregator`` to the
stats.

A separate process: the package's own copies of ``app`` and ``chalicelib`` must not meet the
repository's, which the other tiers of a ``make test`` session import.
"""
from __future__ import annotations

import json
import os
import sys
from typing import Any

API_ID = "a1b2c3d4e5"
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0 Safari/537.36")


class LambdaContext:
    aws_request_id = "front-events"
    function_name = "relais-prod-APIHandler"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:relais-prod-APIHandler"


def http_api_event(method: str, route: str, path_parameters: dict[str, str] | None = None, *, host: str,
                   headers: dict[str, str] | None = None, query: dict[str, str] | None = None,
                   body: str | None = None, source_ip: str = "198.51.100.23") -> dict[str, Any]:
    """What an HTTP API route ``<method> <route>`` with a Lambda integration in payload format
    1.0 sends: the REST API's proxy shape, header names in lower case, the ``$default`` stage,
    ``resource`` and ``requestContext.resourcePath`` equal to the route's path."""
    path = route.format(**(path_parameters or {}))
    all_headers = {"host": host, "x-forwarded-proto": "https", "x-forwarded-port": "443",
                   "x-forwarded-for": source_ip, **{name.lower(): value for name, value in (headers or {}).items()}}
    return {
        "version": "1.0",
        "resource": route,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {name: [value] for name, value in all_headers.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {name: [value] for name, value in query.items()} if query else None,
        "requestContext": {
            "accountId": "123456789012", "apiId": API_ID, "domainName": host, "domainPrefix": API_ID,
            "extendedRequestId": "front-events", "httpMethod": method,
            "identity": {"accessKey": None, "accountId": None, "caller": None, "cognitoAuthenticationProvider": None,
                         "cognitoAuthenticationType": None, "cognitoIdentityId": None, "cognitoIdentityPoolId": None,
                         "principalOrgId": None, "sourceIp": source_ip, "user": None,
                         "userAgent": all_headers.get("user-agent", ""), "userArn": None},
            "path": path, "protocol": "HTTP/1.1", "requestId": "front-events",
            "requestTime": "29/Nov/2026:14:00:00 +0000", "requestTimeEpoch": 1795960800000,
            "resourceId": None, "resourcePath": route, "stage": "$default",
        },
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "body": body,
        "isBase64Encoded": False,
    }


def _create_table(properties: dict[str, Any]) -> None:
    import boto3

    arguments = {key: properties[key] for key in (
        "TableName", "KeySchema", "AttributeDefinitions", "BillingMode", "GlobalSecondaryIndexes",
        "LocalSecondaryIndexes") if key in properties}
    if "StreamSpecification" in properties:
        arguments["StreamSpecification"] = {"StreamEnabled": True, **properties["StreamSpecification"]}
    boto3.client("dynamodb").create_table(**arguments)


def _journey(handler: Any, host: str, admin_token: str) -> dict[str, dict[str, Any]]:
    """A campaign, a fan, their link followed, their QR code fetched without ``Accept``, a pledge."""
    answers: dict[str, dict[str, Any]] = {}

    def call(step: str, event: dict[str, Any]) -> dict[str, Any]:
        answers[step] = handler(event, LambdaContext())
        return answers[step]

    json_type = {"content-type": "application/json"}
    created = call("campaign", http_api_event(
        "POST", "/v1/campaigns", host=host, headers={**json_type, "authorization": f"Bearer {admin_token}"},
        body=json.dumps({"name": "Front", "target_url": "https://example.org/front"})))
    campaign = json.loads(created["body"])
    campaign_id, key = campaign["campaign"]["id"], campaign["api_key"]
    fan = call("referrer", http_api_event(
        "POST", "/v1/campaigns/{campaign_id}/referrers", {"campaign_id": campaign_id}, host=host, headers=json_type,
        body=json.dumps({"name": "Fan"})))
    code = json.loads(fan["body"])["code"]
    call("redirect", http_api_event("GET", "/r/{code}", {"code": code}, host=host, query={"c": "whatsapp"},
                                    headers={"user-agent": CHROME}))
    call("qr_png_without_accept", http_api_event("GET", "/r/{code}/qr.png", {"code": code}, host=host))
    call("pledge", http_api_event(
        "POST", "/v1/campaigns/{campaign_id}/pledges", {"campaign_id": campaign_id}, host=host,
        headers={**json_type, "authorization": f"Bearer {key}"},
        body=json.dumps({"pledge_id": "order-1", "amount": 2500, "currency": "EUR"})))
    return answers


class ImporterContext(LambdaContext):
    function_name = "relais-prod-Importer"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 900_000


def _import_journey(app: Any, host: str, admin_token: str, importer_environment: dict[str, str]) -> dict[str, Any]:
    """A Kickstarter campaign's fan, a pledges file sent to the API; the message the API
    queued handed to the packaged importer (the ``importer`` function, in its own
    environment); the events stream handed to the packaged aggregator; the job and the stats."""
    import boto3

    from dev.stream_poller import StreamPoller

    answers: dict[str, Any] = {}
    json_type = {"content-type": "application/json"}
    created = json.loads(app.app(http_api_event(
        "POST", "/v1/campaigns", host=host, headers={**json_type, "authorization": f"Bearer {admin_token}"},
        body=json.dumps({"name": "Imported", "target_url": "https://example.org/ks",
                         "platform": {"name": "kickstarter"}})), LambdaContext())["body"])
    campaign_id, key = created["campaign"]["id"], created["api_key"]
    keyed = {"authorization": f"Bearer {key}"}
    fan = json.loads(app.app(http_api_event(
        "POST", "/v1/campaigns/{campaign_id}/referrers", {"campaign_id": campaign_id}, host=host, headers=json_type,
        body=json.dumps({"name": "Ana"})), LambdaContext())["body"])
    text = ("pledge_id,amount,currency,status,occurred_at,tag\n"
            f"k-1,2500,EUR,confirmed,,{fan['platform_tag']}\nk-2,1000,EUR,confirmed,,\n")
    answers["import_started"] = app.app(http_api_event(
        "POST", "/v1/campaigns/{campaign_id}/imports", {"campaign_id": campaign_id}, host=host,
        headers={"content-type": "text/csv", **keyed}, query={"kind": "pledges"}, body=text), LambdaContext())
    queue = boto3.client("sqs").receive_message(QueueUrl=os.environ["RELAIS_IMPORT_QUEUE_URL"],
                                                MaxNumberOfMessages=10)
    records = [{"messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"], "eventSource": "aws:sqs"} for message in queue.get("Messages", [])]
    api_environment = dict(os.environ)
    os.environ.update(importer_environment)
    answers["importer"] = app.importer({"Records": records}, ImporterContext())
    StreamPoller(app.aggregator).drain()
    os.environ.clear()
    os.environ.update(api_environment)
    job = json.loads(answers["import_started"]["body"])["import"]
    answers["import_status"] = app.app(http_api_event(
        "GET", "/v1/campaigns/{campaign_id}/imports/{import_id}", {"campaign_id": campaign_id, "import_id": job},
        host=host, headers=keyed), LambdaContext())
    answers["import_stats"] = app.app(http_api_event(
        "GET", "/v1/campaigns/{campaign_id}/stats", {"campaign_id": campaign_id}, host=host, headers=keyed),
        LambdaContext())
    answers["import_fan"] = fan["code"]
    return answers


def main() -> None:
    request = json.load(sys.stdin)
    package = request["package"]
    sys.path.insert(0, package)
    os.environ.update(request["environment"])
    from moto import mock_aws

    with mock_aws():
        import boto3

        for name, value in request["parameters"].items():
            boto3.client("ssm").put_parameter(Name=name, Value=value, Type="SecureString")
        for properties in request["tables"].values():
            _create_table(properties)
        region = os.environ["AWS_DEFAULT_REGION"]
        boto3.client("s3").create_bucket(Bucket=os.environ["RELAIS_IMPORT_BUCKET"],
                                         CreateBucketConfiguration={"LocationConstraint": region})
        boto3.client("sqs").create_queue(QueueName=os.environ["RELAIS_IMPORT_QUEUE_URL"].rsplit("/", 1)[1])
        import app

        admin_token = request["parameters"][os.environ["RELAIS_ADMIN_TOKEN_PARAM"]]
        answers = _journey(app.app, request["api_host"], admin_token)
        answers.update(_import_journey(app, request["api_host"], admin_token, request["importer_environment"]))
        answers["_modules"] = {name: getattr(sys.modules.get(name), "__file__", None)
                               for name in ("app", "chalicelib", "chalice", "botocore")}
    json.dump(answers, sys.stdout)


if __name__ == "__main__":
    main()
