"""Every table of the configured DynamoDB dumped to one JSON file: a debugging and test aid.

It scans everything, so nothing runs it on its own: ``make dev`` persists through its
journal (:mod:`dev.journal`), whose cost grows with the changes, not with the data.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from chalicelib.core import config
from dev.local_dynamodb import LocalDynamoDB


def dump(path: Path) -> int:
    """Write every item of every table to ``path`` (mode 0600, atomically); returns the item count."""
    endpoint = config.dynamodb_endpoint()
    if not endpoint:
        raise RuntimeError("RELAIS_DYNAMODB_ENDPOINT must name the local DynamoDB server")
    db = LocalDynamoDB(endpoint, config.region())
    data: dict[str, list] = {}
    try:
        for base in config.TABLE_BASE_NAMES:
            items: list = []
            request: dict = {"TableName": config.table_name(base)}
            while True:
                page = db.checked("Scan", request)
                items.extend(page.get("Items", []))
                if "LastEvaluatedKey" not in page:
                    break
                request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            data[base] = items
    finally:
        db.close()
    temporary = Path(f"{path}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(data, out)
    os.replace(temporary, path)
    return sum(len(items) for items in data.values())
