"""Powertools Logger and Metrics, configured once; every module logs through these."""
from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from chalicelib import config

os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "relais")

logger = Logger(service="relais")
metrics = Metrics(namespace=config.metrics_namespace(), service="relais")


def count(name: str, value: int = 1) -> None:
    """Add to a counter metric, flushed as EMF at the end of the invocation."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def flush_metrics() -> None:
    """Write buffered metrics as one EMF log line (Chalice has no Lambda decorator hook)."""
    if not metrics.metric_set:
        return
    try:
        metrics.flush_metrics(raise_on_empty_metrics=False)
    except Exception:  # metrics must never break a response
        logger.exception("metrics flush failed")
