"""People, not bots: the detector on the public corpus (tests/corpus/), named link-preview
fetchers and in-app browsers, absurd and crafted user agents, and its bounded cost."""
from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest

from chalicelib.aggregate import bots
from harness import bot_corpus
from harness.bot_corpus import HOSTILE_AGENTS
from harness.user_agents import HUMAN_AGENTS, PREVIEW_AGENTS

# Link-preview fetchers that public bot lists once let through as people (issue 11), by a
# string their corpus user agent contains.
NAMED_FETCHERS = {
    "Meta's agent": "meta-externalagent/",
    "Meta's fetcher": "meta-externalfetcher/",
    "Meta's external hit": "Meta-ExternalHit/",
    "Viber": "ViberUrlDownloader",
    "Snapchat": "Snap URL Preview Service",
    "Tumblr": "Tumblr/",
    "Steam chat": "SteamChatURLLookup",
    "Bluesky's Cardyb": "Bluesky Cardyb/",
    "Bluesky's fetcher": "Bluesky/",
    "Google's link verifier": "Google-BusinessLinkVerification",
    "Notion": "Notion/",
    "ClickUp": "ClickUpLinkUnfurler/",
    "Lemmy": "Lemmy/",
    "Friendica": "Friendica",
    "Slack": "Slackbot-LinkExpanding",
    "Discord": "Discordbot/",
    "WhatsApp": "WhatsApp/",
    "Telegram": "TelegramBot",
    "LinkedIn": "LinkedInBot/",
    "Skype and Teams": "SkypeUriPreview",
    "Iframely": "Iframely/",
    "Mastodon": "Mastodon/",
}

# In-app browsers: a person who tapped the link inside the app.
IN_APP_BROWSERS = {
    "Facebook (iOS)": "FBAN/FBIOS",
    "Facebook (Android)": "FB_IAB/FB4A",
    "Instagram": "Instagram ",
    "TikTok": "musical_ly",
    "WeChat": "MicroMessenger/",
    "Line": "Line/",
    "Snapchat": "Snapchat/",
    "Threads": "Barcelona ",
    "LinkedIn": "[LinkedInApp]",
    "Pinterest": "[Pinterest/",
    "Viber": "Viber/",
    "KakaoTalk": "KAKAOTALK",
    "Facebook Messenger": "FBAN/MessengerForiOS",
}


def test_the_corpus_holds_500_bots_with_100_link_preview_fetches_and_500_people():
    entries = bot_corpus.entries()
    assert sum(entry.is_bot for entry in entries) >= 500
    assert sum(entry.kind == "preview" for entry in entries) >= 100
    assert sum(not entry.is_bot for entry in entries) >= 500


def test_every_corpus_entry_says_where_it_came_from():
    sources = bot_corpus.sources()
    assert all(set(source) >= {"repository", "version", "license", "role", "what"} for source in sources.values())
    assert {source["role"] for source in sources.values()} <= {"tuning", "held out", "built from"}
    for entry in bot_corpus.entries():
        assert entry.kind in {"person", "bot", "preview"} and entry.source in sources and entry.file, entry


def test_bots_of_the_corpus_counted_as_people_stay_within_two_percent():
    rate = bot_corpus.bots_counted_as_people(bots.classify)
    assert rate.percent <= 2.0, rate


def test_people_of_the_corpus_counted_as_bots_stay_within_half_a_percent():
    rate = bot_corpus.people_counted_as_bots(bots.classify)
    assert rate.percent <= 0.5, rate


def test_the_sources_the_detector_never_saw_meet_both_targets_too():
    held_out = [entry for entry in bot_corpus.entries() if bot_corpus.held_out(entry)]
    bots_as_people = bot_corpus.bots_counted_as_people(bots.classify, held_out)
    people_as_bots = bot_corpus.people_counted_as_bots(bots.classify, held_out)
    assert bots_as_people.total >= 300 and people_as_bots.total >= 300
    assert bots_as_people.percent <= 2.0 and people_as_bots.percent <= 0.5, (bots_as_people, people_as_bots)


