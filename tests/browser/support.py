"""What the browser tests share: the stack's API, browser contexts kept offline, test pages, axe."""
from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from harness.stack_process import LocalStack

# Headless Chromium says "HeadlessChrome" in its user agent, and Relais rightly counts such
# visits as previews (bots), not clicks. The fans of these tests are people: a desktop Chrome.
DESKTOP_UA = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/156.0.0.0 Safari/537.36")
PHONE_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/156.0.0.0 Mobile Safari/537.36")
LOCAL = ("http://127.0.0.1:", "http://localhost:", "data:", "blob:", "about:")
WIDGET = "[data-relais]"


@dataclass
class Relais:
    stack: LocalStack
    campaign_id: str  # the demo campaign that `make dev` seeds
    key: str
    site_origin: str = ""  # the test creator's site (see CreatorSite), allowed on campaigns made by tests

    @property
    def api(self) -> str:
        return self.stack.api

    @property
    def demo(self) -> str:
        return self.stack.demo

    def get(self, path: str, key: str | None = None, **params) -> Any:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        response = requests.get(f"{self.api}{path}", headers=headers, params=params, timeout=10)
        assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text}"
        return response.json()

    def referrer(self, code: str) -> dict:
        return self.get(f"/v1/referrers/{code}")

    def stats(self, campaign_id: str | None = None, key: str | None = None, **dates) -> dict:
        return self.get(f"/v1/campaigns/{campaign_id or self.campaign_id}/stats", key or self.key, **dates)

    def campaign(self, **overrides) -> tuple[str, str]:
        """A new campaign whose pages live on the test creator's site: ``(id, key)``."""
        body = {"allowed_origins": [self.site_origin, self.demo], "locale": "en", **overrides}
        campaign, key = self.stack.create_campaign(**body)
        return campaign["id"], key

    def pledge(self, campaign_id: str, key: str, amount: int, ref: str | None = None, **extra) -> dict:
        body = {"pledge_id": f"test-{uuid.uuid4()}", "amount": amount, "currency": "EUR", **extra}
        if ref:
            body["ref"] = ref
        response = requests.post(f"{self.api}/v1/campaigns/{campaign_id}/pledges", json=body,
                                 headers={"Authorization": f"Bearer {key}"}, timeout=10)
        assert response.status_code == 201, response.text
        return response.json()


def sign_in(page, relais: Relais, campaign_id: str, key: str) -> None:
    """Open the creator's dashboard of the campaign and sign in with ``key``."""
    page.goto(f"{relais.api}/dashboard#campaign={campaign_id}")
    page.locator("#key").fill(key)
    page.locator("#signin button[type=submit]").click()


def wait_until(check: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:.0f}s for {what}; last saw {value!r}")
        time.sleep(0.2)


def new_context(browser, relais: Relais, **options):
    """A fresh browser profile that reaches only the local stack; outside requests get a stub page."""
    settings = {"user_agent": DESKTOP_UA, "locale": "en-US", "viewport": {"width": 1280, "height": 900}}
    settings.update(options)
    context = browser.new_context(**settings)
    context.outside = []
    context.page_errors = []
    context.console = []

    def stub(route):
        context.outside.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>outside</title>")

    context.route(lambda url: not url.startswith(LOCAL), stub)

    def watch(page):
        page.on("pageerror", lambda error: context.page_errors.append(str(error)))
        page.on("console", lambda message: context.console.append(f"{message.type}: {message.text}"))

    context.on("page", watch)
    return context


class CreatorSite:
    """The creator's own website: a loopback HTTP server (another origin) serving the pages tests write.

    A real server rather than the browser's router, so that pages have a real loopback address,
    as the demo page does (Chromium keeps public pages from reaching loopback addresses). Forms
    posted to it are recorded in ``posts``.
    """

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        self.posts: list[tuple[str, str]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _reply(self, body: str) -> None:
                data = body.encode()
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._reply(site.pages.get(self.path.split("?", 1)[0], ""))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                site.posts.append((self.path, self.rfile.read(length).decode()))
                self._reply("<!doctype html><title>Thanks</title><p>Thanks</p>")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add(self, html: str) -> str:
        path = f"/page-{uuid.uuid4().hex[:10]}"
        self.pages[path] = html
        return f"{self.origin}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def page_with_widget(site: CreatorSite, relais: Relais, campaign_id: str, *, attributes: str = "", head: str = "",
                     before: str = "", after: str = "", lang: str = "en") -> str:
    """A page of the creator's site that embeds the widget (the one-line snippet), and its URL."""
    return site.add(f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>A creator's page</title>
<link rel="icon" href="data:,">{head}</head>
<body><main><h1>A creator's page</h1>{before}
<script src="{relais.api}/widget.js" data-campaign="{campaign_id}" {attributes} async></script>
{after}</main></body></html>""")


def widget_ready(page, timeout: float = 10_000):
    """The widget's card once the campaign data is drawn (or the fallback link, if the API failed)."""
    card = page.locator(f"{WIDGET} section.w:not([aria-busy])")
    card.wait_for(timeout=timeout)
    return card


def shadow_text(page) -> str:
    return page.evaluate(f"() => document.querySelector('{WIDGET}').shadowRoot.textContent")


def axe_violations(page, axe_source: str, include: str | None = None) -> list[str]:
    """Serious and critical axe-core violations on the page (shadow DOM included), one line each."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Run through the DevTools protocol, which the page's Content-Security-Policy does not
        # govern: an inline <script> (add_script_tag) is refused where only 'self' may run.
        page.evaluate(axe_source)
    context = json.dumps({"include": [[include]]} if include else None)
    results = page.evaluate(f"async () => await axe.run({context} || document, {{resultTypes: ['violations']}})")
    found = []
    for violation in results["violations"]:
        if violation["impact"] in ("serious", "critical"):
            targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]][:5]
            found.append(f"{violation['impact']} {violation['id']}: {violation['help']} at {targets}")
    return found


def clicked_ref(relais, code: str) -> str:
    """The ref a friend's click on the fan's link brings to the creator's page."""
    response = requests.get(f"{relais.api}/r/{code}?c=x", headers={"User-Agent": DESKTOP_UA}, allow_redirects=False,
                            timeout=10)
    return parse_qs(urlsplit(response.headers["Location"]).query)["ref"][0]
