"""Every setting Relais reads, read at call time.

Nothing here is cached at import: ``chalice.test.Client`` and ``chalice local`` swap the
environment after the app module is imported, and tests point the same process at
different servers. Secrets that live in SSM Parameter Store in a deployed stage are
resolved once per container (see :func:`_ssm_parameter`).
"""
from __future__ import annotations

import functools
import os

TABLE_BASE_NAMES = ("campaigns", "links", "events", "rollups")


class ConfigError(RuntimeError):
    """A required setting is missing in a deployed stage."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def stage() -> str:
    """The deployment stage's name (the tables' default prefix); it never makes a process local."""
    return _env("RELAIS_STAGE", "local") or "local"


def is_local() -> bool:
    """Whether this process runs on a laptop (``make dev``, the test tiers): ``RELAIS_LOCAL=1``.

    Only this explicit flag makes a process local, never a stage's name: a deployed stage
    called ``local`` or ``test`` must not send webhooks to loopback addresses (the Lambda
    runtime API listens on 127.0.0.1) or fall back to development secrets. ``dev/local_stack.py``
    and the test tiers' environments set it; the CDK stack never does (a test holds it to that).
    """
    return _env("RELAIS_LOCAL") == "1"


def region() -> str:
    return _env("AWS_REGION") or _env("AWS_DEFAULT_REGION") or "us-east-1"


def dynamodb_endpoint() -> str | None:
    """The local DynamoDB server (moto) URL; ``None`` means the real AWS endpoint."""
    return _env("RELAIS_DYNAMODB_ENDPOINT")


def table_name(base: str) -> str:
    """Physical table name of a logical table (``campaigns``, ``links``, ``events``, ``rollups``).

    ``RELAIS_TABLE_<BASE>`` wins (the CDK stack sets these); otherwise
    ``RELAIS_TABLE_PREFIX`` + base, the prefix defaulting to ``relais-<stage>-``.
    """
    if base not in TABLE_BASE_NAMES:
        raise ValueError(f"unknown table {base!r}")
    explicit = _env(f"RELAIS_TABLE_{base.upper()}")
    if explicit:
        return explicit
    return f"{_env('RELAIS_TABLE_PREFIX', f'relais-{stage()}-')}{base}"


def _required_secret(name: str, local_default: str) -> str:
    """A secret from the environment, or from SSM when ``<NAME>_PARAM`` names a parameter.

    Locally a fixed development default keeps ``make dev`` and the tests zero-config;
    in a deployed stage a missing secret is an error at first use.
    """
    value = _env(name)
    if value:
        return value
    param = _env(f"{name}_PARAM")
    if param:
        return _ssm_parameter(param)
    if is_local():
        return local_default
    raise ConfigError(
        f"{name} (or {name}_PARAM naming an SSM SecureString parameter) must be set "
        f"in stage {stage()!r}"
    )


@functools.lru_cache(maxsize=8)
def _ssm_parameter(name: str) -> str:
    """Resolve an SSM SecureString once per container (Lambda keeps the process warm)."""
    import boto3  # only deployed stages reach this; keep boto3 off the cold path otherwise

    response = boto3.client("ssm", region_name=region()).get_parameter(Name=name, WithDecryption=True)
    return response["Parameter"]["Value"]


def admin_token() -> str | None:
    """The operator token that may create campaigns. ``None`` locally when unset: nobody may."""
    value = _env("RELAIS_ADMIN_TOKEN")
    if value:
        return value
    param = _env("RELAIS_ADMIN_TOKEN_PARAM")
    if param:
        return _ssm_parameter(param)
    if is_local():
        return None
    raise ConfigError(f"RELAIS_ADMIN_TOKEN (or RELAIS_ADMIN_TOKEN_PARAM) must be set in stage {stage()!r}")


def secret() -> bytes:
    """The server secret from which the visitor-hash salt and the `ref` signing key derive."""
    return _required_secret("RELAIS_SECRET", "relais-local-development-secret").encode()


def origin_secret() -> str | None:
    """What the cached host (CloudFront) sends in ``X-Relais-Origin`` with every request it
    forwards, so that its ``CloudFront-Viewer-Address`` can be believed. ``None`` (locally,
    unless set): no request's viewer address is."""
    value = _env("RELAIS_ORIGIN_SECRET")
    if value:
        return value
    param = _env("RELAIS_ORIGIN_SECRET_PARAM")
    return _ssm_parameter(param) if param else None


