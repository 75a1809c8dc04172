"""The channel ↔ ref character table is append-only: refs already shared keep decoding."""
from __future__ import annotations

from chalicelib.core.channels import CHANNEL_OF_REF_CODE, CHANNELS, REF_CODES

SHIPPED = {
    "x": "0", "facebook": "1", "whatsapp": "2", "telegram": "3", "linkedin": "4", "bluesky": "5",
    "mastodon": "6", "reddit": "7", "email": "8", "sms": "9", "copy": "a", "qr": "b", "native": "c",
    "direct": "d",
}
"""The table as refs in the wild were written with it: an entry here never changes."""


def test_every_shipped_channel_keeps_its_ref_character():
    assert {channel: REF_CODES[channel] for channel in SHIPPED} == SHIPPED


def test_each_channel_has_its_own_single_base36_character_and_decodes_back():
    assert len(set(REF_CODES.values())) == len(REF_CODES)
    assert all(len(code) == 1 and code in "0123456789abcdefghijklmnopqrstuvwxyz" for code in REF_CODES.values())
    assert all(CHANNEL_OF_REF_CODE[code] == channel for channel, code in REF_CODES.items())


def test_every_channel_a_fan_can_share_on_has_a_ref_character():
    assert set(CHANNELS) <= set(REF_CODES)
