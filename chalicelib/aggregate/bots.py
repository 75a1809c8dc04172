"""Who is a person and who is a link preview, from the user agent alone, in bounded time.

A visit counts as a click only when a person's browser (or an in-app browser) sent it;
everything else — link-preview fetchers, crawlers, monitors, scanners, scripts — is a
preview. The aggregator decides (``counting.is_person_visit``), never the redirect, and
this module loads its pattern lists only when the first record is classified.

The evidence, in order (docs/architecture.md, "People, not bots", has the figures):

1. *Absurd* user agents are bots: blank, longer than ``MAX_LENGTH`` characters (no
   browser's is), or holding a control character.
2. *The client's form.* People's browsers, in-app browsers and apps say what they run on:
   a rendering engine (``AppleWebKit/``, ``Gecko/``, ``Trident/``, ``Presto/``, NetFront…) or
   the platform (``Windows NT``, ``Android 14``, ``Darwin/23``, a feature phone's
   ``Profile/MIDP-2.0``, a TV's ``HbbTV/1.6.1``, ``AmigaOS``…), or call themselves a browser
   (``nook browser/1.0``), or start with the product and version of a text-mode or legacy
   browser (``w3m/0.52``, ``Lynx/2.8.8 libwww-FM/2.14``: ``BROWSER_PRODUCTS``). A user agent
   that does none of that (``curl/8.5``, ``WhatsApp/2.24``, ``Go-http-client/2.0``) is a
   fetcher, and so is one that signs as a fetcher: an address (``+https://…``, ``mailto:``,
   an e-mail, a host name such as ``cypex.ai/scanning``; but not beside a product that
   calls itself a browser, whose homepage it is), a signature inside the engine's parenthesis
   (``(KHTML, like Gecko; Google-BusinessLinkVerification)``) or a browser's user agent glued
   after another string (``Anonymous, Mozilla/5.0 …``).
3. *Two maintained lists* for the fetchers that imitate a browser: crawlerdetect's
   patterns and crawler-user-agents' patterns, plus the link-preview fetchers both miss
   (``PREVIEW_FETCHERS``). Tokens of people's devices and browsers that the lists mistake
   for bots (``PEOPLE_TOKENS``, and crawlerdetect's own device names such as ``CUBOT``)
   are blanked out first; ``FALSE_ALARMS`` are patterns of the lists never used and
   ``NARROWED`` those used in a narrower form (``bot`` inside ``fuboTV``). In an Android
   phone's model name only a list's name of a bot that is the whole name counts
   (``Catchpoint``, not ``HTC Butterfly``).

A script that sends a text-mode browser's product (``w3m/0.52``) is counted as a person:
scripts that pose as a browser send a full ``Mozilla/5.0 (…)`` user agent, which passes
the form anyway; those that do not, name their own tool (``curl``, ``python-requests``).

Bounded cost. Trying ~3,000 patterns one after the other at every position costs about a
millisecond per user agent, and some of them backtrack quadratically on crafted input (a
run of letters before ``bot``: 17-43 ms at 500 characters). Instead each pattern is
indexed by a literal that every match of it contains (read from its parse tree); one
linear scan of a bounded window of the user agent (its first ``HEAD`` and last ``TAIL``
characters) finds the literals present, and only their few patterns run, over that window.
More than ``MAX_CANDIDATES`` of them in one user agent is absurd too. So a record costs
about the same ten-odd microseconds whatever it holds (``make bench``).
"""
from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

MAX_LENGTH = 512  # the longest person's user agent among ~37,000 in the public fixtures has 387 characters
HEAD, TAIL = 100, 40  # the window the patterns see (desktop browsers' first token after the engine starts at 81-88)
MAX_HOSTS = 3  # top-level domains looked at in one user agent
MAX_CANDIDATES = 4  # patterns whose literal occurs in one user agent; people's browsers reach 2
MIN_LITERAL = 3
_NOT_WORD = "".join(chr(code) for code in range(128) if not chr(code).isalnum())

