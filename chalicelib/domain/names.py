"""Fans' display names, made safe to show on a public leaderboard.

A name is shown on other people's pages, so it must read the same everywhere and hide
nothing: ``"\\u202eelpmaxe.live"`` (a right-to-left override) renders as
``evil.example``; zero-width characters make two names look alike; Hangul fillers and the
Braille blank show as nothing; hundreds of stacked combining marks overflow their box.
:func:`normalise` returns the text in Unicode NFC with all of these removed:

- every *format* character (category ``Cf``): the bidi controls (embeddings, overrides,
  isolates, marks), zero-width spaces and joiners, the word joiner, invisible operators,
  the BOM, soft hyphens, tag characters — except a zero-width joiner between two emoji,
  which is how family and profession emoji are spelt;
- controls, surrogates, private-use and unassigned code points;
- letters and symbols that render as blank (Hangul fillers, the Braille blank, the
  combining grapheme joiner);
- more than :data:`MAX_MARKS` combining marks on one character;
- runs of any Unicode space, collapsed to one ASCII space, and the ends trimmed.
"""
from __future__ import annotations

import unicodedata

MAX_MARKS = 3
ZWJ = "\u200d"
BLANK = frozenset("\u115f\u1160\u3164\uffa0\u2800\u034f")
"""Not format characters, yet invisible: Hangul fillers, the Braille blank, the combining
grapheme joiner."""
_DROPPED_CATEGORIES = frozenset({"Cf", "Cc", "Cs", "Co", "Cn"})


def _pictographic(ch: str) -> bool:
    """An emoji (or emoji part) a zero-width joiner may glue to another."""
    code = ord(ch)
    return (0x1F000 <= code <= 0x1FAFF or 0x2600 <= code <= 0x27BF or 0x2300 <= code <= 0x23FF
            or 0x2B00 <= code <= 0x2BFF or code == 0xFE0F)


def _kept(text: str, index: int) -> bool:
    ch = text[index]
    if ch == ZWJ:
        return 0 < index < len(text) - 1 and _pictographic(text[index - 1]) and _pictographic(text[index + 1])
    return unicodedata.category(ch) not in _DROPPED_CATEGORIES and ch not in BLANK


def normalise(raw: str) -> str:
    """The name as it will be stored and shown (may be empty: then it had nothing visible)."""
    text = unicodedata.normalize("NFC", raw)
    out: list[str] = []
    marks = 0
    for index, ch in enumerate(text):
        if ch.isspace() or unicodedata.category(ch) == "Zs":
            if out and out[-1] != " ":
                out.append(" ")
            marks = 0
            continue
        if not _kept(text, index):
            continue
        if unicodedata.category(ch) in ("Mn", "Me"):
            marks += 1
            if marks > MAX_MARKS or not out:
                continue
        else:
            marks = 0
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out).strip())
