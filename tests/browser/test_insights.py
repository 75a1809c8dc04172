"""The operator's insights page: every campaign a named dot, the correlation in words, a phone's screen."""
from __future__ import annotations

import re
import uuid

import requests
from playwright.sync_api import expect

from tests.browser.support import DESKTOP_UA, PHONE_UA, axe_violations, wait_until

# (name, shares, pledges): shared more, pledged more
PLAN = (("Chorale", 1, 1), ("Brasserie", 3, 2), ("Docu", 9, 4))


def insights(relais) -> dict:
    response = requests.get(f"{relais.api}/v1/insights", timeout=30,
                            headers={"Authorization": f"Bearer {relais.stack.admin_token}"})
    assert response.status_code == 200, response.text
    return response.json()


def sign_in(page, relais, token: str, lang: str = "en") -> None:
    page.goto(f"{relais.api}/insights?lang={lang}")
    page.locator("#token").fill(token)
    page.locator("#signin button[type=submit]").click()


def seed(relais) -> dict[str, str]:
    """Three campaigns of known shares and pledges; ``{campaign id: name}``."""
    made = {}
    for name, shares, pledges in PLAN:
        campaign_id, key = relais.campaign(name=f"{name} {uuid.uuid4().hex[:6]}")
        fan = relais.stack.new_fan(campaign_id, name=f"Fan of {name}")
        for visitor in range(shares):  # a share counts once per visitor, link, channel and day: distinct fans
            response = requests.post(f"{relais.api}/v1/shares", json={"code": fan["code"], "channel": "whatsapp"},
                                     headers={"User-Agent": f"{DESKTOP_UA} fan/{visitor}"}, timeout=10)
            assert response.status_code == 202
        for _ in range(pledges):
            relais.pledge(campaign_id, key, 1500)
        made[campaign_id] = name
    return made


def test_the_operator_sees_one_named_dot_per_campaign_and_the_correlation_in_words(relais, context, axe_source):
    # Given three campaigns of known shares and pledges, counted
    made = seed(relais)

    def counted():
        rows = {row["id"]: (row["shares"], row["pledges"]) for row in insights(relais)["campaigns"]}
        return all(rows.get(campaign_id) == (shares, pledges)
                   for campaign_id, (_, shares, pledges) in zip(made, PLAN, strict=True))
    wait_until(counted, "the three campaigns to be counted", 20)
    body = insights(relais)

    # When the operator signs in on /insights with the operator token
    page = context.new_page()
    page.goto(f"{relais.api}/insights")
    assert axe_violations(page, axe_source) == [], "sign-in"
    sign_in(page, relais, "not-the-operator-token")
    expect(page.locator("#signin-error")).to_have_text("This is not the operator token.")
    sign_in(page, relais, relais.stack.admin_token)

    # Then the scatter has one dot per campaign, each naming its campaign
    dots = page.locator("#scatter circle[data-campaign]")
    expect(dots).to_have_count(len(body["campaigns"]))
    for campaign_id, name in made.items():
        expect(page.locator(f'#scatter circle[data-campaign="{campaign_id}"] title')).to_contain_text(name)

    # And the correlation is said in words, with ρ and the number of campaigns it is over
    correlation = body["correlation"]
    assert correlation["campaigns"] >= 3 and correlation["shares_pledges"] is not None
    direction = ("got more pledges" if correlation["shares_pledges"] >= 0.2 else
                 "got fewer pledges" if correlation["shares_pledges"] <= -0.2 else "says little about its pledges")
    expect(page.locator("#say-pledges")).to_contain_text(re.compile(
        rf"{direction}: ρ = −?[01]\.\d\d over {correlation['campaigns']} campaigns\."))

    # And the channels are compared by conversion rate, and every campaign is in the table
    expect(page.locator("#channels [data-channel=whatsapp]")).to_be_visible()
    expect(page.locator("#campaigns tbody tr")).to_have_count(min(50, len(body["campaigns"])))
    assert axe_violations(page, axe_source) == [], "insights"

    # And a tap on a dot names the campaign in words
    page.locator(f'#scatter circle[data-campaign="{next(iter(made))}"]').dispatch_event("click")
    expect(page.locator("#picked")).to_contain_text(f"{made[next(iter(made))]}")

    # And the amount view plots the money raised, still one named dot per campaign that raised in its currency
    page.locator("[data-axis=amount]").click()
    expect(page.locator("[data-axis=amount]")).to_have_attribute("aria-pressed", "true")
    for campaign_id in made:
        expect(page.locator(f'#scatter circle[data-campaign="{campaign_id}"]')).to_have_count(1)


def test_the_insights_page_reads_on_a_phone_and_in_french(relais, open_context, axe_source):
    phone = open_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True,
                         user_agent=PHONE_UA, locale="fr-FR")
    page = phone.new_page()
    sign_in(page, relais, relais.stack.admin_token, lang="fr")
    body = insights(relais)
    expect(page.locator("#title")).to_have_text("Vue de la plateforme")
    expect(page.locator("#scatter circle[data-campaign]")).to_have_count(len(body["campaigns"]))
    said = (rf"ρ = −?[01],\d\d sur {body['correlation']['campaigns']} campagnes\."
            if body["correlation"]["shares_pledges"] is not None else r"Pas encore assez de campagnes|Rien à comparer")
    expect(page.locator("#say-pledges")).to_contain_text(re.compile(said))
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    assert axe_violations(page, axe_source) == [], "phone, French"
