"""The front: the HTTP API routes every route of app.py to the API handler, CloudFront caches
what can be cached and never a redirect, the functions run on arm64, the throttle admits a
viral burst, and the packaged handler answers the events the HTTP API sends."""
from __future__ import annotations

import base64
import fnmatch
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from infra.front import WIDGET_CALL_HEADERS, Front, Route, chalice_routes
from infra.settings import ACCOUNT_API_BURST_QUOTA, ACCOUNT_API_RATE_QUOTA, StageSettings
from infra.stack import AGGREGATOR_FUNCTION, API_FUNCTION, FALLBACK_FUNCTION, IMPORTER_FUNCTION
from tests.infra.observed_metrics import ADMIN_TOKEN
from tests.infra.synthesis import OFFLINE_ENV, REGION, REPO_ROOT

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CloudFront's managed policy
VIRAL_BURST = 5_000  # redirects per second (docs/runbook.md, "Capacity for a viral peak")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _app_routes() -> set[tuple[str, str]]:
    from app import app

    return {(method, path) for path, methods in app.routes.items() for method in methods}


def _one(synth, resource_type: str) -> tuple[str, dict]:
    ((logical_id, resource),) = synth.of_type(resource_type).items()
    return logical_id, resource["Properties"]


def _distribution(synth) -> dict:
    return _one(synth, "AWS::CloudFront::Distribution")[1]["DistributionConfig"]


def _behaviour_for(synth, path: str) -> dict:
    """The cache behaviour CloudFront applies to ``path``: the first pattern that matches, else the default."""
    config = _distribution(synth)
    for behaviour in config.get("CacheBehaviors", []):
        if fnmatch.fnmatchcase(path, behaviour["PathPattern"]):
            return behaviour
    return config["DefaultCacheBehavior"]


def _cache_policy(synth, behaviour: dict) -> dict | None:
    """The behaviour's own cache policy, ``None`` for CloudFront's managed CachingDisabled."""
    policy = behaviour["CachePolicyId"]
    if policy == CACHING_DISABLED:
        return None
    return synth.resources[policy["Ref"]]["Properties"]["CachePolicyConfig"]


# The HTTP API ----------------------------------------------------------------------------

def test_the_http_api_declares_every_route_of_app_py_and_nothing_else(synth):
    declared = {tuple(route["RouteKey"].split(" ", 1)) for route in synth.of_type("AWS::ApiGatewayV2::Route")
                .values() for route in [route["Properties"]]}
    assert declared == _app_routes()


def test_every_route_goes_to_the_api_handler_as_payload_format_1_0(synth):
    integration_id, integration = _one(synth, "AWS::ApiGatewayV2::Integration")
    assert (integration["IntegrationType"], integration["PayloadFormatVersion"]) == ("AWS_PROXY", "1.0")
    assert integration["IntegrationUri"] == {"Fn::GetAtt": [API_FUNCTION, "Arn"]}
    routes = synth.of_type("AWS::ApiGatewayV2::Route").values()
    targets = {json.dumps(route["Properties"]["Target"]) for route in routes}
    assert targets == {json.dumps({"Fn::Join": ["", ["integrations/", {"Ref": integration_id}]]})}


def test_api_gateway_may_invoke_the_api_handler_from_this_http_api_only(synth):
    api_id = synth.logical_id(synth.stack.front.http_api)
    (permission,) = [p["Properties"] for p in synth.of_type("AWS::Lambda::Permission").values()
                     if p["Properties"]["Principal"] == "apigateway.amazonaws.com"]
    assert permission["FunctionName"] == {"Fn::GetAtt": [API_FUNCTION, "Arn"]}
    assert permission["SourceArn"] == {"Fn::Join": ["", [f"arn:aws:execute-api:{REGION}:123456789012:",
                                                         {"Ref": api_id}, "/*"]]}


def test_chalices_own_rest_api_is_not_deployed(synth):
    types = {resource["Type"] for resource in synth.resources.values()}
    assert not types & {"AWS::Serverless::Api", "AWS::ApiGateway::RestApi", "AWS::ApiGateway::DomainName"}
    assert not {"RestAPIId", "EndpointURL"} & set(synth.template_json["Outputs"])


