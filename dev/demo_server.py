"""The demo crowdfunding page of ``make dev``, on its own origin (``RELAIS_DEMO_PORT``).

It serves ``widget/demo.html`` with the API URL and demo campaign filled in, and a tiny
server-side pledge helper (``POST /pledge``) that records a pledge with the campaign key,
as a creator's own server would: the key never reaches the browser.
"""
from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PAGE = Path(__file__).resolve().parent.parent / "widget" / "demo.html"


class DemoHandler(BaseHTTPRequestHandler):
    server_version = "RelaisDemo/1"

    def log_message(self, format: str, *args) -> None:  # keep make dev's console readable
        pass

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] not in ("/", "/index.html"):
            self._send(404, b"not found", "text/plain")
            return
        page = PAGE.read_text() if PAGE.exists() else "<!doctype html><title>Relais demo</title>"
        page = page.replace("{{API_URL}}", os.environ["RELAIS_API_URL"]).replace(
            "{{CAMPAIGN_ID}}", os.environ["RELAIS_DEMO_CAMPAIGN"])
        self._send(200, page.encode(), "text/html; charset=utf-8")

    def do_POST(self) -> None:
        if self.path != "/pledge":
            self._send(404, b"not found", "text/plain")
            return
        length = min(int(self.headers.get("Content-Length") or 0), 4096)
        try:
            form = json.loads(self.rfile.read(length) or b"{}")
            amount = int(form.get("amount", 0))
        except (ValueError, TypeError):
            self._send(400, b'{"error": "bad pledge"}', "application/json")
            return
        pledge = {"pledge_id": f"demo-{uuid.uuid4()}", "amount": amount, "currency": "EUR"}
        if form.get("ref"):
            pledge["ref"] = str(form["ref"])[:128]
        request = urllib.request.Request(
            f"{os.environ['RELAIS_API_URL']}/v1/campaigns/{os.environ['RELAIS_DEMO_CAMPAIGN']}/pledges",
            data=json.dumps(pledge).encode(), method="POST",
            headers={"Authorization": f"Bearer {os.environ['RELAIS_DEMO_KEY']}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                self._send(response.status, response.read(), "application/json")
        except urllib.error.HTTPError as exc:
            self._send(exc.code, exc.read(), "application/json")


def main() -> None:
    port = int(os.environ.get("RELAIS_DEMO_PORT", "8001"))
    ThreadingHTTPServer(("127.0.0.1", port), DemoHandler).serve_forever()


if __name__ == "__main__":
    main()
