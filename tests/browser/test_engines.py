"""The fan's journey through the widget and the creator's sign-in to the console, in the two engines fans
use besides Chromium (issue 21): Gecko (Debian's Firefox ESR, over WebDriver BiDi) and WebKit (the engine
of Safari, as Debian's WebKitGTK, through WebKitWebDriver), driven by tests/browser/engines/drivers.py.
Everything else of the browser tier runs in Chromium through Playwright, whose own builds of Firefox and
WebKit are downloads this project does not use. Each test runs once per engine: its id names the engine,
and the test checks that the page really ran in it (the engine's user agent)."""
from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser.engines import drivers
from tests.browser.support import wait_until

USER_AGENT = {"gecko": r"\) Gecko/\d+ Firefox/\d+", "webkit": r"AppleWebKit/[\d.]+ \(KHTML, like Gecko\) .*Safari/"}
CARD = "document.querySelector('[data-relais]').shadowRoot"
READY = f"!!(document.querySelector('[data-relais]') && {CARD}.querySelector('section.w:not([aria-busy])'))"


@pytest.fixture(scope="module", params=drivers.ENGINES)
def engine(request, tmp_path_factory) -> Iterator[drivers.Gecko | drivers.WebKit]:
    try:
        running = drivers.start(request.param, tmp_path_factory.mktemp(request.param))
    except drivers.StartFailed as failed:
        pytest.fail(str(failed), pytrace=False)
    yield running
    running.close()


def in_card(selector: str) -> str:
    """A JavaScript expression: the element of the widget's card that ``selector`` finds."""
    return f"{CARD}.querySelector({selector!r})"


def open_in(engine, url: str):
    """A fresh profile of ``engine`` on ``url``, after checking that the page runs in that engine."""
    tab = engine.profile()
    tab.goto(url)
    user_agent = tab.run("navigator.userAgent")
    assert re.search(USER_AGENT[engine.name], user_agent) and "Chrome" not in user_agent, user_agent
    return tab


def test_a_fan_gets_and_shares_their_link_and_a_friend_who_follows_it_lands_and_pledges_for_them(relais, engine):
    # Given a fan on the creator's demo page, with the widget
    fan = open_in(engine, f"{relais.demo}/")
    wait_until(lambda: fan.run(READY), "the widget to be drawn")

    # When they get their link
    fan.fill(in_card("#rn"), "Ada")
    fan.click(in_card("button[type=submit]"))
    link = wait_until(lambda: fan.run(f"{in_card('#rl')} && {in_card('#rl')}.value"), "the fan's link")
    assert re.fullmatch(re.escape(relais.api) + r"/r/[0-9A-Za-z]+", link)
    code = link.rsplit("/", 1)[1]

    # And copy it: the Clipboard API took it (the widget says so only then), and the copy counts as a share
    fan.click(in_card("[data-c=copy]"))
    wait_until(lambda: fan.run(f"{in_card('p[role=status]')}.textContent") == "Lien copié !", "“Link copied!”")
    wait_until(lambda: relais.referrer(code)["shares"] == 1, "the copy to be counted")

    # And press WhatsApp: its intent opens in a new tab, which asks only the stand-in for the Internet
    # for wa.me, and the share is counted
    whatsapp = in_card("[data-c=whatsapp]")
    intent = fan.run(f"{whatsapp}.href")
    assert urlsplit(intent).hostname == "wa.me"
    assert parse_qs(urlsplit(intent).query)["text"][0].endswith(f"{link}?c=whatsapp")
    fan.click(whatsapp)
    assert len(wait_until(fan.other_windows, "the WhatsApp tab")) == 1
    wait_until(lambda: "wa.me:443" in engine.outside.seen, "the browser to ask for wa.me")
    wait_until(lambda: relais.referrer(code)["shares"] == 2, "the WhatsApp share to be counted")

    # When a friend follows the short link in their own browser
    friend = open_in(engine, f"{relais.api}/r/{code}?c=whatsapp")
    wait_until(lambda: friend.url.startswith(f"{relais.demo}/?"), "the redirect to the demo page")
    ref = parse_qs(urlsplit(friend.url).query)["ref"][0]
    assert ref.split(".")[0] == code
    wait_until(lambda: friend.run(READY), "the widget on the landing page")

    # Then the click and the landing are counted for the fan
    wait_until(lambda: relais.referrer(code)["landed"] == 1, "the landing to be counted")
    assert relais.referrer(code)["clicks"] == 1

    # When the friend pledges 25 EUR on the page: the pledge carries the fan's ref and is theirs
    assert friend.run("document.querySelector('form.pledge input[name=relais_ref]').value") == ref
    friend.fill("document.querySelector('#amount')", "25")
    friend.click("document.querySelector('form.pledge button[type=submit]')")
    wait_until(lambda: "Merci" in (friend.run("document.querySelector('form.pledge .thanks')?.textContent") or ""),
               "the page's thanks")
    wait_until(lambda: relais.referrer(code)["pledges"] == 1, "the pledge to be counted for the fan")
    row = next(r for r in relais.stats()["referrers"] if r.get("code") == code)
    assert (row["name"], row["clicks"], row["landed"], row["pledges"], row["amount"]) == ("Ada", 1, 1, 1, {"EUR": 2500})

    # And nothing but wa.me was asked of the Internet, by either browser
    assert set(engine.outside.seen) == {"wa.me:443"}


def test_the_creator_signs_in_to_the_console_with_the_campaign_key_and_sees_their_campaign(relais, engine):
    # Given a campaign with one pledge of 42 EUR
    name = f"The {engine.name} record"
    campaign_id, key = relais.campaign(name=name)
    relais.pledge(campaign_id, key, 4200)
    wait_until(lambda: relais.stats(campaign_id, key)["totals"]["pledges"] == 1, "the pledge to be counted")

    # When the creator opens the console and signs in with the campaign's key
    asked_before = len(engine.outside.seen)
    creator = open_in(engine, f"{relais.api}/dashboard#campaign={campaign_id}")
    assert creator.run("document.querySelector('#board').hidden") is True
    creator.fill("document.querySelector('#key')", key)
    creator.click("document.querySelector('#signin button[type=submit]')")

    # Then the console shows their campaign: its name and its pledged 42 EUR
    wait_until(lambda: creator.run("!document.querySelector('#board').hidden"), "the console's board")
    wait_until(lambda: creator.run("document.querySelector('#title').textContent") == name, "the campaign's name")
    raised = re.compile(r"Raised\s*(€\s?42(?!\d)|42\s?€)")
    wait_until(lambda: raised.search(creator.run("document.querySelector('#kpis').textContent")), "“Raised €42”")
    assert creator.run("document.querySelector('#signin').hidden") is True
    # And the console asked nothing of the Internet
    assert engine.outside.seen[asked_before:] == []
