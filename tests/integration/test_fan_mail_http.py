"""Fans by e-mail over HTTP, on the real local stack and its real SMTP server (aiosmtpd on
127.0.0.1, each message kept as an .eml file): link recovery for known and unknown e-mails,
the sign-in token's single use, expiry and campaign, one-click unsubscribe (RFC 8058),
header injection, a flood of requests, a reward unlocked."""
from __future__ import annotations

import re
import stat
import time
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
import requests

from chalicelib.core import mail_tokens
from chalicelib.store import links_table, mail_queue

MAIL_ON = {"enabled": True, "from_name": "Ada from Moon Boots", "reply_to": "ada@moonboots.example"}


def _mail_dir(stack) -> Path:
    return stack.data_dir / "mail"


def _messages(stack) -> dict[Path, EmailMessage]:
    directory = _mail_dir(stack)
    paths = sorted(directory.glob("*.eml")) if directory.is_dir() else []
    return {path: BytesParser(policy=policy.default).parsebytes(path.read_bytes()) for path in paths}


def _outbox_empty(stack) -> bool:
    outbox = stack.data_dir / "outbox"
    return not outbox.is_dir() or not any(outbox.glob("*.json*"))


def _settle(stack, timeout: float = 15) -> None:
    """Wait until the stack's mailer has handled every queued job (sent or decided not to)."""
    deadline = time.monotonic() + timeout
    while not _outbox_empty(stack):
        assert time.monotonic() < deadline, "the outbox was not drained"
        time.sleep(0.1)
    time.sleep(0.3)  # the last job's SMTP conversation, if any, ends after its file is gone


def _new_messages(stack, before: set[Path]) -> list[EmailMessage]:
    _settle(stack)
    return [message for path, message in _messages(stack).items() if path not in before]


def _to(message: EmailMessage) -> str:
    return message["To"].addresses[0].addr_spec


def _token(message: EmailMessage) -> str:
    page = message.get_body(("html",)).get_content()
    match = re.search(r'href="[^"#]*#relais-signin=([^"]+)"', page)
    assert match, page
    return match.group(1)


def _recover(stack, campaign_id: str, email: str) -> requests.Response:
    return requests.post(f"{stack.api}/v1/campaigns/{campaign_id}/referrers/recover", json={"email": email},
                         timeout=10)


def _signin(stack, campaign_id: str, token: str) -> requests.Response:
    return requests.post(f"{stack.api}/v1/campaigns/{campaign_id}/referrers/signin", json={"token": token},
                         timeout=10)


def _campaign(stack, **overrides):
    return stack.create_campaign(email=MAIL_ON, **overrides)


def test_recovery_answers_the_same_for_a_known_and_an_unknown_email_and_mails_only_the_known_one(stack):
    campaign, _ = _campaign(stack)
    fan = stack.new_fan(campaign["id"], "Known Fan", email="known.fan@example.org")
    before = set(_messages(stack))
    known = _recover(stack, campaign["id"], "Known.Fan@example.org")
    unknown = _recover(stack, campaign["id"], "nobody.here@example.org")
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json()) == (202, {"accepted": True})
    messages = _new_messages(stack, before)
    assert [_to(message) for message in messages] == ["known.fan@example.org"]
    message = messages[0]
    assert message["From"].addresses[0].display_name == "Ada from Moon Boots"
    assert message["Reply-To"].addresses[0].addr_spec == "ada@moonboots.example"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    signed_in = _signin(stack, campaign["id"], _token(message))
    assert signed_in.status_code == 200, signed_in.text
    assert (signed_in.json()["code"], signed_in.json()["short_url"]) == (fan["code"], fan["short_url"])


def test_a_sign_in_token_works_once(stack):
    campaign, _ = _campaign(stack)
    stack.new_fan(campaign["id"], "Once", email="once@example.org")
    before = set(_messages(stack))
    _recover(stack, campaign["id"], "once@example.org")
    token = _token(_new_messages(stack, before)[0])
    assert _signin(stack, campaign["id"], token).status_code == 200
    again = _signin(stack, campaign["id"], token)
    assert (again.status_code, again.json()["error"]["code"]) == (400, "invalid_token")


