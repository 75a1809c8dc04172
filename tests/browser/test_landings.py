"""Landings: a browser that runs the creator's page proves a person arrived; a plain fetch does not."""
from __future__ import annotations

import json
import re

import requests
from playwright.sync_api import expect

from tests.browser.support import DESKTOP_UA, sign_in, wait_until, widget_ready


def test_the_demo_page_opened_from_a_short_link_sends_one_landing_that_the_dashboard_shows(relais, open_context):
    # Given a fan's link on the demo campaign
    fan = relais.stack.new_fan(relais.campaign_id, "Landing fan")
    code = fan["code"]

    # When a plain HTTP client (no JavaScript) follows the link: a click and no landing
    response = requests.get(f"{relais.api}/r/{code}?c=telegram", headers={"User-Agent": DESKTOP_UA},
                            allow_redirects=False, timeout=10)
    assert response.status_code == 302
    wait_until(lambda: relais.referrer(code)["clicks"] == 1, "the plain fetch's click to be counted")
    assert relais.referrer(code)["landed"] == 0

    # When a friend opens the same link in a browser that runs the page
    page = open_context().new_page()
    landings = []
    page.on("request", lambda r: landings.append(r) if r.url.endswith("/v1/landings") else None)
    page.goto(f"{relais.api}/r/{code}?c=telegram")
    page.wait_for_url(re.compile(re.escape(relais.demo) + r"/\?.*ref="))
    widget_ready(page)

    # Then exactly one landing beacon went out, with the page's ref, and it is counted once
    wait_until(lambda: len(landings) == 1, "the landing beacon")
    ref = page.evaluate("() => new URLSearchParams(location.search).get('ref')")
    assert json.loads(landings[0].post_data) == {"ref": ref}
    wait_until(lambda: relais.referrer(code)["landed"] == 1, "the landing to be counted")
    assert relais.referrer(code)["clicks"] == 2

    # And the creator's dashboard shows the step in the funnel
    dashboard = open_context().new_page()
    sign_in(dashboard, relais, relais.campaign_id, relais.key)
    step = dashboard.locator("#funnel [data-step=landed]")
    expect(step).to_contain_text("Landed on your page")
    landed = relais.stats()["totals"]["landed"]
    expect(step.locator("b")).to_have_text(str(landed))
