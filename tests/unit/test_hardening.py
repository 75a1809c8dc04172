"""What strangers can send a public deployment, in the pure parts: hostile hosts never make
a short link, and no CSV cell starts a spreadsheet formula."""
from __future__ import annotations

from types import SimpleNamespace

import pytest


def _request(headers: dict, context: dict | None = None) -> SimpleNamespace:
    return SimpleNamespace(headers=headers, context=context or {})


@pytest.mark.parametrize("headers", [
    {"host": "evil.example", "x-forwarded-proto": "https"},
    {"host": "127.0.0.1:8000/r/x?", "x-forwarded-proto": "http"},
    {"host": "localhost.evil.example"},
])
def test_without_a_public_url_a_hostile_host_is_400_and_never_a_short_link(headers, monkeypatch):
    from chalicelib.core.errors import ApiError
    from chalicelib.web.http import public_base

    monkeypatch.delenv("RELAIS_PUBLIC_URL", raising=False)
    with pytest.raises(ApiError) as refused:
        public_base(_request(headers))
    assert (refused.value.status, refused.value.code) == (400, "invalid_host")


@pytest.mark.parametrize(("headers", "context", "base"), [
    ({"host": "127.0.0.1:8000", "x-forwarded-proto": "javascript"}, {}, "http://127.0.0.1:8000"),
    ({"host": "evil.example"}, {"domainName": "go.example.org"}, "https://go.example.org"),
    ({"host": "abcdefghij.execute-api.eu-west-1.amazonaws.com"}, {"stage": "api"},
     "https://abcdefghij.execute-api.eu-west-1.amazonaws.com/api"),
])
def test_without_a_public_url_short_links_use_the_host_api_gateway_routed_on(headers, context, base, monkeypatch):
    from chalicelib.web.http import public_base

    monkeypatch.delenv("RELAIS_PUBLIC_URL", raising=False)
    assert public_base(_request(headers, context)) == base


@pytest.mark.parametrize(("value", "written"), [
    ("=1+1", "'=1+1"),
    ("Zoé;=HYPERLINK(\"http://evil\")", "\"Zoé;'=HYPERLINK(\"\"http://evil\"\")\""),
    ("a, -2+3", "\"a, '-2+3\""),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("plain", "plain"),
    (42, "42"),
])
def test_no_csv_cell_starts_a_formula_even_split_on_a_semicolon(value, written):
    from chalicelib.web.downloads import cell

    assert cell(value) == written
