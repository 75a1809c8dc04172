"""Validation of the URLs a creator gives us: the redirect target and allowed origins.

The redirect sends fans to ``target_url``; a lax check turns Relais into an open
redirect. We accept only what a browser would read the same way we do: an absolute
``https`` URL with a public DNS host name, nothing ambiguous.
"""
from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TLD = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")
_FORBIDDEN_CHARS = re.compile(r"[\x00-\x20\x7f-\x9f\\<>\"'`{}|^]")
_LOCAL_HOSTS = ("localhost", "127.0.0.1")


def _is_ip_literal(host: str) -> bool:
    candidate = host.strip("[]")
    try:
        ipaddress.ip_address(candidate)
        return True
    except ValueError:
        pass
    # Integer, octal and hex forms (http://2130706433/, 0x7f.1) that browsers resolve as IPs.
    return bool(re.fullmatch(r"(0x[0-9a-f]+|\d+)(\.(0x[0-9a-f]+|\d+)){0,3}\.?", candidate))


def is_public_hostname(host: str) -> bool:
    """A DNS name with a letter TLD, not an IP literal, not ``localhost``."""
    if not host or len(host) > 253 or host != host.lower() or _is_ip_literal(host):
        return False
    labels = host.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return False
    return bool(_TLD.match(labels[-1])) and labels[-1] not in ("localhost", "local", "internal", "test", "invalid")


def safe_target_url(url: object) -> str | None:
    """The URL if it is a safe redirect target, else ``None``."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        return None
    if _FORBIDDEN_CHARS.search(url) or not url.isascii():
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme != "https" or not url.startswith("https://") or parts.username is not None:
        return None
    if "@" in parts.netloc or port not in (None, 443):
        return None
    host = parts.hostname or ""
    if not is_public_hostname(host) or parts.netloc.lower() not in (host, f"{host}:443"):
        return None
    return url


DEFAULT_PORTS = {"https": 443, "http": 80}


def origin_of(url: str) -> str:
    """The origin a browser sends for pages at ``url``: without the scheme's default port
    (``https://host:443/x`` is ``https://host``, which is what the ``Origin`` header says)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port
    explicit = port is not None and port != DEFAULT_PORTS.get(parts.scheme)
    return f"{parts.scheme}://{host}" + (f":{port}" if explicit else "")


def safe_origin(origin: object) -> str | None:
    """A browser origin (``scheme://host[:port]``): https with a public host, or http on localhost."""
    if not isinstance(origin, str) or len(origin) > 300 or _FORBIDDEN_CHARS.search(origin):
        return None
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:
        return None
    if parts.path or parts.query or parts.fragment or parts.username is not None or "@" in parts.netloc:
        return None
    host = parts.hostname or ""
    if origin != f"{parts.scheme}://{host}" + (f":{port}" if port is not None else ""):
        return None
    if port == DEFAULT_PORTS.get(parts.scheme):
        origin = f"{parts.scheme}://{host}"  # browsers never send a default port: this one would never match
    if parts.scheme == "https" and is_public_hostname(host):
        return origin
    if parts.scheme in ("http", "https") and host in _LOCAL_HOSTS:
        return origin
    return None
