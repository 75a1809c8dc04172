"""Browser tier: Playwright drives Debian's Chromium against the real local stack.

The stack (moto server, ``chalice local``, the demo page) runs as in ``make dev``, with its
stream poller on, so counts appear a moment after each action, as they would on AWS: tests
wait for them with a bounded poll. Chromium comes from Debian (``scripts/ensure-browser.sh``,
run by ``make test``); if it is missing these tests fail, loudly, rather than skip.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from dev.processes import ROOT
from harness.stack_process import LocalStack, start_stack, stop_stack
from tests.browser import support

CHROMIUM = os.environ.get("RELAIS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
README_IMAGES = ROOT / "docs" / "img"


@pytest.fixture(scope="session")
def site() -> Iterator[support.CreatorSite]:
    """The creator's own website, on another loopback origin, serving the pages tests write."""
    running = support.CreatorSite()
    yield running
    running.close()


@pytest.fixture(scope="session")
def relais(tmp_path_factory, site) -> Iterator[support.Relais]:
    """The local stack with its poller on, plus the seeded demo campaign's id and key."""
    running: LocalStack = start_stack(tmp_path_factory.mktemp("relais-browser"), poller="on")
    try:
        demo = json.loads((running.data_dir / "demo-campaign.json").read_text())
        yield support.Relais(running, demo["id"], demo["api_key"], site.origin)
    finally:
        stop_stack(running)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: run scripts/ensure-browser.sh (make test does), "
                    "or point RELAIS_CHROMIUM at a Chromium binary.", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing ({AXE}): run `npm ci` at the repository root (make test does).",
                    pytrace=False)
    return AXE.read_text()


@pytest.fixture
def open_context(browser, relais):
    """``open_context(**options)``: a fresh browser profile (own storage) that cannot reach the Internet.

    Requests to anything but the local stack are answered by a stub page and recorded in
    ``context.outside``; page errors of every page are recorded in ``context.page_errors``.
    """
    contexts = []

    def make(**options):
        context = support.new_context(browser, relais, **options)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def context(open_context):
    return open_context()


@pytest.fixture
def screenshots(tmp_path) -> Path:
    """Where a test writes its pictures: the README's ``docs/img/`` under ``make screenshots``
    (``RELAIS_SCREENSHOTS=1``), else a temporary folder, so that ``make test`` changes no file."""
    if os.environ.get("RELAIS_SCREENSHOTS") == "1":
        README_IMAGES.mkdir(parents=True, exist_ok=True)
        return README_IMAGES
    return tmp_path
