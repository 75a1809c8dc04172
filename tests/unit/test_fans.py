"""Fans' names and e-mails at rest: a name normalised for display, an e-mail sealed."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize(("raw", "shown"), [
    ("\u202eelpmaxe.live", "elpmaxe.live"),                  # right-to-left override
    ("A\u200bn\u200ca\u200d", "Ana"),                         # zero-width space, non-joiner, joiner
    ("\u2066Zoé\u2069", "Zoé"),                               # isolates
    ("Zoe\u0301", "Zoé"),                                     # NFC: e + combining acute is one é
    ("\u3164\u2800Bob\u115f", "Bob"),                         # Hangul filler, Braille blank
    ("Ada\u00a0\u3000 Lovelace  ", "Ada Lovelace"),           # every space collapses to one
    ("Z\u0301\u0301\u0301\u0301\u0301\u0301a", "Ź\u0301\u0301\u0301a"),  # NFC folds one, then 3 marks at most
    ("👨\u200d👩\u200d👧 family", "👨\u200d👩\u200d👧 family"),  # a joiner between emoji is how they are spelt
    ("soft\u00adhyphen\ufeff", "softhyphen"),
])
def test_names_are_stored_in_nfc_without_bidi_controls_or_invisible_characters(raw, shown):
    from chalicelib.domain.names import normalise

    assert normalise(raw) == shown


def test_a_sealed_email_reads_back_and_any_changed_character_makes_it_unreadable():
    from chalicelib.domain import sealing

    sealed = sealing.seal("zoé@example.org")
    assert sealed.startswith("v1.") and "example" not in sealed
    assert sealing.unseal(sealed) == "zoé@example.org"
    assert sealing.seal("zoé@example.org") != sealed  # a fresh nonce each time
    tampered = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    assert sealing.unseal(tampered) is None
    assert sealing.unseal("v2.abc") is None and sealing.unseal("v1.!!") is None