def public_url() -> str | None:
    """Base URL of short links (``https://go.example.org``); ``None``: use the request's host."""
    value = _env("RELAIS_PUBLIC_URL")
    return value.rstrip("/") if value else None


def assets_url() -> str | None:
    """Base URL of the cached host that serves QR images (the CDK stack sets it to its
    CloudFront distribution); ``None``: the short links' own base."""
    value = _env("RELAIS_ASSETS_URL")
    return value.rstrip("/") if value else None


def metrics_namespace() -> str:
    return _env("POWERTOOLS_METRICS_NAMESPACE", "Relais") or "Relais"


def event_ttl_days() -> int:
    """How long raw click/preview/share events are kept after they were counted."""
    return int(_env("RELAIS_EVENT_TTL_DAYS", "90") or "90")


def fallback_queue_url() -> str | None:
    """The SQS queue that takes a request-path fact DynamoDB did not take in time (AWS)."""
    return _env("RELAIS_FALLBACK_QUEUE_URL")


def fallback_dir() -> str | None:
    """The local spool directory playing that queue's part under ``make dev``."""
    return _env("RELAIS_FALLBACK_DIR")


def _number(name: str, default: float) -> float:
    value = _env(name)
    return float(value) if value else default


def webhook_queue_url() -> str | None:
    """The SQS queue of webhook deliveries to attempt (AWS); per-message delays are the backoff."""
    return _env("RELAIS_WEBHOOK_QUEUE_URL")


def webhook_spool_dir() -> str | None:
    """The local spool directory playing that queue's part under ``make dev``."""
    return _env("RELAIS_WEBHOOK_SPOOL")


def webhook_retry_base_seconds() -> float:
    """The first retry waits up to this long; each next one up to 4 times longer (jittered).

    10 s puts the first two retries within a minute of the first attempt; tests shrink it."""
    return _number("RELAIS_WEBHOOK_RETRY_BASE_SECONDS", 10.0)


def webhook_give_up_seconds() -> float:
    """No attempt starts later than this after the event: the delivery is then dead."""
    return _number("RELAIS_WEBHOOK_GIVE_UP_SECONDS", 24 * 3600.0)


def webhook_timeout_seconds() -> float:
    """One delivery's budget: connecting, sending and reading the answer."""
    return _number("RELAIS_WEBHOOK_TIMEOUT_SECONDS", 10.0)


def webhook_concurrency() -> int:
    """At most this many deliveries to one campaign's endpoint at a time."""
    return max(1, int(_number("RELAIS_WEBHOOK_CONCURRENCY", 4)))


def max_depth() -> int:
    """The deepest referral level counted: a fan recruited by a fan at this depth is counted
    at this depth too (the cascade's last level reads "this deep or deeper")."""
    return max(1, int(_env("RELAIS_MAX_DEPTH", "10") or "10"))


RATE_LIMITS = {"referrers": (20, 600), "shares": (60, 600), "landings": (120, 600)}
"""What one visitor may write to one campaign: ``action: (requests, per seconds)``."""


def rate_limits() -> dict[str, tuple[int, int]]:
    """``RATE_LIMITS``, each overridable in ``RELAIS_RATE_LIMITS`` (``shares=10/60,referrers=5/600``)."""
    limits = dict(RATE_LIMITS)
    for part in (_env("RELAIS_RATE_LIMITS", "") or "").split(","):
        action, _, rule = part.strip().partition("=")
        count, _, seconds = rule.partition("/")
        if action not in limits or not count.isdigit() or not seconds.isdigit() or int(seconds) < 1:
            if part.strip():
                raise ConfigError(f"RELAIS_RATE_LIMITS: {part.strip()!r} is not <action>=<requests>/<seconds>")
            continue
        limits[action] = (int(count), int(seconds))
    return limits