def test_the_stage_throttle_admits_a_5000_per_second_burst_within_the_accounts_default_quota(synth):
    _, stage = _one(synth, "AWS::ApiGatewayV2::Stage")
    limits = stage["DefaultRouteSettings"]
    assert VIRAL_BURST <= limits["ThrottlingRateLimit"] <= ACCOUNT_API_RATE_QUOTA
    assert VIRAL_BURST <= limits["ThrottlingBurstLimit"] <= ACCOUNT_API_BURST_QUOTA
    assert (stage["StageName"], stage["AutoDeploy"]) == ("$default", True)


def test_a_route_the_http_api_cannot_declare_is_refused():
    with pytest.raises(ValueError, match=r"TRACE /r/\{code\}"):
        chalice_routes({"/r/{code}": {"GET": object(), "TRACE": object()}})


def test_the_api_domains_certificate_must_be_in_the_stacks_region():
    app = cdk.App()
    stack = cdk.Stack(app, "Front", env=cdk.Environment(account="123456789012", region=REGION))
    settings = StageSettings(domain_name="go.example.org",
                             certificate_arn="arn:aws:acm:us-east-1:123456789012:certificate/abc")
    with pytest.raises(ValueError, match="stack's region"):
        Front(stack, "Front", settings=settings, handler_arn="arn:aws:lambda:eu-west-1:123456789012:function:f",
              routes=[Route("/healthz", "GET")], api_name="relais-prod")


# Lambda on arm64 -------------------------------------------------------------------------

def test_every_function_runs_on_arm64(synth):
    functions = synth.of_type("AWS::Serverless::Function")
    assert {API_FUNCTION, AGGREGATOR_FUNCTION, FALLBACK_FUNCTION} <= set(functions)
    assert {name: f["Properties"]["Architectures"] for name, f in functions.items()} == {
        name: ["arm64"] for name in functions}


# CloudFront: what is cached, and what never is ------------------------------------------

@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_redirect_is_never_cached(synth, method):
    behaviour = _behaviour_for(synth, "/r/Xq3k9Pz2")
    assert behaviour["CachePolicyId"] == CACHING_DISABLED
    assert method in behaviour["AllowedMethods"]


@pytest.mark.parametrize("image", ["qr.svg", "qr.png"])
def test_qr_images_are_cached_for_a_year_keyed_by_size_alone(synth, image):
    behaviour = _behaviour_for(synth, f"/r/Xq3k9Pz2/{image}")
    policy = _cache_policy(synth, behaviour)
    assert policy is not None and policy["MaxTTL"] >= 365 * 24 * 3600
    key = policy["ParametersInCacheKeyAndForwardedToOrigin"]
    assert key["QueryStringsConfig"] == {"QueryStringBehavior": "whitelist", "QueryStrings": ["size"]}
    assert (key["HeadersConfig"], key["CookiesConfig"]) == ({"HeaderBehavior": "none"}, {"CookieBehavior": "none"})
    assert behaviour["AllowedMethods"] == ["GET", "HEAD"]


def test_widget_script_is_cached_for_the_max_age_the_app_gives_then_revalidated(synth):
    """``widget.js`` answers ``max-age=300`` with an ETag: the policy's default TTL of 0
    defers to it, and CloudFront revalidates with ``If-None-Match`` once it expires."""
    behaviour = _behaviour_for(synth, "/widget.js")
    policy = _cache_policy(synth, behaviour)
    assert policy is not None and (policy["MinTTL"], policy["DefaultTTL"]) == (0, 0) and policy["MaxTTL"] >= 300
    key = policy["ParametersInCacheKeyAndForwardedToOrigin"]
    assert key["QueryStringsConfig"] == {"QueryStringBehavior": "none"}
    assert behaviour["Compress"] is True