# Rendering engines as user agents name them (``AppleWebKit/``, ``like Gecko``, ``Trident/``, ``Presto/``,
# Pale Moon's ``Goanna/``, ``Servo/``, NetFront, Ladybird's ``LibWeb``).
_ENGINES = ("webkit", "gecko", "khtml", "trident", "msie", "presto", "goanna", "servo/", "netfront", "libweb")
# The platforms people browse on, looked for where a word starts: operating systems (desktop,
# mobile, vintage), feature phones' Java ME profiles and their makers', operators' and chipsets'
# platforms, Apple's network stack, consoles and TVs.
PLATFORMS = (
    "windows", "winnt", "win9x", "win95", "win98", "winxp", "win32", "win64", "win10", "win7", "macintosh", "mac os",
    "macos", "darwin/", "cfnetwork/", "android", "iphone", "ipad", "ipod", "x11", "openbsd", "netbsd", "freebsd",
    "harmonyos", "openharmony", "kaios", "tizen", "webos", "web0s", "bada", "blackberry", "symbian", "symbos",
    "series40", "series60", "series 60", "s60", "palm", "maemo", "meego", "sailfish", ".net clr",
    "midp", "cldc", "j2me", "maui", "mre/", "threadx", "nucleus", "wap", "docomo", "foma", "kddi", "up.browser",
    "softbank", "j-phone", "willcom", "ddipocket", "nokia", "sonyericsson", "samsung", "cellphone", "mobilephone",
    "ucweb", "opera mini", "operamini", "obigo", "teleca",
    "nintendo", "playstation", "xbox", "smarttv", "smart-tv", "hbbtv", "ce-html", "netcast", "nettv", "roku", "appletv",
    "kreatv",
    "amiga", "morphos", "beos", "haiku", "risc os", "os/2", "openvms", "inferno", "syllable", "serenityos",
)
PLATFORM_WORDS = ("ios", "adr", "rex", "brew", "stb", "cros", "bb10")  # short: whole words only
# ``linux-gnu`` is a build triple (``x86_64-pc-linux-gnu``, in curl's and Wget's user agents):
# the machine a command-line tool was compiled for, not a platform a person browses on.
_LINUX = "linux(?!-gnu)"
_SELF_NAMED = ("browser", "explorer", "navigator")
# Text-mode and legacy browsers that send only their product and version (``w3m/0.52``,
# ``Lynx/2.8.8 libwww-FM/2.14``, ``Elinks 0.10.6``, ``NCSA_Mosaic 1.0``, Presto's
# ``Opera/9.80``, Firefox's early builds ``BonEcho 2.0.0.3``): browser families of
# device-detector's fixtures (tests/corpus/browsers.tsv.gz), looked for as the user agent's first token.
BROWSER_PRODUCTS = (
    "lynx", "w3m", "elinks", "links", "dillo", "amaya", "hotjava", "omniweb", "midori", "ncsa_mosaic", "ncsa mosaic",
    "ninetails", "xiino", "biyubi", "netsurf", "ibrowse", "netpositive", "opera", "firefox", "bonecho", "minefield",
)
_BROWSER_WORD = re.compile(r" browser(?![a-z])")  # a word of a product's name, not glued: not SimpleBrowser
_EMAIL = re.compile(r"@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}")  # starts with a literal: a fast search
# A signature in the engine's parenthesis; browsers add only Safari there (``(KHTML, like Gecko, Safari/419.3)``).
_SIGNED_ENGINE = re.compile(r"khtml, ?like gecko(?:;|, (?!safari))")
_TOP_LEVEL = re.compile(r"\.(?:com|net|org|io|ai|co|app|dev|info|biz|me|xyz|de|ru|fr|uk|nl|eu|us|ch|cz|pl|edu|gov"
                        r"|fm|nu|site|online|tech|cloud|pro|live|fun)(?![a-z0-9_.-])")
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-")
_REVERSE_DNS = frozenset({"com", "net", "org", "jp", "cn", "co", "air"})  # an app's id: com.tcl.browser
_LEADING_STAR = re.compile(r"^(?:\[(?:\\.|[^\]\\])*\]|\.)\*(?![?+])")