NETWORK_LIMIT_FACTOR = 5
"""An IPv6 /48 may make this many times one visitor's requests: a home or an office gets a
/48 or a /56 of /64s, so limiting /64s alone would hand one person 65,536 visitors."""


def network_limit_factor() -> int:
    """``NETWORK_LIMIT_FACTOR``, or ``RELAIS_NETWORK_LIMIT_FACTOR`` (a whole number, at least 1)."""
    value = _env("RELAIS_NETWORK_LIMIT_FACTOR", str(NETWORK_LIMIT_FACTOR)) or ""
    if not value.isdigit() or int(value) < 1:
        raise ConfigError(f"RELAIS_NETWORK_LIMIT_FACTOR: {value!r} is not a whole number of at least 1")
    return int(value)


FAN_CEILING = (60, 60)
"""New fans one campaign takes, whatever their addresses: ``(requests, per seconds)``."""


def fan_ceiling() -> tuple[int, int]:
    """``FAN_CEILING``, or ``RELAIS_FAN_CEILING`` (``<requests>/<seconds>``, e.g. ``120/60``)."""
    value = _env("RELAIS_FAN_CEILING", "") or ""
    if not value:
        return FAN_CEILING
    count, _, seconds = value.partition("/")
    if not count.isdigit() or not seconds.isdigit() or int(seconds) < 1:
        raise ConfigError(f"RELAIS_FAN_CEILING: {value!r} is not <requests>/<seconds>")
    return int(count), int(seconds)


def mail_queue_url() -> str | None:
    """The SQS queue of e-mails to send (AWS): the outbox the ``mailer`` Lambda drains."""
    return _env("RELAIS_MAIL_QUEUE_URL")


def mail_spool_dir() -> str | None:
    """The local spool directory playing the outbox's part under ``make dev``."""
    return _env("RELAIS_MAIL_SPOOL")


def smtp_server() -> tuple[str, int] | None:
    """``RELAIS_SMTP`` (``127.0.0.1:<port>``): the local SMTP server ``make dev`` sends through;
    ``None``: Amazon SES. Only a loopback host is accepted: no test or laptop mails the world."""
    value = _env("RELAIS_SMTP")
    if not value:
        return None
    host, _, port = value.rpartition(":")
    if host not in ("127.0.0.1", "localhost", "::1", "[::1]") or not port.isdigit():
        raise ConfigError(f"RELAIS_SMTP: {value!r} is not <loopback host>:<port>")
    return host.strip("[]"), int(port)


def mail_sender() -> str:
    """The address every e-mail is sent from (SES's verified identity); the creator's
    ``from_name`` is its display name and their ``reply_to`` its Reply-To."""
    return _env("RELAIS_MAIL_FROM", "relais@localhost.localdomain") or "relais@localhost.localdomain"


def ses_configuration_set() -> str | None:
    """The SES configuration set sends go through (its event destination reports bounces and
    complaints)."""
    return _env("RELAIS_SES_CONFIGURATION_SET")


def mail_retry_seconds() -> float:
    """A send that failed is retried after this long, then 4, 16… times longer (at most 6 tries)."""
    return _number("RELAIS_MAIL_RETRY_SECONDS", 30.0)


def import_bucket() -> str | None:
    """The S3 bucket platform exports are kept in while they are imported (a day at most)."""
    return _env("RELAIS_IMPORT_BUCKET")


def s3_endpoint() -> str | None:
    """``RELAIS_S3_ENDPOINT``: the local S3 server under ``make dev`` (moto's); unset on AWS."""
    return _env("RELAIS_S3_ENDPOINT")


def import_queue_url() -> str | None:
    """The SQS queue of import jobs (AWS): the ``importer`` Lambda consumes it."""
    return _env("RELAIS_IMPORT_QUEUE_URL")


def import_spool_dir() -> str | None:
    """The local spool directory playing the import queue's part under ``make dev``."""
    return _env("RELAIS_IMPORT_SPOOL")
