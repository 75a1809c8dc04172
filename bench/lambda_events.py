"""API Gateway proxy events, as Lambda hands them to the Chalice handler."""
from __future__ import annotations


class FakeContext:
    aws_request_id = "bench-request"
    function_name = "relais-api"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:relais-api"


def redirect_event(code: str, ip: str, user_agent: str, method: str = "GET", channel: str = "x") -> dict:
    return {
        "resource": "/r/{code}",
        "path": f"/r/{code}",
        "httpMethod": method,
        "headers": {"user-agent": user_agent, "host": "go.example.org", "x-forwarded-proto": "https"},
        "multiValueHeaders": {},
        "queryStringParameters": {"c": channel},
        "multiValueQueryStringParameters": {"c": [channel]},
        "pathParameters": {"code": code},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/r/{code}", "httpMethod": method, "path": f"/api/r/{code}",
            "identity": {"sourceIp": ip}, "requestId": "bench", "stage": "api", "apiId": "bench",
        },
        "body": None,
        "isBase64Encoded": False,
    }


def api_event(method: str, resource: str, path_parameters: dict, body: str | None = None,
              headers: dict | None = None, query: dict | None = None) -> dict:
    """Any API Gateway proxy event for a Chalice route."""
    path = resource.format(**path_parameters)
    return {
        "resource": resource, "path": path, "httpMethod": method,
        "headers": {"host": "go.example.org", "content-type": "application/json", **(headers or {})},
        "multiValueHeaders": {},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path_parameters, "stageVariables": None,
        "requestContext": {"resourcePath": resource, "httpMethod": method, "path": f"/api{path}",
                           "identity": {"sourceIp": "198.51.100.7"}, "requestId": "bench", "stage": "api",
                           "apiId": "bench"},
        "body": body, "isBase64Encoded": False,
    }