@pytest.mark.parametrize("path", ["/v1/campaigns/c_123/stats", "/v1/campaigns/c_123/widget"])
def test_public_reads_are_cached_by_their_max_age_per_origin_accept_and_key(synth, path):
    policy = _cache_policy(synth, _behaviour_for(synth, path))
    assert policy is not None and (policy["MinTTL"], policy["DefaultTTL"]) == (0, 0)
    key = policy["ParametersInCacheKeyAndForwardedToOrigin"]
    assert key["HeadersConfig"] == {"HeaderBehavior": "whitelist", "Headers": ["Accept", "Authorization", "Origin"]}


def test_every_cached_path_is_a_get_route_of_the_app(synth):
    """A cache behaviour for a path the app does not serve by GET would cache nothing, or the wrong thing."""
    get_routes = [path for method, path in _app_routes() if method == "GET"]
    for behaviour in _distribution(synth)["CacheBehaviors"]:
        pattern = behaviour["PathPattern"]
        assert any(fnmatch.fnmatchcase(path, pattern) for path in get_routes), pattern
        assert behaviour["CachePolicyId"] != CACHING_DISABLED, pattern


def test_the_widgets_calls_through_the_cached_host_carry_what_the_app_reads_and_the_viewers_address(synth):
    from chalicelib.hotpath.tracking import PREFETCH_HEADERS

    default = _distribution(synth)["DefaultCacheBehavior"]
    assert default["CachePolicyId"] == CACHING_DISABLED
    assert {"POST", "OPTIONS"} <= set(default["AllowedMethods"])
    policy = synth.resources[default["OriginRequestPolicyId"]["Ref"]]["Properties"]["OriginRequestPolicyConfig"]
    forwarded = {name.lower() for name in policy["HeadersConfig"]["Headers"]}
    assert policy["HeadersConfig"]["HeaderBehavior"] == "whitelist"
    assert {"origin", "content-type", "user-agent", "sec-gpc", "dnt", "cloudfront-viewer-address",
            *PREFETCH_HEADERS} <= forwarded
    assert "host" not in forwarded and len(WIDGET_CALL_HEADERS) <= 10


def test_the_distribution_reaches_the_http_api_over_https_only(synth):
    (origin,) = _distribution(synth)["Origins"]
    api_id = synth.logical_id(synth.stack.front.http_api)
    assert origin["DomainName"] == {"Fn::Join": ["", [{"Ref": api_id}, f".execute-api.{REGION}.",
                                                      {"Ref": "AWS::URLSuffix"}]]}
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert origin["CustomOriginConfig"]["OriginSSLProtocols"] == ["TLSv1.2"]


def test_the_distribution_proves_itself_to_the_app_with_the_stages_origin_secret(synth):
    """The app believes CloudFront-Viewer-Address (rate limits) only beside this header and value."""
    from chalicelib.web.http import ORIGIN_SECRET

    (origin,) = _distribution(synth)["Origins"]
    (sent,) = origin["OriginCustomHeaders"]
    assert sent["HeaderName"].lower() == ORIGIN_SECRET
    parameter = synth.template.to_json()["Parameters"][sent["HeaderValue"]["Ref"]]
    assert (parameter["Type"], parameter["Default"]) == ("AWS::SSM::Parameter::Value<String>",
                                                         "/relais/prod/origin-secret")
    variables = synth.resources[API_FUNCTION]["Properties"]["Environment"]["Variables"]
    assert variables["RELAIS_ORIGIN_SECRET_PARAM"] == "/relais/prod/origin-secret"


# DynamoDB warm throughput ------------------------------------------------------------------

def test_tables_take_dynamodbs_own_warm_throughput_unless_a_stage_asks_for_more(synth, synth_with_options):
    def warm(s) -> dict[str, Any]:
        return {base: s.resources[logical_id]["Properties"].get("WarmThroughput")
                for base, logical_id in s.table_ids().items()}

    assert set(warm(synth).values()) == {None}
    assert warm(synth_with_options) == {"campaigns": None, "links": None, "events": {"WriteUnitsPerSecond": 10_000},
                                        "rollups": {"WriteUnitsPerSecond": 10_000}}


