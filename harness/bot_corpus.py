"""The user-agent corpus (tests/corpus/) and the figures both its test and its benchmark report.

Every entry is a public user agent with its provenance: ``kind`` (``person``, ``bot``, or
``preview`` — a bot that fetches a shared link to draw its card), the source it was taken
from (described in ``sources.json``: repository, version, licence, and whether the
detector was tuned on it, is built from it, or never saw it), the file, and a name (for a
browser fixture, its browser family). ``user_agents.tsv`` holds the drawn samples;
``browsers.tsv.gz`` every browser fixture of device-detector, all its families.

People are measured two ways: over all their user agents (big families such as Chrome Mobile,
with 14,706 fixtures, weigh the most), and *evenly per family*, as issue 20 measures: each
browser family weighs the same, however many fixtures it has (``per_family``, ``drawn_evenly``).
"""
from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "corpus"
FILES = ("user_agents.tsv", "browsers.tsv.gz")
HEADER = ["kind", "source", "file", "name", "user_agent"]
HELD_OUT = "held out"

# Crafted user agents: long runs that partially match many patterns, bot words inside
# people's device names, literals packed together, junk, and absurd ones.
_BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 "
HOSTILE_AGENTS = [
    _BROWSER + "a" * 400,                                        # crawlerdetect's [a-z0-9\-_]* prefix: quadratic
    _BROWSER + "a-_0" * 100,
    (_BROWSER + "cubot " * 80)[:512],                            # a crawler word inside an excluded device name
    (_BROWSER + "viber/1.0 " * 50)[:512],                        # a people's token, voided again and again
    (_BROWSER + "contxbot---" * 40)[:512],                       # literals packed together
    (_BROWSER + "simplescraper   " * 30)[:512],
    (_BROWSER + "x09mozilla   " * 40)[:512],
    (_BROWSER + "java/ outbrain " * 30)[:512],                  # near misses of anchored and two-part patterns
    (_BROWSER + "bot crawl spider " * 30)[:512],
    (_BROWSER + "gulper web bot   " * 30)[:512],                # the slowest found by trying every pattern's literal
    (_BROWSER + "cula/   " * 60)[:512],
    (_BROWSER + "sogou web---" * 40)[:512],                     # a veto token's literal, and a pattern's
    "Mozilla/5.0 AppleWebKit " + "(" * 480,
    "Mozilla/5.0 (" + "Windows NT 10.0; " * 29 + ") Gecko",
    "Mozilla/5.0 (Linux) AppleWebKit/537.36 " + "".join(chr(33 + (i * 37) % 94) for i in range(470)),
    ("Mozilla/5.0 (Linux; Android 10; " + "spider bot crawl " * 40)[:512],  # bot words in a phone's model name
    ("Mozilla/5.0 (Linux; Android 10; " + "zeus speedy astute butterfly " * 20)[:512],  # the lists' names of bots there
    ("ab.com browser " * 40)[:512],                              # host names beside the word browser
    ("lynx/2.8 " + "libwww-fm/2.14 " * 40)[:512],                # a browser's bare product, then junk
    "q" * 500,                                                   # no engine, no platform: every test of the form
    (" wapx nokiq samsunq androiq" * 20)[:512],                  # near misses of platforms' names
    ("x.com" * 120)[:512],                                       # host names' characters walked back
    ("Mozilla/5.0 " + "a.co " * 120)[:512],                      # top-level domains that are no host
    "x" * 4096,                                                  # absurd: longer than any browser's
    _BROWSER + "\x00\x01" * 100,                                 # absurd: control characters
]


@dataclass(frozen=True)
class Entry:
    kind: str
    source: str
    file: str
    name: str
    user_agent: str

    @property
    def is_bot(self) -> bool:
        return self.kind != "person"


@dataclass(frozen=True)
class Rate:
    wrong: int
    total: int

    @property
    def percent(self) -> float:
        return 100 * self.wrong / self.total if self.total else 0.0

    def __str__(self) -> str:
        return f"{self.percent:.2f} % ({self.wrong}/{self.total})"


@dataclass(frozen=True)
class FamilyRate:
    """A rate where each browser family weighs the same: ``share`` sums, over the ``families``,
    the share of each family's user agents that are wrong (a family with 1 of its 3 wrong adds 1/3)."""

    share: float
    families: int
    missed: tuple[str, ...]  # the families with a user agent wrong

    @property
    def percent(self) -> float:
        return 100 * self.share / self.families if self.families else 0.0

    def __str__(self) -> str:
        return f"{self.percent:.2f} % ({self.share:.3f} of {self.families} families; {len(self.missed)} with a miss)"


@cache
def entries() -> tuple[Entry, ...]:
    found: list[Entry] = []
    for name in FILES:
        raw = (CORPUS / name).read_bytes()
        lines = (gzip.decompress(raw) if name.endswith(".gz") else raw).decode("utf-8").splitlines()
        assert lines[0].split("\t") == HEADER, (name, lines[0])
        found += (Entry(*line.split("\t")) for line in lines[1:])
    return tuple(found)


@cache
def sources() -> dict[str, dict[str, str]]:
    return json.loads((CORPUS / "sources.json").read_text(encoding="utf-8"))


def held_out(entry: Entry) -> bool:
    """Whether the entry comes from a source the detector was neither built from nor tuned on."""
    return sources()[entry.source]["role"] == HELD_OUT


def bots_counted_as_people(classify: Callable[[str], bool], among: Iterable[Entry] | None = None) -> Rate:
    bots = [entry for entry in (entries() if among is None else among) if entry.is_bot]
    return Rate(sum(1 for entry in bots if not classify(entry.user_agent)), len(bots))


def people_counted_as_bots(classify: Callable[[str], bool], among: Iterable[Entry] | None = None) -> Rate:
    people = [entry for entry in (entries() if among is None else among) if not entry.is_bot]
    return Rate(sum(1 for entry in people if classify(entry.user_agent)), len(people))


def families(source: str) -> dict[str, list[Entry]]:
    """The people of a browser fixture set (``matomo-browsers``, ``ua-parser-js``,
    ``uap-core-browsers``), by browser family (the entry's ``name``), in corpus order."""
    found: dict[str, list[Entry]] = {}
    for entry in entries():
        if entry.source == source and not entry.is_bot:
            found.setdefault(entry.name, []).append(entry)
    return found


def per_family(classify: Callable[[str], bool], source: str) -> FamilyRate:
    """People counted as bots, each browser family of ``source`` weighing the same: what a draw of
    one user agent from each family gives on average, whichever user agent is drawn."""
    shares = {name: sum(1 for entry in people if classify(entry.user_agent)) / len(people)
              for name, people in families(source).items()}
    return FamilyRate(sum(shares.values()), len(shares), tuple(sorted(name for name, share in shares.items() if share)))


def drawn_evenly(source: str, per_family: int) -> list[Entry]:
    """A fixed draw of up to ``per_family`` people from each browser family of ``source``: the
    ones whose user agent's SHA-256 comes first — an order that favours no fixture file, version or form."""
    return [entry for people in families(source).values() for entry in sorted(people, key=_digest)[:per_family]]


def _digest(entry: Entry) -> bytes:
    return hashlib.sha256(entry.user_agent.encode()).digest()


def find(kinds: str | tuple[str, ...], needle: str) -> str:
    """The first corpus user agent of one of ``kinds`` containing ``needle`` (named cases of the tests)."""
    for entry in entries():
        if entry.kind in kinds and needle in entry.user_agent:
            return entry.user_agent
    raise LookupError(f"no {kinds} user agent with {needle!r} in the corpus")
