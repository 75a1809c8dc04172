"""Stage settings from CDK context: defaults, camelCase keys, and refusals of unsafe values."""
from __future__ import annotations

import pytest

from infra.settings import SettingsError, StageSettings


class Context:
    def __init__(self, **values: object) -> None:
        self.values = values

    def try_get_context(self, key: str) -> object:
        return self.values.get(key)


def test_defaults_name_secret_parameters_after_the_stage():
    settings = StageSettings.from_context(Context(stage="staging"))
    assert settings.admin_token_param == "/relais/staging/admin-token"
    assert settings.secret_param == "/relais/staging/secret"
    assert settings.table_prefix == "relais-staging-"


def test_context_keys_are_camel_case_and_numbers_may_come_as_strings():
    settings = StageSettings.from_context(Context(throttleRateLimit="40", throttleBurstLimit=80,
                                                  alarmEmail="ops@example.org"))
    assert (settings.throttle_rate_limit, settings.throttle_burst_limit) == (40, 80)
    assert settings.alarm_email == "ops@example.org"


def test_each_function_has_a_memory_key_with_its_own_default():
    settings = StageSettings.from_context(Context(fallbackMemoryMb="512"))
    assert (settings.api_memory_mb, settings.aggregator_memory_mb, settings.fallback_memory_mb) == (512, 256, 512)
    assert StageSettings.from_context(Context()).importer_memory_mb == 2048  # a 100 MB export parsed whole
    assert StageSettings.from_context(Context(importerMemoryMb="2048")).importer_memory_mb == 2048


def test_a_custom_domain_becomes_the_public_url_unless_one_is_given():
    cert = "arn:aws:acm:us-east-1:123456789012:certificate/x"
    assert StageSettings(domain_name="go.example.org", certificate_arn=cert).effective_public_url == (
        "https://go.example.org")
    assert StageSettings(domain_name="go.example.org", certificate_arn=cert,
                         public_url="https://r.example.org/").effective_public_url == "https://r.example.org"
    assert StageSettings().effective_public_url is None


@pytest.mark.parametrize("values", [
    {"stage": "Prod"},
    {"stage": "prod/eu"},
    {"admin_token_param": "relais/prod/admin-token"},
    {"secret_param": "/relais/*"},
    {"throttle_rate_limit": 0},
    {"log_retention_days": 31},
    {"fallback_memory_mb": 64},
    {"api_memory_mb": 20480},
    {"importer_memory_mb": 64},
    {"domain_name": "go.example.org"},
    {"public_url": "http://go.example.org"},
    {"domain_name": "go.example.org", "certificate_arn": "go.example.org"},
    {"assets_domain_name": "cdn.example.org"},
    {"assets_domain_name": "cdn.example.org",
     "assets_certificate_arn": "arn:aws:acm:eu-west-1:123456789012:certificate/x"},
    {"domain_name": "go.example.org", "certificate_arn": "arn:aws:acm:eu-west-1:123456789012:certificate/x",
     "assets_domain_name": "go.example.org",
     "assets_certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/y"},
    {"warm_writes_per_second": 1000},
])
def test_unsafe_or_inconsistent_values_are_refused(values):
    with pytest.raises(SettingsError):
        StageSettings(**values)


def test_the_default_throttle_is_the_accounts_own_quota_which_admits_a_viral_burst():
    settings = StageSettings()
    assert (settings.throttle_rate_limit, settings.throttle_burst_limit) == (10_000, 5_000)


def test_an_assets_domain_with_its_us_east_1_certificate_becomes_the_assets_url():
    settings = StageSettings(assets_domain_name="cdn.example.org",
                             assets_certificate_arn="arn:aws:acm:us-east-1:123456789012:certificate/y")
    assert settings.assets_url == "https://cdn.example.org"
    assert StageSettings().assets_url is None


def test_warm_throughput_is_off_by_default_and_counted_in_write_units_per_second():
    assert StageSettings().warm_writes_per_second == 0
    assert StageSettings.from_context(Context(warmWritesPerSecond="12000")).warm_writes_per_second == 12_000


def test_a_stage_sends_no_e_mail_until_it_has_a_sender_whose_domain_is_its_identity_by_default():
    assert not StageSettings().sends_mail
    settings = StageSettings.from_context(Context(mailFrom="relais@Mail.Example.org", mailRegion="eu-west-1",
                                                  mailerMemoryMb="384"))
    assert settings.sends_mail
    assert (settings.mail_identity, settings.mail_region, settings.mailer_memory_mb) == (
        "mail.example.org", "eu-west-1", 384)
    address = StageSettings(mail_from="relais@example.org", mail_identity="relais@example.org")
    assert address.mail_identity == "relais@example.org"


@pytest.mark.parametrize(("values", "message"), [
    ({"mail_from": "relais"}, "not a plain e-mail address"),
    ({"mail_from": "Relais <relais@example.org>"}, "not a plain e-mail address"),
    ({"mail_from": "relais@localhost"}, "not a plain e-mail address"),
    ({"mail_from": "relais@example.org", "mail_identity": "other.org"}, "mailIdentity must be"),
    ({"mail_from": "relais@example.org", "mail_identity": "mail.example.org"}, "mailIdentity must be"),
    ({"mail_from": "relais@example.org", "mail_region": "Ireland"}, "not an AWS region name"),
    ({"mail_identity": "example.org"}, "need mailFrom"),
    ({"mail_region": "eu-west-1"}, "need mailFrom"),
    ({"mailer_memory_mb": 64}, "function memory 64 MB"),
])
def test_mail_settings_that_ses_would_refuse_or_that_do_nothing_are_refused(values, message):
    with pytest.raises(SettingsError, match=message):
        StageSettings(**values)
