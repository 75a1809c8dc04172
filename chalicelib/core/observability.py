"""Powertools Logger and Metrics, created on first use.

Importing Powertools costs tens of milliseconds; a redirect that logs nothing and emits
no metric should not pay it on a cold start. ``logger`` and ``count`` therefore build
the real Powertools objects the first time something is logged or counted; request keys
set before that (``logger.append_keys``) are kept and handed over.
"""
from __future__ import annotations

import os
from typing import Any

from chalicelib.core import config

SERVICE = "relais"


class _LazyLogger:
    """Stands in for ``aws_lambda_powertools.Logger`` until a record is written."""

    def __init__(self) -> None:
        self._real: Any = None
        self._keys: dict[str, Any] = {}

    def append_keys(self, **keys: Any) -> None:
        if self._real is None:
            self._keys.update(keys)
        else:
            self._real.append_keys(**keys)

    def _logger(self) -> Any:
        if self._real is None:
            from aws_lambda_powertools import Logger

            os.environ.setdefault("POWERTOOLS_SERVICE_NAME", SERVICE)
            self._real = Logger(service=SERVICE)
            self._real.append_keys(**self._keys)
        return self._real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._logger(), name)


logger = _LazyLogger()
_metrics = None


def _get_metrics():
    global _metrics
    if _metrics is None:
        from aws_lambda_powertools import Metrics

        _metrics = Metrics(namespace=config.metrics_namespace(), service=SERVICE)
    return _metrics


def count(name: str, value: int = 1) -> None:
    """Add to a counter metric, flushed as EMF at the end of the invocation."""
    from aws_lambda_powertools.metrics import MetricUnit

    _get_metrics().add_metric(name=name, unit=MetricUnit.Count, value=value)


def flush_metrics() -> None:
    """Write buffered metrics as one EMF log line (Chalice has no Lambda decorator hook)."""
    if _metrics is None or not _metrics.metric_set:
        return
    try:
        _metrics.flush_metrics(raise_on_empty_metrics=False)
    except Exception:  # metrics must never break a response
        logger.exception("metrics flush failed")
