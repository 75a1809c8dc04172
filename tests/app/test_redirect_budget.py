"""The redirect's import budget: the modules a cold redirect may load, listed.

A cold start pays for every module imported before the first redirect is answered, so
``app.py`` imports only the hot path and every other service inside its route. This test
serves one redirect and one counted click in a fresh interpreter (moto in-process) and
compares the Relais modules it loaded with the list below: a module added to the path
fails it, and so does one that left (update the list, and ``make bench``'s cold-start line).
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

REDIRECT_BUDGET = {
    "chalicelib", "chalicelib.core", "chalicelib.core.channels", "chalicelib.core.clock",
    "chalicelib.core.config", "chalicelib.core.derived_keys", "chalicelib.core.errors",
    "chalicelib.core.ids", "chalicelib.core.observability",
    "chalicelib.hotpath", "chalicelib.hotpath.lookups", "chalicelib.hotpath.signing",
    "chalicelib.hotpath.platform_tags", "chalicelib.hotpath.tracking",
    "chalicelib.store", "chalicelib.store.campaigns_table", "chalicelib.store.clients",
    "chalicelib.store.codec", "chalicelib.store.declared", "chalicelib.store.events_table", "chalicelib.store.keys",
    "chalicelib.store.links_table", "chalicelib.store.records", "chalicelib.store.salts",
    "chalicelib.web", "chalicelib.web.http",
}
"""What ``import app`` and a first redirect load; nothing of ``domain``, ``read``,
``aggregate`` or ``outbound``, and no PynamoDB."""

TABLE_SETUP = {"chalicelib.store.tables", "chalicelib.store.schema", "chalicelib.store.specs"}
"""Loaded by the test itself to create moto's tables before the app is imported."""

SCRIPT = """
import json, os, sys
os.environ.update(AWS_ACCESS_KEY_ID="t", AWS_SECRET_ACCESS_KEY="t", AWS_DEFAULT_REGION="us-east-1",
                  RELAIS_STAGE="test", RELAIS_SECRET="budget-test-secret")
from datetime import UTC, datetime
from moto import mock_aws
with mock_aws():
    from chalicelib.store import tables
    tables.create_tables()
    from chalicelib.store import campaigns_table, links_table
    from chalicelib.store.records import Campaign, Link
    now = datetime.now(UTC)
    campaigns_table.insert(Campaign(id="cmpbudget", name="Budget", target_url="https://example.org/",
                                    key_hash="0" * 64, created_at=now, updated_at=now))
    links_table.create(Link(code="budgetfan", campaign_id="cmpbudget", created_at=now), "token", None)
    before = {name for name in sys.modules if name.startswith("chalicelib")}
    import app
    from chalice.test import Client
    with Client(app.app) as client:
        answer = client.http.get("/r/budgetfan?c=whatsapp", headers={
            "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"})
    assert answer.status_code == 302, answer.status_code
    loaded = {name for name in sys.modules if name.startswith("chalicelib")}
    print(json.dumps([sorted(before), sorted(loaded)]))
"""


def _serve_one_redirect() -> tuple[set[str], set[str]]:
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    before, loaded = json.loads(out.stdout.strip().rsplit("\n", 1)[-1])
    return set(before), set(loaded)


def test_a_cold_redirect_loads_exactly_the_modules_of_its_budget():
    before, loaded = _serve_one_redirect()
    assert before <= REDIRECT_BUDGET | TABLE_SETUP
    assert loaded - TABLE_SETUP == REDIRECT_BUDGET
