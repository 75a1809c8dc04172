"""Fans' e-mails at rest: sealed, never stored in plain text.

The creator sees their fans' e-mails (``GET …/referrers``), so an e-mail is stored in a
form that can be read back: sealed (:mod:`chalicelib.core.sealed_text`, encrypt-then-MAC
under keys derived from the server secret for the purpose ``email``) on the link that
claims it. A table export, a backup or the local journal shows ``v1.<base64url>`` only.
Rotating the server secret makes sealed e-mails unreadable (:func:`unseal` returns
``None``); docs/privacy.md says so.
"""
from __future__ import annotations

from chalicelib.core import sealed_text

PURPOSE = "email"


def seal(email: str) -> str:
    """``email`` sealed: ``v1.<base64url(nonce ‖ ciphertext ‖ tag)>``, a fresh nonce each time."""
    return sealed_text.seal(email, PURPOSE)


def unseal(sealed: str) -> str | None:
    """The e-mail :func:`seal` sealed; ``None`` if it does not verify (tampered with, or
    sealed under another secret)."""
    return sealed_text.unseal(sealed, PURPOSE)
