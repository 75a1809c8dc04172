"""The public front: an HTTP API for the API and short links, CloudFront for what can be cached.

Why this shape (``docs/deploy.md``, "The front", has the operator's view and the arithmetic):

- **HTTP API, payload format 1.0, one route per Chalice route.** Format 1.0 is the REST
  API's Lambda proxy event, so Chalice's own handler routes it unchanged; declaring every
  route (rather than one ``$default`` catch-all) keeps ``requestContext.resourcePath`` equal
  to the Chalice route, which is what Chalice dispatches on. $1.00 per million requests
  against the REST API's $3.50.
- **A second host name on CloudFront for what can be cached**: QR images (immutable),
  ``widget.js`` (5 minutes, then revalidated by ETag), public stats and the widget's
  data (their own short max-age). Short links stay on the HTTP API: a redirect can never
  be cached, and putting CloudFront in front of it would add CloudFront's request price
  to every click. The widget is loaded from the cached host and calls its API through
  the same host (uncached), so the distribution forwards what the app reads of those
  calls, the viewer's address included.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from infra.settings import StageSettings

HTTP_API_STAGE = "$default"
"""No stage in the URL path: a short link is ``https://<host>/r/<code>``."""
PAYLOAD_FORMAT_VERSION = "1.0"
"""The REST API's proxy event shape, which Chalice's handler reads (format 2.0 has no
``resourcePath`` nor ``httpMethod``)."""
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

IMMUTABLE_MAX_AGE = cdk.Duration.days(365)
PUBLIC_READS_MAX_AGE = cdk.Duration.minutes(5)
"""A cap on what the app's own max-age asks (30 s for public stats, 15 s for widget data)."""
WIDGET_SCRIPT_MAX_AGE = cdk.Duration.days(1)
"""A cap: the app asks 5 minutes, after which CloudFront revalidates with the ETag."""

VIEWER_ADDRESS_HEADER = "CloudFront-Viewer-Address"
ORIGIN_SECRET_HEADER = "X-Relais-Origin"  # chalicelib.web.http.ORIGIN_SECRET
WIDGET_CALL_HEADERS = (
    "Origin", "Content-Type", "User-Agent", "Sec-GPC", "DNT",
    "Sec-Purpose", "Purpose", "X-Purpose", "X-Moz", VIEWER_ADDRESS_HEADER,
)
"""What the app reads of the widget's own calls (fans' links, shares, landings, impact) when
they come through the cached host: CORS and write origins, the visit's user agent, privacy
and prefetch signals, and the viewer's address (``chalicelib.web.http.client_ip``).
CloudFront allows ten headers in an origin request policy; ``Authorization`` cannot be one
(keyed calls go to the API host). ``Host`` is not forwarded: API Gateway answers only to
its own name."""
PUBLIC_READ_KEY_HEADERS = ("Accept", "Authorization", "Origin")
"""The stats answer varies by all three (``Vary``); CloudFront ignores ``Vary``, so they
are the cache key. ``Authorization`` in the key keeps a keyed answer for its key alone,
and keyed answers are ``private`` anyway: CloudFront does not store them."""
PUBLIC_READ_QUERY = ("from", "to", "format")


@dataclass(frozen=True, order=True)
class Route:
    """One route of the Chalice app, as the HTTP API declares it."""

    path: str
    method: str

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def construct_id(self) -> str:
        return "Route" + re.sub(r"[^A-Za-z0-9]+", "_", self.key)


def chalice_routes(routes: dict[str, dict[str, Any]]) -> list[Route]:
    """Every (path, method) of a Chalice app's route table (``app.routes``)."""
    found = [Route(path, method) for path, methods in routes.items() for method in methods]
    unknown = [route.key for route in found if route.method not in HTTP_METHODS]
    if unknown:
        raise ValueError(f"routes with methods an HTTP API cannot declare: {unknown}")
    return sorted(found)