# Link-preview and unfurl fetchers (and a few bots) that crawlerdetect and
# crawler-user-agents miss or match too narrowly; each names where it was seen.
PREVIEW_FETCHERS: dict[str, str] = {
    r"meta-external(?:agent|fetcher|hit|ads)": "Meta's fetchers (matomo bots.yml, crawler-user-agents)",
    r"facebookexternalhit|facebookcatalog|facebot": "Facebook, and iMessage's previews",
    r"viberurldownloader|^viber$": "Viber's preview fetcher (matomo bots.yml)",
    r"snap ?url ?preview": "Snapchat's preview fetcher (matomo bots.yml, isbot)",
    r"^tumblr/": "Tumblr (crawler-user-agents)",
    r"steamchaturllookup|valve/steam http client": "Steam chat (matomo bots.yml, isbot)",
    r"cardyb|^bluesky/|blueskypreviewbot": "Bluesky's card fetcher (matomo bots.yml, crawler-user-agents)",
    r"google-(?:businesslinkverification|safety|inspectiontool|pagerenderer|read-aloud|site-verification)"
    r"|googleweblight|google web preview|googleother": "Google's link verifiers and renderers (matomo bots.yml)",
    r"^notion/|notionembedder": "Notion (crawler-user-agents)",
    r"clickuplinkunfurler": "ClickUp's unfurler (crawler-user-agents)",
    r"^lemmy/": "Lemmy (crawler-user-agents)",
    r"^friendica\b": "Friendica (matomo bots.yml, isbot's downloaded lists)",
    r"pleroma|akkoma|misskey|gotosocial|mastodon/": "the fediverse's card fetchers",
    r"iframely|embedly|vkshare|pinterestbot|redditbot|bitlybot|flipboardproxy": "unfurl services",
    r"kakaotalk-scrap|line-poker|chatwork linkpreview|dingtalkbot|mattermost-bot|zulip|rocket\.chat":
        "chat apps' preview fetchers",
    r"^synapse \(bot|matrix-media-repo|discourse.{0,40}onebox": "Matrix and Discourse previews",
    r"skypeuripreview|microsoftpreview|quora link preview|yahoo:linkexpander|bingpreview":
        "link previews of Skype, Teams, Outlook, Quora, Yahoo, Bing",
    r"\btime/\d{10}": "a generic bot signature: a millisecond clock in the user agent (matomo bots.yml)",
    r"(?<!cam)scanner\b": "scanners that append their name to a browser's user agent (isbot, matomo)",
    r"synthetic": "synthetic monitoring: RuxitSynthetic, Splunk Synthetics, SyntheticsAgent (matomo, isbot)",
    r"cloudflare": "Cloudflare's observatory, diagnostics and checkers (matomo bots.yml, isbot)",
    r"\bcursor/\d": "Cursor's editor agent (isbot), as crawler-user-agents lists Trae's and VS Code's",
}

# Tokens of people's browsers that a list's pattern mistakes for a bot: blanked out before matching.
PEOPLE_TOKENS: dict[str, str] = {
    r"\bviber(?![a-z])(?:/[\d.]+)?": "Viber's in-app browser (crawler-user-agents' 'Viber')",
    r"sogou(?:mse|mobilebrowser|search)\b": "Sogou's mobile browser and search app (crawlerdetect's 'Sogou')",
}

# Patterns of the lists that flag people: never used. The bots they were added for are caught
# otherwise: they carry an address, a ``bot`` token, or another list's narrower pattern names them.
FALSE_ALARMS: dict[str, str] = {
    r"AP3A\.240617\.008": "an Android 15 build number shared by many OPPO and realme phones (crawler-user-agents)",
    "libwww": "CERN's libwww, which Lynx, Amaya and Mosaic name (crawlerdetect); Perl's is crawler-user-agents' "
              "libwww-perl",
    "coccoc": "Coc Coc's browser (coccocbrowser/, CocCoc/); its crawler signs coccocbot or carries an address",
    "Fluid": "Fluid, a Mac site-specific browser (crawler-user-agents); leak.info's fluid/0.0 carries an address",
    "LibWeb": "Ladybird's rendering engine (crawlerdetect)",
    "Sonic": "Slack's desktop app (Sonic Slack_SSB/4.4: crawler-user-agents); the Sonic crawlers carry an address",
    r"Slack\/": "Slack's desktop app (Slack/4.4.2 … Electron: crawlerdetect); Slack's fetchers sign Slackbot or "
                "Slack-ImgProxy",
}

