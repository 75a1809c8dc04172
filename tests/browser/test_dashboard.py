"""The creator's dashboard: signing in with the key, the CSV, a phone's screen, the README's pictures."""
from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser import showcase
from tests.browser.support import PHONE_UA, axe_violations, page_with_widget, sign_in, wait_until, widget_ready


def test_a_wrong_key_is_told_plainly_and_nothing_is_kept(relais, context):
    campaign_id, _ = relais.campaign()
    page = context.new_page()
    sign_in(page, relais, campaign_id, "rk_not_the_key")
    expect(page.locator("#signin-error")).to_have_text("This key does not open this campaign.")
    expect(page.locator("#board")).to_be_hidden()
    assert page.evaluate("() => sessionStorage.getItem('relais-dashboard')") is None


def test_the_stats_download_as_a_csv_file_and_the_tab_remembers_the_key(relais, context):
    # Given a campaign with a referrer who brought a pledge
    campaign_id, key = relais.campaign()
    fan = relais.stack.new_fan(campaign_id, name="Zoé, \"the\" fan")
    relais.pledge(campaign_id, key, 4200)
    wait_until(lambda: relais.stats(campaign_id, key)["totals"]["pledges"] == 1, "the pledge to be counted")
    page = context.new_page()
    sign_in(page, relais, campaign_id, key)
    expect(page.locator("#kpis")).to_contain_text("€42")

    # When the creator downloads the CSV
    with page.expect_download() as download:
        page.locator("#csv").click()
    text = download.value.path().read_text(encoding="utf-8-sig")

    # Then it is the stats as a table, names quoted as CSV requires
    assert download.value.suggested_filename.startswith(f"relais-{campaign_id}-")
    assert text.splitlines()[0].startswith("section,")
    assert f'{fan["code"]},"Zoé, ""the"" fan"' in text

    # And a reload of the tab keeps the creator signed in; signing out forgets the key
    page.reload()
    expect(page.locator("#board")).to_be_visible()
    page.locator("#signout").click()
    expect(page.locator("#signin")).to_be_visible()
    assert page.evaluate("() => sessionStorage.getItem('relais-dashboard')") is None