def test_every_link_preview_fetch_of_the_corpus_is_a_bot():
    assert bot_corpus.bots_counted_as_people(
        bots.classify, [entry for entry in bot_corpus.entries() if entry.kind == "preview"]).wrong == 0


@pytest.mark.parametrize("needle", NAMED_FETCHERS.values(), ids=NAMED_FETCHERS.keys())
def test_a_named_link_preview_fetcher_is_a_bot(needle):
    assert bots.is_bot(bot_corpus.find(("preview", "bot"), needle))


@pytest.mark.parametrize("needle", IN_APP_BROWSERS.values(), ids=IN_APP_BROWSERS.keys())
def test_an_in_app_browser_is_a_person(needle):
    assert not bots.is_bot(bot_corpus.find("person", needle))


@pytest.mark.parametrize("agent", PREVIEW_AGENTS.values(), ids=PREVIEW_AGENTS.keys())
def test_the_harness_preview_agents_are_bots(agent):
    assert bots.is_bot(agent)


@pytest.mark.parametrize("agent", HUMAN_AGENTS.values(), ids=HUMAN_AGENTS.keys())
def test_the_harness_human_agents_are_people(agent):
    assert not bots.is_bot(agent)


@pytest.mark.parametrize("agent", [
    "",
    "   ",
    HUMAN_AGENTS["chrome-windows"] + " " + "x" * bots.MAX_LENGTH,
    HUMAN_AGENTS["chrome-windows"] + "\x00",
    HUMAN_AGENTS["chrome-windows"].replace(" ", "\t", 1),
    HUMAN_AGENTS["chrome-windows"].replace(" ", "\u2028", 1),
], ids=["empty", "blank", "too long", "NUL", "tab", "line separator"])
def test_an_absurd_user_agent_is_a_bot(agent):
    assert bots.is_bot(agent)


@pytest.mark.parametrize("agent", [
    "curl/8.5.0",
    "Chrome",
    "Mozilla/5.0 (compatible)",
    "Mozilla/5.0 (compatible; FormFinder/1.0)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
    "Safari/537.36 (+https://example.com/about-our-scanner)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 "
    "(contact: ops@example.com)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko; Google-Sites-Thumbnails) "
    "Chrome/120.0.6099.71 Safari/537.36",
], ids=["a library", "a bare word", "no engine", "a name and no engine", "an address", "an e-mail",
        "a signature in the engine's parenthesis"])
def test_a_user_agent_outside_the_browsers_form_is_a_bot(agent):
    assert bots.is_bot(agent)


@pytest.mark.parametrize("agent", [
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/150.0.0.0 Mobile "
    "Safari/537.36 (Ecosia android@150.0.0.0)",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML,like Gecko) "
    "Mobile/21F79 Instagram 330.0.3.29.91 (iPhone14,3; iOS 17_5; en_IR@calendar=gregorian; en; scale=3.00)",
], ids=["a version after @", "a calendar after @"])
def test_an_at_sign_that_is_no_e_mail_leaves_a_person_a_person(agent):
    assert not bots.is_bot(agent)


@pytest.mark.parametrize("agent", [
    "Mozilla/5.0 (Linux; Android 10; CUBOT J9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/88.0.4324.152 "
    "Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 15; CPH2655 Build/AP3A.240617.008) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/119.0.6045.163 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 6.0.1; OPPO R9s Plus Build/MMB29M; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Version/4.0 Chrome/68.0.3440.106 Mobile Safari/537.36 AWP/2.0 SogouMSE,SogouMobileBrowser/5.28.7",
], ids=["a phone named CUBOT", "an Android build number on a list", "Sogou's browser"])
def test_a_browser_a_list_mistakes_for_a_bot_is_a_person(agent):
    assert not bots.is_bot(agent)


@pytest.mark.parametrize("agent", HOSTILE_AGENTS, ids=[f"crafted {i}" for i in range(len(HOSTILE_AGENTS))])
def test_a_crafted_user_agent_costs_well_under_a_millisecond(agent):
    bots.classify(agent)  # the index is built and the patterns compiled outside the timing
    best = min(_cpu_per_call(agent) for _ in range(5))
    assert best < 1e-3, f"{best * 1e6:.0f} µs (crawlerdetect alone took 17-43 ms on the first one)"