# Patterns of the lists that find a bot's word inside people's words, and the narrower pattern
# used instead. crawlerdetect's catch-all finds ``bot`` in ``fuboTV/4.75`` and ``BOTECH`` (a
# TV maker's name) and ``cron`` in ``Cronet/114`` (Chrome's network stack, in Android apps'
# user agents) and in phones named ``CRONO``: narrowed, ``bot`` ends a word (or takes a
# plural ``s``) and so does ``cron``. It is not looked for in an Android phone's model name
# either (``XBot Junior``, ``VR BOT 552``, ``Spider 8``): a generic word there names no bot.
# Nor are the lists' names of bots, unless one is the whole model (``Catchpoint``): phones are
# named after words the lists use for bots too, with a maker or a number beside them (``HTC
# Butterfly``, ``AUPO Zeus 10 Pro``, ``SMART 4G Speedy``, ``X428 Astute``, ``OPPO A33m``,
# ``yandexstation_2``) — ``Index.matches``.
CATCH_ALL = (r"[a-z0-9\-_]*(bot|crawl|headless|archiver|transcoder|spider|uptime|validator|fetcher|cron|checker|reader"
             r"|extractor|monitoring|analyzer|scraper)")
NARROWED: dict[str, str] = {
    CATCH_ALL: r"[a-z0-9\-_]*(bot(?![a-rt-z])|crawl|headless|archiver|transcoder|spider|uptime|validator|fetcher"
               r"|cron(?![a-z])|checker|reader|extractor|monitoring|analyzer|scraper)",
}
# The model in an Android browser's platform comment: ``(Linux; [U;] Android 13; [en-us;] <model>[ Build/…]``
# (the build id after it is no model's name).
_ANDROID_MODEL = re.compile(r"\(linux; (?:[a-z0-9_]+; )*android [0-9.]+; (?:[a-z]{2}[-_][a-z]{2}; )?([^;()]*)",
                            re.IGNORECASE)
_BUILD = re.compile(" build/", re.IGNORECASE)


def is_absurd(user_agent: str) -> bool:
    """Blank, longer than any browser's, or holding a control (non-printable) character: no person sent it."""
    return not user_agent.strip() or len(user_agent) > MAX_LENGTH or not user_agent.isprintable()


def lacks_browser_form(lowered: str) -> bool:
    """Whether a (lower-cased) user agent departs from the form people's clients send: it signs
    as a fetcher, or names neither a rendering engine nor its platform, nor calls itself a browser."""
    seen = window(lowered)
    return signs_as_fetcher(lowered, seen) or not names_client(lowered, seen)


def names_client(lowered: str, seen: str) -> bool:
    """Whether a rendering engine, a platform (looked for in ``seen``, the window) or the word
    browser occurs, or the user agent starts with a browser's product and version
    (``BROWSER_PRODUCTS``). The window first: where browsers name them, and cheap on long crafted agents."""
    return (any(map(seen.__contains__, _ENGINES)) or bool(_browser_product().match(lowered))
            or bool(_platforms().search(" " + seen))
            or any(map(lowered.__contains__, _SELF_NAMED)) or any(map(lowered.__contains__, _ENGINES)))


def signs_as_fetcher(lowered: str, seen: str) -> bool:
    """An address (``+https://…``, ``mailto:``, an e-mail, a host name in ``seen``, the window),
    a signature inside the engine's parenthesis, or a browser's user agent glued after another string.

    A web address or host name next to a product that calls itself a browser in a word of its
    own (``QtWeb Internet Browser/1.7 http://www.QtWeb.net``, ``Ask.com Mobile Browser``) is the
    browser's homepage or maker, not a fetcher's signature: fetchers do not call themselves that.
    """
    return (bool(_SIGNED_ENGINE.search(lowered))
            or "mailto:" in lowered or ("@" in lowered and bool(_EMAIL.search(lowered)))
            or (("://" in lowered or "www." in lowered or names_host(seen)) and not _BROWSER_WORD.search(lowered))
            or is_joined(lowered))


