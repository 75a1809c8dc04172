"""The local DynamoDB answers programs on this machine, never a web page.

moto's server answers cross-origin requests from any origin by default, so any page open in
the developer's browser could read (and write) the local tables, webhook and Stripe settings
included. Both local servers — the journaling proxy every client talks to, and moto behind
it — refuse with ``403`` every request a browser could have sent on a page's behalf:

- any ``OPTIONS`` (a CORS preflight: refused, so no cross-origin call gets through);
- any request carrying ``Origin`` (browsers send it on every cross-origin request, and on
  same-origin writes) or ``Sec-Fetch-Mode`` (browsers send it on every request);
- any request whose ``Host`` is not a loopback name (a page that re-points its own domain at
  127.0.0.1, DNS rebinding, arrives under its own host name).

No refusal carries an ``Access-Control-*`` header. botocore, ``http.client`` and ``urllib``
send none of these, so the stack's own clients are unaffected.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})
BROWSER_HEADERS = ("origin", "sec-fetch-mode")
REFUSAL = json.dumps({
    "__type": "com.amazonaws.dynamodb.v20120810#AccessDeniedException",
    "message": "the local DynamoDB does not answer web pages",
}).encode()
REFUSAL_TYPE = "application/x-amz-json-1.0"


def _host_name(host: str) -> str:
    if host.startswith("["):
        return host[:host.find("]") + 1].lower()
    return host.rpartition(":")[0].lower() if ":" in host else host.lower()


def from_a_browser(method: str, headers: Mapping[str, str]) -> bool:
    """Whether a request (``headers`` with lower-case names) may come from a web page."""
    if method.upper() == "OPTIONS" or any(name in headers for name in BROWSER_HEADERS):
        return True
    return _host_name(headers.get("host", "127.0.0.1")) not in LOOPBACK_HOSTS


class RefuseBrowsers:
    """WSGI middleware: ``403`` for what :func:`from_a_browser` refuses, the app for the rest."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        headers = {key[5:].replace("_", "-").lower(): str(value)
                   for key, value in environ.items() if key.startswith("HTTP_")}
        if from_a_browser(environ.get("REQUEST_METHOD", ""), headers):
            start_response("403 Forbidden", [("Content-Type", REFUSAL_TYPE), ("Content-Length", str(len(REFUSAL)))])
            return [REFUSAL]
        return self.app(environ, start_response)
