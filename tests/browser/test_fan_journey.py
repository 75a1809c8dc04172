"""The whole loop on the demo origin: a fan shares, a friend clicks and pledges, the creator sees it."""
from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect

from tests.browser.support import page_with_widget, wait_until, widget_ready


def whatsapp_figures(relais) -> dict[str, int]:
    rows = [row for row in relais.stats()["channels"] if row["channel"] == "whatsapp"]
    return {figure: rows[0][figure] if rows else 0 for figure in ("shares", "clicks", "pledges")}


def test_a_share_brings_a_click_and_a_pledge_that_the_dashboard_credits_to_the_fan_and_the_channel(relais,
                                                                                                   open_context):
    # Given a fan on the creator's page (a French campaign, an English-speaking browser); the
    # demo campaign's WhatsApp figures so far (other tests of this stack share there too)
    before = whatsapp_figures(relais)
    fan = open_context().new_page()
    fan.goto(f"{relais.demo}/")
    card = widget_ready(fan)
    expect(card).to_have_attribute("lang", "fr")
    expect(card.locator("button[type=submit]")).to_have_text("Obtenir mon lien")

    # When they get their link and press the WhatsApp share button
    card.locator("#rn").fill("Alice")
    card.locator("button[type=submit]").click()
    expect(card.locator("#rl")).to_have_value(re.compile(r"/r/[0-9A-Za-z]+$"))
    code = card.locator("#rl").input_value().rsplit("/", 1)[1]
    with fan.expect_popup() as dialog, fan.expect_request(lambda r: r.url.endswith("/v1/shares")) as beacon:
        card.locator("[data-c=whatsapp]").click()
    assert urlsplit(dialog.value.url).hostname == "wa.me"
    assert json.loads(beacon.value.post_data) == {"code": code, "channel": "whatsapp"}

    # Then the share is counted
    wait_until(lambda: relais.referrer(code)["shares"] == 1, "the share beacon to be counted")

    # When a friend opens the link that the WhatsApp message carries, in their own browser
    friend = open_context().new_page()
    friend.goto(f"{relais.api}/r/{code}?c=whatsapp")
    friend.wait_for_url(re.compile(re.escape(relais.demo) + r"/\?.*ref="))
    ref = parse_qs(urlsplit(friend.url).query)["ref"][0]
    assert ref.split(".")[0] == code
    widget_ready(friend)

    # Then the creator's page has kept the ref, offers it to scripts and to its pledge form
    assert friend.evaluate("() => window.Relais.ref()") == ref
    assert friend.locator("form.pledge input[name=relais_ref]").input_value() == ref
    wait_until(lambda: relais.referrer(code)["clicks"] == 1, "the click to be counted")

    # When the friend pledges 25 EUR through the page's own server
    friend.locator("#amount").fill("25")
    friend.locator("form.pledge button[type=submit]").click()
    expect(friend.locator("form.pledge .thanks")).to_contain_text("Merci")
    wait_until(lambda: relais.referrer(code)["pledges"] == 1, "the pledge to be counted")

    # And then takes a link of their own: they were referred by the fan
    card = widget_ready(friend)
    card.locator("#rn").fill("Bob")
    with friend.expect_response(lambda r: r.url.endswith("/referrers") and r.request.method == "POST") as created:
        card.locator("button[type=submit]").click()
    assert created.value.json()["referred_by"] == code
    bob = created.value.json()["code"]

    # Then the creator's dashboard credits the click and the pledge to the fan and to WhatsApp
    wait_until(lambda: any(r["code"] == bob for r in relais.stats()["referrers"]), "the new referrer to be counted")
    creator = open_context().new_page()
    creator.goto(f"{relais.api}/dashboard")
    creator.locator("#campaign").fill(relais.campaign_id)
    creator.locator("#key").fill(relais.key)
    creator.locator("#signin button[type=submit]").click()
    row = creator.locator(f"#referrers tr[data-code='{code}']")
    expect(row.locator("[data-k=name]")).to_have_text("Alice")
    expect(row.locator("[data-k=clicks]")).to_have_text("1")
    expect(row.locator("[data-k=pledges]")).to_have_text("1")
    expect(row.locator("[data-k=amount]")).to_have_text(re.compile(r"€\s?25|25\s?€"))
    whatsapp = creator.locator("#channels [data-channel=whatsapp]")
    for figure in ("shares", "clicks", "pledges"):
        expect(whatsapp.locator(f"[data-k={figure}]")).to_have_text(str(before[figure] + 1))
    expect(creator.locator(f"#referrers tr[data-code='{bob}'] [data-k=referred_by]")).to_have_text("recruited by Alice")
    expect(creator.locator("#cascade [data-depth='2']")).to_be_visible()


def test_a_fan_can_use_the_phones_share_sheet_and_download_their_qr_code(relais, site, context):
    # Given a browser with a share sheet (headless Chromium has none: this one records what it is given)
    context.add_init_script("navigator.share = (data) => { window.__shared = data; return Promise.resolve(); };")
    campaign_id, _ = relais.campaign(share_text="Back the film!")
    page = context.new_page()
    page.goto(page_with_widget(site, relais, campaign_id))
    card = widget_ready(page)
    card.locator("#rn").fill("Mobile fan")
    card.locator("button[type=submit]").click()
    short_url = card.locator("#rl").input_value()
    code = short_url.rsplit("/", 1)[1]

    # When they press "Share…", then download their QR code
    with page.expect_request(lambda r: r.url.endswith("/v1/shares")) as beacon:
        card.locator("[data-c=native]").click()
    assert json.loads(beacon.value.post_data) == {"code": code, "channel": "native"}
    assert page.evaluate("() => window.__shared") == {"title": "Integration", "text": "Back the film!",
                                                       "url": f"{short_url}?c=native"}
    download = card.locator("[data-c=qr]")
    expect(download).to_have_attribute("href", f"{short_url}/qr.png?size=1024")
    with page.expect_popup(), page.expect_request(lambda r: r.url.endswith("/v1/shares")) as beacon:
        download.click()
    assert json.loads(beacon.value.post_data) == {"code": code, "channel": "qr"}

    # Then both shares are counted for their channels
    wait_until(lambda: relais.referrer(code)["shares"] == 2, "both shares to be counted")


def test_the_demo_pages_pledge_form_works_without_javascript(relais, open_context):
    before = relais.stats()["direct"]["pledges"]
    page = open_context(java_script_enabled=False).new_page()
    page.goto(f"{relais.demo}/")
    page.locator("#amount").fill("12")
    page.locator("form.pledge button[type=submit]").click()
    page.wait_for_url(re.compile(r"/\?merci=1"))
    expect(page.locator("form.pledge .thanks")).to_have_text("Merci ! Votre contribution est enregistrée.")
    wait_until(lambda: relais.stats()["direct"]["pledges"] == before + 1, "the pledge to be counted")
