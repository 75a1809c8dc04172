"""The creator's console: the dashboard's Setup and Fans views and the operator's page, driven
in Chromium and checked against the API's answer afterwards (issue 21, 1-3)."""
from __future__ import annotations

import itertools
import json

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.support import axe_violations, clicked_ref, sign_in, wait_until


def campaign_of(relais, campaign_id: str, key: str) -> dict:
    return relais.get(f"/v1/campaigns/{campaign_id}", key)["campaign"]


def open_view(page, relais, campaign_id: str, key: str, view: str) -> None:
    sign_in(page, relais, campaign_id, key)
    expect(page.locator("#kpis .kpi").first).to_be_visible()
    page.locator(f"#views button[data-view={view}]").click()


def patches(page) -> list[dict]:
    """The PATCH requests the page sends to the campaign, with their If-Match and body."""
    sent: list[dict] = []
    page.on("request", lambda request: sent.append({"if_match": request.headers.get("if-match"),
                                                    "body": json.loads(request.post_data or "{}")})
            if request.method == "PATCH" and "/referrers/" not in request.url else None)
    return sent


def test_the_setup_view_saves_every_field_in_one_conditional_patch_and_the_api_has_them(relais, context):
    campaign_id, key = relais.campaign(name="Setup", goal={"amount": 100_000, "currency": "EUR"})
    page = context.new_page()
    sent = patches(page)
    open_view(page, relais, campaign_id, key, "setup")
    expect(page.locator("#f-name")).to_have_value("Setup")
    expect(page.locator("#f-goal")).to_have_value("1000")
    # Each share button's box holds its name: none runs into the next one
    boxes = [box.bounding_box() for box in page.locator("#channel-boxes label").all()]
    assert len(boxes) == 14
    for left, right in itertools.pairwise(boxes):
        assert right["y"] > left["y"] or right["x"] >= left["x"] + left["width"], (left, right)
    overflowing = page.evaluate("() => [...document.querySelectorAll('#channel-boxes label')]"
                                ".filter(label => label.scrollWidth > label.clientWidth)"
                                ".map(label => label.textContent)")
    assert overflowing == []

    page.locator("#f-name").fill("Le grand disque")
    page.locator("#f-goal").fill("2500.50")
    page.locator("#f-ends_at").fill("2031-06-30T18:00")
    page.locator("#f-locale").select_option("fr")
    page.locator("#channel-boxes input[value=reddit]").uncheck()
    page.locator("#channel-boxes input[value=sms]").uncheck()
    page.locator("#f-share_text").fill("Soutenez notre disque !")
    page.locator("#f-model").select_option("first_click")
    page.locator("#f-window").fill("14")
    page.locator("#f-leaderboard").select_option("public")
    page.locator("#f-public_stats").check()
    page.locator("#f-allowed_origins").fill(f"{relais.site_origin}\n{relais.demo}\nhttps://www.example.org")
    page.locator("#add-milestone").click()
    page.locator("#milestone-rows .edit-row").last.locator("[data-k=amount]").fill("500")
    page.locator("#milestone-rows .edit-row").last.locator("[data-k=label]").fill("Un morceau bonus")
    page.locator("#add-reward").click()
    page.locator("#reward-rows .edit-row").last.locator("[data-k=pledges]").fill("3")
    page.locator("#reward-rows .edit-row").last.locator("[data-k=label]").fill("Un poster signé")
    page.locator("#f-webhook_url").fill("http://127.0.0.1:9/hook")
    page.locator("#f-stripe_webhook_secret").fill("whsec_test1234567890")
    page.locator("#save").click()

    expect(page.locator("#setup-status")).to_have_text("Saved.")
    secret = page.locator("#webhook-secret code.secret").inner_text()
    assert secret.startswith("rwh_")
    assert len(sent) == 1 and sent[0]["if_match"] == "0"
    saved = campaign_of(relais, campaign_id, key)
    assert saved["name"] == "Le grand disque"
    assert saved["goal"] == {"amount": 250_050, "currency": "EUR"}
    assert saved["ends_at"].startswith("2031-06-30T")
    assert saved["locale"] == "fr"
    assert "reddit" not in saved["channels"] and "sms" not in saved["channels"] and "x" in saved["channels"]
    assert saved["share_text"] == "Soutenez notre disque !"
    assert saved["attribution"] == {"model": "first_click", "window_days": 14}
    assert (saved["leaderboard"], saved["public_stats"]) == ("public", True)
    assert saved["allowed_origins"] == [relais.site_origin, relais.demo, "https://www.example.org"]
    assert saved["milestones"] == [{"amount": 50_000, "label": "Un morceau bonus"}]
    assert saved["rewards"] == [{"pledges": 3, "label": "Un poster signé"}]
    assert saved["webhook_url"] == "http://127.0.0.1:9/hook"
    assert saved["stripe_webhook_configured"] is True
    assert saved["version"] == 1
    # The secrets stay write-only: the form shows neither again
    expect(page.locator("#f-stripe_webhook_secret")).to_have_value("")
    expect(page.locator("#h-stripe")).to_contain_text("never shown")

    # Saving again without a change sends nothing
    page.locator("#save").click()
    expect(page.locator("#setup-status")).to_have_text("Nothing to save: no field changed.")
    assert len(sent) == 1


