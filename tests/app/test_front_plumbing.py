"""What the HTTP API and CloudFront front asks of the app (app tier): a QR PNG whatever the
``Accept`` header, and QR images on the cached host. The request plumbing alone (binary
answers, the stage in short links, the viewer's address): ``tests/unit/test_front_plumbing.py``."""
from __future__ import annotations

import pytest

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("accept", [None, "*/*", "image/avif,image/webp,image/*,*/*;q=0.8", "text/html"])
def test_a_qr_png_answers_png_bytes_whatever_the_accept_header(api, accept):
    campaign, _ = api.create_campaign()
    fan = api.call("POST", f"/v1/campaigns/{campaign['id']}/referrers", {"name": "Fan"}).data
    png = api.call("GET", f"/r/{fan['code']}/qr.png", headers={"Accept": accept} if accept else {})
    assert (png.status_code, png.headers["Content-Type"], png.body[:8]) == (200, "image/png", PNG_SIGNATURE)


def test_qr_images_come_from_the_cached_host_and_draw_the_short_link(api, monkeypatch):
    monkeypatch.setenv("RELAIS_ASSETS_URL", "https://cdn.example.org/")
    monkeypatch.setenv("RELAIS_PUBLIC_URL", "https://go.example.org")
    campaign, _ = api.create_campaign()
    fan = api.call("POST", f"/v1/campaigns/{campaign['id']}/referrers", {"name": "Fan"}).data
    assert fan["short_url"] == f"https://go.example.org/r/{fan['code']}"
    assert fan["qr"] == {"svg": f"https://cdn.example.org/r/{fan['code']}/qr.svg",
                         "png": f"https://cdn.example.org/r/{fan['code']}/qr.png"}