def names_host(lowered: str) -> bool:
    """Whether a host name occurs (``cypex.ai/scanning``, ``(via ggpht.com …)``) — not an app's
    reverse-DNS id (``com.tcl.browser``), a version (``1.7498.eu``) or a one-letter device
    name (``Q.Me``). Only the first ``MAX_HOSTS`` top-level domains are looked at: a bot signs
    once, and a crafted run of them costs no more. No host character follows a top-level
    domain found, so the walks back from consecutive ones never overlap."""
    for found in itertools.islice(_TOP_LEVEL.finditer(lowered), MAX_HOSTS):
        start = found.start()
        while start and lowered[start - 1] in _HOST_CHARS:
            start -= 1
        first = lowered[start:found.start()].split(".", 1)[0]
        before = lowered[start - 1] if start else " "
        if (len(first) >= 2 and first[0].isalpha() and first not in _REVERSE_DNS
                and not (before.isalnum() or before in "_@/")):
            return True
    return False


def is_joined(lowered: str) -> bool:
    """Whether a browser's user agent follows a comma or a pipe (``Anonymous, Mozilla/5.0 …``,
    ``iphone|Mozilla/5.0 …``): strings glued together by a tool, not a client's product tokens."""
    at = lowered.find("mozilla/")
    return at > 0 and "(" not in lowered[:at] and ("," in lowered[:at] or "|" in lowered[:at])


@functools.lru_cache(maxsize=1)
def _platforms() -> re.Pattern[str]:
    """Platforms where a word starts, in the text after a space (see ``_at_word_start``)."""
    return re.compile(_at_word_start(trie_pattern(PLATFORMS) + "|" + _LINUX
                      + "|(?:" + "|".join(PLATFORM_WORDS) + r")(?![a-z])"))


def _at_word_start(pattern: str) -> str:
    """``pattern`` where a word starts, for a text with a space put before it: after a character
    that is no letter or digit, matched rather than looked behind at, so that the regex engine
    skips to such characters instead of trying every position (half the cost on crafted agents)."""
    return r"[^a-z0-9](?:" + pattern + ")"


@functools.lru_cache(maxsize=1)
def _browser_product() -> re.Pattern[str]:
    return re.compile(r"(?:" + trie_pattern(BROWSER_PRODUCTS) + r")[/ ]v?[0-9]")


def window(user_agent: str) -> str:
    """The part the patterns see: the first ``HEAD`` and last ``TAIL`` characters."""
    if len(user_agent) <= HEAD + TAIL:
        return user_agent
    return user_agent[:HEAD] + "\n" + user_agent[-TAIL:]


@functools.lru_cache(maxsize=4096)
def is_bot(user_agent: str) -> bool:
    """Whether a visit with this user agent is a link preview or a bot rather than a person."""
    return classify(user_agent)


def classify(user_agent: str) -> bool:
    """``is_bot`` without its cache (what the benchmark times)."""
    agent = user_agent.strip()
    if is_absurd(agent):
        return True
    lowered = agent.lower()
    if lacks_browser_form(lowered):
        return True
    return _index().matches(window(agent), window(lowered))


# --- the pattern index ------------------------------------------------------------------


@dataclass(frozen=True)
class Pattern:
    """One pattern of a list; ``lowered``: case-insensitive, so matched lower-cased against
    the lower-cased text (much faster than ``re.IGNORECASE``)."""

    source: str
    pattern: str
    lowered: bool
    generic: bool = False  # a bot word (``bot``, ``spider``), not looked for in a phone's model name

    @functools.cached_property
    def regex(self) -> re.Pattern[str]:  # compiled on first use: most never run
        pattern = _LEADING_STAR.sub("", self.pattern, count=1)  # "does it match" never needs it
        return re.compile(lower_pattern(pattern) if self.lowered else pattern)


def lower_pattern(pattern: str) -> str:
    """A case-sensitive equivalent, on lower-cased text, of a case-insensitive pattern."""
    return re.sub(r"\\.|[^\\]+", lambda m: m.group(0) if m.group(0).startswith("\\") else m.group(0).lower(),
                  pattern)


