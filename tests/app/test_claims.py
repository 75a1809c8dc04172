"""E-mail claims keyed per campaign: the same e-mail in two campaigns leaves two unrelated
digests, so a dump of the links table cannot tell that one person is a fan of both."""
from __future__ import annotations

from chalicelib.store import links_table

EMAIL = "zoe.claims@example.org"


def _claim_of(api, campaign_id: str) -> str:
    response = api.call("POST", f"/v1/campaigns/{campaign_id}/referrers", {"name": "Zoé", "email": EMAIL})
    assert response.status_code == 201, response.body
    link = links_table.get(response.data["code"])
    assert link is not None and link.claim is not None
    return link.claim


def test_the_same_email_in_two_campaigns_gives_two_different_claim_keys(api):
    first, _ = api.create_campaign(name="First")
    second, _ = api.create_campaign(name="Second")
    first_claim, second_claim = _claim_of(api, first["id"]), _claim_of(api, second["id"])
    assert first_claim != second_claim
    assert (links_table.is_claimed(first["id"], first_claim), links_table.is_claimed(second["id"], second_claim)) \
        == (True, True)
    assert (links_table.is_claimed(first["id"], second_claim), links_table.is_claimed(second["id"], first_claim)) \
        == (False, False)
