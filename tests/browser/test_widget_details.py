"""The widget's smaller details: the copy confirmation where the eye is, a compact card on phones,
a percentage rounded as the dashboard rounds it, nothing drawn for a zero."""
from __future__ import annotations

import json
import re
import time

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.support import (
    DESKTOP_UA,
    PHONE_UA,
    axe_violations,
    page_with_widget,
    sign_in,
    wait_until,
    widget_ready,
)

PHONE_PAGE = '<meta name="viewport" content="width=device-width, initial-scale=1">'  # as any page made for phones
ALL_CHANNELS = ["x", "facebook", "whatsapp", "telegram", "linkedin", "bluesky", "mastodon", "reddit", "email", "sms",
                "copy", "qr", "native"]

LAYOUT = """(card) => {
  if (!card.isConnected) return null; // redrawn meanwhile: read the new card
  const field = card.querySelector("#rl"), box = field.getBoundingClientRect();
  return {height: card.getBoundingClientRect().height,
          link: {scroll: field.scrollWidth, client: field.clientWidth, left: box.left, right: box.right}};
}"""


def take_link(card, name: str = "Ada") -> None:
    card.locator("#rn").fill(name)
    card.locator("button[type=submit]").click()
    expect(card.locator("#rl")).to_have_value(re.compile(r"/r/[0-9A-Za-z]+$"))