def test_an_expired_a_forged_and_another_campaigns_token_are_all_invalid(stack):
    campaign, _ = _campaign(stack)
    other, _ = _campaign(stack)
    fan = stack.new_fan(campaign["id"], "Fan", email="expiry@example.org")
    expired = mail_tokens.signin(campaign["id"], fan["code"], now=time.time() - 31 * 60)
    fresh = mail_tokens.signin(campaign["id"], fan["code"])
    forged = fresh[:-4] + ("AAAA" if not fresh.endswith("AAAA") else "BBBB")
    for campaign_id, token in ((campaign["id"], expired), (campaign["id"], forged), (other["id"], fresh),
                               (campaign["id"], "not a token"), (campaign["id"], 42)):
        answer = _signin(stack, campaign_id, token)
        assert (answer.status_code, answer.json()["error"]["code"]) == (400, "invalid_token"), token
    assert _signin(stack, campaign["id"], fresh).status_code == 200  # refused elsewhere, still unused here


def test_a_flood_of_recover_requests_for_one_address_sends_one_message(stack):
    campaign, _ = _campaign(stack)
    stack.new_fan(campaign["id"], "Flooded", email="flooded@example.org")
    before = set(_messages(stack))
    answers = {_recover(stack, campaign["id"], "flooded@example.org").status_code for _ in range(8)}
    assert answers == {202}
    assert [_to(message) for message in _new_messages(stack, before)] == ["flooded@example.org"]


def test_a_campaign_with_email_off_answers_202_and_sends_nothing(stack):
    campaign, _ = stack.create_campaign(email={"enabled": False, "from_name": "Quiet"})
    stack.new_fan(campaign["id"], "Quiet Fan", email="quiet@example.org")
    before = set(_messages(stack))
    assert _recover(stack, campaign["id"], "quiet@example.org").status_code == 202
    assert _new_messages(stack, before) == []


@pytest.mark.parametrize("from_name", ["=?utf-8?q?Ada=0D=0ABcc:_victim@example.net?=",
                                       "=?utf-8?b?QWRhDQpCY2M6IHZpY3RpbUBleGFtcGxlLm5ldA==?="])
def test_an_encoded_line_break_in_from_name_or_the_campaign_name_adds_no_header(stack, from_name):
    campaign, _ = stack.create_campaign(name=from_name, email={**MAIL_ON, "from_name": from_name})
    stack.new_fan(campaign["id"], "Target", email="target@example.org")
    before = set(_messages(stack))
    _recover(stack, campaign["id"], "target@example.org")
    messages = _new_messages(stack, before)
    assert len(messages) == 1
    message = messages[0]
    assert message["Bcc"] is None and message["Cc"] is None
    assert [address.addr_spec for address in message["To"].addresses] == ["target@example.org"]
    assert "victim@example.net" not in str(message["To"]) + str(message["Reply-To"])


def test_the_mail_directory_and_its_messages_are_private(stack):
    campaign, _ = _campaign(stack)
    stack.new_fan(campaign["id"], "Private", email="private@example.org")
    before = set(_messages(stack))
    _recover(stack, campaign["id"], "private@example.org")
    assert _new_messages(stack, before)
    assert stat.S_IMODE(_mail_dir(stack).stat().st_mode) == 0o700
    assert {stat.S_IMODE(path.stat().st_mode) for path in _mail_dir(stack).glob("*.eml")} == {0o600}


def test_no_outbox_job_holds_an_email_address(stack):
    campaign, _ = _campaign(stack)
    job = mail_queue.Job("signin", campaign["id"], "0" * 32, mail_queue.new_id(), base=stack.api)
    assert "@" not in job.to_json()


@pytest.fixture
def aggregator_mails(stack, monkeypatch):
    """The aggregator runs in this process (the poller): its reward e-mails go to the stack's outbox."""
    monkeypatch.setenv("RELAIS_MAIL_SPOOL", str(stack.data_dir / "outbox"))
    monkeypatch.setenv("RELAIS_PUBLIC_URL", stack.api)


