"""The botocore clients the store talks through, and the physical table names.

One botocore session builds every client (loading DynamoDB's service description once).
Two budgets: the request path (a redirect's or beacon's one write, and its cache misses)
gets short timeouts and one quick retry, so that a throttled or stalled DynamoDB costs a
fan well under a second (the fact then goes to the fallback, see
:mod:`chalicelib.store.fallback`); everything else gets a patient client. Region,
endpoint and table names are read from config at call time, so one process can serve
tests, ``chalice local`` and Lambda.
"""
from __future__ import annotations

from typing import Any

import botocore.config
import botocore.session

from chalicelib.core import config

REQUEST = botocore.config.Config(connect_timeout=0.25, read_timeout=0.3, parameter_validation=False,
                                 retries={"total_max_attempts": 2, "mode": "legacy"})  # DynamoDB legacy: 50 ms base
PATIENT = botocore.config.Config(connect_timeout=2, read_timeout=10, parameter_validation=False,
                                 retries={"total_max_attempts": 4, "mode": "standard"})

_session: botocore.session.Session | None = None
_clients: dict[tuple, Any] = {}


def _client(service: str, budget: botocore.config.Config, endpoint: str | None) -> Any:
    global _session
    key = (service, budget, config.region(), endpoint)
    client = _clients.get(key)
    if client is None:
        _session = _session or botocore.session.get_session()
        client = _session.create_client(service, region_name=config.region(), endpoint_url=endpoint, config=budget)
        _clients[key] = client
    return client


def patient() -> Any:
    """The client of everything but the request path's one write."""
    return _client("dynamodb", PATIENT, config.dynamodb_endpoint())


def request() -> Any:
    """The request path's client: its cached-lookup misses and its one write."""
    return _client("dynamodb", REQUEST, config.dynamodb_endpoint())


def sqs(budget: botocore.config.Config) -> Any:
    """An SQS client (the fallback queue), built only when a fact needs it."""
    return _client("sqs", budget, None)


def table(base: str) -> str:
    """The physical name of a logical table (``campaigns``, ``links``, ``events``, ``rollups``)."""
    return config.table_name(base)


def error_code(exc: BaseException) -> str | None:
    """DynamoDB's error code of a failed call (``ConditionalCheckFailedException``…), else None."""
    response = getattr(exc, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None


SES_BUDGET = botocore.config.Config(connect_timeout=2, read_timeout=10,
                                    retries={"total_max_attempts": 3, "mode": "standard"})


def sesv2() -> Any:
    """The Amazon SES (v2 API) client the mailer sends through, built only when it sends."""
    return _client("sesv2", SES_BUDGET, None)


S3_BUDGET = botocore.config.Config(connect_timeout=2, read_timeout=30, signature_version="s3v4",
                                   retries={"total_max_attempts": 4, "mode": "standard"})
LOCAL_S3_BUDGET = S3_BUDGET.merge(botocore.config.Config(s3={"addressing_style": "path"}))
"""The local S3 server answers on 127.0.0.1, so the bucket goes in the path; AWS gets botocore's default."""


def s3() -> Any:
    """The S3 client of the import bucket (the local S3 server under ``make dev``)."""
    endpoint = config.s3_endpoint()
    return _client("s3", LOCAL_S3_BUDGET if endpoint else S3_BUDGET, endpoint)
