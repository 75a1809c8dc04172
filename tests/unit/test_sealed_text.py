"""Sealed text: a value sealed for one purpose (an e-mail, a webhook secret, a Stripe secret)
never unseals for another, and a secret stored before sealing reads as it is."""
from __future__ import annotations

from chalicelib.core import sealed_text


def test_a_value_sealed_for_one_purpose_unseals_for_that_purpose_only():
    sealed = sealed_text.seal("rwh_" + "a" * 32, "webhook-secret")
    assert sealed_text.unseal(sealed, "webhook-secret") == "rwh_" + "a" * 32
    assert (sealed_text.unseal(sealed, "stripe-secret"), sealed_text.unseal(sealed, "email")) == (None, None)


def test_a_stored_secret_is_unsealed_and_one_stored_in_plain_text_before_sealing_is_used_as_it_is():
    sealed = sealed_text.seal("whsec_abc123", "stripe-secret")
    assert sealed_text.unseal_stored(sealed, "stripe-secret") == "whsec_abc123"
    assert sealed_text.unseal_stored("whsec_abc123", "stripe-secret") == "whsec_abc123"
    assert sealed_text.unseal_stored(sealed, "webhook-secret") is None
    assert (sealed_text.unseal_stored(None, "stripe-secret"), sealed_text.unseal_stored("", "stripe-secret")) == \
        (None, None)