def _pledge(stack, campaign_id: str, key: str, pledge_id: str, ref: str) -> None:
    body = {"pledge_id": pledge_id, "amount": 1000, "currency": "EUR", "ref": ref}
    response = requests.post(f"{stack.api}/v1/campaigns/{campaign_id}/pledges", json=body,
                             headers={"Authorization": f"Bearer {key}"}, timeout=10)
    assert response.status_code == 201, response.text


def _ref(stack, code: str) -> str:
    response = requests.get(f"{stack.api}/r/{code}?c=x", allow_redirects=False, timeout=10,
                            headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 "
                                                   "Firefox/128.0"})
    return response.headers["Location"].split("ref=", 1)[1].split("&", 1)[0]


def test_a_fan_who_opted_in_gets_one_email_when_a_reward_unlocks_and_can_unsubscribe_in_one_click(
        stack, poller, aggregator_mails):
    campaign, key = _campaign(stack, rewards=[{"pledges": 1, "label": "A signed poster"}])
    fan = stack.new_fan(campaign["id"], "Rewarded", email="rewarded@example.org", notify=True)
    silent = stack.new_fan(campaign["id"], "Silent", email="silent@example.org")
    before = set(_messages(stack))
    _pledge(stack, campaign["id"], key, "cs_reward_1", _ref(stack, fan["code"]))
    _pledge(stack, campaign["id"], key, "cs_reward_2", _ref(stack, silent["code"]))
    poller.drain()
    poller.drain()  # a replayed batch announces nothing twice
    messages = _new_messages(stack, before)
    assert [_to(message) for message in messages] == ["rewarded@example.org"]
    assert "A signed poster" in messages[0]["Subject"]
    unsubscribe_url = messages[0]["List-Unsubscribe"].strip("<>")
    answer = requests.post(unsubscribe_url, data="List-Unsubscribe=One-Click",
                           headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=10)
    assert answer.status_code == 200
    stored = links_table.get(fan["code"])
    assert stored is not None and stored.notify is False


def test_the_unsubscribe_page_asks_before_it_unsubscribes_and_a_forged_token_is_400(stack):
    campaign, _ = _campaign(stack)
    fan = stack.new_fan(campaign["id"], "Asked", email="asked@example.org", notify=True)
    url = f"{stack.api}/v1/unsubscribe/{mail_tokens.unsubscribe(campaign['id'], fan['code'])}"
    page = requests.get(url, timeout=10)
    assert page.status_code == 200 and '<form method="post">' in page.text
    stored = links_table.get(fan["code"])
    assert stored is not None and stored.notify is True
    assert requests.post(url + "x", timeout=10).status_code == 400
    assert requests.get(url + "x", timeout=10).status_code == 400


def test_erasing_a_fan_leaves_no_message_to_them_pending(stack, monkeypatch):
    """Jobs name a claim digest or a link, never an address: a fan erased while a message to
    them waits in the outbox is sent nothing (their sealed e-mail is gone), while the same job
    for a fan still there is sent."""
    from chalicelib.domain.links import claim_digest

    monkeypatch.setenv("RELAIS_MAIL_SPOOL", str(stack.data_dir / "outbox"))
    campaign, key = _campaign(stack)
    erased = stack.new_fan(campaign["id"], "Soon Erased", email="soon.erased@example.org")
    kept = stack.new_fan(campaign["id"], "Still Here", email="still.here@example.org")
    before = set(_messages(stack))
    for email in ("soon.erased@example.org", "still.here@example.org"):
        job = mail_queue.Job("signin", campaign["id"], claim_digest(campaign["id"], email), mail_queue.new_id(),
                             base=stack.api)
        assert mail_queue.send(job, delay_seconds=3)  # pending while the fan is erased
    erasure = requests.delete(f"{stack.api}/v1/campaigns/{campaign['id']}/referrers/{erased['code']}",
                              headers={"Authorization": f"Bearer {key}"}, timeout=10)
    assert erasure.status_code == 204
    time.sleep(3.5)
    sent = _new_messages(stack, before)
    assert [_to(message) for message in sent] == ["still.here@example.org"]
    assert links_table.get(kept["code"]) is not None
