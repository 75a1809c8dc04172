"""The widget lives on pages it does not control: it must not be broken by them, nor break them."""
from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import requests
from playwright.sync_api import expect

from harness.user_agents import HUMAN_AGENTS
from tests.browser.support import WIDGET, page_with_widget, wait_until, widget_ready

XSS_NAME = "<img src=x onerror=window.__xss=1>"
HOSTILE_CSS = """<style>
  * { all: unset !important; }
  html, body, main, div, section, form, p, h2, h3, ol, li, button, input, label, span, b {
    font: italic 31px/3 "Comic Sans MS", serif !important; color: #f0f !important; background: #ff0 !important;
    letter-spacing: 4px !important; text-transform: uppercase !important; padding: 17px !important;
    border: 5px dashed red !important; box-sizing: content-box !important; }
  div[data-relais] { display: none !important; width: 12px !important; transform: rotate(12deg) !important; }
  :root, :host, * { --a: red; --m: red; --b: red; --s: red; }
  button { visibility: hidden !important; }
</style>"""


def test_a_referrer_named_like_html_shows_as_text_in_the_leaderboard_and_the_dashboard(relais, site, context):
    # Given a campaign whose creator and fans typed markup into every text field
    campaign_id, key = relais.campaign(leaderboard="public", name="<b>Bold</b> <script>window.__xss=2</script>",
                                       share_text="<img src=y onerror=window.__xss=3>")
    fan = relais.stack.new_fan(campaign_id, name=XSS_NAME)
    click = requests.get(f"{relais.api}/r/{fan['code']}", allow_redirects=False, timeout=10,
                         headers={"User-Agent": HUMAN_AGENTS["firefox-linux"]})
    relais.pledge(campaign_id, key, 500, ref=parse_qs(urlsplit(click.headers["Location"]).query)["ref"][0])
    wait_until(lambda: any(e["name"] == XSS_NAME  # the leaderboard lists fans who brought a pledge
                           for e in relais.get(f"/v1/campaigns/{campaign_id}/widget")["leaderboard"]),
               "the referrer to enter the leaderboard")

    # When the widget shows the leaderboard
    page = context.new_page()
    page.goto(page_with_widget(site, relais, campaign_id))
    card = widget_ready(page)

    # Then the name is text, the campaign name is text, and nothing ran
    expect(card.locator("ol li")).to_have_count(1)
    expect(card.locator("ol li")).to_contain_text(XSS_NAME)
    expect(card.locator("h2").first).to_have_text("<b>Bold</b> <script>window.__xss=2</script>")
    assert page.locator(f"{WIDGET} img, {WIDGET} script, {WIDGET} b:has-text('Bold')").count() == 0
    assert page.evaluate("() => window.__xss") is None

    # When the creator opens the dashboard
    board = context.new_page()
    board.goto(f"{relais.api}/dashboard#campaign={campaign_id}")
    board.locator("#key").fill(key)
    board.locator("#signin button[type=submit]").click()

    # Then the referrer's name is text there too
    expect(board.locator(f"#referrers tr[data-code='{fan['code']}'] [data-k=name]")).to_have_text(XSS_NAME)
    assert board.locator("#referrers img").count() == 0
    assert board.evaluate("() => window.__xss") is None
    assert context.page_errors == []


def test_the_host_pages_aggressive_css_does_not_change_the_widget(relais, site, context):
    # Given the same widget on a plain page and on a page whose CSS resets and restyles everything
    campaign_id, _ = relais.campaign(milestones=[{"amount": 5000, "label": "A bonus"}])
    layouts = []
    for head in ("<style>body { margin: 0; }</style>", HOSTILE_CSS):
        page = context.new_page()
        page.goto(page_with_widget(site, relais, campaign_id, head=head))
        widget_ready(page)
        layouts.append(page.evaluate(LAYOUT))
        page.close()
    # Then every element of the widget has the same box and the same look on both
    plain, hostile = layouts
    assert len(plain) > 20
    assert hostile == plain


