"""What the HTTP API and CloudFront front asks of the request plumbing: binary answers
base64-encoded, short links without the ``$default`` stage, the viewer's address behind
CloudFront."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from chalice.app import CaseInsensitiveMapping

from chalicelib.web.http import BinaryResponse, client_ip, public_base


def _request(headers: dict[str, str], context: dict) -> SimpleNamespace:
    return SimpleNamespace(headers=CaseInsensitiveMapping(headers), context=context)


def test_a_binary_response_is_base64_encoded_and_marked_so_whatever_the_binary_types():
    answer = BinaryResponse(body=b"\x00\x01png", headers={"Content-Type": "image/png"}).to_dict(["image/png"])
    assert (answer["body"], answer["isBase64Encoded"]) == ("AAFwbmc=", True)


def test_a_short_link_on_the_http_apis_own_host_has_no_stage_in_its_path():
    request = _request({"host": "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com"}, {"stage": "$default"})
    assert public_base(request) == "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com"


@pytest.mark.parametrize(("viewer", "expected"), [
    ("203.0.113.7:46532", "203.0.113.7"),
    ("2001:db8::7:46532", "2001:db8::7"),
])
def test_the_visitors_address_behind_cloudfront_is_the_viewers(viewer, expected, monkeypatch):
    monkeypatch.setenv("RELAIS_ORIGIN_SECRET", "origin-secret-of-the-stage")
    request = _request({"cloudfront-viewer-address": viewer, "x-relais-origin": "origin-secret-of-the-stage"},
                       {"identity": {"sourceIp": "130.176.0.1"}})
    assert client_ip(request) == expected


@pytest.mark.parametrize("origin", [None, "", "a-guess", "origin-secret-of-the-stag"])
def test_a_viewer_address_without_the_origin_secret_is_not_believed(origin, monkeypatch):
    """A caller of the API host who sends a new address with each request must not escape the rate limits."""
    monkeypatch.setenv("RELAIS_ORIGIN_SECRET", "origin-secret-of-the-stage")
    sent = {"cloudfront-viewer-address": "203.0.113.7:46532", **({"x-relais-origin": origin} if origin is not None
                                                                   else {})}
    assert client_ip(_request(sent, {"identity": {"sourceIp": "198.51.100.23"}})) == "198.51.100.23"


def test_no_viewer_address_is_believed_where_no_origin_secret_is_configured(monkeypatch):
    monkeypatch.delenv("RELAIS_ORIGIN_SECRET", raising=False)
    sent = {"cloudfront-viewer-address": "203.0.113.7:46532", "x-relais-origin": ""}
    assert client_ip(_request(sent, {"identity": {"sourceIp": "198.51.100.23"}})) == "198.51.100.23"


def test_the_visitors_address_without_cloudfront_is_the_one_api_gateway_saw():
    assert client_ip(_request({}, {"identity": {"sourceIp": "198.51.100.23"}})) == "198.51.100.23"
