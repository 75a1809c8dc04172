"""Attribution capture on the creator's own page: the touch, the model, the window, the hand-off."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import requests
from playwright.sync_api import expect

from tests.browser.support import page_with_widget, widget_ready

CHECKOUT = """<form id="checkout" method="post" action="/checkout"><input name="amount" value="10">
<button>Pledge</button></form>
<a id="pay" href="https://buy.stripe.com/test_6oE5kq?prefilled_email=fan%40example.org">Pay with Stripe</a>"""


def landing_query(relais, code: str, channel: str = "x") -> str:
    """The query string that the short link's redirect adds to the creator's page."""
    response = requests.get(f"{relais.api}/r/{code}", params={"c": channel}, allow_redirects=False, timeout=10)
    assert response.status_code == 302
    return urlsplit(response.headers["Location"]).query


def ref_in(query: str) -> str:
    return parse_qs(query)["ref"][0]


def test_a_visit_through_a_short_link_is_kept_and_handed_to_scripts_forms_and_stripe_links(relais, site, context):
    # Given a visitor who arrives on the creator's page through a fan's short link
    campaign_id, _ = relais.campaign()
    fan = relais.stack.new_fan(campaign_id, name="Ada")
    query = landing_query(relais, fan["code"])
    ref = ref_in(query)
    url = page_with_widget(site, relais, campaign_id, before=CHECKOUT)
    page = context.new_page()
    page.goto(f"{url}?{query}")
    widget_ready(page)

    # Then the page's scripts, its forms and its Stripe Payment Links all get the ref
    assert page.evaluate("() => window.Relais.ref()") == ref
    assert page.locator("#checkout input[name=relais_ref]").input_value() == ref
    stripe = urlsplit(page.locator("#pay").get_attribute("href"))
    assert parse_qs(stripe.query) == {"prefilled_email": ["fan@example.org"],
                                      "client_reference_id": [ref.replace(".", "_")]}

    # When the visitor comes back later without any ref in the URL
    page.goto(url)
    widget_ready(page)

    # Then the touch was kept in the creator's own storage, and forms and links added later get it too
    touch = page.evaluate(f"() => JSON.parse(localStorage.getItem('relais:{campaign_id}:touch'))")
    assert touch["last"]["ref"] == ref
    assert page.evaluate("() => window.Relais.ref()") == ref
    page.evaluate("""() => {
      document.body.insertAdjacentHTML('beforeend',
        '<form id="late" method="post" action="/late"><input name="email" value="a@b.c"><button>Go</button></form>' +
        '<a id="late-pay" href="https://buy.stripe.com/test_late">Pay</a>');
    }""")
    page.locator("#late button").click()
    page.wait_for_url(re.compile(r"/late$"))
    assert ("/late", f"email=a%40b.c&relais_ref={ref}") in site.posts
    page.go_back()
    widget_ready(page)
    page.evaluate("() => document.body.insertAdjacentHTML('beforeend', '<a id=\"late-pay\" href=\"https://buy.stripe.com/test_late\">Pay</a>')")
    with page.expect_request(re.compile(r"^https://buy\.stripe\.com/")) as stripe_request:
        page.locator("#late-pay").click()
    assert parse_qs(urlsplit(stripe_request.value.url).query)["client_reference_id"] == [ref.replace(".", "_")]


def test_first_click_campaigns_keep_the_first_ref_and_last_click_campaigns_the_latest(relais, site, open_context):
    for model, kept in (("first_click", 0), ("last_click", 1)):
        # Given a visitor who came through one fan's link, then through another's
        campaign_id, _ = relais.campaign(attribution={"model": model, "window_days": 30})
        queries = [landing_query(relais, relais.stack.new_fan(campaign_id, name=name)["code"])
                   for name in ("One", "Two")]
        url = page_with_widget(site, relais, campaign_id)
        page = open_context().new_page()
        for query in queries:
            page.goto(f"{url}?{query}")
            widget_ready(page)
        # Then the campaign's model decides which one is credited
        assert page.evaluate(f"() => window.Relais.ref('{campaign_id}')") == ref_in(queries[kept]), model


def test_a_ref_older_than_the_campaigns_window_is_forgotten(relais, site, context):
    campaign_id, _ = relais.campaign(attribution={"model": "last_click", "window_days": 7})
    query = landing_query(relais, relais.stack.new_fan(campaign_id, name="Old")["code"])
    url = page_with_widget(site, relais, campaign_id)
    page = context.new_page()
    page.goto(f"{url}?{query}")
    widget_ready(page)
    assert page.evaluate("() => window.Relais.ref()") == ref_in(query)

    # When eight days have passed since the click
    page.evaluate(f"""() => {{
      const key = 'relais:{campaign_id}:touch', touch = JSON.parse(localStorage.getItem(key));
      touch.first.t = touch.last.t = Date.now() - 8 * 864e5;
      localStorage.setItem(key, JSON.stringify(touch));
    }}""")
    page.goto(url)
    widget_ready(page)
    assert page.evaluate("() => window.Relais.ref()") is None
    assert page.locator("input[name=relais_ref]").count() == 0


def test_a_ref_of_another_campaign_or_the_fans_own_click_credits_nobody(relais, site, context):
    campaign_id, _ = relais.campaign()
    other_id, _ = relais.campaign()
    foreign = landing_query(relais, relais.stack.new_fan(other_id, name="Elsewhere")["code"])
    url = page_with_widget(site, relais, campaign_id)
    page = context.new_page()
    page.goto(f"{url}?{foreign}")
    widget_ready(page)
    assert page.evaluate("() => window.Relais.ref()") is None

    # A fan who takes a link and then follows it themselves is not their own referrer
    card = widget_ready(page)
    card.locator("#rn").fill("Narcissus")
    card.locator("button[type=submit]").click()
    expect(card.locator("#rl")).to_have_value(re.compile(r"/r/"))
    own = card.locator("#rl").input_value().rsplit("/", 1)[1]
    page.goto(f"{url}?{landing_query(relais, own)}")
    widget_ready(page)
    assert page.evaluate("() => window.Relais.ref()") is None
