"""The layers of docs/architecture.md are a gate: ``make lint`` runs import-linter on them."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=tree, capture_output=True, text=True, timeout=120)


@pytest.fixture
def scratch(tmp_path):
    """A copy of the packages the contracts name, and their configuration."""
    for folder in ("chalicelib", "dev"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def test_the_tree_keeps_every_layer_contract():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Contracts: 2 kept, 0 broken." in result.stdout


@pytest.mark.parametrize(("module", "back_import"), [
    ("chalicelib/store/keys.py", "from chalicelib.web import http"),  # the store reaching up to the web
    ("chalicelib/core/ids.py", "from chalicelib.store import records"),  # the core reaching up to the store
    ("chalicelib/hotpath/tracking.py", "from chalicelib.domain import links"),  # the redirect reaching a service above
    ("dev/processes.py", "from dev import local_stack"),  # a cycle in dev/
])
def test_a_deliberate_back_import_breaks_the_lint_gate(scratch, module, back_import):
    path = scratch / module
    path.write_text(path.read_text() + f"\n\ndef _back_import() -> None:\n    {back_import}  # noqa\n")
    result = _lint_imports(scratch)
    assert result.returncode == 1, result.stdout[-3000:]
    assert "BROKEN" in result.stdout
