"""Fan rewards in the browser: a fan's progress in the widget (fr/en/es, accessible), none when
the campaign offers none, and the creator's fulfilment list in the dashboard."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.support import axe_violations, clicked_ref, page_with_widget, sign_in, wait_until, widget_ready

REWARDS = [{"pledges": 1, "label": "Thank-you card"}, {"pledges": 3, "label": "Signed poster"}]


def fan_page(relais, site, context, campaign_id, attributes=""):
    page = context.new_page()
    page.goto(page_with_widget(site, relais, campaign_id, attributes=attributes))
    return page, widget_ready(page)


def test_a_fan_sees_their_progress_to_the_next_reward_with_no_serious_accessibility_issue(relais, site, context,
                                                                                           axe_source):
    # Given a campaign with two rewards, and a fan who has taken their link
    campaign_id, key = relais.campaign(rewards=REWARDS)
    page, card = fan_page(relais, site, context, campaign_id)
    card.locator("#rn").fill("Ada")
    card.locator("button[type=submit]").click()
    code = card.locator("#rl").input_value().rsplit("/", 1)[1]
    rewards = card.locator("[data-rewards]")
    expect(rewards.locator("h3")).to_have_text("Your rewards")
    expect(rewards.locator("li")).to_have_text(["Thank-you card0/1 pledge", "Signed poster0/3 pledges"])

    # When a friend pledges through the fan's link, and the page refreshes the widget
    relais.pledge(campaign_id, key, 2500, clicked_ref(relais, code))
    wait_until(lambda: relais.referrer(code)["pledges"] == 1, "the pledge to be counted")
    page.evaluate("() => window.Relais.refresh()")

    # Then the first reward is unlocked, in words, and a progress bar tells how far the next one is
    expect(rewards.locator("li").first).to_have_text("✓Thank-you cardUnlocked")
    expect(rewards.locator("li").nth(1)).to_have_text("Signed poster1/3 pledges")
    expect(rewards.locator("p")).to_have_text("Next reward: Signed poster")
    bar = rewards.get_by_role("progressbar")
    expect(bar).to_have_attribute("aria-valuenow", "1")
    expect(bar).to_have_attribute("aria-valuemax", "3")
    expect(bar).to_have_attribute("aria-valuetext", "1/3 pledges")
    expect(bar).to_have_accessible_name("Next reward: Signed poster")
    assert axe_violations(page, axe_source) == []
    assert context.page_errors == []


@pytest.mark.parametrize(("locale", "title", "count"), [
    ("fr", "Récompenses des ambassadeurs", "3 contributions"),
    ("es", "Recompensas para embajadores", "3 aportes"),
    ("en", "Rewards for referrers", "3 pledges"),
])
def test_before_taking_a_link_a_visitor_sees_the_rewards_in_the_widgets_language(relais, site, context, locale, title,
                                                                                   count):
    campaign_id, _ = relais.campaign(rewards=REWARDS)
    _, card = fan_page(relais, site, context, campaign_id, attributes=f'data-locale="{locale}"')
    rewards = card.locator("[data-rewards]")
    expect(rewards.locator("h3")).to_have_text(title)
    expect(rewards.locator("li").nth(1)).to_have_text(f"Signed poster{count}")
    expect(rewards.get_by_role("progressbar")).to_have_count(0)


def test_a_campaign_without_rewards_shows_none(relais, site, context):
    campaign_id, _ = relais.campaign()
    _, card = fan_page(relais, site, context, campaign_id)
    expect(card.locator("form")).to_be_visible()
    expect(card.locator("[data-rewards]")).to_have_count(0)


def test_the_dashboard_lists_who_unlocked_what_marks_it_fulfilled_and_downloads_it(relais, context, axe_source):
    # Given a fan who unlocked the first reward
    campaign_id, key = relais.campaign(rewards=REWARDS)
    fan = relais.stack.new_fan(campaign_id, name="Zoé")
    relais.pledge(campaign_id, key, 1200, clicked_ref(relais, fan["code"]))
    wait_until(lambda: relais.get(f"/v1/campaigns/{campaign_id}/rewards", key)["rewards"], "the reward to be unlocked")

    # When the creator opens the dashboard
    page = context.new_page()
    sign_in(page, relais, campaign_id, key)
    row = page.locator(f"#rewards tr[data-reward='{fan['code']}:1']")
    expect(row).to_contain_text("Zoé")
    expect(row.locator("[data-k=label]")).to_have_text("Thank-you card")
    assert axe_violations(page, axe_source, "#rewards-card") == []

    # Then they can download the list, and mark the reward fulfilled
    with page.expect_download() as download:
        page.locator("#rewards-csv").click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    assert download.value.suggested_filename == f"relais-{campaign_id}-rewards.csv"
    assert text.splitlines()[1].startswith(f"{fan['code']},Zoé,1,Thank-you card,")
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    row.get_by_role("button", name="Mark fulfilled: “Thank-you card” for Zoé").click()
    expect(row.locator("[data-k=fulfilled] .pill")).to_contain_text("Fulfilled")
    assert asked == ["Mark “Thank-you card” fulfilled for Zoé? A refund will no longer take it back."]
    assert relais.get(f"/v1/campaigns/{campaign_id}/rewards", key)["rewards"][0]["fulfilled_at"] is not None


def test_the_dashboard_of_a_campaign_without_rewards_has_no_rewards_card(relais, context):
    campaign_id, key = relais.campaign()
    page = context.new_page()
    sign_in(page, relais, campaign_id, key)
    expect(page.locator("#board")).to_be_visible()
    expect(page.locator("#rewards-card")).to_be_hidden()
