"""Running the app in this process with its DynamoDB traffic counted by the proxy."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from dev.dynamodb_proxy import DynamoDBProxy


@contextmanager
def counted(upstream: str) -> Iterator[DynamoDBProxy]:
    """Route the app's DynamoDB calls through a counting proxy for the duration (the store
    reads the endpoint at call time and keeps one client per endpoint)."""
    proxy = DynamoDBProxy(upstream)
    os.environ["RELAIS_DYNAMODB_ENDPOINT"] = proxy.url
    try:
        yield proxy
    finally:
        os.environ["RELAIS_DYNAMODB_ENDPOINT"] = upstream
        proxy.close()
