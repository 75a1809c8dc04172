"""Who is a person and who is a link preview.

``crawlerdetect`` knows 1,400+ crawler patterns; we add the few link-preview fetchers
it misses. HEAD requests are previews (browsers navigate with GET). An empty user
agent is a preview too: every browser and in-app browser sends one; scripts don't.
In-app browsers (Instagram, Facebook's FBAN/FBAV, TikTok…) are people.
"""
from __future__ import annotations

import functools
import re

_PREVIEW_EXTRA = re.compile(
    r"cardyb|iframely|embedly|vkshare|pinterestbot|redditbot|kakaotalk-scrap|google-pagerenderer",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=1)
def _detector():
    from crawlerdetect import CrawlerDetect

    return CrawlerDetect()


@functools.lru_cache(maxsize=4096)
def is_bot(user_agent: str) -> bool:
    if not user_agent.strip():
        return True
    return bool(_PREVIEW_EXTRA.search(user_agent)) or _detector().isCrawler(user_agent)


def is_preview(method: str, user_agent: str | None) -> bool:
    return method.upper() == "HEAD" or is_bot(user_agent or "")
