"""Languages, keyboard use and axe-core: the widget in each of its states, and the dashboard."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.support import WIDGET, axe_violations, page_with_widget, widget_ready


@pytest.mark.parametrize(("campaign_locale", "attributes", "browser_locale", "button"), [
    ("fr", "", "en-US", "Obtenir mon lien"),            # the campaign's language, whatever the browser's
    ("en", "", "fr-FR", "Get my link"),
    ("fr", 'data-locale="es"', "en-US", "Obtener mi enlace"),  # the page asks for another
    ("en", 'data-locale="auto"', "es-ES", "Obtener mi enlace"),  # the page asks for the browser's
    ("es", 'data-locale="auto"', "de-DE", "Obtener mi enlace"),  # a language we lack: the campaign's
])
def test_the_widget_speaks_the_campaigns_language_unless_the_page_asks_otherwise(
        relais, site, open_context, campaign_locale, attributes, browser_locale, button):
    campaign_id, _ = relais.campaign(locale=campaign_locale)
    page = open_context(locale=browser_locale).new_page()
    page.goto(page_with_widget(site, relais, campaign_id, attributes=attributes))
    card = widget_ready(page)
    expect(card.locator("button[type=submit]")).to_have_text(button)
    expect(card).to_have_attribute("lang", re.compile(r"^(fr|en|es)$"))


def test_the_widget_has_no_serious_accessibility_violations_in_any_state(relais, site, open_context, axe_source):
    campaign_id, _ = relais.campaign(milestones=[{"amount": 1000, "label": "Stickers"}], leaderboard="public")
    relais.stack.new_fan(campaign_id, name="First fan")
    url = page_with_widget(site, relais, campaign_id)
    context = open_context()

    # Loading: the campaign's data has not arrived yet
    held = []
    context.route(f"{relais.api}/v1/campaigns/{campaign_id}/widget", lambda route: held.append(route))
    page = context.new_page()
    page.goto(url)
    page.locator(f"{WIDGET} section[aria-busy=true]").wait_for()
    assert axe_violations(page, axe_source) == [], "loading"
    context.unroute(f"{relais.api}/v1/campaigns/{campaign_id}/widget")
    for route in held:
        route.continue_()

    # The form, then the form with an error
    card = widget_ready(page)
    assert axe_violations(page, axe_source) == [], "form"
    card.locator("button[type=submit]").click()
    expect(card.locator("[role=alert]")).to_have_text("Please enter a name.")
    assert axe_violations(page, axe_source) == [], "form with an error"

    # The fan's link, share buttons, QR code and impact
    card.locator("#rn").fill("Ada")
    card.locator("button[type=submit]").click()
    expect(card.locator(".qr img")).to_be_visible()
    expect(card.locator("[data-impact]")).to_contain_text("rank")
    assert axe_violations(page, axe_source) == [], "fan"

    # The plain share link, when the API cannot be reached
    down = open_context()
    down.route(f"{relais.api}/v1/**", lambda route: route.abort("connectionrefused"))
    page = down.new_page()
    page.goto(url)
    expect(widget_ready(page).locator("h2")).to_have_text("Share this campaign")
    assert axe_violations(page, axe_source) == [], "fallback"


def test_the_demo_page_and_the_dashboard_have_no_serious_accessibility_violations(relais, context, axe_source):
    page = context.new_page()
    page.goto(f"{relais.demo}/")
    widget_ready(page)
    assert axe_violations(page, axe_source) == [], "demo page"

    board = context.new_page()
    board.goto(f"{relais.api}/dashboard")
    assert axe_violations(board, axe_source) == [], "dashboard sign-in"
    board.locator("#campaign").fill(relais.campaign_id)
    board.locator("#key").fill(relais.key)
    board.locator("#signin button[type=submit]").click()
    expect(board.locator("#kpis .kpi")).to_have_count(5)
    assert axe_violations(board, axe_source) == [], "dashboard"


def test_a_keyboard_user_can_get_their_link_and_copy_it_with_a_visible_focus(relais, site, open_context):
    campaign_id, _ = relais.campaign()
    context = open_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(page_with_widget(site, relais, campaign_id))
    card = widget_ready(page)
    focused = ("() => { const a = document.activeElement; return a && a.shadowRoot && a.shadowRoot.activeElement "
               "? (a.shadowRoot.activeElement.id || a.shadowRoot.activeElement.dataset.c "
               "|| a.shadowRoot.activeElement.tagName) : null; }")

    # Tab into the widget, type a name, press Enter
    for _ in range(5):
        page.keyboard.press("Tab")
        if page.evaluate(focused) == "rn":
            break
    assert page.evaluate(focused) == "rn"
    ring = page.evaluate("() => { const s = getComputedStyle(document.activeElement.shadowRoot.activeElement); "
                         "return [s.outlineStyle, s.outlineWidth]; }")
    assert ring == ["solid", "3px"]
    page.keyboard.type("Kim")
    page.keyboard.press("Enter")

    # The link gets the focus; Tab reaches Copy, Enter copies the link tagged for that channel
    expect(card.locator("#rl")).to_be_focused()
    page.keyboard.press("Tab")
    assert page.evaluate(focused) == "copy"
    page.keyboard.press("Enter")
    expect(card.locator("[role=status]")).to_have_text("Link copied!")
    short_url = card.locator("#rl").input_value()
    assert page.evaluate("() => navigator.clipboard.readText()") == f"{short_url}?c=copy"
    # A data refresh rebuilds the whole card; the message and the focus stay
    card.locator("[role=status]").evaluate("(status) => { status.dataset.before = 'refresh'; }")
    page.evaluate("() => window.Relais.refresh()")
    expect(card.locator("[role=status]:not([data-before])")).to_have_text("Link copied!")

    # Every share button is reachable and shows where the focus is
    page.keyboard.press("Tab")
    assert page.evaluate(focused) == "x"
    ring = page.evaluate("() => getComputedStyle(document.activeElement.shadowRoot.activeElement).outlineStyle")
    assert ring == "solid"