def test_a_bad_field_shows_the_apis_error_beside_it_and_nothing_is_saved(relais, context):
    campaign_id, key = relais.campaign(name="Errors")
    page = context.new_page()
    sent = patches(page)
    open_view(page, relais, campaign_id, key, "setup")
    expect(page.locator("#f-name")).to_have_value("Errors")

    # A rule only the API knows (http is for loopback hosts only): its own message, beside the field
    page.locator("#f-name").fill("Not saved")
    page.locator("#f-allowed_origins").fill("http://example.org")
    page.locator("#save").click()
    error = page.locator("#e-allowed_origins")
    expect(error).to_contain_text("http only for localhost/127.0.0.1")
    expect(page.locator("#f-allowed_origins")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-allowed_origins")).to_be_focused()
    assert len(sent) == 1
    assert campaign_of(relais, campaign_id, key)["name"] == "Errors"  # nothing saved half

    # The webhook URL's rule, the same way
    page.locator("#f-allowed_origins").fill(relais.site_origin)
    page.locator("#f-webhook_url").fill("ftp://example.org/hook")
    page.locator("#save").click()
    expect(page.locator("#e-webhook_url")).to_be_visible()
    expect(page.locator("#e-allowed_origins")).to_be_hidden()
    assert len(sent) == 2

    # Rules the page checks first, as the API would: no request at all
    page.locator("#f-webhook_url").fill("")
    page.locator("#f-name").fill("")
    page.locator("#f-window").fill("91")
    page.locator("#f-stripe_webhook_secret").fill("sk_live_nope")
    page.locator("#save").click()
    expect(page.locator("#e-name")).to_have_text("Required.")
    expect(page.locator("#e-attribution")).to_have_text("A whole number from 1 to 90.")
    expect(page.locator("#e-stripe_webhook_secret")).to_have_text("A Stripe signing secret starts with whsec_.")
    assert len(sent) == 2
    assert campaign_of(relais, campaign_id, key)["version"] == 0


def test_a_change_made_elsewhere_meanwhile_is_a_conflict_that_saves_nothing(relais, context):
    campaign_id, key = relais.campaign(name="Before")
    page = context.new_page()
    open_view(page, relais, campaign_id, key, "setup")
    expect(page.locator("#f-name")).to_have_value("Before")
    other = requests.patch(f"{relais.api}/v1/campaigns/{campaign_id}", json={"share_text": "Elsewhere"},
                           headers={"Authorization": f"Bearer {key}"}, timeout=10)
    assert other.status_code == 200

    page.locator("#f-name").fill("Mine")
    page.locator("#save").click()
    expect(page.locator("#setup-error")).to_contain_text("changed elsewhere")
    saved = campaign_of(relais, campaign_id, key)
    assert (saved["name"], saved["share_text"], saved["version"]) == ("Before", "Elsewhere", 1)

    page.locator("#setup-error button").click()  # reload: the other change shows, then mine saves
    expect(page.locator("#f-share_text")).to_have_value("Elsewhere")
    page.locator("#f-name").fill("Mine")
    page.locator("#save").click()
    expect(page.locator("#setup-status")).to_have_text("Saved.")
    saved = campaign_of(relais, campaign_id, key)
    assert (saved["name"], saved["share_text"], saved["version"]) == ("Mine", "Elsewhere", 2)


def test_the_snippet_is_copied_and_the_key_is_rotated_once_then_used(relais, open_context):
    campaign_id, key = relais.campaign(name="Keys", target_url="https://example.org/my-campaign")
    context = open_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    open_view(page, relais, campaign_id, key, "setup")
    snippet = f'<script src="{relais.api}/widget.js" data-campaign="{campaign_id}" async></script>'
    expect(page.locator("#snippet")).to_have_text(snippet)
    page.locator("#copy-snippet").click()
    expect(page.locator("#copy-status")).to_have_text("Copied!")
    assert page.evaluate("() => navigator.clipboard.readText()") == snippet
    expect(page.locator("#test-it")).to_have_attribute("href", "https://example.org/my-campaign")

    dialogs: list[str] = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    page.locator("#rotate").click()
    new_key = page.locator("#new-key code.secret").inner_text()
    assert "stops working" in dialogs[0]
    expect(page.locator("#new-key")).to_contain_text("shown this once")
    assert new_key.startswith("rk_") and new_key != key
    old = requests.get(f"{relais.api}/v1/campaigns/{campaign_id}", timeout=10,
                       headers={"Authorization": f"Bearer {key}"})
    assert old.status_code == 401
    assert campaign_of(relais, campaign_id, new_key)["name"] == "Keys"

    # The page goes on with the new key: a save, then the figures after a reload of the tab. It
    # reads the campaign again with the new key first (the form is redrawn), then enables the
    # rotate button again: wait for that.
    expect(page.locator("#rotate")).to_be_enabled()
    page.locator("#f-name").fill("Keys, renamed")
    page.locator("#save").click()
    expect(page.locator("#setup-status")).to_have_text("Saved.")
    assert campaign_of(relais, campaign_id, new_key)["name"] == "Keys, renamed"
    page.reload()
    expect(page.locator("#title")).to_have_text("Keys, renamed")
    expect(page.locator("#signin-error")).to_be_hidden()


@pytest.mark.parametrize(("locale", "save"), [("en-US", "Save"), ("fr-FR", "Enregistrer")], ids=["en", "fr"])
def test_the_setup_and_fans_views_have_no_serious_accessibility_violation(
        relais, open_context, axe_source, locale, save):
    campaign_id, key = relais.campaign(name="Access", rewards=[{"pledges": 1, "label": "Poster"}],
                                       milestones=[{"amount": 1000, "label": "Bonus"}])
    relais.stack.new_fan(campaign_id, "Ana")
    page = open_context(locale=locale).new_page()
    open_view(page, relais, campaign_id, key, "setup")
    expect(page.locator("#save")).to_have_text(save)
    expect(page.locator("#milestone-rows .edit-row")).to_have_count(1)
    page.locator("#f-window").fill("0")
    page.locator("#save").click()  # with an error shown beside a field
    expect(page.locator("#e-attribution")).to_be_visible()
    assert axe_violations(page, axe_source) == []
    page.locator("#views button[data-view=fans]").click()
    expect(page.locator("#fans tr[data-fan]")).to_have_count(1)
    assert axe_violations(page, axe_source) == []


def test_on_a_phone_the_setup_and_fans_views_fit_the_screen_and_their_buttons_are_big_enough_to_tap(
        relais, open_context, axe_source):
    campaign_id, key = relais.campaign(name="Phone", rewards=[{"pledges": 1, "label": "Poster"}],
                                       platform={"name": "kickstarter"})
    relais.stack.new_fan(campaign_id, "Ana, whose name is rather long for a phone")
    page = open_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True).new_page()
    open_view(page, relais, campaign_id, key, "setup")
    for view, shown in (("setup", "#save"), ("fans", "#fans tr[data-fan]")):
        page.locator(f"#views button[data-view={view}]").click()
        expect(page.locator(shown).first).to_be_visible()
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 360, view
        small = page.evaluate("""() => [...document.querySelectorAll('main button:not([hidden])')]
            .filter(b => b.offsetParent !== null)
            .map(b => b.getBoundingClientRect()).filter(r => r.height < 24 || r.width < 24).length""")
        assert small == 0, f"{small} buttons under 24 px in {view}"  # WCAG 2.2, 2.5.8 (minimum target size)
        assert axe_violations(page, axe_source) == []