def _cpu_per_call(agent: str, calls: int = 20) -> float:
    started = time.process_time()
    for _ in range(calls):
        bots.classify(agent)
    return (time.process_time() - started) / calls


def test_the_patterns_see_a_bounded_window_of_the_user_agent():
    agent = "Mozilla/5.0 " + "a" * 400 + " tail"
    seen = bots.window(agent)
    assert len(seen) == bots.HEAD + 1 + bots.TAIL and seen.startswith("Mozilla/5.0 ") and seen.endswith(" tail")


def test_more_candidate_patterns_than_a_browser_ever_has_make_a_bot():
    agent = HUMAN_AGENTS["chrome-windows"] + " " + " ".join(["ahrefs", "semrush", "yandex", "baidu", "sogou", "java/"])
    assert len(bots._index().candidates(bots.window(agent.lower()))) > bots.MAX_CANDIDATES
    assert bots.is_bot(agent)


@pytest.mark.parametrize(("pattern", "flags", "literals"), [
    (r"Googlebot\/", 0, {"googlebot/"}),
    (r"^Ruby|Ruby\/[0-9]", 0, {"ruby", "ruby/"}),
    (r"[a-z0-9\-_]*(bot|crawl|spider)", re.IGNORECASE, {"bot", "crawl", "spider"}),
    (r"; M bot", re.IGNORECASE, {"m bot"}),
    (r"S[eE][mM]rushBot", 0, {"rushbot"}),
    (r"Daum(oa)?[ \/][0-9]", 0, {"daum"}),
    (r".*", 0, None),
    (r"ab", 0, None),
    (r"Yandex(?!Search)", 0, {"yandex"}),
    (r"(?<!cam)scanner\b", re.IGNORECASE, {"scanner"}),
    (r"Mediapartners-Google{1,3}", 0, {"mediapartners-googl"}),
    (r"(?:Slack|Discord)bot+?", 0, {"slack", "discord"}),
    (r"(?i)crawler", 0, None),
    (r"\x41crawler[", 0, None),
], ids=["a literal", "a top-level branch", "a group of words", "leading punctuation", "classes", "an optional group",
        "nothing", "too short", "a look-ahead", "a look-behind", "bounds", "a lazy repeat after a group",
        "inline flags: not read", "an unknown escape: not read"])
def test_the_literal_every_match_contains_is_read_from_the_pattern(pattern, flags, literals):
    assert bots.required_literals(pattern, flags) == (frozenset(literals) if literals else None)


def test_the_index_finds_what_the_lists_own_matchers_find_on_browser_shaped_agents(monkeypatch):
    from crawlerdetect import CrawlerDetect
    from crawleruseragents import is_crawler  # type: ignore[import-untyped]

    monkeypatch.setattr(bots, "HEAD", 10_000)  # the whole user agent, as the lists see it
    ours = re.compile("|".join([*bots.PREVIEW_FETCHERS, *bots.PEOPLE_TOKENS, *bots.FALSE_ALARMS]), re.IGNORECASE)
    detector = CrawlerDetect()
    agents = [entry.user_agent.strip() for entry in bot_corpus.entries()]
    agents = [agent for agent in agents if not bots.is_absurd(agent) and not bots.lacks_browser_form(agent.lower())
              and not ours.search(agent)]
    differ = [agent for agent in agents
              if bots._index().matches(bots.window(agent), bots.window(agent.lower()))
              != (detector.is_crawler(agent) or is_crawler(agent))]
    # Literals are looked for where words start: a crawler's name glued to another word is missed.
    assert len(agents) > 1000 and len(differ) <= len(agents) // 200, differ


def test_the_redirect_loads_no_detector():
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, app; print(sorted(m for m in sys.modules "
                               "if m.startswith(('crawlerdetect', 'crawleruseragents'))))"],
        capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"
