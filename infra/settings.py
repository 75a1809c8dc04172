"""Per-stage settings of the stack, read from CDK context (``cdk.json`` or ``-c key=value``).

Context rather than CloudFormation parameters: every value here shapes resources or
IAM ARNs, and a value known at synth time lets the tests and ``cdk diff`` show the exact
policy that will be deployed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any, Protocol

STAGE_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
PARAMETER_PATTERN = re.compile(r"^(/[A-Za-z0-9_.-]+)+$")
LOG_RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)

LAMBDA_MEMORY_MB = (128, 10240)
ACM_ARN = re.compile(r"^arn:aws[a-z-]*:acm:(?P<region>[a-z0-9-]+):\d{12}:certificate/[A-Za-z0-9-]+$")
CLOUDFRONT_CERTIFICATE_REGION = "us-east-1"
"""CloudFront only takes certificates from ACM in us-east-1, whatever the stack's region."""
ACCOUNT_API_RATE_QUOTA = 10_000
ACCOUNT_API_BURST_QUOTA = 5_000
"""API Gateway's default throttle per account and region (requests per second, bucket size),
shared by every API of the account: a stage throttle above it changes nothing."""
NEW_TABLE_WARM_WRITES = 4_000
"""Write units per second a new on-demand table serves at once; warm throughput below it is refused."""
MAIL_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@(?P<domain>[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+)$")
"""The sender's address: plain ASCII, a domain with a dot (it is an SES identity, and an IAM condition)."""
REGION_PATTERN = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


class SettingsError(ValueError):
    """A context value that would synthesize a broken or unsafe stack."""


class ContextReader(Protocol):
    def try_get_context(self, key: str) -> Any: ...


@dataclass(frozen=True)
class StageSettings:
    """One deployed stage. Field names are the context keys (camelCase in ``cdk.json``)."""

    stage: str = "prod"
    admin_token_param: str = ""
    secret_param: str = ""
    origin_secret_param: str = ""
    throttle_rate_limit: int = ACCOUNT_API_RATE_QUOTA
    throttle_burst_limit: int = ACCOUNT_API_BURST_QUOTA
    log_retention_days: int = 30
    api_memory_mb: int = 512
    aggregator_memory_mb: int = 256
    fallback_memory_mb: int = 256
    dispatcher_memory_mb: int = 256
    mailer_memory_mb: int = 256
    importer_memory_mb: int = 2048
    """The importer parses a whole export, up to 100 MB (an upload's limit), at the start of
    each invocation: a 100 MB file of the generic columns (1.4 million rows) peaks at 1.33 GB
    (measured), over 1,024 MB. At 2,048 MB it has a little more than one vCPU for that parse."""
    mail_from: str | None = None
    mail_identity: str | None = None
    mail_region: str | None = None
    domain_name: str | None = None
    certificate_arn: str | None = None
    assets_domain_name: str | None = None
    assets_certificate_arn: str | None = None
    warm_writes_per_second: int = 0
    public_url: str | None = None
    alarm_email: str | None = None
    ssm_kms_key_arn: str | None = None
    secrets_version: str = "1"

    def __post_init__(self) -> None:
        if not STAGE_PATTERN.match(self.stage):
            raise SettingsError(f"stage {self.stage!r} must match {STAGE_PATTERN.pattern}")
        if not self.admin_token_param:
            object.__setattr__(self, "admin_token_param", f"/relais/{self.stage}/admin-token")
        if not self.secret_param:
            object.__setattr__(self, "secret_param", f"/relais/{self.stage}/secret")
        if not self.origin_secret_param:
            object.__setattr__(self, "origin_secret_param", f"/relais/{self.stage}/origin-secret")
        for name in (self.admin_token_param, self.secret_param, self.origin_secret_param):
            if not PARAMETER_PATTERN.match(name):
                raise SettingsError(f"SSM parameter name {name!r} must be a full path like /relais/prod/secret")
        self._check_capacity()
        self._check_domains()
        self._check_mail()
        if self.public_url and not self.public_url.startswith("https://"):
            raise SettingsError("publicUrl must be an https:// URL")

    def _check_capacity(self) -> None:
        """Throttles, function memory and log retention: values AWS would refuse or that make no sense."""
        if self.throttle_rate_limit <= 0 or self.throttle_burst_limit <= 0:
            raise SettingsError("throttle limits must be positive")
        low, high = LAMBDA_MEMORY_MB
        for memory in (self.api_memory_mb, self.aggregator_memory_mb, self.fallback_memory_mb,
                       self.dispatcher_memory_mb, self.mailer_memory_mb, self.importer_memory_mb):
            if not low <= memory <= high:
                raise SettingsError(f"function memory {memory} MB must be within {low}–{high} MB")
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            raise SettingsError(f"logRetentionDays must be one of {sorted(LOG_RETENTION_DAYS)}")
        if self.warm_writes_per_second and self.warm_writes_per_second < NEW_TABLE_WARM_WRITES:
            raise SettingsError(f"warmWritesPerSecond is 0 (DynamoDB's own {NEW_TABLE_WARM_WRITES}) "
                                f"or at least {NEW_TABLE_WARM_WRITES}")

    def _check_domains(self) -> None:
        """Each host name comes with its certificate; the assets one must be CloudFront's (us-east-1).

        The API's certificate must be in the stack's own region (a regional HTTP API domain):
        the stack checks that, as only it knows the region.
        """
        for name, arn, key in ((self.domain_name, self.certificate_arn, "domainName and certificateArn"),
                               (self.assets_domain_name, self.assets_certificate_arn,
                                "assetsDomainName and assetsCertificateArn")):
            if bool(name) != bool(arn):
                raise SettingsError(f"{key} go together")
            if arn and not ACM_ARN.match(arn):
                raise SettingsError(f"{arn!r} is not an ACM certificate ARN")
        assets = ACM_ARN.match(self.assets_certificate_arn or "")
        if assets and assets["region"] != CLOUDFRONT_CERTIFICATE_REGION:
            raise SettingsError(f"assetsCertificateArn must be in {CLOUDFRONT_CERTIFICATE_REGION} (CloudFront's rule)")
        if self.assets_domain_name and self.assets_domain_name == self.domain_name:
            raise SettingsError("the assets host and the API host are two names: short links must not pay "
                                "for CloudFront (docs/deploy.md, 'The front')")

    def _check_mail(self) -> None:
        """The sender (``mailFrom``) turns e-mail on; its SES identity is its domain (the
        default) or the address itself; ``mailRegion`` is where SES production access was
        granted, checked against the stack's region by the stack."""
        if not self.mail_from:
            if self.mail_identity or self.mail_region:
                raise SettingsError("mailIdentity and mailRegion need mailFrom (the sender's address)")
            return
        address = MAIL_ADDRESS.match(self.mail_from)
        if not address:
            raise SettingsError(f"mailFrom {self.mail_from!r} is not a plain e-mail address")
        if not self.mail_identity:
            object.__setattr__(self, "mail_identity", address["domain"].lower())
        if self.mail_identity not in (self.mail_from, address["domain"].lower()):
            raise SettingsError(f"mailIdentity must be mailFrom's domain ({address['domain'].lower()}) "
                                "or mailFrom itself: SES sends only from a verified identity")
        if self.mail_region and not REGION_PATTERN.match(self.mail_region):
            raise SettingsError(f"mailRegion {self.mail_region!r} is not an AWS region name")

    @property
    def sends_mail(self) -> bool:
        """Whether the stage e-mails fans (SES identity, configuration set, queue URL to senders)."""
        return bool(self.mail_from)

    def certificate_region(self) -> str | None:
        """The region of the API's certificate (``None`` without a custom domain)."""
        match = ACM_ARN.match(self.certificate_arn or "")
        return match["region"] if match else None

    @property
    def table_prefix(self) -> str:
        """Same default as ``chalicelib.core.config.table_name``, so operators find tables by stage."""
        return f"relais-{self.stage}-"

    @property
    def effective_public_url(self) -> str | None:
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"https://{self.domain_name}" if self.domain_name else None

    @property
    def assets_url(self) -> str | None:
        """Base URL of the cached host (QR images, widget.js, public reads), when it has a name of its own."""
        return f"https://{self.assets_domain_name}" if self.assets_domain_name else None

    @classmethod
    def from_context(cls, node: ContextReader) -> StageSettings:
        values: dict[str, Any] = {}
        for item in fields(cls):
            if not item.init:
                continue
            value = node.try_get_context(_camel(item.name))
            if value is None or value == "":
                continue
            values[item.name] = int(value) if isinstance(item.default, int) else str(value)
        return cls(**values)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)