def test_the_fans_view_hides_renames_exports_and_erases_a_fan_and_the_api_says_so(relais, context):
    campaign_id, key = relais.campaign(name="Fans")
    ana = relais.stack.new_fan(campaign_id, "Ana", email="ana@example.org")
    relais.stack.new_fan(campaign_id, "Bruno")
    page = context.new_page()
    open_view(page, relais, campaign_id, key, "fans")
    row = page.locator(f"#fans tr[data-fan='{ana['code']}']")
    expect(row.locator("[data-k=email]")).to_have_text("ana@example.org")
    expect(page.locator("#fans tr[data-fan]")).to_have_count(2)

    page.locator("#fan-search").fill("bru")  # searched by name over the loaded pages
    expect(page.locator("#fans tr[data-fan]")).to_have_count(1)
    page.locator("#fan-search").fill(ana["code"].lower())  # or by code
    expect(page.locator("#fans tr[data-fan]")).to_have_count(1)
    page.locator("#fan-search").fill("")

    row.get_by_role("button", name="Hide Ana").click()
    expect(row).to_contain_text("Hidden")
    row.get_by_role("button", name="Rename Ana").click()
    page.locator(f"#rename-{ana['code']}").fill("Ana B.")
    page.locator(f"#rename-{ana['code']}").press("Enter")
    expect(row.locator("[data-k=name]")).to_have_text("Ana B.")
    listed = {fan["code"]: fan for fan in relais.get(f"/v1/campaigns/{campaign_id}/referrers", key)["referrers"]}
    assert (listed[ana["code"]]["name"], listed[ana["code"]]["hidden"]) == ("Ana B.", True)

    with page.expect_download() as download:
        row.get_by_role("button", name="Export Ana B.'s data").click()
    exported = json.loads(download.value.path().read_text())
    assert download.value.suggested_filename == f"relais-{campaign_id}-{ana['code']}.json"
    assert exported["referrer"]["email"] == "ana@example.org"

    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    row.get_by_role("button", name="Erase Ana B.").click()
    assert "name and e-mail are removed" in asked[0] and "link keeps working" in asked[0]
    assert "figures stay" in asked[0]
    export_path = f"/v1/campaigns/{campaign_id}/referrers/{ana['code']}/export"
    assert relais.get(export_path, key)["referrer"]["name"] == "Ana B."
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Erase Ana B.").click()
    expect(row).to_contain_text("Erased")
    expect(row.locator("[data-k=email]")).to_have_text("–")
    after = relais.get(export_path, key)["referrer"]
    assert after["erased"] is True and after["email"] is None and after["name"] != "Ana B."


