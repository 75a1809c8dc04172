"""The dashboard's Imports view (issue 24, 4): a platform's pledge export and its referral
report's totals pasted in Chromium, dry run then applied, followed to the end, listed in the
history, and counted in the stats, checked against the API afterwards."""
from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.support import axe_violations, sign_in, wait_until

RUN = 30_000  # ms: an import is a background job, polled by the page


def on_kickstarter(relais, name: str) -> tuple[str, str]:
    campaign_id, key = relais.campaign(name=name, goal={"amount": 500_000, "currency": "EUR"})
    response = requests.patch(f"{relais.api}/v1/campaigns/{campaign_id}", json={"platform": {"name": "kickstarter"}},
                              headers={"Authorization": f"Bearer {key}"}, timeout=10)
    assert response.status_code == 200, response.text
    return campaign_id, key


def tag_of(relais, campaign_id: str, key: str, code: str) -> str:
    """The fan's platform tag, once the aggregator has issued it."""
    def issued():
        tags = relais.get(f"/v1/campaigns/{campaign_id}/platform-tags", key)["tags"]
        return next((tag["tag"] for tag in tags if tag["code"] == code), None)
    return wait_until(issued, "the fan's platform tag")


def open_imports(page, relais, campaign_id: str, key: str) -> None:
    sign_in(page, relais, campaign_id, key)
    expect(page.locator("#kpis .kpi").first).to_be_visible()
    page.locator("#views button[data-view=imports]").click()


def figures(page) -> dict[str, str]:
    return page.locator("#imp-figures dd").evaluate_all(
        "dds => Object.fromEntries(dds.map(dd => [dd.dataset.k, dd.textContent]))")


def history(page) -> list[dict[str, str]]:
    """The history's rows, newest first: each cell's text by its data-k."""
    return page.locator("#imp-history tbody tr").evaluate_all(
        "rows => rows.map(row => Object.fromEntries([...row.querySelectorAll('[data-k]')]"
        ".map(cell => [cell.dataset.k, cell.textContent])))")


def referrer_row(stats: dict, code: str) -> dict:
    return next((row for row in stats["referrers"] if row.get("code") == code), {})


