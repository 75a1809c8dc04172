"""Who is a person and who is a link preview.

``crawlerdetect`` knows 1,400+ crawler patterns; we add the few link-preview fetchers
it misses. An empty user agent is a bot too: every browser and in-app browser sends
one; scripts don't. In-app browsers (Instagram, Facebook's FBAN/FBAV, TikTok…) are
people. HEAD requests are previews whoever sends them (``chalicelib.tracking``). The
aggregator classifies, so the regex never runs on the redirect's request path.
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
