"""Local data that survives a restart: every table dumped to one JSON file, and loaded back."""
from __future__ import annotations

import json
import os
from pathlib import Path

from chalicelib.store import tables
from chalicelib.store.schema import ALL_MODELS


def _client():
    return tables.model_client()


def dump(path: Path) -> int:
    """Write every item of every table to ``path`` atomically; returns the item count."""
    client = _client()
    data: dict[str, list] = {}
    for base, model in ALL_MODELS.items():
        items: list = []
        kwargs = {"TableName": model.Meta.table_name}
        while True:
            page = client.scan(**kwargs)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        data[base] = items
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)
    return sum(len(items) for items in data.values())


def load(path: Path) -> int:
    """Put the items of a snapshot back into freshly created tables; returns the item count."""
    client = _client()
    data = json.loads(path.read_text())
    loaded = 0
    for base, items in data.items():
        name = ALL_MODELS[base].Meta.table_name
        for start in range(0, len(items), 25):
            requests = [{"PutRequest": {"Item": item}} for item in items[start:start + 25]]
            pending = {name: requests}
            while pending:
                pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            loaded += len(requests)
    return loaded
