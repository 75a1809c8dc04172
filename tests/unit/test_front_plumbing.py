"""What the HTTP API and CloudFront front asks of the request plumbing: a QR PNG whatever the
``Accept`` header, short links without the ``$default`` stage, the viewer's address behind
CloudFront, and QR images on the cached host."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from chalice.app import CaseInsensitiveMapping

from chalicelib.web.http import BinaryResponse, client_ip, public_base

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _request(headers: dict[str, str], context: dict) -> SimpleNamespace:
    return SimpleNamespace(headers=CaseInsensitiveMapping(headers), context=context)


@pytest.mark.parametrize("accept", [None, "*/*", "image/avif,image/webp,image/*,*/*;q=0.8", "text/html"])
def test_a_qr_png_answers_png_bytes_whatever_the_accept_header(api, accept):
    campaign, _ = api.create_campaign()
    fan = api.call("POST", f"/v1/campaigns/{campaign['id']}/referrers", {"name": "Fan"}).data
    png = api.call("GET", f"/r/{fan['code']}/qr.png", headers={"Accept": accept} if accept else {})
    assert (png.status_code, png.headers["Content-Type"], png.body[:8]) == (200, "image/png", PNG_SIGNATURE)


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


def test_qr_images_come_from_the_cached_host_and_draw_the_short_link(api, monkeypatch):
    monkeypatch.setenv("RELAIS_ASSETS_URL", "https://cdn.example.org/")
    monkeypatch.setenv("RELAIS_PUBLIC_URL", "https://go.example.org")
    campaign, _ = api.create_campaign()
    fan = api.call("POST", f"/v1/campaigns/{campaign['id']}/referrers", {"name": "Fan"}).data
    assert fan["short_url"] == f"https://go.example.org/r/{fan['code']}"
    assert fan["qr"] == {"svg": f"https://cdn.example.org/r/{fan['code']}/qr.svg",
                         "png": f"https://cdn.example.org/r/{fan['code']}/qr.png"}