# The packaged handler, fed the HTTP API's events -----------------------------------------

@pytest.fixture(scope="module")
def front_answers(synth, package: zipfile.ZipFile, tmp_path_factory) -> dict[str, dict[str, Any]]:
    unzipped = tmp_path_factory.mktemp("lambda-package")
    package.extractall(unzipped)
    environment = {**OFFLINE_ENV, **synth.resolved_environment(API_FUNCTION)}
    tables = {base: synth.resources[logical_id]["Properties"] for base, logical_id in synth.table_ids().items()}
    parameters = {environment["RELAIS_ADMIN_TOKEN_PARAM"]: ADMIN_TOKEN, environment["RELAIS_SECRET_PARAM"]: "s" * 48}
    inherited = {name: value for name, value in os.environ.items()
                 if not name.startswith(("AWS_", "RELAIS_", "POWERTOOLS_"))}
    result = subprocess.run(
        [sys.executable, "-m", "tests.infra.front_events"], cwd=REPO_ROOT, env=inherited,
        input=json.dumps({"package": str(unzipped), "environment": environment, "tables": tables,
                          "importer_environment": {**OFFLINE_ENV, **synth.resolved_environment(IMPORTER_FUNCTION)},
                          "parameters": parameters, "api_host": f"a1b2c3d4e5.execute-api.{REGION}.amazonaws.com"}),
        capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-4000:]
    answers = json.loads(result.stdout.splitlines()[-1])
    answers["_package"] = {"path": str(unzipped)}
    return answers


def test_the_handler_that_answers_is_the_packaged_one(front_answers):
    package = Path(front_answers["_package"]["path"])
    for module, path in front_answers["_modules"].items():
        assert path and Path(path).is_relative_to(package), (module, path)


def test_a_redirect_through_the_http_api_answers_302_to_the_campaign(front_answers):
    answer = front_answers["redirect"]
    assert answer["statusCode"] == 302
    assert answer["headers"]["Location"].startswith("https://example.org/front?ref=")
    assert answer["headers"]["Cache-Control"] == "private, no-store"


def test_a_qr_png_without_accept_answers_png_bytes(front_answers):
    answer = front_answers["qr_png_without_accept"]
    assert (answer["statusCode"], answer["headers"]["Content-Type"], answer["isBase64Encoded"]) == (
        200, "image/png", True)
    assert base64.b64decode(answer["body"]).startswith(PNG_SIGNATURE)


def test_the_packaged_importer_runs_an_import_from_the_queued_message_to_the_counters(front_answers):
    assert front_answers["import_started"]["statusCode"] == 202
    assert front_answers["importer"] == {"batchItemFailures": []}
    job = json.loads(front_answers["import_status"]["body"])
    assert (job["status"], job["applied"], job["changes"]) == ("done", 2, {"pledges": 2, "amount": {"EUR": 3500}})
    stats = json.loads(front_answers["import_stats"]["body"])
    assert stats["totals"]["reported"] == {"pledges": 2, "amount": {"EUR": 3500}}
    (fan,) = stats["referrers"]
    assert (fan["code"], fan["pledges"], fan["amount"]) == (front_answers["import_fan"], 1, {"EUR": 2500})


def test_a_pledge_through_the_http_api_answers_201(front_answers):
    answer = front_answers["pledge"]
    assert answer["statusCode"] == 201
    assert json.loads(answer["body"])["pledge_id"] == "order-1"


def test_short_links_have_no_stage_in_their_path_and_qr_images_come_from_the_cached_host(front_answers):
    fan = json.loads(front_answers["referrer"]["body"])
    assert fan["short_url"] == f"https://a1b2c3d4e5.execute-api.{REGION}.amazonaws.com/r/{fan['code']}"
    assert fan["qr"] == {"svg": f"https://d111111abcdef8.cloudfront.net/r/{fan['code']}/qr.svg",
                         "png": f"https://d111111abcdef8.cloudfront.net/r/{fan['code']}/qr.png"}
