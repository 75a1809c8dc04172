"""The local DynamoDB refuses web pages: a page open in the developer's browser must not read
(or write) the local tables, webhook and Stripe settings included. Both servers are tried over
HTTP — the journaling proxy every client talks to, and moto itself behind it."""
import re

import pytest
import requests

LIST_TABLES = {
    "X-Amz-Target": "DynamoDB_20120810.ListTables",
    "Content-Type": "application/x-amz-json-1.0",
    "Authorization": "AWS4-HMAC-SHA256 Credential=local/20200101/us-east-1/dynamodb/aws4_request, "
                     "SignedHeaders=host, Signature=0",
}
PAGE = "http://attacker.example"


def _moto_url(stack) -> str:
    """moto's own address, from the line its server logs when it starts."""
    found = re.search(r"Running on (http://127\.0\.0\.1:\d+)", (stack.data_dir / "dynamodb.log").read_text())
    assert found, "moto's server did not log its address"
    return found.group(1)


@pytest.fixture(params=["proxy", "moto"])
def endpoint(request, stack) -> str:
    return stack.dynamodb if request.param == "proxy" else _moto_url(stack)


def test_the_local_dynamodb_answers_its_clients_without_an_origin(endpoint):
    response = requests.post(endpoint, data=b"{}", headers=LIST_TABLES, timeout=5)
    assert response.status_code == 200 and "TableNames" in response.json()


def test_the_local_dynamodb_refuses_a_request_from_a_web_page_with_403(endpoint):
    response = requests.post(endpoint, data=b"{}", headers={**LIST_TABLES, "Origin": PAGE}, timeout=5)
    assert response.status_code == 403
    assert "TableNames" not in response.text
    assert not any(name.lower().startswith("access-control-") for name in response.headers)


def test_the_local_dynamodb_refuses_a_browser_s_preflight(endpoint):
    response = requests.options(endpoint, headers={"Origin": PAGE, "Access-Control-Request-Method": "POST",
                                                   "Access-Control-Request-Headers": "content-type,x-amz-target"},
                                timeout=5)
    assert response.status_code == 403
    assert not any(name.lower().startswith("access-control-") for name in response.headers)


def test_the_local_dynamodb_refuses_a_page_that_points_its_own_host_name_at_it(endpoint):
    response = requests.post(endpoint, data=b"{}", headers={**LIST_TABLES, "Host": "attacker.example"}, timeout=5)
    assert response.status_code == 403
    assert "TableNames" not in response.text