def test_a_fulfilment_asks_first_shows_the_fans_email_and_is_undone(relais, context):
    campaign_id, key = relais.campaign(name="Undo", rewards=[{"pledges": 1, "label": "Poster"}])
    zoe = relais.stack.new_fan(campaign_id, "Zoé", email="zoe@example.org")
    relais.pledge(campaign_id, key, 1500, clicked_ref(relais, zoe["code"]))
    wait_until(lambda: relais.get(f"/v1/campaigns/{campaign_id}/rewards", key)["rewards"], "the reward to unlock")
    page = context.new_page()
    sign_in(page, relais, campaign_id, key)
    row = page.locator(f"#rewards tr[data-reward='{zoe['code']}:1']")
    expect(row.locator("[data-k=email]")).to_have_text("zoe@example.org")

    page.once("dialog", lambda dialog: dialog.dismiss())
    row.get_by_role("button", name="Mark fulfilled: “Poster” for Zoé").click()
    assert relais.get(f"/v1/campaigns/{campaign_id}/rewards", key)["rewards"][0]["fulfilled_at"] is None
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Mark fulfilled: “Poster” for Zoé").click()
    expect(row.locator("[data-k=fulfilled] .pill")).to_contain_text("Fulfilled")
    assert relais.get(f"/v1/campaigns/{campaign_id}/rewards", key)["rewards"][0]["fulfilled_at"] is not None

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Undo fulfilled: “Poster” for Zoé").click()
    expect(row.get_by_role("button", name="Mark fulfilled: “Poster” for Zoé")).to_be_visible()
    assert relais.get(f"/v1/campaigns/{campaign_id}/rewards", key)["rewards"][0]["fulfilled_at"] is None


@pytest.mark.parametrize(("locale", "create"), [("en-US", "Create the campaign"), ("fr-FR", "Créer la campagne")],
                         ids=["en", "fr"])
