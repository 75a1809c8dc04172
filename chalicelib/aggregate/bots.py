"""Who is a person and who is a link preview, from the user agent alone, in bounded time.

A visit counts as a click only when a person's browser (or an in-app browser) sent it;
everything else — link-preview fetchers, crawlers, monitors, scanners, scripts — is a
preview. The aggregator decides (``counting.is_person_visit``), never the redirect, and
this module loads its pattern lists only when the first record is classified.

The evidence, in order (docs/architecture.md, "People, not bots", has the figures):

1. *Absurd* user agents are bots: blank, longer than ``MAX_LENGTH`` characters (no
   browser's is), or holding a control character.
2. *The browser's form.* Every browser and in-app browser in use sends
   ``Mozilla/5.0 (<platform>) <engine>/<version> …``. A user agent that does not start
   like one (``curl/8.5``, ``WhatsApp/2.24``, ``Valve/Steam HTTP Client``), names no
   rendering engine, carries an address (``+https://…``, ``mailto:``, an e-mail) or signs
   inside the engine's parenthesis (``(KHTML, like Gecko; Google-BusinessLinkVerification)``)
   is a fetcher.
3. *Two maintained lists* for the fetchers that imitate a browser: crawlerdetect's
   patterns and crawler-user-agents' patterns, plus the link-preview fetchers both miss
   (``PREVIEW_FETCHERS``). Tokens of people's devices and browsers that the lists mistake
   for bots (``PEOPLE_TOKENS``, and crawlerdetect's own device names such as ``CUBOT``)
   are blanked out first; ``FALSE_ALARMS`` are patterns of the lists never used.

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
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

MAX_LENGTH = 512  # the longest person's user agent among ~37,000 in the public fixtures has 387 characters
HEAD, TAIL = 88, 40  # the window the patterns see: the whole agent changes 6 verdicts in ~20,000 long ones
MAX_CANDIDATES = 4  # patterns whose literal occurs in one user agent; people's browsers reach 2
MIN_LITERAL = 3
_NOT_WORD = "".join(chr(code) for code in range(128) if not chr(code).isalnum())

_BROWSER_STARTS = ("mozilla/", "opera/")
_ENGINES = ("applewebkit", "gecko", "khtml", "trident", "msie", "presto")
_ADDRESSES = ("://", "www.", "mailto:")
_EMAIL = re.compile(r"@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}")  # starts with a literal: a fast search
_SIGNED_ENGINE = "like gecko;"
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
}

# Tokens of people's browsers that a list's pattern mistakes for a bot: blanked out before matching.
PEOPLE_TOKENS: dict[str, str] = {
    r"\bviber(?![a-z])(?:/[\d.]+)?": "Viber's in-app browser (crawler-user-agents' 'Viber')",
    r"sogou(?:mse|mobilebrowser|search)\b": "Sogou's mobile browser and search app (crawlerdetect's 'Sogou')",
}

# Patterns of the lists that flag people: never used.
FALSE_ALARMS: dict[str, str] = {
    r"AP3A\.240617\.008": "an Android 15 build number shared by many OPPO and realme phones (crawler-user-agents)",
}


def is_absurd(user_agent: str) -> bool:
    """Blank, longer than any browser's, or holding a control (non-printable) character: no person sent it."""
    return not user_agent.strip() or len(user_agent) > MAX_LENGTH or not user_agent.isprintable()


def lacks_browser_form(lowered: str) -> bool:
    """Whether a (lower-cased) user agent departs from the form every browser in use sends."""
    return (not lowered.startswith(_BROWSER_STARTS)
            or not any(engine in lowered for engine in _ENGINES)
            or _SIGNED_ENGINE in lowered
            or any(address in lowered for address in _ADDRESSES)
            or ("@" in lowered and bool(_EMAIL.search(lowered))))


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
                   words=re.compile(r"(?<![a-z0-9])(?=(" + trie_pattern(known) + "))"),
                   inside=re.compile(trie_pattern(inside) or "$^"),
                   # a veto without a literal could be anywhere: the empty literal then always occurs
                   veto_literals=tuple(sorted({literal for found in veto_literals for literal in found or {""}})))

    def may_veto(self, lowered: str) -> bool:
        """Whether a veto token can occur in ``lowered`` (one of their literals does)."""
        return any(literal in lowered for literal in self.veto_literals)

    def candidates(self, lowered: str) -> set[int]:
        """The patterns one of whose literals occurs in ``lowered``."""
        found = set(self.unindexed)
        for literal in {*self.inside.findall(lowered), *self.words.findall(lowered)}:
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
        for number in sorted(candidates):
            item = self.patterns[number]
            if not item.lowered and vetoed:
                text, vetoed = self.vetoes_anycase.sub(" ", text), False
            if item.regex.search(lowered if item.lowered else text):
                return True
        return False


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

    patterns = [Pattern("crawlerdetect", p, lowered=True) for p in crawlerdetect_patterns]
    # crawler-user-agents' patterns are case-sensitive, as its own is_crawler applies them.
    patterns += [Pattern("crawler-user-agents", item["pattern"], lowered=False) for item in CRAWLER_USER_AGENTS_DATA
                 if item["pattern"] not in FALSE_ALARMS]
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
