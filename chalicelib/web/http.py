"""Request/response plumbing shared by every route: JSON bodies, errors, CORS, middleware."""
from __future__ import annotations

import base64
import functools
import hmac
import json
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from chalice import Response

from chalicelib.core import config
from chalicelib.core.errors import ApiError, bad_request, forbidden, unavailable
from chalicelib.core.observability import count, flush_metrics, logger

MAX_BODY_BYTES = 64 * 1024
VIEWER_ADDRESS = "cloudfront-viewer-address"  # "203.0.113.7:46532", "2001:db8::7:46532"
ORIGIN_SECRET = "x-relais-origin"  # added by the cached host to what it forwards
DEFAULT_STAGE = "$default"  # an HTTP API stage that adds nothing to the path


class BinaryResponse(Response):
    """Bytes, sent base64-encoded and marked so, whatever the request's ``Accept``.

    Chalice encodes a body only when its content type is one of ``app.api.binary_types``,
    and then answers 400 to any request whose ``Accept`` names none of them: the REST API's
    rule, which turned base64 back into bytes only for a matching ``Accept``. The HTTP API
    (and ``chalice local``, and ``chalice.test``) decode any answer marked
    ``isBase64Encoded``, and HTTP says a missing ``Accept`` accepts anything: so this
    response marks itself, and app.py keeps its content types out of ``binary_types``.
    """

    def to_dict(self, binary_types: list[str] | None = None) -> dict[str, Any]:
        response = super().to_dict(None)
        body = response["body"]
        raw = body if isinstance(body, bytes) else str(body).encode("utf-8")
        response["body"] = base64.b64encode(raw).decode("ascii")
        response["isBase64Encoded"] = True
        return response


def json_response(status: int, body: Any, headers: dict | None = None) -> Response:
    all_headers: dict[str, str | list[str]] = {"Content-Type": "application/json"}
    all_headers.update(headers or {})
    return Response(body=json.dumps(body, separators=(",", ":"), ensure_ascii=False),
                    status_code=status, headers=all_headers)


def error_response(error: ApiError) -> Response:
    return json_response(error.status, error.body(), {"Cache-Control": "no-store", **error.headers})


@contextmanager
def headers_on_errors(headers: dict) -> Iterator[None]:
    """Errors raised inside carry these headers too (CORS on a public route's 4xx)."""
    try:
        yield
    except ApiError as exc:
        exc.headers.update(headers)
        raise


def read_json(request: Any) -> Any:
    """The parsed JSON body, whatever the content type (``sendBeacon`` posts text/plain)."""
    raw = request.raw_body or b""
    if not raw.strip():
        raise bad_request("invalid_json", "A JSON body is required.")
    try:
        body = json.loads(raw)
        json.dumps(body, ensure_ascii=False).encode("utf-8")  # lone surrogates ("\ud800") are not text
        return body
    except (ValueError, UnicodeError, RecursionError):
        raise bad_request("invalid_json", "The body is not valid JSON text.") from None


def header(request: Any, name: str) -> str | None:
    return (request.headers or {}).get(name.lower())


def prefers_representation(request: Any) -> bool:
    """Whether the request's ``Prefer`` header asks for ``return=representation`` (RFC 7240):
    a body where the route otherwise answers ``204`` with none."""
    for preference in (header(request, "prefer") or "").split(","):
        name, _, value = preference.partition(";")[0].partition("=")
        if name.strip().lower() == "return" and value.strip().strip('"').lower() == "representation":
            return True
    return False


def cors_headers(request: Any, allowed_origins: list[str], methods: str = "GET, POST, OPTIONS") -> dict:
    """CORS headers for a request whose ``Origin`` is one of the campaign's; else none."""
    origin = header(request, "origin")
    headers = {"Vary": "Origin"}
    if origin and origin in allowed_origins:
        headers.update({
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": methods,
            "Access-Control-Allow-Headers": "Content-Type, Authorization",
            "Access-Control-Max-Age": "600",
        })
    return headers


def check_write_origin(request: Any, allowed_origins: list[str]) -> None:
    """A browser write from an origin outside the campaign's list is refused."""
    origin = header(request, "origin")
    if origin and origin not in allowed_origins:
        raise forbidden("This origin is not allowed to write to this campaign.")


