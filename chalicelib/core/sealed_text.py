"""Text sealed at rest: encrypted and authenticated, readable only with the server secret.

What Relais must read back but never store in plain text is sealed here: fans' e-mails
(:mod:`chalicelib.domain.sealing`), the campaigns' webhook signing secrets
(:mod:`chalicelib.outbound.webhook_signature`) and Stripe signing secrets
(:mod:`chalicelib.domain.stripe_webhook`). A table export, a backup or the local journal
shows ``v1.<base64url>`` only. The construction lives in the shared core because the
webhook dispatcher (``outbound``) unseals too, and it may not import the domain.

The construction is encrypt-then-MAC with HMAC-SHA256 as the only primitive, so that the
Lambda package stays pure Python (no native cryptography wheel to build for arm64):

- a random 16-byte nonce per value;
- the keystream is HMAC-SHA256(k_enc, nonce ‖ counter) for counter = 0, 1, … (HMAC used
  as a pseudo-random function in counter mode), XORed with the UTF-8 text;
- the tag is the first 16 bytes of HMAC-SHA256(k_mac, "v1" ‖ nonce ‖ ciphertext), checked
  in constant time before anything is decrypted.

``k_enc`` and ``k_mac`` are distinct keys derived from the server secret (``RELAIS_SECRET``,
an SSM SecureString in a deployed stage) for each purpose (``email``, ``webhook-secret``,
``stripe-secret``): a value sealed for one purpose never unseals for another. Rotating the
server secret makes sealed values unreadable (:func:`unseal` returns ``None``), as it makes
old ``ref`` values unverifiable; docs/privacy.md says so.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

from chalicelib.core.derived_keys import derived_key

VERSION = "v1"
NONCE_BYTES = 16
TAG_BYTES = 16
_BLOCK = hashlib.sha256().digest_size


def _keystream(key: bytes, nonce: bytes, length: int) -> bytes:
    blocks = (hmac.new(key, nonce + counter.to_bytes(4, "big"), hashlib.sha256).digest()
              for counter in range((length + _BLOCK - 1) // _BLOCK))
    return b"".join(blocks)[:length]


def _tag(key: bytes, nonce: bytes, ciphertext: bytes) -> bytes:
    return hmac.new(key, VERSION.encode() + nonce + ciphertext, hashlib.sha256).digest()[:TAG_BYTES]


def _keys(purpose: str) -> tuple[bytes, bytes]:
    return derived_key(f"seal:{purpose}:enc"), derived_key(f"seal:{purpose}:mac")


def is_sealed(stored: str) -> bool:
    """Whether ``stored`` has the sealed form (a value stored before sealing does not)."""
    return stored.startswith(f"{VERSION}.")


def seal(text: str, purpose: str) -> str:
    """``text`` encrypted and authenticated: ``v1.<base64url(nonce ‖ ciphertext ‖ tag)>``."""
    enc, mac = _keys(purpose)
    nonce = secrets.token_bytes(NONCE_BYTES)
    plain = text.encode()
    ciphertext = bytes(a ^ b for a, b in zip(plain, _keystream(enc, nonce, len(plain)), strict=True))
    payload = nonce + ciphertext + _tag(mac, nonce, ciphertext)
    return f"{VERSION}.{base64.urlsafe_b64encode(payload).decode().rstrip('=')}"


def unseal(sealed: str, purpose: str) -> str | None:
    """The text :func:`seal` sealed; ``None`` if it does not verify (tampered with, sealed for
    another purpose, or under another secret)."""
    version, _, body = sealed.partition(".")
    if version != VERSION:
        return None
    try:
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(payload) < NONCE_BYTES + TAG_BYTES:
        return None
    nonce, ciphertext, tag = payload[:NONCE_BYTES], payload[NONCE_BYTES:-TAG_BYTES], payload[-TAG_BYTES:]
    enc, mac = _keys(purpose)
    if not hmac.compare_digest(tag, _tag(mac, nonce, ciphertext)):
        return None
    plain = bytes(a ^ b for a, b in zip(ciphertext, _keystream(enc, nonce, len(ciphertext)), strict=True))
    try:
        return plain.decode()
    except UnicodeDecodeError:
        return None


def unseal_stored(stored: str | None, purpose: str) -> str | None:
    """A stored secret as it is used: unsealed, or — stored in plain text before secrets were
    sealed — as it is (it is sealed when next set); ``None`` when absent or unreadable."""
    if not stored:
        return None
    return unseal(stored, purpose) if is_sealed(stored) else stored
