"""Platform tags: the names a hosted platform's referral report counts a fan's pledges under.

A campaign run on Kickstarter, Goteo… (``campaign.platform``, ``domain.platforms``) gives
each fan, or each fan and channel (``tag_per``), a tag, and the redirect adds it to the
destination in the platform's own query parameter (``tag_param``), so that the platform's
per-tag report counts pledges per fan (``docs/platforms.md``).

A tag is *derived* from the link's code, never drawn: the code's base-62 digits, behind a
leading 1 (so ``0abc`` and ``abc`` differ), written in base 36 — lower-case letters and
digits — and, per channel, ``-`` and the channel's one-character ref code
(``core.channels.REF_CODES``, append-only). Relais draws 8-character codes: a fan's tag is
10 characters (``Ab3dE5fG`` → ``3ek1ig03ww``), a channel's 12 (``3ek1ig03ww-2``:
WhatsApp).

Why derived: the redirect must make one write and no read once warm. A derived tag costs
it a few integer divisions, with the campaign it already holds (cached for 60 s); a drawn
tag would have to ride on the link's cached copy, which a container keeps for life, so a
platform switched on later would never reach warm containers. And derivation is
one-to-one: a code is one links item for good (never deleted, never reassigned), the
encoding is invertible (:func:`parse`), channels have distinct ref codes and a fan's tag
has no ``-``. So two fans, or two channels, never share a tag, in any campaign, under
either ``tag_per``, and a tag never changes: no collision to handle, nothing to look up.
The store still records each tag it issues (``store.tag_registry``), conditioned on the
tag being free or already this fan's, so that a tag names one fan for good even if this
reasoning were ever broken; a creator lists the issued tags, and an import reads a tag
back through that record.
"""
from __future__ import annotations

from chalicelib.core.channels import CHANNEL_OF_REF_CODE, REF_CODES
from chalicelib.core.ids import BASE62
from chalicelib.store.records import Campaign

MAX_LENGTH = 20
"""Indiegogo's limit on a referral code (letters, digits, dashes); Goteo stores 50."""
FAN = "fan"
FAN_CHANNEL = "fan_channel"
TAG_PER = (FAN, FAN_CHANNEL)
SEPARATOR = "-"
UNCHANNELLED = "direct"
"""The channel of a click without a known one; in ``fan_channel`` mode, also the tag a click
through a channel the campaign does not offer carries."""

_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_DIGIT62 = {ch: value for value, ch in enumerate(BASE62)}


def stem(code: str) -> str | None:
    """The code in base 36 (``None`` for a string that is not base 62, or empty)."""
    if not code:
        return None
    value = 1
    for ch in code:
        digit = _DIGIT62.get(ch)
        if digit is None:
            return None
        value = value * 62 + digit
    out = []
    while value:
        value, digit = divmod(value, 36)
        out.append(_B36[digit])
    return "".join(reversed(out))


def tag(code: str, channel: str | None = None) -> str | None:
    """The tag of a fan (``channel`` None) or of a fan and channel; ``None`` when it would be
    longer than :data:`MAX_LENGTH` (a code of over 17 characters, 15 with a channel: Relais
    draws 8) or the code is not base 62."""
    base = stem(code)
    if base is None or (channel is not None and channel not in REF_CODES):
        return None
    text = base if channel is None else f"{base}{SEPARATOR}{REF_CODES[channel]}"
    return text if len(text) <= MAX_LENGTH else None


def parse(text: str) -> tuple[str, str | None] | None:
    """``(code, channel)`` of the tag ``text`` (channel ``None`` for a fan's tag), or ``None``
    for text that is no code's tag. Which fan a tag names in a campaign is what the campaign
    issued (``store.tag_registry.owners``); this only inverts :func:`tag`."""
    base, separator, ref_code = text.partition(SEPARATOR)
    channel = CHANNEL_OF_REF_CODE.get(ref_code) if separator else None
    if (separator and channel is None) or not 0 < len(text) <= MAX_LENGTH or \
            not base or any(ch not in _B36 for ch in base) or base[0] == "0":
        return None
    value = int(base, 36)
    digits = []
    while value > 1:
        value, digit = divmod(value, 62)
        digits.append(BASE62[digit])
    if value != 1 or not digits:
        return None  # no leading 1, or nothing behind it: no code's encoding
    return "".join(reversed(digits)), channel


def channels_of(tag_per: str, channels: list[str]) -> list[str | None]:
    """The channels a fan has a tag for: ``[None]`` (one tag) for ``fan``; for
    ``fan_channel``, each of the campaign's channels, and ``direct`` in any case."""
    if tag_per == FAN:
        return [None]
    return list(dict.fromkeys([*channels, UNCHANNELLED]))


def tags_of(code: str, tag_per: str, channels: list[str]) -> dict[str | None, str]:
    """Every tag of one fan, by channel (``None``: the fan's one tag)."""
    found = {channel: tag(code, channel) for channel in channels_of(tag_per, channels)}
    return {channel: value for channel, value in found.items() if value is not None}


def carried(campaign: Campaign, code: str, channel: str) -> tuple[str, str] | None:
    """``(parameter, tag)`` a click on ``code`` through ``channel`` adds to the destination,
    or ``None`` when the campaign has no platform."""
    platform = campaign.platform
    if platform is None:
        return None
    if platform.tag_per == FAN:
        value = tag(code)
    else:
        value = tag(code, channel if channel in campaign.channels else UNCHANNELLED)
    return (platform.tag_param, value) if value is not None else None
