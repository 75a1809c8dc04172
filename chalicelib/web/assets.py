"""Static assets shipped in the Lambda package: the widget script, the dashboard and insights
pages, and the pages' stylesheets and modules (``widget/pages/``).

They live in ``widget/`` at the repository root; ``vendor/widget`` links there, and
``chalice package`` copies ``vendor/`` into the package root, so the same relative path
works in ``chalice local`` and on Lambda. Only the files named in ``SERVED`` are ever read:
a name from a URL is looked up there, never joined to a path as it comes.
"""
from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

from chalice import Response

from chalicelib.core import config
from chalicelib.core.errors import not_found

ROOT = Path(__file__).resolve().parents[2] / "widget"
SERVED = frozenset({
    "widget.js", "dashboard.html", "insights.html", "operator.html",
    *(f"pages/{name}" for name in ("common.css", "common.js", "dashboard.css", "dashboard.js", "fans.js",
                                   "imports.js", "setup.js", "insights.css", "insights.js", "operator.css",
                                   "operator.js")),
})
TYPES = {".js": "application/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".html": "text/html; charset=utf-8"}
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff"}
PAGE_HEADERS = {
    # The dashboard holds a campaign's key: no other site may frame it (clickjacking), in
    # browsers that read CSP and in those that only know X-Frame-Options.
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def _page_headers(name: str) -> dict[str, str]:
    """A page's headers. The dashboard uploads a large import file straight to the import
    bucket (a presigned PUT): its page allows any ``*.amazonaws.com`` in ``connect-src``
    (a ``<meta>`` cannot know the stage's bucket), and this header, which browsers enforce
    with it, narrows that to the bucket's own origins."""
    bucket = config.import_bucket()
    if name != "dashboard.html" or not bucket or config.s3_endpoint():
        return PAGE_HEADERS
    origins = f"https://{bucket}.s3.{config.region()}.amazonaws.com https://{bucket}.s3.amazonaws.com"
    return {**PAGE_HEADERS, "Content-Security-Policy": f"frame-ancestors 'none'; connect-src 'self' {origins}"}


@dataclass(frozen=True)
class Asset:
    body: str
    content_type: str
    etag: str


def load(name: str) -> Asset | None:
    """An asset by its path under ``widget/``, if ``SERVED`` names it: cached per container (a
    deploy replaces containers), read afresh on a laptop so that an edited widget shows without
    restarting ``make dev``."""
    if name not in SERVED:
        return None
    return _read(name) if config.is_local() else _cached(name)


def _read(name: str) -> Asset | None:
    path = ROOT / name
    if not path.is_file():
        return None
    body = path.read_text(encoding="utf-8")
    etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'
    return Asset(body, TYPES.get(path.suffix, "application/octet-stream"), etag)


_cached = functools.lru_cache(maxsize=len(SERVED))(_read)


def respond(name: str, cache_control: str, if_none_match: str | None) -> Response:
    """The asset with its ETag, or ``304`` when the browser has it already."""
    asset = load(name)
    if asset is None:
        raise not_found("asset")
    headers: dict[str, str | list[str]] = {"ETag": asset.etag, "Cache-Control": cache_control, **SECURITY_HEADERS,
               **(_page_headers(name) if asset.content_type.startswith("text/html") else {})}
    if if_none_match == asset.etag:
        return Response(body="", status_code=304, headers=headers)
    return Response(body=asset.body, status_code=200, headers={"Content-Type": asset.content_type, **headers})
