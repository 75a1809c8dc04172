"""Fans by e-mail in Chromium: a fan signs up in one browser, gets their link back in another
by clicking the link of the real message the local SMTP server kept (an .eml file), and the
second browser shows the same link and impact."""
from __future__ import annotations

import json
import re
import uuid
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import requests
from playwright.sync_api import expect

from tests.browser.support import DESKTOP_UA, axe_violations, page_with_widget, wait_until, widget_ready

MAIL_ON = {"enabled": True, "from_name": "Ada from Moon Boots", "reply_to": None}


def _messages_to(relais, address: str) -> list[EmailMessage]:
    """Every message the stack's SMTP server kept for ``address``, oldest first."""
    directory = relais.stack.data_dir / "mail"
    found = []
    for path in sorted(directory.glob("*.eml"), key=lambda p: p.stat().st_mtime) if directory.is_dir() else []:
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        if message["To"].addresses[0].addr_spec == address:
            found.append(message)
    return found


def _signin_href(message: EmailMessage) -> str:
    page = message.get_body(("html",)).get_content()
    match = re.search(r'href="([^"]*#relais-signin=[^"]+)"', page)
    assert match, page
    return match.group(1)


def _campaign_with_mail(relais, **overrides) -> tuple[str, str, str]:
    """A French campaign that e-mails its fans, with one reward; ``(id, key, target_url)``."""
    target = f"https://example.org/moon-boots-{uuid.uuid4().hex[:8]}"
    campaign_id, key = relais.campaign(locale="fr", target_url=target, email=MAIL_ON,
                                       rewards=[{"pledges": 1, "label": "Autocollant"}], **overrides)
    return campaign_id, key, target


def _open_campaign_page_from(page, target: str, widget_page: str) -> None:
    """The campaign page at ``target`` (a public https address, out of the tests' reach) is
    the creator's page on the test site: a link to it is redirected there, fragment kept."""
    page.route(f"{target}**", lambda route: route.fulfill(status=302, headers={"Location": widget_page}))


def test_a_fan_gets_their_link_back_in_another_browser_from_the_e_mail_and_sees_the_same_link_and_impact(
        relais, site, open_context, axe_source):
    campaign_id, key, target = _campaign_with_mail(relais)
    url = page_with_widget(site, relais, campaign_id, lang="fr")
    address = f"camille-{uuid.uuid4().hex[:8]}@example.org"

    # Given a fan who signed up on their laptop with their e-mail, asking for reward e-mails
    laptop = open_context().new_page()
    laptop.goto(url)
    card = widget_ready(laptop)
    expect(card.locator("label:has(#rw)")).to_have_text("M'écrire quand je débloque une récompense")
    expect(card.locator("#rw")).not_to_be_checked()
    card.locator("#rn").fill("Camille")
    card.locator("#re").fill(address)
    card.locator("#rw").check()
    with laptop.expect_request(lambda r: r.url.endswith("/referrers") and r.method == "POST") as created:
        card.locator("button[type=submit]").click()
    assert json.loads(created.value.post_data)["notify"] is True
    expect(card.locator("#rl")).to_have_value(re.compile(r"/r/[0-9A-Za-z]+$"))
    short_url = card.locator("#rl").input_value()
    code = short_url.rsplit("/", 1)[1]

    # and whose link brought a pledge (which unlocks their reward: they are e-mailed once)
    location = requests.get(f"{relais.api}/r/{code}?c=x", headers={"User-Agent": DESKTOP_UA},
                            allow_redirects=False, timeout=10).headers["Location"]
    relais.pledge(campaign_id, key, 2500, ref=re.search(r"ref=([^&]+)", location).group(1))
    wait_until(lambda: relais.referrer(code)["pledges"] == 1, "the pledge to be counted")
    rewarded = wait_until(lambda: _messages_to(relais, address), "the reward e-mail")
    assert [str(m["Subject"]) for m in rewarded] == ["Vous avez débloqué une récompense : Autocollant"]

    # When, on their phone, they say they already have a link and give their e-mail
    phone = open_context().new_page()
    phone.goto(url)
    card = widget_ready(phone)
    assert phone.evaluate("() => Object.keys(localStorage).filter(k => k.endsWith(':fan'))") == []
    card.get_by_role("button", name="Vous avez déjà un lien ?").click()
    expect(card.locator("h2", has_text="Vous avez déjà un lien ?")).to_be_visible()
    expect(card.locator("#rn")).to_have_count(0)
    card.locator("#re").fill(address)
    with phone.expect_response(lambda r: r.url.endswith("/referrers/recover")) as asked:
        card.get_by_role("button", name="M'envoyer mon lien").click()
    assert asked.value.status == 202
    expect(card.get_by_role("status").filter(has_text="S'il a un lien ici")).to_be_visible()
    assert axe_violations(phone, axe_source) == []

    # Then one message comes, whose link goes to the campaign page with a sign-in token
    signin = wait_until(lambda: [m for m in _messages_to(relais, address) if "Votre lien" in str(m["Subject"])],
                        "the sign-in e-mail")
    assert len(signin) == 1
    href = _signin_href(signin[0])
    assert href.startswith(f"{target}#relais-signin=")

    # When they click that link in the message (its HTML part, opened in the phone's browser)
    _open_campaign_page_from(phone, target, url)
    phone.set_content(signin[0].get_body(("html",)).get_content())
    phone.locator(f'a[href="{href}"]').first.click()
    phone.wait_for_url(f"{url}*")

    # Then the phone shows the fan's own link and impact, keeps it, and the token is off the URL
    card = widget_ready(phone)
    expect(card.locator("#rl")).to_have_value(short_url)
    laptop.reload()
    on_laptop = widget_ready(laptop).locator("[data-impact]")
    expect(on_laptop).to_have_text(re.compile(r"^1\s*clic\s*1\s*contribution"))
    expect(card.locator("[data-impact]")).to_have_text(on_laptop.text_content())
    assert "relais-signin" not in phone.url
    stored = phone.evaluate(f"() => JSON.parse(localStorage.getItem('relais:{campaign_id}:fan'))")
    assert stored["code"] == code
    phone.reload()
    expect(widget_ready(phone).locator("#rl")).to_have_value(short_url)
    assert axe_violations(phone, axe_source) == []


def test_a_sign_in_link_used_already_asks_for_a_new_one_and_leaves_the_address_bar_clean(relais, site,
                                                                                          open_context):
    campaign_id = _campaign_with_mail(relais)[0]
    url = page_with_widget(site, relais, campaign_id, lang="fr")
    address = f"dom-{uuid.uuid4().hex[:8]}@example.org"
    relais.stack.new_fan(campaign_id, "Dom", email=address)
    assert requests.post(f"{relais.api}/v1/campaigns/{campaign_id}/referrers/recover", json={"email": address},
                         timeout=10).status_code == 202
    message = wait_until(lambda: _messages_to(relais, address), "the sign-in e-mail")[0]
    token = _signin_href(message).split("#relais-signin=", 1)[1]
    used = requests.post(f"{relais.api}/v1/campaigns/{campaign_id}/referrers/signin", json={"token": token},
                         timeout=10)
    assert used.status_code == 200

    page = open_context().new_page()
    page.goto(f"{url}#relais-signin={token}")
    card = widget_ready(page)
    expect(card.get_by_role("alert")).to_have_text("Cela n'a pas marché : redemandez-le.")
    expect(card.locator("h2", has_text="Vous avez déjà un lien ?")).to_be_visible()
    expect(card.locator("#rl")).to_have_count(0)
    assert "relais-signin" not in page.url
