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
from typing import Any
from urllib.parse import parse_qs

PAGE = Path(__file__).resolve().parent.parent / "widget" / "demo.html"
THANKS = '<div class="thanks" role="status">Merci ! Votre contribution est enregistrée.</div>'
ERROR = '<div class="thanks error" role="status">La contribution n\'a pas pu être enregistrée.</div>'


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
        query = parse_qs(self.path.partition("?")[2])
        if "merci" in query or "erreur" in query:  # after a form post without JavaScript
            message = THANKS if "merci" in query else ERROR
            page = page.replace('<div class="thanks" role="status" hidden></div>', message)
        self._send(200, page.encode(), "text/html; charset=utf-8")

    def do_POST(self) -> None:
        """A pledge, as a creator's server would record it: JSON from the page's script, or a plain form post."""
        if self.path != "/pledge":
            self._send(404, b"not found", "text/plain")
            return
        length = min(int(self.headers.get("Content-Length") or 0), 4096)
        raw = self.rfile.read(length)
        is_form = (self.headers.get("Content-Type") or "").startswith("application/x-www-form-urlencoded")
        try:
            if is_form:  # no JavaScript: amount in euros, the widget's hidden relais_ref field
                fields = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                form: dict[str, Any] = {"amount": round(float(fields.get("amount", "0")) * 100),
                                        "ref": fields.get("relais_ref")}
            else:
                form = json.loads(raw or b"{}")
            amount = int(form.get("amount", 0))
        except (ValueError, TypeError, AttributeError):
            self._send(400, b'{"error": {"code": "bad_pledge", "message": "amount must be a whole number of cents."}}',
                       "application/json")
            return
        ref = form.get("ref") or form.get("relais_ref")
        status, body = self._record(amount, str(ref)[:128] if ref else None)
        if is_form:
            self.send_response(303)
            self.send_header("Location", "/?merci=1#contribuer" if status < 300 else "/?erreur=1#contribuer")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self._send(status, body, "application/json")

    def _record(self, amount: int, ref: str | None) -> tuple[int, bytes]:
        """``POST /v1/campaigns/{id}/pledges`` with the campaign key, which never reaches the browser."""
        pledge = {"pledge_id": f"demo-{uuid.uuid4()}", "amount": amount, "currency": "EUR"}
        if ref:
            pledge["ref"] = ref
        request = urllib.request.Request(
            f"{os.environ['RELAIS_API_URL']}/v1/campaigns/{os.environ['RELAIS_DEMO_CAMPAIGN']}/pledges",
            data=json.dumps(pledge).encode(), method="POST",
            headers={"Authorization": f"Bearer {os.environ['RELAIS_DEMO_KEY']}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
        except OSError:
            return 502, b'{"error": {"code": "api_unreachable", "message": "The Relais API did not answer."}}'


def main() -> None:
    port = int(os.environ.get("RELAIS_DEMO_PORT", "8001"))
    ThreadingHTTPServer(("127.0.0.1", port), DemoHandler).serve_forever()


if __name__ == "__main__":
    main()