def test_the_operator_creates_a_campaign_sees_its_key_once_and_lists_it(
        relais, open_context, axe_source, locale, create):
    page = open_context(locale=locale).new_page()
    page.goto(f"{relais.api}/operator")
    page.locator("#token").fill(relais.stack.admin_token)
    page.locator("#signin button[type=submit]").click()
    expect(page.locator("#campaigns tr[data-campaign]").first).to_be_visible()
    assert axe_violations(page, axe_source) == []

    page.locator("#c-target_url").fill("https://example.org/records")
    page.locator("#create-button").click()  # no name: said beside the field, nothing sent
    expect(page.locator("#e-name")).to_be_visible()
    page.locator("#c-name").fill("From the operator page")
    page.locator("#c-allowed_origins").fill("http://example.org")  # the API's rule, beside its field
    page.locator("#create-button").click()
    expect(page.locator("#e-allowed_origins")).to_contain_text("localhost/127.0.0.1")
    page.locator("#c-allowed_origins").fill(relais.demo)
    page.locator("#c-goal").fill("1500")
    expect(page.locator("#create-button")).to_have_text(create)
    page.locator("#create-button").click()

    key = page.locator("#new-key").inner_text()
    expect(page.locator("#created .warning")).to_be_visible()
    link = page.locator("#new-dashboard").inner_text()
    campaign_id = link.rsplit("=", 1)[1]
    assert link == f"{relais.api}/dashboard#campaign={campaign_id}"
    expect(page.locator("#new-snippet")).to_have_text(
        f'<script src="{relais.api}/widget.js" data-campaign="{campaign_id}" async></script>')
    made = campaign_of(relais, campaign_id, key)
    assert (made["name"], made["allowed_origins"], made["goal"]) == (
        "From the operator page", [relais.demo], {"amount": 150_000, "currency": "EUR"})
    expect(page.locator(f"#campaigns tr[data-campaign='{campaign_id}']")).to_contain_text("From the operator page")
    assert axe_violations(page, axe_source) == []

    # The key opens the new campaign's dashboard
    page.locator("#new-dashboard").click()
    page.wait_for_url(f"{relais.api}/dashboard#campaign={campaign_id}")
    page.wait_for_load_state("load")  # the page's module has run: its sign-in form is wired, not a plain form
    page.locator("#key").fill(key)
    page.locator("#signin button[type=submit]").click()
    expect(page.locator("#title")).to_have_text("From the operator page")


def test_the_setup_view_sets_the_campaigns_platform_with_its_tag_parameter_and_the_api_has_it(relais, context):
    campaign_id, key = relais.campaign(name="Platform")
    page = context.new_page()
    sent = patches(page)
    open_view(page, relais, campaign_id, key, "setup")
    expect(page.locator("#f-platform")).to_have_value("")
    expect(page.locator("#f-tag_param")).to_be_disabled()

    # Kickstarter's parameter is known: filled in, saved by one PATCH of the platform alone
    page.locator("#f-platform").select_option("kickstarter")
    expect(page.locator("#f-tag_param")).to_have_value("ref")
    page.locator("#save").click()
    expect(page.locator("#setup-status")).to_have_text("Saved.")
    kickstarter = {"name": "kickstarter", "tag_param": "ref", "tag_per": "fan"}
    assert [patch["body"] for patch in sent] == [{"platform": kickstarter}]
    assert campaign_of(relais, campaign_id, key)["platform"] == kickstarter

    # Ulule's is not: the default goes, and the field is required before anything is sent
    page.locator("#f-platform").select_option("ulule")
    expect(page.locator("#f-tag_param")).to_have_value("")
    page.locator("#save").click()
    expect(page.locator("#e-tag_param")).to_have_text(
        "Required for this platform: no public source says which parameter it reads.")
    expect(page.locator("#f-tag_param")).to_be_focused()
    page.locator("#f-tag_param").fill("-src")
    page.locator("#save").click()
    expect(page.locator("#e-tag_param")).to_contain_text("not starting with . or -")
    assert len(sent) == 1
    page.locator("#f-tag_param").fill("src")
    page.locator("#f-tag_per").select_option("fan_channel")
    page.locator("#save").click()
    expect(page.locator("#setup-status")).to_have_text("Saved.")
    assert campaign_of(relais, campaign_id, key)["platform"] == {"name": "ulule", "tag_param": "src",
                                                                 "tag_per": "fan_channel"}
    # A parameter the creator typed stays when the platform changes
    page.locator("#f-platform").select_option("other")
    expect(page.locator("#f-tag_param")).to_have_value("src")

    # And "none" switches it off
    page.locator("#f-platform").select_option("")
    expect(page.locator("#f-tag_per")).to_be_disabled()
    page.locator("#save").click()
    expect(page.locator("#setup-status")).to_have_text("Saved.")
    assert sent[-1]["body"] == {"platform": None} and len(sent) == 3
    saved = campaign_of(relais, campaign_id, key)
    assert (saved["platform"], saved["version"]) == (None, 3)