@dataclass
class Index:
    """The patterns, each reachable from the literals one of which every match of it contains.

    Literals are looked for where a word starts (a letter or digit after neither), and
    anywhere only for the words of patterns made to match inside a word (crawlerdetect's
    ``[a-z0-9\\-_]*(bot|crawl|spider|…)``). That halves the scan; it changes 79 verdicts
    among ~97,000 public user agents, as many rightly (``ViewSonic`` is no ``Sonic``
    crawler) as wrongly (``CloudflareObservatory``).
    """

    patterns: list[Pattern]
    vetoes: re.Pattern[str]  # tokens of people's devices and browsers, blanked out before matching
    vetoes_anycase: re.Pattern[str]
    by_literal: dict[str, tuple[int, ...]]
    unindexed: tuple[int, ...]
    words: re.Pattern[str]
    inside: re.Pattern[str]
    veto_literals: tuple[str, ...]

    @classmethod
    def build(cls, patterns: list[Pattern], people_tokens: Iterable[str], exclusions: Iterable[str]) -> Index:
        """Index ``patterns``; the vetoes are ``people_tokens`` and those of crawlerdetect's
        ``exclusions`` that hold one of the patterns' literals (see ``device_names``)."""
        grouped: dict[str, set[int]] = {}
        unindexed: list[int] = []
        inside: set[str] = set()
        for number, item in enumerate(patterns):
            literals = required_literals(item.pattern, re.IGNORECASE if item.lowered else 0)
            if not literals:
                unindexed.append(number)
                continue
            if _LEADING_STAR.match(item.pattern):
                inside |= literals
            for literal in literals:
                grouped.setdefault(literal, set()).add(number)
        known = set(grouped)
        # A scan reports the longest literal starting at a position; every literal inside
        # it occurs too, so each literal stands for the patterns of all of them.
        by_literal = {literal: tuple(sorted({number for inner in _inner(literal, known) for number in grouped[inner]}))
                      for literal in grouped}
        vetoes = [*people_tokens, *device_names(exclusions, known)]
        veto_literals = [required_literals(veto, re.IGNORECASE, words=False) for veto in vetoes]
        return cls(patterns, re.compile("|".join(map(lower_pattern, vetoes)) or "$^"),
                   re.compile("|".join(vetoes) or "$^", re.IGNORECASE), by_literal, tuple(unindexed),
                   words=re.compile(_at_word_start("(?=(" + trie_pattern(known) + "))")),
                   inside=re.compile(trie_pattern(inside) or "$^"),
                   # a veto without a literal could be anywhere: the empty literal then always occurs
                   veto_literals=tuple(sorted({literal for found in veto_literals for literal in found or {""}})))

    def may_veto(self, lowered: str) -> bool:
        """Whether a veto token can occur in ``lowered`` (one of their literals does)."""
        return any(literal in lowered for literal in self.veto_literals)

    def candidates(self, lowered: str) -> set[int]:
        """The patterns one of whose literals occurs in ``lowered``."""
        found = set(self.unindexed)
        for literal in {*self.inside.findall(lowered), *self.words.findall(" " + lowered)}:
            found.update(self.by_literal[literal])
        return found

    def matches(self, text: str, lowered: str) -> bool:
        """Whether a pattern matches ``text`` (the window; ``lowered``: lower-cased), once the
        veto tokens (people's devices and browsers: ``CUBOT``, ``Viber/24.1``) are blanked out."""
        vetoed = False
        if self.may_veto(lowered):
            blanked = self.vetoes.sub(" ", lowered)
            vetoed, lowered = blanked != lowered, blanked
        candidates = self.candidates(lowered)
        if len(candidates) > MAX_CANDIDATES:
            return True
        models: dict[str, tuple[int, int] | None] = {}  # the phone's model name, found once in each text
        for number in sorted(candidates):
            item = self.patterns[number]
            if not item.lowered and vetoed:
                text, vetoed = self.vetoes_anycase.sub(" ", text), False
            seen = lowered if item.lowered else text
            found = item.regex.search(seen)
            if found is None:
                continue
            if seen not in models:
                models[seen] = android_model(seen)
            model = models[seen]
            if model is None or not model[0] <= found.start() <= found.end() <= model[1]:
                return True
            # The first match is a word of a phone's model name: a bot only if it is the whole
            # name (and no generic word), or if the pattern matches again after the name.
            if (not item.generic and is_whole_model(found, model)) or item.regex.search(seen, model[1]):
                return True
        return False


