"""schemathesis against docs/openapi.yaml on the running local stack: no route answers 5xx,
and every answer matches the document. Run once anonymously with generated ids, and once
with real ids and credentials so that generated bodies reach the validation code."""
from collections.abc import Mapping
from types import MappingProxyType

import pytest
import requests
import schemathesis
from hypothesis import settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from dev.processes import ROOT

schema = schemathesis.openapi.from_path(ROOT / "docs" / "openapi.yaml")
# No health check is suppressed: both tests use only package- and module-scoped fixtures
# (nothing is reset between examples), and the document's constraints generate quickly.
# No deadline: each example is a real HTTP round trip to a subprocess, whose time varies.
FUZZ_SETTINGS = settings(max_examples=20, deadline=None)

# Operations that change the campaign they are called on (its settings, its key): each
# example gets a campaign of its own, so that what one example does cannot change what the
# next one, or another test, sees.
CHANGES_ITS_CAMPAIGN = frozenset({"updateCampaign", "rotateCampaignKey"})
CHANGES_ITS_FAN = frozenset({"moderateReferrer", "eraseReferrer"})  # and gets a fan of its own likewise
OPERATOR_PATHS = frozenset({"/v1/campaigns", "/v1/insights"})  # only the operator token gets past the auth there
# Operations whose parameters depend on each other in a way OpenAPI cannot say: a request the
# document calls valid may be a 400. Every other check still applies to them.
CROSS_PARAMETER_RULES = {"startImport": "a preset lays out one kind of file (kind=tag_totals has none)"}


def _excluded(case, *checks) -> list:
    rules = case.operation.definition.raw.get("operationId") in CROSS_PARAMETER_RULES
    return [*checks, positive_data_acceptance] if rules else list(checks)


def _new_campaign(stack, name: str) -> tuple[str, str]:
    """A campaign with a Stripe secret and a platform, so that generated bodies reach the
    Stripe route's and the imports' validation."""
    campaign, key = stack.create_campaign(name=name, stripe_webhook_secret="whsec_fuzzfuzzfuzz",
                                          platform={"name": "kickstarter"})
    return campaign["id"], key


@pytest.fixture(scope="module")
def target(stack) -> Mapping[str, str]:
    """This module's own campaign, key and fan, read-only."""
    campaign_id, key = _new_campaign(stack, "Fuzzed")
    fan = stack.new_fan(campaign_id, "Fuzz")
    return MappingProxyType({"campaign": campaign_id, "key": key, "code": fan["code"]})


@schema.parametrize()
@FUZZ_SETTINGS
def test_generated_requests_never_get_a_server_error(case, stack):
    response = case.call(base_url=stack.api, timeout=15)
    assert response.status_code < 500, f"{case.method} {case.formatted_path} -> {response.status_code}"
    case.validate_response(response, excluded_checks=_excluded(case))


@schema.parametrize()
@FUZZ_SETTINGS
def test_generated_bodies_with_real_ids_and_keys_never_get_a_server_error(case, stack, target):
    campaign_id, key, code = target["campaign"], target["key"], target["code"]
    operation = case.operation.definition.raw.get("operationId")
    if operation in CHANGES_ITS_CAMPAIGN | CHANGES_ITS_FAN:
        campaign_id, key = _new_campaign(stack, "Fuzzed, changed")
    if operation in CHANGES_ITS_FAN:
        code = stack.new_fan(campaign_id, "Fuzzed fan")["code"]
    params = dict(case.path_parameters or {})
    if "campaign_id" in params:
        params["campaign_id"] = campaign_id
    if "code" in params:
        params["code"] = code
    case.path_parameters = params
    token = stack.admin_token if case.path in OPERATOR_PATHS else key
    response = case.call(base_url=stack.api, headers={"Authorization": f"Bearer {token}"}, timeout=15)
    assert response.status_code < 500, f"{case.method} {case.formatted_path} -> {response.status_code}"
    # The ids and key were swapped for valid ones: a "negative" case may have become valid.
    case.validate_response(response, excluded_checks=_excluded(case, negative_data_rejection))
    assert requests.get(f"{stack.api}/healthz", timeout=5).status_code == 200
