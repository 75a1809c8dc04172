"""The pages' stylesheets and modules (``GET /pages/{name}``, ``widget/pages/``) and the asset allow-list."""
from __future__ import annotations

from pathlib import Path

import pytest

PAGES = Path(__file__).resolve().parents[2] / "widget" / "pages"
PAGE_ASSETS = [("common.css", "text/css"), ("common.js", "application/javascript"),
               ("dashboard.css", "text/css"), ("dashboard.js", "application/javascript"),
               ("fans.js", "application/javascript"), ("imports.js", "application/javascript"),
               ("setup.js", "application/javascript"),
               ("insights.css", "text/css"), ("insights.js", "application/javascript"),
               ("operator.css", "text/css"), ("operator.js", "application/javascript")]


@pytest.mark.parametrize(("name", "media_type"), PAGE_ASSETS)
def test_each_page_asset_is_served_with_its_type_an_etag_and_nosniff_then_revalidates_to_304(api, name, media_type):
    first = api.call("GET", f"/pages/{name}")
    assert first.status_code == 200
    assert first.headers["Content-Type"] == f"{media_type}; charset=utf-8"
    assert first.body.decode() == (PAGES / name).read_text(encoding="utf-8")
    assert first.headers["Cache-Control"] == "no-cache"
    assert first.headers["X-Content-Type-Options"] == "nosniff"
    again = api.call("GET", f"/pages/{name}", headers={"If-None-Match": first.headers["ETag"]})
    assert (again.status_code, again.body) == (304, b"")
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["X-Content-Type-Options"] == "nosniff"


def test_a_changed_page_asset_gets_a_new_etag_and_a_stale_one_gets_the_new_body(api, tmp_path, monkeypatch):
    from chalicelib.web import assets

    (tmp_path / "pages").mkdir()
    script = tmp_path / "pages" / "common.js"
    script.write_text("export const a = 1;\n")
    monkeypatch.setattr(assets, "ROOT", tmp_path)
    monkeypatch.setattr(assets, "_cached", assets._read)  # as on a laptop: read afresh
    before = api.call("GET", "/pages/common.js").headers["ETag"]
    script.write_text("export const a = 2;\n")
    after = api.call("GET", "/pages/common.js", headers={"If-None-Match": before})
    assert after.status_code == 200 and after.headers["ETag"] != before
    assert after.body == b"export const a = 2;\n"


def test_every_file_of_widget_pages_is_served_and_nothing_else_is_listed_under_pages():
    from chalicelib.web import assets

    listed = {name.removeprefix("pages/") for name in assets.SERVED if name.startswith("pages/")}
    assert listed == {path.name for path in PAGES.iterdir()} == {name for name, _ in PAGE_ASSETS}


@pytest.mark.parametrize("name", [
    "..%2Fapp.py", "..%2F..%2Fapp.py", "%2E%2E%2Fdashboard.html", "..", "widget.js", "src%2Fwidget.js",
    "common.JS", "common.js%00", "demo.html", "missing.js",
])
def test_a_name_outside_the_allow_list_is_404_whatever_its_encoding(api, name):
    response = api.call("GET", f"/pages/{name}")
    assert response.status_code == 404
    assert response.data["error"]["code"] == "asset_not_found"


@pytest.mark.parametrize("name", [
    "../app.py", "pages/../../app.py", "pages/../dashboard.html.bak", "/etc/passwd", "src/widget.js", "demo.html",
    "pages", "pages/", "pages/../widget.js/..", "PAGES/common.js", "pages/common.js/", "",
])
def test_the_allow_list_never_opens_a_file_it_does_not_name(name, monkeypatch):
    from chalicelib.web import assets

    opened = []
    monkeypatch.setattr(assets, "_read", lambda asked: opened.append(asked))
    monkeypatch.setattr(assets, "_cached", lambda asked: opened.append(asked))
    assert assets.load(name) is None
    assert opened == []