@pytest.mark.screenshots
def test_the_readme_pictures_show_a_busy_campaign_on_a_desktop_and_on_a_phone(relais, site, open_context, axe_source,
                                                                              screenshots):
    # Given a campaign with two weeks of shares, clicks, pledges and a three-level cascade
    seeded = showcase.seed(relais)
    campaign_id, key = seeded["id"], seeded["key"]
    def counted():
        stats = relais.stats(campaign_id, key, **{"from": seeded["from"], "to": seeded["to"]})
        return stats["totals"]["pledges"] == seeded["pledges"] and stats["cascade"]["max_depth"] == 3
    wait_until(counted, "the showcase to be counted", 20)

    # The widget, as the fan Camille sees it on the creator's page
    camille = seeded["fans"]["Camille Durand"]
    context = open_context(device_scale_factor=2, viewport={"width": 900, "height": 1400})
    stored = f"localStorage.setItem({json.dumps(f'relais:{campaign_id}:fan')}, {json.dumps(json.dumps(camille))});"
    context.add_init_script(stored)
    page = context.new_page()
    page.goto(page_with_widget(site, relais, campaign_id, lang="en", head=SHOWCASE_PAGE,
                               before='<div class="column">', after="</div>"))
    card = widget_ready(page)
    expect(card.locator("[data-impact]")).to_contain_text("#1")
    expect(card.locator("ol li")).to_have_count(8)
    expect(card.locator(".qr img")).to_have_js_property("complete", True)
    box = card.bounding_box()
    page.screenshot(path=screenshots / "widget.png", clip={"x": box["x"] - 24, "y": box["y"] - 24,
                                                      "width": box["width"] + 48, "height": box["height"] + 48})

    # The dashboard over the two weeks, on a desktop
    desktop = open_context(viewport={"width": 1280, "height": 900})
    board = desktop.new_page()
    board.goto(f"{relais.api}/dashboard#campaign={campaign_id}&from={seeded['from']}&to={seeded['to']}")
    board.locator("#key").fill(key)
    board.locator("#signin button[type=submit]").click()
    expect(board.locator("#referrers tbody tr")).to_have_count(8)
    expect(board.locator("#kpis .hero .value")).to_have_text(re.compile(r"€975"))
    expect(board.locator("#daily rect")).to_have_count(14)
    assert axe_violations(board, axe_source) == []
    board.mouse.move(0, 0)
    board.screenshot(path=screenshots / "dashboard.png", full_page=True)

    # And on a phone: nothing wider than the screen, the amounts in view
    phone = open_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                         has_touch=True, user_agent=PHONE_UA)
    small = phone.new_page()
    small.goto(f"{relais.api}/dashboard#campaign={campaign_id}&from={seeded['from']}&to={seeded['to']}")
    small.locator("#key").fill(key)
    small.locator("#signin button[type=submit]").click()
    expect(small.locator("#referrers tbody tr")).to_have_count(8)
    assert small.evaluate("() => document.documentElement.scrollWidth") <= 390
    amount = small.locator("#referrers tbody tr").first.locator("[data-k=amount]").bounding_box()
    assert amount["x"] + amount["width"] <= 390
    small.screenshot(path=screenshots / "dashboard-phone.png")

    # The console: the Setup view of the campaign on Kickstarter, its fans with their tags
    showcase.set_up(relais, seeded)
    board.reload()
    board.locator("#views button[data-view=setup]").click()
    expect(board.locator("#f-platform")).to_have_value("kickstarter")
    expect(board.locator("#f-tag_param")).to_have_value("ref")
    assert axe_violations(board, axe_source) == []
    board.mouse.move(0, 0)
    platform = board.locator("section[aria-labelledby=pf-title]").bounding_box()  # down to it, Save stuck below
    board.set_viewport_size({"width": 1280, "height": round(platform["y"] + platform["height"]) + 80})
    board.screenshot(path=screenshots / "console-setup.png")
    board.set_viewport_size({"width": 1280, "height": 900})
    board.locator("#views button[data-view=fans]").click()
    expect(board.locator("#fans tr[data-fan]")).to_have_count(8)
    expect(board.locator("#fans .pill").first).to_have_text(re.compile(r"^[0-9a-z]{10}$"))
    assert axe_violations(board, axe_source) == []
    board.mouse.move(0, 0)
    board.screenshot(path=screenshots / "console-fans.png")

    # And the operator's page, a campaign just created: its key shown once, the list
    operator = desktop.new_page()
    operator.goto(f"{relais.api}/operator")
    operator.locator("#token").fill(relais.stack.admin_token)
    operator.locator("#signin button[type=submit]").click()
    operator.locator("#c-name").fill("Noob — the movie")
    operator.locator("#c-target_url").fill("https://www.ulule.com/noob-the-movie")
    operator.locator("#c-allowed_origins").fill("https://www.noob-the-movie.example")
    operator.locator("#c-goal").fill("250000")
    operator.locator("#create-button").click()
    expect(operator.locator("#created .warning")).to_be_visible()
    expect(operator.locator("#campaigns tr[data-campaign]", has_text="Noob — the final season")).to_have_count(1)
    expect(operator.locator("#campaigns tr[data-campaign]", has_text="Noob — the movie")).to_have_count(1)
    assert axe_violations(operator, axe_source) == []
    operator.mouse.move(0, 0)
    operator.screenshot(path=screenshots / "console-operator.png", full_page=True)


SHOWCASE_PAGE = """<style>
  body { margin: 0; background: #f1f5f9; font-family: sans-serif; }
  main { padding: 24px; } h1 { display: none; }
  .column { width: 420px; }
</style>"""
