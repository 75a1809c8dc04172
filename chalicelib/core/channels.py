"""The share channels of the contract and, for each, the share dialog that opens it."""
from __future__ import annotations

from typing import TypeGuard
from urllib.parse import quote

CHANNELS = (
    "x", "facebook", "whatsapp", "telegram", "linkedin", "bluesky", "mastodon",
    "reddit", "email", "sms", "copy", "qr", "native", "direct",
)
CHANNEL_SET = frozenset(CHANNELS)

REF_CODES = {
    "x": "0", "facebook": "1", "whatsapp": "2", "telegram": "3", "linkedin": "4", "bluesky": "5",
    "mastodon": "6", "reddit": "7", "email": "8", "sms": "9", "copy": "a", "qr": "b", "native": "c",
    "direct": "d",
}
"""How a ``ref`` writes each channel: one base-36 character. Append-only: refs already
shared decode with this table for as long as they live, so an entry never changes and a
new channel takes the next unused character (``tests/unit/test_channels.py`` pins it)."""
CHANNEL_OF_REF_CODE = {code: channel for channel, code in REF_CODES.items()}

_INTENTS = {
    "x": "https://x.com/intent/post?text={text}&url={url}",
    "facebook": "https://www.facebook.com/sharer/sharer.php?u={url}",
    "whatsapp": "https://wa.me/?text={text_url}",
    "telegram": "https://t.me/share/url?url={url}&text={text}",
    "linkedin": "https://www.linkedin.com/sharing/share-offsite/?url={url}",
    "bluesky": "https://bsky.app/intent/compose?text={text_url}",
    "mastodon": "https://mastodonshare.com/?text={text}&url={url}",
    "reddit": "https://www.reddit.com/submit?url={url}&title={text}",
    "email": "mailto:?subject={text}&body={text_url}",
    "sms": "sms:?&body={text_url}",
}


def is_channel(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and value in CHANNEL_SET


def share_urls(short_url: str, share_text: str, channels: list[str]) -> dict[str, str]:
    """The share dialog URL of each enabled channel that has one, tagged ``?c=<channel>``."""
    urls = {}
    for channel in channels:
        template = _INTENTS.get(channel)
        if template is None:
            continue
        tagged = f"{short_url}?c={channel}"
        urls[channel] = template.format(
            url=quote(tagged, safe=""),
            text=quote(share_text, safe=""),
            text_url=quote(f"{share_text} {tagged}".strip(), safe=""),
        )
    return urls
