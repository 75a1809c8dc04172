"""Invoke the packaged API handler with the events the HTTP API sends, on moto.

``python -m tests.infra.front_events`` reads ``{"package", "environment", "tables",
"parameters", "api_host"}`` on stdin: the directory where the Lambda package was unzipped,
the API function's environment from the template (references resolved), the template's
tables and the SSM parameters the function reads. It puts the package first on
``sys.path`` (so ``app``, ``chalicelib`` and every dependency come from the package, as on
Lambda), builds that account in moto's in-memory AWS, plays a fan's journey as HTTP API
payload format 1.0 events through ``app.app`` (the handler the template names) and prints
every answer as JSON, keyed by step.

A separate process: the package's own copies of ``app`` and ``chalicelib`` must not meet
the repository's, which the other tiers of a ``make test`` session import.
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
        import app

        answers = _journey(app.app, request["api_host"], request["parameters"][os.environ["RELAIS_ADMIN_TOKEN_PARAM"]])
        answers["_modules"] = {name: getattr(sys.modules.get(name), "__file__", None)
                               for name in ("app", "chalicelib", "chalice", "botocore")}
    json.dump(answers, sys.stdout)


if __name__ == "__main__":
    main()
