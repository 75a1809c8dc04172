"""Platform tags are derived from the link's code (and channel): lower-case, at most 20
characters, one tag per fan (or fan and channel) and one fan per tag, the same every time.
The ``platform`` setting's validation and defaults. Issuing and listing them: the app tier
(``tests/app/test_platform_tags.py``)."""
from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.core.channels import CHANNELS
from chalicelib.core.errors import ApiError
from chalicelib.core.ids import BASE62
from chalicelib.domain import platforms
from chalicelib.hotpath import platform_tags
from chalicelib.store.records import Campaign, Platform

TAG = re.compile(r"[a-z0-9-]{1,20}")
CODES = st.text(alphabet=BASE62, min_size=1, max_size=15)
CHANNEL_OR_NONE = st.none() | st.sampled_from(CHANNELS)
NOW = datetime(2026, 12, 7, tzinfo=UTC)


def campaign(platform: Platform | None, channels: tuple[str, ...] = CHANNELS) -> Campaign:
    return Campaign(id="cmp", name="C", target_url="https://example.org/", key_hash="0" * 64, created_at=NOW,
                    updated_at=NOW, channels=list(channels), platform=platform)


@given(code=CODES, channel=CHANNEL_OR_NONE)
def test_a_tag_is_lower_case_letters_digits_and_dashes_at_most_20_long_and_reads_back_as_its_fan(code, channel):
    tag = platform_tags.tag(code, channel)
    assert tag is not None and TAG.fullmatch(tag)
    assert platform_tags.parse(tag) == (code, channel)


@given(one=st.tuples(CODES, CHANNEL_OR_NONE), other=st.tuples(CODES, CHANNEL_OR_NONE))
def test_two_fans_or_two_channels_never_share_a_tag(one, other):
    assert (platform_tags.tag(*one) == platform_tags.tag(*other)) == (one == other)


def test_the_eight_character_codes_relais_draws_make_tags_of_10_and_with_a_channel_12_characters():
    for code in ("00000000", "zzzzzzzz", "ZZZZZZZZ", "Ab3dE5fG"):
        assert len(platform_tags.tag(code)) == 10
        assert len(platform_tags.tag(code, "whatsapp")) == 12
    assert platform_tags.tag("Ab3dE5fG") == "3ek1ig03ww"  # the example docs/platforms.md shows
    assert platform_tags.tag("Ab3dE5fG", "whatsapp") == "3ek1ig03ww-2"


def test_the_same_code_is_always_the_same_tag_and_leading_zeros_count():
    assert platform_tags.tag("0abc") == platform_tags.tag("0abc") != platform_tags.tag("abc")


def test_a_code_too_long_for_20_characters_or_not_base62_has_no_tag():
    assert platform_tags.tag("Z" * 17) is not None and platform_tags.tag("Z" * 18) is None
    assert platform_tags.tag("Z" * 15, "qr") is not None and platform_tags.tag("Z" * 16, "qr") is None
    assert platform_tags.tag("abc-d") is None and platform_tags.tag("abc", "myspace") is None


@pytest.mark.parametrize("text", ["newsletter", "0abc", "3ek1ig03ww-z", "3ek1ig03ww-", "-2", "", "3EK1IG03WW",
                                  "3ek1ig03ww-2-2", "a" * 21, "1"])
def test_text_no_code_makes_is_no_tag(text):
    assert platform_tags.parse(text) is None


def test_a_fan_has_one_tag_or_one_per_offered_channel_and_direct():
    assert platform_tags.channels_of("fan", ["x", "email"]) == [None]
    assert platform_tags.channels_of("fan_channel", ["x", "email"]) == ["x", "email", "direct"]
    assert platform_tags.channels_of("fan_channel", ["direct", "x"]) == ["direct", "x"]
    assert platform_tags.tags_of("Ab3dE5fG", "fan_channel", ["x"]) == {"x": "3ek1ig03ww-0", "direct": "3ek1ig03ww-d"}


def test_a_click_carries_the_platforms_parameter_with_the_fans_tag_or_the_channels():
    fan = campaign(Platform("kickstarter", "ref", "fan"))
    per_channel = campaign(Platform("goteo", "ref", "fan_channel"), channels=("whatsapp", "email"))
    assert platform_tags.carried(campaign(None), "Ab3dE5fG", "x") is None
    assert platform_tags.carried(fan, "Ab3dE5fG", "whatsapp") == ("ref", "3ek1ig03ww")
    assert platform_tags.carried(per_channel, "Ab3dE5fG", "whatsapp") == ("ref", "3ek1ig03ww-2")
    assert platform_tags.carried(per_channel, "Ab3dE5fG", "qr") == ("ref", "3ek1ig03ww-d")  # not offered: direct's


# The setting ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("given_value", "stored"), [
    ({"name": "kickstarter"}, Platform("kickstarter", "ref", "fan")),
    ({"name": "goteo", "tag_per": "fan_channel"}, Platform("goteo", "ref", "fan_channel")),
    ({"name": "ulule", "tag_param": "utm_source"}, Platform("ulule", "utm_source", "fan")),
    ({"name": "other", "tag_param": "src", "tag_per": "fan"}, Platform("other", "src", "fan")),
    ({"name": "kickstarter", "tag_param": None}, Platform("kickstarter", "ref", "fan")),
    (None, None),
])
def test_the_platform_setting_is_stored_with_the_platforms_known_parameter(given_value, stored):
    assert platforms.parse(given_value) == stored


@pytest.mark.parametrize("name", ["indiegogo", "ulule", "gamefound", "other"])
def test_a_platform_whose_parameter_no_public_source_gives_needs_tag_param(name):
    with pytest.raises(ApiError) as refused:
        platforms.parse({"name": name})
    assert refused.value.code == "invalid_platform" and "tag_param is required" in refused.value.message


@pytest.mark.parametrize("value", [
    "kickstarter", [], {}, {"tag_param": "ref"}, {"name": "myspace"}, {"name": 3},
    {"name": "kickstarter", "tag_per": "channel"}, {"name": "kickstarter", "extra": 1},
    {"name": "other", "tag_param": ""}, {"name": "other", "tag_param": "a b"}, {"name": "other", "tag_param": "-x"},
    {"name": "other", "tag_param": "x" * 41}, {"name": "other", "tag_param": 7}, {"name": "other", "tag_param": "r&f"},
])
def test_a_malformed_platform_is_invalid_platform(value):
    with pytest.raises(ApiError) as refused:
        platforms.parse(value)
    assert (refused.value.status, refused.value.code) == (400, "invalid_platform")
