"""Where a webhook may be sent, and sending it there without being turned into an SSRF proxy.

A creator chooses the URL, so a careless check would let anyone with a campaign key make
Relais call its own network: the cloud's metadata service (``169.254.169.254``), a VPC
address, a loopback port. The rules:

- **The URL** (checked when it is set, and again before each attempt): in every
  deployed stage, whatever its name, an absolute ``https`` URL whose host is a public DNS
  name, under the same rules as a campaign's ``target_url`` (no IP literal, no user-info,
  no port but 443). A local process (``RELAIS_LOCAL=1``: ``make dev``, tests; never a
  stage's name) also accepts ``http(s)://127.0.0.1`` and ``localhost``, any port.
- **Every address the name resolves to** must be public (not private, loopback,
  link-local, CGNAT, multicast, reserved or unspecified, and not an IPv6 form embedding
  such an IPv4 address); ``localhost``/``127.0.0.1`` in a local process must be loopback.
- **The connection goes to the checked address**, with the URL's host name in ``Host`` and
  in TLS (SNI and certificate checks): a DNS answer that changes between the check and the
  connection (rebinding) is never followed.
- **Redirects are not followed**: a 3xx is a failed attempt.
- **One deadline** bounds connecting, sending and reading; at most a few KB of the answer
  are read, and only a short excerpt is kept.
"""
from __future__ import annotations

import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from chalicelib.core.urls import safe_target_url

LOCAL_HOSTS = ("127.0.0.1", "localhost")
EXCERPT_CHARS = 200
MAX_READ = 16 * 1024
USER_AGENT = "Relais-Webhooks/1.0"
_LOCAL_URL = re.compile(r"^https?://(?:127\.0\.0\.1|localhost)(?::\d{1,5})?(?:[/?#][!#-&(-;=?-\[\]_a-z~A-Z]*)?$")
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))

Resolver = Callable[..., list[tuple[Any, ...]]]
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(Exception):
    """A URL or an address that a delivery must not reach; the message says why."""


def _local_url(url: str) -> bool:
    if not _LOCAL_URL.match(url):
        return False
    try:
        port = urlsplit(url).port
    except ValueError:
        return False
    return port is None or 1 <= port <= 65535


def allowed_url(url: object, local: bool) -> str | None:
    """``url`` if this stage accepts it as a webhook endpoint (its form only), else ``None``."""
    if not isinstance(url, str):
        return None
    if safe_target_url(url) is not None:
        return url
    return url if local and _local_url(url) else None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, Teredo, NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if any(address in network for network in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public_address(address: Address) -> bool:
    """Routable on the Internet and nobody's internal network."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None and not is_public_address(embedded):
            return False
        if address.is_site_local:
            return False
    return address.is_global and not (address.is_private or address.is_loopback or address.is_link_local
                                      or address.is_multicast or address.is_reserved or address.is_unspecified)


@dataclass(frozen=True)
class Target:
    """A checked endpoint: where to connect (``address``) and what to call it (``host``)."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


def resolve(url: str, local: bool, resolver: Resolver | None = None) -> Target:
    """Check ``url`` and every address its host resolves to; ``Refused`` says why not."""
    if allowed_url(url, local) is None:
        raise Refused("this URL is not allowed for webhooks here (https on a public host name)")
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    lookup = resolver or socket.getaddrinfo
    try:
        answers = lookup(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise Refused(f"{host} does not resolve ({type(exc).__name__})") from None
    addresses = list(dict.fromkeys(str(answer[4][0]).split("%")[0] for answer in answers))
    if not addresses:
        raise Refused(f"{host} does not resolve")
    loopback_only = local and host in LOCAL_HOSTS
    for text in addresses:
        address = ipaddress.ip_address(text)
        if not (address.is_loopback if loopback_only else is_public_address(address)):
            raise Refused(f"{host} resolves to {address}, which is not a public address")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port, path, addresses[0])


@dataclass(frozen=True)
class Answer:
    """What came back: a status (``None``: none in time) and the start of the body."""

    status: int | None
    excerpt: str | None = None
    error: str | None = None


def _request(target: Target, body: bytes, headers: dict[str, str]) -> bytes:
    default_port = 443 if target.scheme == "https" else 80
    host = target.host if target.port == default_port else f"{target.host}:{target.port}"
    lines = [f"POST {target.path} HTTP/1.1", f"Host: {host}", f"User-Agent: {USER_AGENT}",
             "Content-Type: application/json", f"Content-Length: {len(body)}", "Connection: close",
             *(f"{name}: {value}" for name, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + body


def _complete(buffer: bytes) -> bool:
    """Enough of the answer: its head and the excerpt's worth of body (or all of it)."""
    head, found, rest = buffer.partition(b"\r\n\r\n")
    if not found:
        return False
    length = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
    wanted = min(int(length.group(1)), EXCERPT_CHARS * 4) if length else EXCERPT_CHARS * 4
    return len(rest) >= wanted or rest.endswith(b"0\r\n\r\n")


def _parse(buffer: bytes) -> Answer:
    head, _, rest = buffer.partition(b"\r\n\r\n")
    match = re.match(rb"HTTP/\d(?:\.\d)? (\d{3})", head)
    if match is None:
        return Answer(None, error="not an HTTP answer")
    if re.search(rb"(?im)^transfer-encoding:\s*chunked", head):
        size, _, data = rest.partition(b"\r\n")
        try:
            rest = data[:int(size.split(b";")[0] or b"0", 16)]
        except ValueError:
            rest = b""
    excerpt = rest.decode("utf-8", "replace")[:EXCERPT_CHARS] or None
    status = int(match.group(1))
    error = "redirects are not followed" if 300 <= status < 400 else None
    return Answer(status, excerpt, error)


def post(target: Target, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """POST ``body`` to the checked address, within ``timeout`` seconds in all."""
    deadline = time.monotonic() + timeout

    def remaining() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out")
        return left

    buffer = b""
    try:
        connection = socket.create_connection((target.address, target.port), timeout=remaining())
        with connection:
            sock: socket.socket = connection
            if target.scheme == "https":
                sock.settimeout(remaining())
                sock = ssl.create_default_context().wrap_socket(connection, server_hostname=target.host)
            sock.settimeout(remaining())
            sock.sendall(_request(target, body, headers))
            while len(buffer) < MAX_READ and not _complete(buffer):
                sock.settimeout(remaining())
                chunk = sock.recv(4096)
                if not chunk:
                    break
                buffer += chunk
    except (OSError, ssl.SSLError) as exc:
        if b"\r\n\r\n" not in buffer:
            reason = "timed out" if isinstance(exc, TimeoutError | socket.timeout) else f"{type(exc).__name__}: {exc}"
            return Answer(None, error=reason[:EXCERPT_CHARS])
    return _parse(buffer)
