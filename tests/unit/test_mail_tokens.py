"""The tokens e-mails carry: a sign-in token names one fan of one campaign for 30 minutes, an
unsubscribe token one fan for good; neither verifies once changed, nor for the other purpose."""
from __future__ import annotations

import time

import pytest

from chalicelib.core import mail_tokens, sealed_text
from chalicelib.domain import sealing
from chalicelib.outbound import mailer
from chalicelib.store.mail_queue import Job


def test_a_sign_in_token_names_its_campaign_and_fan_until_it_expires():
    now = time.time()
    token = mail_tokens.signin("camp1", "Code42", now)
    read = mail_tokens.read_signin(token, now + 29 * 60)
    assert read is not None and (read.campaign_id, read.code) == ("camp1", "Code42")
    assert mail_tokens.read_signin(token, now + 30 * 60 + 1) is None


@pytest.mark.parametrize("change", [lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
                                    lambda t: t.replace("camp1", "camp2"),
                                    lambda t: t.replace("Code42", "Code43"),
                                    lambda t: t + ".x", lambda t: "", lambda t: 42])
def test_a_changed_sign_in_token_is_not_read(change):
    assert mail_tokens.read_signin(change(mail_tokens.signin("camp1", "Code42"))) is None


def test_an_unsubscribe_token_names_its_fan_and_is_no_sign_in_token():
    token = mail_tokens.unsubscribe("camp1", "Code42")
    assert mail_tokens.read_unsubscribe(token) == ("camp1", "Code42")
    assert mail_tokens.read_signin(token) is None
    assert mail_tokens.read_unsubscribe(mail_tokens.signin("camp1", "Code42")) is None
    assert mail_tokens.read_unsubscribe(token.replace("Code42", "Code43")) is None


def test_the_mailer_unseals_under_the_purpose_fans_emails_are_sealed_under():
    assert mailer.EMAIL_PURPOSE == sealing.PURPOSE
    assert sealed_text.unseal(sealing.seal("fan@example.org"), mailer.EMAIL_PURPOSE) == "fan@example.org"


def test_an_outbox_job_reads_back_as_written():
    job = Job("reward", "camp1", "Code42", "rw-Code42-3-1", pledges=3, attempt=2, base="https://go.example.org")
    assert Job.from_json(job.to_json()) == job