class Front(Construct):
    """The HTTP API in front of the API handler, its custom domain, and the assets distribution."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: StageSettings, handler_arn: str,
                 routes: Iterable[Route], api_name: str) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.settings = settings
        self.http_api = apigwv2.CfnApi(
            self, "HttpApi", name=api_name, protocol_type="HTTP",
            description=f"Relais {settings.stage}: every route of app.py, to the API handler")
        self.integration = apigwv2.CfnIntegration(
            self, "Handler", api_id=self.http_api.ref, integration_type="AWS_PROXY",
            integration_method="POST", integration_uri=handler_arn,
            payload_format_version=PAYLOAD_FORMAT_VERSION)
        self.routes = {route.key: apigwv2.CfnRoute(
            self, route.construct_id, api_id=self.http_api.ref, route_key=route.key,
            target=f"integrations/{self.integration.ref}") for route in routes}
        self.stage = apigwv2.CfnStage(
            self, "Stage", api_id=self.http_api.ref, stage_name=HTTP_API_STAGE, auto_deploy=True,
            description="Throttled at the account's own quota by default: per-client limits stop abuse",
            default_route_settings=apigwv2.CfnStage.RouteSettingsProperty(
                throttling_rate_limit=settings.throttle_rate_limit,
                throttling_burst_limit=settings.throttle_burst_limit))
        lambda_.CfnPermission(
            self, "InvokeHandler", action="lambda:InvokeFunction", function_name=handler_arn,
            principal="apigateway.amazonaws.com",
            source_arn=stack.format_arn(service="execute-api", resource=self.http_api.ref, resource_name="*"))
        self.domain = self._custom_domain()
        self.api_host = f"{self.http_api.ref}.execute-api.{stack.region}.{stack.url_suffix}"
        self.distribution = self._assets_distribution()

    @property
    def api_url(self) -> str:
        if self.settings.domain_name:
            return f"https://{self.settings.domain_name}"
        return f"https://{self.api_host}"

    @property
    def assets_url(self) -> str:
        return self.settings.assets_url or f"https://{self.distribution.distribution_domain_name}"

    def _custom_domain(self) -> apigwv2.CfnDomainName | None:
        """A regional domain: its certificate lives in the stack's region, DNS points at it."""
        if not (self.settings.domain_name and self.settings.certificate_arn):
            return None
        region = cdk.Stack.of(self).region
        certificate_region = self.settings.certificate_region()
        if not cdk.Token.is_unresolved(region) and certificate_region != region:
            raise ValueError(f"certificateArn must be in the stack's region {region} (a regional HTTP API "
                             f"domain), not {certificate_region}")
        domain = apigwv2.CfnDomainName(
            self, "ApiDomain", domain_name=self.settings.domain_name,
            domain_name_configurations=[apigwv2.CfnDomainName.DomainNameConfigurationProperty(
                certificate_arn=self.settings.certificate_arn, endpoint_type="REGIONAL",
                security_policy="TLS_1_2")])
        apigwv2.CfnApiMapping(self, "ApiDomainMapping", api_id=self.http_api.ref, domain_name=domain.ref,
                              stage=self.stage.ref)
        return domain

    def _assets_distribution(self) -> cloudfront.Distribution:
        # The app believes CloudFront-Viewer-Address (a visitor's address, for rate limits) only
        # beside this header: a String parameter, as CloudFront cannot read a SecureString.
        origin_secret = ssm.StringParameter.value_for_string_parameter(self, self.settings.origin_secret_param)
        origin = origins.HttpOrigin(self.api_host, protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
                                    origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
                                    custom_headers={ORIGIN_SECRET_HEADER: origin_secret})
        immutable = cloudfront.CachePolicy(
            self, "ImmutableCache", comment="QR images: a year, keyed by size only",
            min_ttl=cdk.Duration.seconds(0), default_ttl=cdk.Duration.days(1), max_ttl=IMMUTABLE_MAX_AGE,
            query_string_behavior=cloudfront.CacheQueryStringBehavior.allow_list("size"),
            header_behavior=cloudfront.CacheHeaderBehavior.none(),
            cookie_behavior=cloudfront.CacheCookieBehavior.none(),
            enable_accept_encoding_gzip=True, enable_accept_encoding_brotli=True)
        script = cloudfront.CachePolicy(
            self, "WidgetScriptCache", comment="widget.js: the app's max-age, then revalidated by ETag",
            min_ttl=cdk.Duration.seconds(0), default_ttl=cdk.Duration.seconds(0), max_ttl=WIDGET_SCRIPT_MAX_AGE,
            query_string_behavior=cloudfront.CacheQueryStringBehavior.none(),
            header_behavior=cloudfront.CacheHeaderBehavior.none(),
            cookie_behavior=cloudfront.CacheCookieBehavior.none(),
            enable_accept_encoding_gzip=True, enable_accept_encoding_brotli=True)
        public_reads = cloudfront.CachePolicy(
            self, "PublicReadsCache", comment="Public stats and widget data: the app's max-age, per origin",
            min_ttl=cdk.Duration.seconds(0), default_ttl=cdk.Duration.seconds(0), max_ttl=PUBLIC_READS_MAX_AGE,
            query_string_behavior=cloudfront.CacheQueryStringBehavior.allow_list(*PUBLIC_READ_QUERY),
            header_behavior=cloudfront.CacheHeaderBehavior.allow_list(*PUBLIC_READ_KEY_HEADERS),
            cookie_behavior=cloudfront.CacheCookieBehavior.none(),
            enable_accept_encoding_gzip=True, enable_accept_encoding_brotli=True)
        widget_calls = cloudfront.OriginRequestPolicy(
            self, "WidgetCalls", comment="The widget's own API calls, uncached: what the app reads of them",
            header_behavior=cloudfront.OriginRequestHeaderBehavior.allow_list(*WIDGET_CALL_HEADERS),
            query_string_behavior=cloudfront.OriginRequestQueryStringBehavior.all(),
            cookie_behavior=cloudfront.OriginRequestCookieBehavior.none())

        def cached(policy: cloudfront.ICachePolicy) -> cloudfront.BehaviorOptions:
            return cloudfront.BehaviorOptions(
                origin=origin, cache_policy=policy, compress=True,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS)

        certificate = (acm.Certificate.from_certificate_arn(self, "AssetsCertificate",
                                                            self.settings.assets_certificate_arn)
                       if self.settings.assets_certificate_arn else None)
        return cloudfront.Distribution(
            self, "Assets",
            comment=f"Relais {self.settings.stage}: QR images, widget.js, public reads (cached); widget calls",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origin, cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                origin_request_policy=widget_calls, allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS),
            additional_behaviors={
                "/r/*/qr.svg": cached(immutable),
                "/r/*/qr.png": cached(immutable),
                "/widget.js": cached(script),
                "/v1/campaigns/*/stats": cached(public_reads),
                "/v1/campaigns/*/widget": cached(public_reads),
            },
            domain_names=[self.settings.assets_domain_name] if self.settings.assets_domain_name else None,
            certificate=certificate,
            # The default *.cloudfront.net certificate has a fixed policy; ours gets TLS 1.2+.
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 if certificate else None,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
        )
