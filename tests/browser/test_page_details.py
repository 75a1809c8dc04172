"""The dashboard's and insights' smaller details: sign-out only when signed in, plurals in each
language, whole numbers on count axes, nothing drawn for a zero."""
from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.support import DESKTOP_UA, wait_until

# The plural rule of each language for whole numbers (CLDR): French's "one" is 0 and 1.
ONE = {"en": lambda n: n == 1, "fr": lambda n: n in (0, 1), "es": lambda n: n == 1}
AXIS_LABELS = "(svg) => [...svg.querySelectorAll('text[text-anchor=end]')].map((label) => label.textContent)"


def share_and_click(relais, code: str, channel: str, visitors: int = 1) -> str:
    """``visitors`` people each share the link on ``channel`` and each click it; the last click's ref."""
    ref = ""
    for visitor in range(visitors):
        agent = {"User-Agent": f"{DESKTOP_UA} visitor/{visitor}"}
        shared = requests.post(f"{relais.api}/v1/shares", json={"code": code, "channel": channel}, headers=agent,
                               timeout=10)
        assert shared.status_code == 202
        clicked = requests.get(f"{relais.api}/r/{code}", params={"c": channel}, headers=agent, allow_redirects=False,
                               timeout=10)
        assert clicked.status_code == 302
        ref = re.search(r"[?&]ref=([^&]+)", clicked.headers["Location"]).group(1)
    return ref


def open_dashboard(page, relais, campaign_id: str, key: str, lang: str = "en") -> None:
    page.goto(f"{relais.api}/dashboard#campaign={campaign_id}&lang={lang}")
    page.locator("#key").fill(key)
    page.locator("#signin button[type=submit]").click()
    expect(page.locator("#board")).to_be_visible()


@pytest.mark.parametrize("path", ["/dashboard", "/insights"])
def test_sign_out_shows_only_once_signed_in(relais, context, path):
    page = context.new_page()
    page.goto(f"{relais.api}{path}")
    expect(page.locator("#signin")).to_be_visible()
    expect(page.locator("#signout")).to_be_hidden()
    if path == "/dashboard":
        page.locator("#campaign").fill(relais.campaign_id)
        page.locator("#key").fill(relais.key)
    else:
        page.locator("#token").fill(relais.stack.admin_token)
    page.locator("#signin button[type=submit]").click()
    expect(page.locator("#signout")).to_be_visible()
    page.locator("#signout").click()
    expect(page.locator("#signin")).to_be_visible()
    expect(page.locator("#signout")).to_be_hidden()


@pytest.mark.parametrize(("lang", "per_share", "no_pledge"), [
    ("fr", "1 clic par partage", "0 contribution"),
    ("en", "1 click per share", "0 pledges"),
    ("es", "1 clic por compartido", "0 aportes"),
])
def test_the_dashboard_writes_counts_in_the_plural_form_of_its_language(relais, context, lang, per_share, no_pledge):
    # Given a campaign whose one fan shared once and brought one click, and no pledge
    campaign_id, key = relais.campaign()
    fan = relais.stack.new_fan(campaign_id, name="Solo")
    share_and_click(relais, fan["code"], "mastodon")
    wait_until(lambda: relais.stats(campaign_id, key)["totals"]["clicks"] == 1, "the click to be counted")

    # Then the dashboard says so in the singular where the language wants it
    page = context.new_page()
    open_dashboard(page, relais, campaign_id, key, lang)
    expect(page.locator("#kpis .kpi").nth(3).locator(".note")).to_have_text(per_share)
    expect(page.locator("#direct")).to_contain_text(f"{no_pledge},")


def test_the_insights_channels_write_each_count_in_its_plural_form(relais, context):
    # Given a channel that only this test uses, with one share, one click and one pledge
    campaign_id, key = relais.campaign()
    fan = relais.stack.new_fan(campaign_id, name="Lin")
    ref = share_and_click(relais, fan["code"], "linkedin")
    relais.pledge(campaign_id, key, 1500, ref=ref)

    def linkedin():
        operator = {"Authorization": f"Bearer {relais.stack.admin_token}"}
        answer = requests.get(f"{relais.api}/v1/insights", headers=operator, timeout=30).json()
        row = next((c for c in answer["channels"] if c["channel"] == "linkedin"), None)
        return row if row and row["pledges"] >= 1 else None
    row = wait_until(linkedin, "the pledge to be counted in the insights", 20)

    # Then the French line puts each noun in the form its own count asks for
    page = context.new_page()
    page.goto(f"{relais.api}/insights?lang=fr")
    page.locator("#token").fill(relais.stack.admin_token)
    page.locator("#signin button[type=submit]").click()

    def said(n: int, one: str, other: str) -> str:
        return f"{n} {one if ONE['fr'](n) else other}"
    expected = (f"{said(row['pledges'], 'contribution', 'contributions')} pour {said(row['clicks'], 'clic', 'clics')}"
                f" · {said(row['shares'], 'partage', 'partages')}")
    expect(page.locator("#channels [data-channel=linkedin] .metrics")).to_have_text(expected)


def test_count_axes_have_whole_number_ticks_and_a_zero_draws_nothing(relais, context):
    # Given a campaign with a goal, nothing raised, three clicks on one channel and no pledge
    campaign_id, key = relais.campaign(goal={"amount": 50000, "currency": "EUR"})
    fan = relais.stack.new_fan(campaign_id, name="Tri")
    share_and_click(relais, fan["code"], "mastodon", visitors=3)
    wait_until(lambda: relais.stats(campaign_id, key)["totals"]["clicks"] == 3, "the clicks to be counted")
    page = context.new_page()
    open_dashboard(page, relais, campaign_id, key)

    # Then the clicks chart's axis counts 0, 1, 2, 3 (not 1.25, 2.5, 3.75)
    page.locator("#metric button", has_text="Clicks").click()
    expect(page.locator("#metric button", has_text="Clicks")).to_have_attribute("aria-pressed", "true")
    assert page.locator("#daily svg").evaluate(AXIS_LABELS) == ["0", "1", "2", "3"]
    page.locator("#metric button", has_text="Pledges").click()
    assert page.locator("#daily svg").evaluate(AXIS_LABELS) == ["0", "1"]

    # And no coloured sliver stands for a zero: the channel's pledges bar, the goal's progress bar
    width = "(bar) => bar.getBoundingClientRect().width"
    mastodon = page.locator("#channels [data-channel=mastodon] .track i")
    assert [mastodon.nth(i).evaluate(width) > 0 for i in range(3)] == [True, True, False]
    assert page.locator("#kpis .progress i").evaluate(width) == 0


def test_the_insights_scatter_counts_in_whole_numbers(relais, context):
    # Given campaigns of a few shares and pledges (every campaign of this stack is on the chart)
    campaign_id, key = relais.campaign()
    fan = relais.stack.new_fan(campaign_id, name="Few")
    share_and_click(relais, fan["code"], "mastodon", visitors=3)
    relais.pledge(campaign_id, key, 500)
    page = context.new_page()
    page.goto(f"{relais.api}/insights")
    page.locator("#token").fill(relais.stack.admin_token)
    page.locator("#signin button[type=submit]").click()
    expect(page.locator("#scatter circle[data-campaign]").first).to_be_attached()

    # Then every tick of both count axes is a whole number
    labels = page.locator("#scatter svg").evaluate(
        "(svg) => [...svg.querySelectorAll('text:not(.axis):not(.name)')].map((label) => label.textContent)")
    assert labels and all(re.fullmatch(r"\d+(K|M)?", label) for label in labels), labels
