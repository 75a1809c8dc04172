"""Money in two currencies: each pledge shown in its own currency, the same figures in every view."""
from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import requests
from playwright.sync_api import expect

from tests.browser.support import DESKTOP_UA, page_with_widget, sign_in, wait_until, widget_ready


def ref_of_click(relais, code: str, channel: str) -> str:
    clicked = requests.get(f"{relais.api}/r/{code}", params={"c": channel}, headers={"User-Agent": DESKTOP_UA},
                           allow_redirects=False, timeout=10)
    assert clicked.status_code == 302
    return re.search(r"[?&]ref=([^&]+)", clicked.headers["Location"]).group(1)


def test_a_pledge_in_another_currency_than_the_goals_shows_as_its_own_in_every_view(relais, site, context):
    # Given a campaign with a goal in euros; a fan's WhatsApp link brought €10 and $10, and $5 came direct
    campaign_id, key = relais.campaign(goal={"amount": 100000, "currency": "EUR"}, locale="en")
    fan = relais.stack.new_fan(campaign_id, name="Inès")
    ref = ref_of_click(relais, fan["code"], "whatsapp")
    relais.pledge(campaign_id, key, 1000, ref=ref)
    relais.pledge(campaign_id, key, 1000, ref=ref, currency="USD")
    relais.pledge(campaign_id, key, 500, currency="USD")

    def counted():
        stats = relais.stats(campaign_id, key)
        return (stats["totals"]["amount"] == {"EUR": 1000, "USD": 1500} and stats["direct"]["amount"] == {"USD": 500}
                and stats["cascade"]["by_depth"][0]["amount"] == {"EUR": 1000, "USD": 1000}) and stats
    stats = wait_until(counted, "the three pledges to be counted everywhere")
    today = stats["daily"][-1]
    assert today["amount"] == {"EUR": 1000, "USD": 1500}

    # Then the dashboard's cards and channels show both currencies
    page = context.new_page()
    sign_in(page, relais, campaign_id, key)
    expect(page.locator("#kpis .hero .value")).to_have_text("€10 + $15")
    expect(page.locator("#channels [data-channel=whatsapp] .row-head b")).to_have_text("€10 + $10")
    expect(page.locator("#channels [data-channel=direct] .row-head b")).to_have_text("$5")

    # And the money split, one bar per currency, with its share through fans' links
    split = page.locator("#funnel .split")
    expect(split.locator("[data-currency]")).to_have_count(2)
    expect(split.locator("[data-currency=EUR]")).to_contain_text("Through fans' links · €10 (100%)")
    expect(split.locator("[data-currency=EUR]")).to_contain_text("Direct · €0")
    expect(split.locator("[data-currency=USD]")).to_contain_text("Through fans' links · $10 (66.7%)")
    expect(split.locator("[data-currency=USD]")).to_contain_text("Direct · $5")

    # And the day chart, one per currency: today's bar is €10 in euros, $15 in dollars
    for currency, figure in (("EUR", "€10"), ("USD", "$15")):
        button = page.locator("#metric button", has_text=f"Raised ({currency})")
        button.click()
        expect(button).to_have_attribute("aria-pressed", "true")
        expect(page.locator("#daily rect.bar-rect title").last).to_have_text(re.compile(rf": {re.escape(figure)}$"))
    expect(page.locator("#daily-table tbody tr").last.locator("td").last).to_have_text("€10 + $15")

    # And the CSV has the same figures, one column per currency
    with page.expect_download() as download:
        page.locator("#csv").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    def money(section: str, **match) -> tuple[str, str]:
        row = next(r for r in rows if r["section"] == section and all(r[k] == v for k, v in match.items()))
        return row["amount_EUR"], row["amount_USD"]
    assert money("totals") == ("1000", "1500")
    assert money("daily", date=today["date"]) == ("1000", "1500")
    assert money("channel", channel="whatsapp") == ("1000", "1000")
    assert money("direct") == ("0", "500")

    # And on dates that hold none of it, the split still counts the campaign's whole life, and says so
    yesterday = (date.fromisoformat(today["date"]) - timedelta(days=1)).isoformat()
    page.locator("#from").fill(yesterday)
    page.locator("#to").fill(yesterday)
    page.locator("#range button[type=submit]").click()
    expect(page.locator("#kpis .hero .value")).to_have_text("€0")
    expect(split.locator(".row-head .name")).to_have_text("Where the money came from, since the start")
    expect(split.locator("[data-currency=USD]")).to_contain_text("Direct · $5")

    # And the widget on the creator's page says the same
    fan_page = context.new_page()
    fan_page.goto(page_with_widget(site, relais, campaign_id))
    expect(widget_ready(fan_page).locator(".amt")).to_have_text("€10 + $15")