def android_model(user_agent: str) -> tuple[int, int] | None:
    """Where the phone's model name is in an Android browser's user agent, if it is one."""
    found = _ANDROID_MODEL.search(user_agent) if "ndroid " in user_agent else None
    if found is None:
        return None
    start, end = found.span(1)
    build = _BUILD.search(user_agent, start, end)
    return start, build.start() if build else end


def is_whole_model(found: re.Match[str], model: tuple[int, int]) -> bool:
    """Whether a list's match is the phone's whole model name (``Catchpoint``), not a word of it."""
    name = found.string[model[0]:model[1]]
    start = model[0] + len(name) - len(name.lstrip())
    return found.start() <= start and found.end() >= start + len(name.strip())


def _inner(literal: str, known: set[str]) -> set[str]:
    return {literal[start:end] for start in range(len(literal))
            for end in range(start + MIN_LITERAL, len(literal) + 1)} & known


def trie_pattern(words: Iterable[str]) -> str:
    """One regex matching the longest of ``words`` that starts at a position (a trie)."""
    root: dict[str, Any] = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(root)


def required_literals(pattern: str, flags: int = 0, words: bool = True) -> frozenset[str] | None:
    """Lower-case literals one of which occurs in every match of ``pattern`` (``None``: none found).

    ``words``: each literal starts where a word does (its leading punctuation dropped),
    which is where the scan looks. The pattern is read by :class:`_Reader`, which knows the
    plain syntax the bot lists use; anything else (inline flags, named groups, numbered
    escapes) makes it give up, and that pattern is simply tried on every user agent:
    slower, never wrong. ``flags`` is accepted for symmetry with ``re``: literals are
    lower-cased whatever the case sensitivity, as the scan reads the lower-cased agent.
    """
    try:
        branches = _Reader(pattern).whole()
    except ValueError:
        return None
    return _branches_literals(branches, words)


Node = tuple[Any, ...]
"""``("char", c)``, ``("other",)`` (a class, ``.``, an anchor, ``\\d``…),
``("group", branches)``, ``("repeat", node, least)``."""
_CLASS_ESCAPES = frozenset("dDwWsSbBAZ")


class _Reader:
    """A reader of the regular-expression syntax that matters here, into :data:`Node` lists."""

    def __init__(self, pattern: str) -> None:
        self.text, self.at = pattern, 0

    def whole(self) -> list[list[Node]]:
        branches = self._branches()
        if self.at != len(self.text):
            raise ValueError("unbalanced parenthesis")
        return branches

    def _branches(self) -> list[list[Node]]:
        branches: list[list[Node]] = [[]]
        while self.at < len(self.text) and self.text[self.at] != ")":
            if self.text[self.at] == "|":
                self.at += 1
                branches.append([])
                continue
            branches[-1].append(self._quantified(self._atom()))
        return branches

    def _atom(self) -> Node:
        char = self.text[self.at]
        self.at += 1
        if char == "\\":
            return self._escape()
        if char == "[":
            return self._skip_class()
        if char == "(":
            looks = next((len(start) for start in _LOOK_AROUNDS if self.text.startswith(start, self.at)), 0)
            if looks or self.text.startswith("?:", self.at):
                self.at += looks or 2
            elif self.text.startswith("?", self.at):
                raise ValueError("inline flags or a named group")
            branches = self._branches()
            if self.at >= len(self.text):
                raise ValueError("unbalanced parenthesis")
            self.at += 1
            return ("other",) if looks else ("group", branches)  # a look-around matches no character
        if char in ".^$":
            return ("other",)
        if char in "*+?{)":
            raise ValueError("a quantifier with nothing to repeat, or a literal brace")
        return ("char", char)

    def _escape(self) -> Node:
        if self.at >= len(self.text):
            raise ValueError("a trailing backslash")
        char = self.text[self.at]
        self.at += 1
        if char in _CLASS_ESCAPES:
            return ("other",)
        if char.isalnum():
            raise ValueError("an escape this reader does not know")
        return ("char", char)

    def _skip_class(self) -> Node:
        at = self.at + (1 if self.text.startswith("^", self.at) else 0)
        at += 1 if self.text.startswith("]", at) else 0
        while at < len(self.text) and self.text[at] != "]":
            at += 2 if self.text[at] == "\\" else 1
        if at >= len(self.text):
            raise ValueError("an unterminated class")
        self.at = at + 1
        return ("other",)

    def _quantified(self, atom: Node) -> Node:
        if self.at >= len(self.text) or self.text[self.at] not in "*+?{":
            return atom
        char = self.text[self.at]
        if char == "{":
            bounds = _BOUNDS.match(self.text, self.at)
            if bounds is None:
                raise ValueError("a literal brace")
            least = int(bounds.group(1) or 0)
            self.at = bounds.end()
        else:
            least = 1 if char == "+" else 0
            self.at += 1
        if self.at < len(self.text) and self.text[self.at] in "?+":
            self.at += 1  # lazy or possessive: the same strings match
        return ("repeat", atom, least)