def _normalise_chalice_error(response: Response) -> Response:
    """Chalice's own errors (bad JSON, 404, 415, unhandled) get our envelope."""
    body = response.body
    if isinstance(body, dict) and set(body) == {"Code", "Message"}:
        status = response.status_code
        if status >= 500:
            count("UnhandledErrors")
            return error_response(ApiError(500, "internal_error", "Something went wrong on our side."))
        code = "".join("_" + c.lower() if c.isupper() else c for c in body["Code"]).lstrip("_")
        error = ApiError(status, code.replace("_error", "") or "bad_request", str(body["Message"])[:300])
        error.headers = {k: str(v) for k, v in response.headers.items() if k.lower() == "allow"}
        return error_response(error)
    return response


def middleware(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Every HTTP request: request id in logs, 64 KiB limit, error envelope, metrics flush."""
    context = event.context or {}
    logger.append_keys(request_id=context.get("requestId"), path=event.path, method=event.method)
    try:
        if len(event.raw_body or b"") > MAX_BODY_BYTES:
            return error_response(ApiError(413, "payload_too_large", "Bodies are limited to 64 KiB."))
        try:
            response = _normalise_chalice_error(get_response(event))
        except ApiError as exc:
            response = error_response(exc)
        if event.method == "HEAD":
            response.body = ""
        return response
    finally:
        flush_metrics()


_LOOPBACK_HOST = re.compile(r"(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?")
_API_GATEWAY_HOST = re.compile(r"[a-z0-9]{10}\.execute-api\.[a-z]{2}(-[a-z]+)+-\d\.amazonaws\.com")


def public_base(request: Any) -> str:
    """Where short links point: ``RELAIS_PUBLIC_URL``, else the host this request reached.

    Never from what a client may write: ``X-Forwarded-Proto`` is not read, and the ``Host``
    header only names a loopback address (``chalice local``) or API Gateway's own host
    name; behind API Gateway its ``requestContext.domainName`` (the host it routed on) wins.
    Any other host is ``400 invalid_host``: a short link or QR code (cached for a year) is
    never built from a hostile header.
    """
    from chalicelib.core.urls import is_public_hostname

    configured = config.public_url()
    if configured:
        return configured
    context = request.context or {}
    stage = context.get("stage")
    host = context.get("domainName") or header(request, "host") or "127.0.0.1"  # no Host at all: HTTP/1.0, tests
    if _API_GATEWAY_HOST.fullmatch(host):
        return f"https://{host}" + (f"/{stage}" if stage and stage != DEFAULT_STAGE else "")
    if context.get("domainName") and is_public_hostname(host):  # a custom domain API Gateway routed on
        return f"https://{host}"
    if _LOOPBACK_HOST.fullmatch(host):
        return f"http://{host}"
    raise bad_request("invalid_host", "This host is not one the API serves; set RELAIS_PUBLIC_URL.")


def client_ip(request: Any) -> str:
    """The visitor's address: for the daily visitor hash and the per-visitor rate limits.

    Through the cached host (CloudFront, which the widget's own calls take), API Gateway
    sees CloudFront's address; the viewer's comes in ``CloudFront-Viewer-Address``. Anyone
    calling the API directly can send that header too, and a new address per request would
    escape every rate limit: it is believed only beside ``X-Relais-Origin`` holding the
    origin secret, which CloudFront adds to what it forwards (``infra/front.py``).
    """
    viewer = header(request, VIEWER_ADDRESS)
    if viewer and ":" in viewer and _from_the_cached_host(request):
        return viewer.rpartition(":")[0]
    identity = (request.context or {}).get("identity") or {}
    return identity.get("sourceIp") or ""


def _from_the_cached_host(request: Any) -> bool:
    sent = header(request, ORIGIN_SECRET)
    if not sent:
        return False
    expected = config.origin_secret()
    return expected is not None and hmac.compare_digest(sent.encode(), expected.encode())


RETRYABLE = frozenset({
    "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
    "InternalServerError", "ServiceUnavailable", "TransactionConflictException",
})


def _is_outage(exc: BaseException | None) -> bool:
    """A DynamoDB timeout, connection failure or throttle, raised as it is or as the cause of another error."""
    while exc is not None:
        if isinstance(exc, BotoCoreError):
            return True
        if isinstance(exc, ClientError):
            return exc.response.get("Error", {}).get("Code") in RETRYABLE
        exc = getattr(exc, "cause", None) or exc.__cause__
    return False


def outages_as_503(view: Callable) -> Callable:
    """A view whose DynamoDB outages answer ``503 unavailable`` (retry later), not 500."""
    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except Exception as exc:
            if isinstance(exc, ApiError) or not _is_outage(exc):
                raise
            count("DatabaseUnavailable")
            logger.warning("database unavailable", extra={"error": repr(exc)[:300]})
            raise unavailable() from exc
    return guarded


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer`` header, or ``None``."""
    value = headers.get("authorization") or ""
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