def data_t_texts(page) -> dict[str, str]:
    """Every ``data-t`` element's text on the page, by its string's key."""
    return page.evaluate("() => Object.fromEntries([...document.querySelectorAll('[data-t]')]"
                         ".map(node => [node.dataset.t, node.textContent]))")


# The words that are the same in English and Spanish
SAME_IN_SPANISH = {"viewFans": "Fans", "tagPerFan": "Fan"}


def test_the_setup_fans_and_operator_views_speak_spanish_with_no_serious_accessibility_violation(
        relais, context, axe_source):
    campaign_id, key = relais.campaign(name="Campaña", rewards=[{"pledges": 1, "label": "Póster"}])
    relais.stack.new_fan(campaign_id, "Ana")
    english = context.new_page()
    english.goto(f"{relais.api}/dashboard?lang=en")
    page = context.new_page()
    page.goto(f"{relais.api}/dashboard?lang=es#campaign={campaign_id}")
    page.locator("#key").fill(key)
    page.locator("#signin button[type=submit]").click()
    expect(page.locator("#kpis .kpi").first).to_be_visible()
    # Every string of the console's views has its Spanish words, none falls back to English
    tables = page.evaluate("""async () => {
        const [setup, fans] = await Promise.all([import('/pages/setup.js'), import('/pages/fans.js')]);
        return [setup.SETUP_STRINGS, fans.FANS_STRINGS].map(table => [Object.keys(table.en), Object.keys(table.es)]);
    }""")
    for en, es in tables:
        assert sorted(es) == sorted(en)
    texts, in_english = data_t_texts(page), data_t_texts(english)
    assert {k: v for k, v in texts.items() if v == in_english[k]} == SAME_IN_SPANISH

    page.locator("#views button[data-view=setup]").click()
    expect(page.locator("#setup-title")).to_have_text("Ajustes de la campaña")
    expect(page.locator("#f-platform option[value='']")).to_have_text("Ninguna: tu servidor informa de los aportes")
    page.locator("#f-platform").select_option("gamefound")
    page.locator("#f-window").fill("0")
    page.locator("#save").click()
    expect(page.locator("#e-attribution")).to_have_text("Un número entero de 1 a 90.")
    expect(page.locator("#e-tag_param")).to_have_text(
        "Obligatorio para esta plataforma: ninguna fuente pública dice qué parámetro lee.")
    expect(page.locator("#setup-error")).to_have_text("Revisa los campos marcados en rojo.")
    assert axe_violations(page, axe_source) == []

    page.locator("#views button[data-view=fans]").click()
    expect(page.locator("#fans-title")).to_have_text("Tus fans")
    expect(page.get_by_role("button", name="Ocultar a Ana")).to_be_visible()
    expect(page.locator("#fans th").nth(1)).to_have_text("Correo")
    assert axe_violations(page, axe_source) == []

    operator = context.new_page()
    operator.goto(f"{relais.api}/operator?lang=en")
    in_english = data_t_texts(operator)
    operator.goto(f"{relais.api}/operator?lang=es")
    texts = data_t_texts(operator)
    assert not {k: v for k, v in texts.items() if v == in_english[k]}
    operator.locator("#token").fill(relais.stack.admin_token)
    operator.locator("#signin button[type=submit]").click()
    expect(operator.locator("#campaigns th").first).to_have_text("Nombre")
    operator.locator("#create-button").click()
    expect(operator.locator("#e-name")).to_have_text("Obligatorio.")
    expect(operator.locator("#create-button")).to_have_text("Crear la campaña")
    assert axe_violations(operator, axe_source) == []
    operator.locator("#c-name").fill("Nueva")
    operator.locator("#c-target_url").fill("https://example.org/nueva")
    operator.locator("#create-button").click()
    expect(operator.locator("#created h3")).to_have_text("«Nueva» está creada")
    expect(operator.locator("#created .warning")).to_contain_text("se muestra solo esta vez")
    assert axe_violations(operator, axe_source) == []