_BOUNDS = re.compile(r"\{([0-9]*),?[0-9]*\}")
_LOOK_AROUNDS = ("?=", "?!", "?<=", "?<!")


def _branches_literals(branches: list[list[Node]], words: bool) -> frozenset[str] | None:
    """Literals of an alternative: every branch must have some, and any of them may be the one."""
    found = [_literals(branch, words) for branch in branches]
    if not all(found):
        return None
    return frozenset().union(*found)  # type: ignore[arg-type]


def _literals(nodes: list[Node], words: bool = True) -> frozenset[str] | None:
    """The best necessary literals of a sequence: its longest run of literal characters, or a part's."""
    options: list[frozenset[str] | None] = []
    run: list[str] = []
    for node in [*nodes, ("other",)]:  # a last non-literal ends the last run
        if node[0] == "char":
            run.append(node[1].lower())
            continue
        literal = "".join(run).lstrip(_NOT_WORD) if words else "".join(run)
        if len(literal) >= MIN_LITERAL:
            options.append(frozenset({literal}))
        run.clear()
        options.append(_part_literals(node, words))
    found = [option for option in options if option]
    return max(found, key=_rank) if found else None


def _part_literals(node: Node, words: bool) -> frozenset[str] | None:
    """Necessary literals of a group, or of a repeat that occurs at least once."""
    if node[0] == "group":
        return _branches_literals(node[1], words)
    if node[0] == "repeat" and node[2] >= 1:
        return _literals([node[1]], words)
    return None


def _rank(literals: frozenset[str]) -> tuple[int, int]:
    return min(map(len, literals)), -len(literals)


@functools.lru_cache(maxsize=1)
def _index() -> Index:
    from crawlerdetect.providers.crawlers import data as crawlerdetect_patterns
    from crawlerdetect.providers.exclusions import data as crawlerdetect_exclusions
    from crawleruseragents import CRAWLER_USER_AGENTS_DATA  # type: ignore[import-untyped]

    patterns = [Pattern("crawlerdetect", NARROWED.get(p, p), lowered=True, generic=p == CATCH_ALL)
                for p in crawlerdetect_patterns if p not in FALSE_ALARMS]
    # crawler-user-agents' patterns are case-sensitive, as its own is_crawler applies them.
    patterns += [Pattern("crawler-user-agents", NARROWED.get(item["pattern"], item["pattern"]), lowered=False)
                 for item in CRAWLER_USER_AGENTS_DATA if item["pattern"] not in FALSE_ALARMS]
    patterns += [Pattern("relais", p, lowered=True) for p in PREVIEW_FETCHERS]
    return Index.build(patterns, PEOPLE_TOKENS, crawlerdetect_exclusions)


def device_names(exclusions: Iterable[str], literals: set[str]) -> list[str]:
    """crawlerdetect's exclusions that can hide a crawler's literal (``CUBOT``, ``; M bot``).

    crawlerdetect removes all its exclusions before matching; the others are browser
    tokens (``Safari/537.36``, ``Windows NT 10.0``) that hide no crawler word, and removing
    them changes 5 verdicts among ~80,000 public user agents, all junk.
    """
    return [exclusion for exclusion in exclusions
            if any(literal in own for own in required_literals(exclusion, re.IGNORECASE) or ()
                   for literal in literals)]