@pytest.mark.screenshots
def test_a_pasted_pledge_export_is_dry_run_then_applied_and_a_tag_report_follows_into_the_stats(
        relais, context, axe_source, screenshots):
    campaign_id, key = on_kickstarter(relais, "Noob — the final season")
    ana = relais.stack.new_fan(campaign_id, "Ana")
    tag = tag_of(relais, campaign_id, key, ana["code"])
    page = context.new_page()
    polled: list[str] = []
    page.on("request", lambda request: polled.append(request.url) if "/imports/" in request.url else None)
    open_imports(page, relais, campaign_id, key)

    # The fan list shows each fan's platform tag
    page.locator("#views button[data-view=fans]").click()
    expect(page.locator(f"#fans tr[data-fan='{ana['code']}'] .pill")).to_have_text(tag)
    page.locator("#views button[data-view=imports]").click()

    # Nothing pasted: said beside the field, nothing sent. Columns that are not the format's:
    # the whole file is refused, with its error
    title = page.locator("#imp-result-title")
    page.locator("#imp-dry").click()
    expect(page.locator("#e-import")).to_have_text("Paste the CSV or choose a file first.")
    expect(page.locator("#imp-text")).to_be_focused()
    assert polled == []
    page.locator("#imp-text").fill("who,what\nana,3\n")
    page.locator("#imp-dry").click()
    expect(title).to_have_text("Dry run: the file is refused", timeout=RUN)
    expect(page.locator("#e-import")).to_be_hidden()
    expect(page.locator("#imp-status")).to_contain_text("The file is refused: ")
    expect(page.locator("#imp-errors tbody tr")).to_have_count(1)
    assert figures(page)["applied"] == "0"

    # A pledge export in the generic columns, its third row's amount unreadable: the dry run
    # says what would change and where the error is, and moves nothing
    when = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # after the campaign's start: in its stats' range
    pledges_csv = (f"pledge_id,amount,currency,status,occurred_at,tag\n"
                   f"ks-1001,2500,EUR,confirmed,{when},{tag}\n"
                   f"ks-1002,1000,EUR,confirmed,{when},\n"
                   f"ks-1003,twelve,EUR,confirmed,{when},{tag}\n")
    generic = "Generic (Relais's columns)"
    expect(page.locator("#imp-preset option")).to_have_text([generic])  # no preset reads tag totals
    page.locator("input[name=imp-kind][value=pledges]").check()
    expect(page.locator("#imp-preset option")).to_have_text([generic, "Kickstarter: backer report"])
    page.locator("#imp-preset").select_option("kickstarter_backers")
    expect(page.locator("#imp-columns")).to_contain_text("names no referral tag")
    page.locator("#imp-preset").select_option("")
    expect(page.locator("#imp-columns")).to_contain_text("pledge_id, amount, currency, status, occurred_at, tag")
    page.locator("#imp-text").fill(pledges_csv)
    page.locator("#imp-dry").click()
    expect(title).to_have_text("Dry run: what this file would do", timeout=RUN)
    expect(title).to_be_focused()
    assert figures(page) == {"rows": "3", "applied": "2", "unchanged": "0", "errors": "1", "pledges": "+2",
                             "amount": "+€35"}
    error = page.locator("#imp-errors tbody tr")
    expect(error).to_have_count(1)
    assert error.get_attribute("data-line") == "4"
    assert error.locator("td").nth(0).inner_text() == "4"
    assert error.locator("td").nth(1).inner_text() and error.locator("td").nth(2).inner_text()
    expect(page.locator("#imp-status")).to_have_text(
        "Dry run done: 3 rows. Would be applied: 2, unchanged: 0, errors: 1. Nothing was changed.")
    expect(page.locator("#imp-progress")).to_have_js_property("value", 3)
    expect(page.locator("#imp-progress")).to_have_js_property("max", 3)
    expect(page.locator("#imp-history tbody tr")).to_have_count(2)
    assert relais.stats(campaign_id, key)["totals"]["pledges"] == 0
    assert polled, "the page follows the job at GET …/imports/{id}"
    assert axe_violations(page, axe_source) == []

    # Applied: the same two rows go in, the bad one stays an error; the history lists both
    page.locator("#imp-apply").click()
    expect(title).to_have_text("Import done", timeout=RUN)
    expect(title).to_be_focused()
    assert figures(page) == {"rows": "3", "applied": "2", "unchanged": "0", "errors": "1", "pledges": "+2",
                             "amount": "+€35"}
    expect(page.locator("#imp-progress-text")).to_have_text("3 of 3 rows · Done")
    expect(page.locator("#imp-history tbody tr")).to_have_count(3)
    newest, dry_run, refused = history(page)
    assert (newest["kind"], newest["preset"], newest["status"], newest["rows"], newest["applied"], newest["errors"],
            newest["changes"]) == ("Pledges", generic, "Done", "3", "2", "1", "+2 pledges · +€35")
    assert dry_run["status"] == "Done Dry run" and dry_run["changes"] == "+2 pledges · +€35"
    assert (refused["kind"], refused["status"], refused["changes"]) == ("Tag totals", "Failed Dry run", "No change")
    page.mouse.move(0, 0)
    page.screenshot(path=screenshots / "console-imports.png", full_page=True)

    def counted(pledges: int, amount: int, ana_pledges: int, ana_amount: int):
        stats = relais.stats(campaign_id, key)
        row = referrer_row(stats, ana["code"])
        seen = (stats["totals"]["pledges"], stats["totals"]["amount"].get("EUR"), row.get("pledges"),
                (row.get("amount") or {}).get("EUR"))
        return stats if seen == (pledges, amount, ana_pledges, ana_amount) else None

    stats = wait_until(lambda: counted(2, 3500, 1, 2500), "the imported pledges in the stats", 20)
    assert stats["totals"]["reported"] == {"pledges": 2, "amount": {"EUR": 3500}}

    # The referral report's totals for Ana's tag, typed and sent with the keyboard alone
    page.locator("input[name=imp-kind][value=pledges]").focus()
    page.keyboard.press("ArrowUp")  # the kind: totals per tag
    expect(page.locator("input[name=imp-kind][value=tag_totals]")).to_be_checked()
    expect(page.locator("#imp-columns")).to_contain_text("tag, pledges, amount, currency")
    page.keyboard.press("Tab")  # the format: generic
    expect(page.locator("#imp-preset")).to_be_focused()
    page.keyboard.press("Tab")  # the file: none
    page.keyboard.press("Tab")
    expect(page.locator("#imp-text")).to_be_focused()
    page.keyboard.press("Control+a")
    page.keyboard.type(f"tag,pledges,amount,currency\n{tag},3,7500,EUR\n")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.locator("#imp-apply")).to_be_focused()
    page.keyboard.press("Enter")
    expect(title).to_have_text("Import done", timeout=RUN)
    expect(title).to_be_focused()
    assert figures(page) == {"rows": "1", "applied": "1", "unchanged": "0", "errors": "0", "pledges": "+3",
                             "amount": "+€75"}
    expect(page.locator("#imp-errors")).to_be_empty()
    expect(page.locator("#imp-status")).to_have_text("Import done: 1 row. Applied: 1, unchanged: 0, errors: 0.")
    expect(page.locator("#imp-history tbody tr")).to_have_count(4)
    assert history(page)[0]["kind"] == "Tag totals"
    wait_until(lambda: counted(5, 11_000, 4, 10_000), "the tag's totals in the stats", 20)

    # An earlier import's errors, shown again from the history; at a phone's width nothing is
    # wider than the screen and the tables scroll in their own focusable regions
    page.get_by_role("button", name=re.compile(r"^Show the import of ")).nth(2).click()
    expect(title).to_have_text("Dry run: what this file would do")
    expect(title).to_be_focused()
    expect(page.locator("#imp-errors tbody tr[data-line='4']")).to_have_count(1)
    assert axe_violations(page, axe_source) == []
    page.set_viewport_size({"width": 360, "height": 800})
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    assert axe_violations(page, axe_source) == []


