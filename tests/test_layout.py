"""Who may import whom among the tests, the benchmarks and their shared support (harness/).

bench/ and tests/ never import each other; a test never imports another test module or a
conftest.py (pytest loads those itself), nor another tier's modules: what is shared lives
in harness/, which imports neither.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> list[str]:
    """Every module ``path`` imports, at any depth (function-level imports included)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return found


def _sources(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def _violations(folder: str, forbidden) -> list[str]:
    return [f"{path.relative_to(ROOT)} imports {name}"
            for path in _sources(folder) for name in _imports(path) if forbidden(path, name)]


def _top(name: str) -> str:
    return name.split(".", 1)[0]


def test_the_folders_checked_here_exist_and_hold_modules():
    for folder in ("tests", "bench", "harness"):
        assert _sources(folder), folder


@pytest.mark.parametrize("folder", ["bench", "harness"])
def test_benchmarks_and_the_harness_never_import_the_tests(folder):
    assert _violations(folder, lambda path, name: _top(name) == "tests") == []


@pytest.mark.parametrize("folder", ["tests", "harness"])
def test_tests_and_the_harness_never_import_the_benchmarks(folder):
    assert _violations(folder, lambda path, name: _top(name) == "bench") == []


def test_no_test_imports_a_test_module_or_a_conftest():
    def forbidden(path: Path, name: str) -> bool:
        last = name.rsplit(".", 1)[-1]
        return _top(name) == "tests" and (last.startswith("test_") or last == "conftest")

    assert _violations("tests", forbidden) == []


def test_a_tier_imports_only_its_own_support_modules():
    def forbidden(path: Path, name: str) -> bool:
        parts = name.split(".")
        tier = path.relative_to(ROOT / "tests").parts[0]
        return parts[0] == "tests" and len(parts) > 1 and parts[1] != tier

    assert _violations("tests", forbidden) == []