def test_the_copy_button_itself_confirms_for_two_seconds_and_screen_readers_hear_it(relais, site, open_context):
    # Given a fan with their link on a laptop's screen
    campaign_id, _ = relais.campaign(channels=ALL_CHANNELS)
    context = open_context(viewport={"width": 1366, "height": 768}, permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(page_with_widget(site, relais, campaign_id))
    card = widget_ready(page)
    take_link(card)
    copy = card.locator("[data-c=copy]")

    # When they press Copy
    copy.click()
    pressed = time.monotonic()

    # Then the button they are looking at says so, in view, and the live region tells screen readers
    expect(copy).to_have_text("Copied!")
    expect(card.locator("[role=status]")).to_have_text("Link copied!")
    seen = wait_until(lambda: card.evaluate("""(card) => {
      if (!card.isConnected) return null; // redrawn meanwhile: read the new card
      const button = card.querySelector("[data-c=copy]").getBoundingClientRect();
      const status = card.querySelector("[role=status]").getBoundingClientRect();
      return {top: button.top, bottom: button.bottom, status: [status.width, status.height]};
    }"""), "the card's layout")
    assert seen["top"] >= 0 and seen["bottom"] <= page.viewport_size["height"]
    assert seen["status"] == [1, 1]  # heard, not shown ~1,000 px below: the button shows it

    # And two seconds later the button is "Copy" again
    expect(copy).to_have_text("Copy", timeout=5000)
    assert time.monotonic() - pressed >= 1.8


@pytest.mark.parametrize("width", [360, 390])
def test_on_a_phone_the_share_buttons_fold_after_four_and_the_link_shows_whole(relais, site, open_context, axe_source,
                                                                                width):
    # Given a campaign with every channel, on a phone
    campaign_id, _ = relais.campaign(channels=ALL_CHANNELS)
    context = open_context(viewport={"width": width, "height": 780}, device_scale_factor=2, is_mobile=True,
                           has_touch=True, user_agent=PHONE_UA)
    context.add_init_script("navigator.share = () => Promise.resolve();")
    page = context.new_page()
    page.goto(page_with_widget(site, relais, campaign_id, head=PHONE_PAGE))
    card = widget_ready(page)
    take_link(card)

    # Then four share buttons show, then "More"; the link field shows the whole link, within the screen
    shares = card.locator(".sh > [data-c]")
    expect(shares).to_have_count(11)  # ten dialogs and the share sheet
    visible = [shares.nth(i).is_visible() for i in range(11)]
    assert visible == [True] * 4 + [False] * 7
    more = card.locator(".sh > button[aria-expanded]")
    expect(more).to_be_visible()
    expect(more).to_have_attribute("aria-expanded", "false")
    folded = wait_until(lambda: card.evaluate(LAYOUT), "the card's layout")  # read at once: it is redrawn as data comes
    assert folded["link"]["scroll"] <= folded["link"]["client"]
    assert folded["link"]["left"] >= 0 and folded["link"]["right"] <= width
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    assert axe_violations(page, axe_source) == [], "folded"

    # When the fan opens "More", every button shows and the first of the new ones has the focus
    more.click()
    expect(shares.nth(10)).to_be_visible()
    expect(shares.nth(4)).to_be_focused()
    expect(more).to_be_hidden()
    assert wait_until(lambda: card.evaluate(LAYOUT), "the card's layout")["height"] > folded["height"]
    assert axe_violations(page, axe_source) == [], "unfolded"

    # And it stays open when the card is redrawn with fresh data
    page.evaluate("() => window.Relais.refresh()")
    card.locator("[data-impact]").wait_for()
    expect(shares.nth(10)).to_be_visible()


def test_on_a_desktop_every_share_button_shows_without_more(relais, site, context):
    campaign_id, _ = relais.campaign(channels=ALL_CHANNELS)
    page = context.new_page()
    page.goto(page_with_widget(site, relais, campaign_id))
    card = widget_ready(page)
    take_link(card)
    expect(card.locator(".sh > a[data-c]")).to_have_count(10)
    for i in range(10):
        expect(card.locator(".sh > a[data-c]").nth(i)).to_be_visible()
    expect(card.locator(".sh > button[aria-expanded]")).to_be_hidden()


def test_the_widget_rounds_the_goals_percentage_as_the_dashboard_does_and_draws_nothing_for_zero(relais, site,
                                                                                                  context):
    # Given a campaign with a €1,000 goal and nothing raised yet
    campaign_id, key = relais.campaign(goal={"amount": 100000, "currency": "EUR"},
                                       rewards=[{"pledges": 3, "label": "A poster"}])
    fan = relais.stack.new_fan(campaign_id, name="Zero")
    stored = json.dumps(f"relais:{campaign_id}:fan")
    context.add_init_script(f"localStorage.setItem({stored}, {json.dumps(json.dumps(fan))});")
    page = context.new_page()
    url = page_with_widget(site, relais, campaign_id)
    page.goto(url)
    card = widget_ready(page)

    # Then neither the goal's bar nor the next reward's bar has a coloured sliver
    expect(card.locator("[data-rewards] [role=progressbar]")).to_be_visible()
    widths = wait_until(lambda: card.evaluate("""(card) => card.isConnected && [
      card.querySelector(".bar i"), card.querySelector("[data-rewards] [role=progressbar] i")
    ].map((bar) => bar.getBoundingClientRect().width)"""), "the bars' widths")
    assert widths == [0, 0]

    # When €2 is pledged: 0.2 % of the goal, in the widget as on the dashboard
    relais.pledge(campaign_id, key, 200)
    wait_until(lambda: relais.stats(campaign_id, key)["totals"]["pledges"] == 1, "the pledge to be counted")
    page.reload()
    card = widget_ready(page)
    expect(card.locator("p.r b")).to_have_text("0.2%")
    board = context.new_page()
    sign_in(board, relais, campaign_id, key)
    expect(board.locator("#kpis .hero .note")).to_have_text("0.2% of €1,000")


@pytest.mark.parametrize(("locale", "one_click", "no_pledge"), [
    ("fr", "clic", "contribution"), ("en", "click", "pledges"), ("es", "clic", "aportes")])
def test_the_widget_writes_a_fans_counts_in_the_plural_form_of_its_language(relais, site, context, locale, one_click,
                                                                           no_pledge):
    # Given a fan whose link brought one click and no pledge
    campaign_id, _ = relais.campaign(locale=locale)
    fan = relais.stack.new_fan(campaign_id, name="Uno")
    clicked = requests.get(f"{relais.api}/r/{fan['code']}", params={"c": "x"}, headers={"User-Agent": DESKTOP_UA},
                           allow_redirects=False, timeout=10)
    assert clicked.status_code == 302
    wait_until(lambda: relais.referrer(fan["code"])["clicks"] == 1, "the click to be counted")
    stored = json.dumps(f"relais:{campaign_id}:fan")
    context.add_init_script(f"localStorage.setItem({stored}, {json.dumps(json.dumps(fan))});")

    # Then their impact says "1 click" and "0 pledges" in the forms of the campaign's language
    page = context.new_page()
    page.goto(page_with_widget(site, relais, campaign_id))
    impact = widget_ready(page).locator("[data-impact] > div")
    expect(impact.nth(0)).to_have_text(f"1{one_click}")
    expect(impact.nth(1)).to_have_text(f"0{no_pledge}")