# Each rendered element of the widget's card: its box relative to the card and the styles that show.
LAYOUT = """() => {
  const card = document.querySelector('[data-relais]').shadowRoot.querySelector('section');
  const origin = card.getBoundingClientRect();
  return [card, ...card.querySelectorAll('*')].filter((node) => node.getClientRects().length).map((node) => {
    const box = node.getBoundingClientRect(), style = getComputedStyle(node);
    return [node.tagName, Math.round((box.x - origin.x) * 100) / 100, Math.round((box.y - origin.y) * 100) / 100,
            Math.round(box.width * 100) / 100, Math.round(box.height * 100) / 100, style.font, style.color,
            style.backgroundColor, style.borderTop, style.display, style.visibility, style.transform,
            style.textTransform];
  });
}"""


def test_a_failure_inside_the_widget_stays_inside_it(relais, site, context):
    # Given widget data the widget cannot draw, and a page that forbids storage
    campaign_id, _ = relais.campaign()
    malformed = {"id": campaign_id, "name": {"toString": 1}, "channels": 5, "raised": "lots", "leaderboard": {"a": 1}}
    context.route(f"{relais.api}/v1/campaigns/{campaign_id}/widget", lambda route: route.fulfill(
        status=200, content_type="application/json", body=json.dumps(malformed),
        headers={"Access-Control-Allow-Origin": relais.demo}))
    context.add_init_script("Object.defineProperty(window, 'localStorage', {get() { throw new Error('denied'); }});")
    page = context.new_page()
    page.goto(page_with_widget(site, relais, campaign_id, after="<script>window.hostScriptRan = true;</script>"))

    # Then the widget falls back to a plain share link, and the host page never sees an error
    card = widget_ready(page)
    expect(card.locator("h2")).to_have_text("Share this campaign")
    assert page.evaluate("() => window.hostScriptRan") is True
    assert page.evaluate("() => window.Relais.ref()") is None
    assert context.page_errors == []
    assert any("[relais]" in line for line in context.console), "the widget should log what went wrong"


def test_when_the_api_cannot_be_reached_the_widget_shows_a_plain_share_link(relais, site, context):
    campaign_id, _ = relais.campaign()
    context.route(f"{relais.api}/v1/**", lambda route: route.abort("connectionrefused"))
    page = context.new_page()
    url = page_with_widget(site, relais, campaign_id)
    page.goto(f"{url}?ref=AbCd1234.2bk5.Zt0y-Qa1&utm_source=x&utm_campaign={campaign_id}&keep=1")

    card = widget_ready(page)
    expect(card.locator("h2")).to_have_text("Share this campaign")
    expect(card.locator("#rl")).to_have_value(f"{url}?keep=1")  # the page itself, without anyone's ref
    assert context.page_errors == []


def test_the_widget_makes_no_third_party_requests(relais, context):
    page = context.new_page()
    page.goto(f"{relais.demo}/")
    card = widget_ready(page)
    card.locator("#rn").fill("Quiet fan")
    card.locator("button[type=submit]").click()
    expect(card.locator(".qr img")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert context.outside == []
    assert context.page_errors == []


def test_a_page_with_a_strict_content_security_policy_only_has_to_allow_the_api(relais, site, context):
    campaign_id, _ = relais.campaign()
    policy = (f"default-src 'none'; script-src {relais.api}; connect-src {relais.api}; img-src {relais.api}; "
              "style-src 'none'")
    page = context.new_page()
    page.goto(page_with_widget(site, relais, campaign_id,
                               head=f'<meta http-equiv="Content-Security-Policy" content="{policy}">'))
    card = widget_ready(page)
    card.locator("#rn").fill("Strict")
    card.locator("button[type=submit]").click()
    expect(card.locator(".qr img")).to_be_visible()
    # Styled all the same (constructable style sheets and the CSSOM are not inline styles)
    expect(card).to_have_css("border-top-left-radius", "16px")
    assert not [line for line in context.console if "Content Security Policy" in line]


def test_a_browser_that_refuses_storage_still_gets_a_working_widget(relais, site, context):
    campaign_id, _ = relais.campaign()
    context.add_init_script("Object.defineProperty(window, 'localStorage', {get() { throw new Error('denied'); }});")
    page = context.new_page()
    page.goto(page_with_widget(site, relais, campaign_id))
    card = widget_ready(page)
    card.locator("#rn").fill("Private")
    card.locator("button[type=submit]").click()
    expect(card.locator("#rl")).to_have_value(re.compile(r"/r/[0-9A-Za-z]+$"))
    assert context.page_errors == []