def test_without_a_platform_the_view_sends_to_setup_and_its_strings_exist_in_french_and_spanish(
        relais, open_context, axe_source):
    from chalicelib.domain import import_files

    campaign_id, key = relais.campaign(name="Sans plateforme")
    page = open_context(locale="fr-FR").new_page()
    open_imports(page, relais, campaign_id, key)
    expect(page.locator("#imp-noplatform")).to_contain_text("réglez-la d'abord dans Réglages")
    expect(page.locator("#import-form")).to_be_hidden()
    expect(page.locator("#imp-history")).to_have_text("Aucun import pour l'instant.")
    assert axe_violations(page, axe_source) == []
    page.locator("#imp-to-setup").click()
    expect(page.locator("#view-setup")).to_be_visible()
    expect(page.locator("#views button[data-view=setup]")).to_be_focused()

    # Every string in the three languages (none of Spanish's left in English); the page's
    # formats are the API's presets
    strings, presets = page.evaluate("""async () => {
        const imports = await import('/pages/imports.js');
        return [imports.IMPORTS_STRINGS, imports.PRESETS];
    }""")
    assert sorted(strings["fr"]) == sorted(strings["en"]) == sorted(strings["es"])
    assert [key for key, text in strings["en"].items() if strings["es"][key] == text] == []
    offered = {(platform, kind, name) for platform, by_kind in presets.items() for kind, names in by_kind.items()
               for name in names}
    assert offered == {(preset.platform, preset.kind, preset.name) for preset in import_files.PRESETS.values()}
