"""The e-mails fans get: text and HTML parts in the campaign's language, the creator's sender
name and reply-to, a one-click unsubscribe, no tracking, and no way to inject a header."""
from __future__ import annotations

from email import policy
from email.parser import BytesParser

import pytest

from chalicelib.outbound import mail_message
from chalicelib.outbound.mail_message import Mail, build, header_text, to_bytes

UNSUBSCRIBE = "https://go.example.org/v1/unsubscribe/u1.abc"
SIGNIN = "https://example.org/campaign#relais-signin=s1.abc"


def _mail(**overrides) -> Mail:
    values = {"kind": "signin", "locale": "en", "campaign_name": "Moon Boots", "sender": "fans@relais.example",
              "to": "fan@example.com", "action_url": SIGNIN, "unsubscribe_url": UNSUBSCRIBE,
              "from_name": "Ada from Moon Boots", "reply_to": "ada@moonboots.example"}
    return Mail(**{**values, **overrides})


def _read(mail: Mail):
    return BytesParser(policy=policy.default).parsebytes(to_bytes(build(mail)))


def test_a_sign_in_message_has_a_text_and_an_html_part_with_the_link_and_the_campaign_name():
    message = _read(_mail())
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    page = message.get_body(("html",)).get_content()
    assert SIGNIN in text and "Moon Boots" in text
    assert f'href="{SIGNIN}"' in page and "Moon Boots" in page
    assert message["Subject"] == "Your link for Moon Boots"


def test_the_sender_is_the_platform_address_under_the_creators_name_and_replies_go_to_the_creator():
    message = _read(_mail())
    assert message["From"].addresses[0].addr_spec == "fans@relais.example"
    assert message["From"].addresses[0].display_name == "Ada from Moon Boots"
    assert message["Reply-To"].addresses[0].addr_spec == "ada@moonboots.example"
    assert message["To"].addresses[0].addr_spec == "fan@example.com"


def test_without_a_from_name_the_campaign_name_signs_and_there_is_no_reply_to():
    message = _read(_mail(from_name=None, reply_to=None))
    assert message["From"].addresses[0].display_name == "Moon Boots"
    assert message["Reply-To"] is None


def test_every_message_has_a_one_click_unsubscribe_as_rfc_8058_asks():
    message = _read(_mail(kind="reward", reward="A poster"))
    assert message["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert UNSUBSCRIBE in message.get_body(("html",)).get_content()


@pytest.mark.parametrize(("locale", "subject"), [
    ("fr", "Vous avez débloqué une récompense : A poster"),
    ("es", "Has desbloqueado una recompensa: A poster"),
    ("en", "You unlocked a reward: A poster"),
    ("de", "You unlocked a reward: A poster"),
])
def test_a_reward_message_speaks_the_campaigns_language_english_otherwise(locale, subject):
    message = _read(_mail(kind="reward", reward="A poster", locale=locale))
    assert message["Subject"] == subject
    assert message["Content-Language"] == (locale if locale != "de" else "en")


def test_every_language_has_every_text():
    assert {language: sorted(texts) for language, texts in mail_message.TEXTS.items()} == {
        language: sorted(mail_message.TEXTS["en"]) for language in mail_message.LANGUAGES}


def test_the_html_part_has_no_image_and_links_only_to_the_action_and_the_unsubscribe():
    page = _read(_mail()).get_body(("html",)).get_content()
    assert "<img" not in page.lower() and "url(" not in page.lower()
    assert sorted(part.split('"', 1)[0] for part in page.split('href="')[1:]) == sorted([SIGNIN, UNSUBSCRIBE])


def test_names_are_escaped_in_the_html_part():
    page = _read(_mail(campaign_name="<script>alert(1)</script>")).get_body(("html",)).get_content()
    assert "<script>" not in page and "&lt;script&gt;" in page


INJECTIONS = [
    "Ada\r\nBcc: victim@example.net",
    "Ada\nBcc: victim@example.net",
    "Ada\u2028Bcc: victim@example.net",
    "=?utf-8?q?Ada=0D=0ABcc:_victim@example.net?=",
    "=?utf-8?b?QWRhDQpCY2M6IHZpY3RpbUBleGFtcGxlLm5ldA==?=",
]


@pytest.mark.parametrize("name", INJECTIONS)
def test_a_line_break_or_an_encoded_word_in_a_from_name_adds_no_header(name):
    raw = to_bytes(build(_mail(from_name=name)))
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert message["Bcc"] is None and b"\r\nBcc:" not in raw
    assert [address.addr_spec for address in message["From"].addresses] == ["fans@relais.example"]
    assert "\n" not in message["From"].addresses[0].display_name


@pytest.mark.parametrize("name", INJECTIONS)
def test_a_line_break_or_an_encoded_word_in_a_campaign_name_adds_no_header(name):
    raw = to_bytes(build(_mail(campaign_name=name, from_name=None)))
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert message["Bcc"] is None and b"\r\nBcc:" not in raw
    assert "\n" not in message["Subject"]


@pytest.mark.parametrize("address", ["fan@example.com\r\nBcc: victim@example.net", "a b@example.com",
                                     "no-at-sign", "two@@example.com"])
def test_an_address_that_is_not_one_address_is_refused(address):
    with pytest.raises(ValueError, match="not an e-mail address"):
        build(_mail(to=address))
    with pytest.raises(ValueError, match="not an e-mail address"):
        build(_mail(reply_to=address))


def test_an_unsubscribe_url_that_could_break_its_header_is_refused():
    with pytest.raises(ValueError, match="not a URL"):
        build(_mail(unsubscribe_url="https://go.example.org/x>\r\nBcc: victim@example.net"))


def test_header_text_is_one_line_without_encoded_words():
    assert header_text("  Moon\t\r\nBoots =?utf-8?q?x?=  ") == "Moon Boots = ?utf-8?q?x? ="


def test_a_message_whose_headers_change_when_written_is_refused():
    message = build(_mail())
    message["X-Tracking"] = "1"
    with pytest.raises(ValueError, match="headers changed"):
        to_bytes(message)
