"""Who may import whom among the tests, the benchmarks and their shared support (harness/).

bench/ and tests/ never import each other; a test never imports another test module or a
conftest.py (pytest loads those itself), nor another tier's modules: what is shared lives
in harness/, which imports neither.

The tiers say what they are: a module of tests/unit tests pure logic (no moto, no app, no AWS
client, none of the app tier's fixtures); the app in-process on moto is tests/app, the app
over HTTP tests/integration. moto's internals are patched in harness/moto_patches.py only.
"""
from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@functools.cache
def _tree(path: Path) -> ast.Module:
    """The parsed module at ``path`` (parsed once per test process, whatever the tests asking)."""
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imports(path: Path) -> list[str]:
    """Every module ``path`` imports, at any depth (function-level imports included)."""
    found = []
    for node in ast.walk(_tree(path)):
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


# The tiers say what they are --------------------------------------------------------------

UNIT_FORBIDDEN_MODULES = ("moto", "chalice.test", "boto3", "botocore", "app", "harness.inprocess",
                          "harness.moto_patches", "harness.stack_process", "dev.stream_poller")
"""What a unit test may not import: moto, the app (``app.py``, chalice's test client, the
in-process harness, the stream poller), a DynamoDB or AWS client, the local stack."""
APP_FIXTURES = frozenset({"api", "dynamodb", "poller", "receiver"})
"""The app tier's fixtures (``tests/app/conftest.py``): moto's DynamoDB, the app, its stream,
a webhook receiver on 127.0.0.1."""


def _within(name: str, module: str) -> bool:
    return name == module or name.startswith(module + ".")


def _is_fixture(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any("fixture" in ast.unparse(decorator) for decorator in node.decorator_list)


def _asks_for_the_app(node: ast.AST) -> list[str]:
    """What a test or a fixture asks pytest for of the app tier (its arguments, ``usefixtures``,
    ``getfixturevalue``), and an app fixture defined here. Other functions' arguments are theirs."""
    is_function = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    if is_function and (node.name.startswith("test_") or _is_fixture(node)):
        arguments = {a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs}
        found = [f"{node.name} asks for {name}" for name in sorted(arguments & APP_FIXTURES)]
        return found + ([f"defines the fixture {node.name}"] if _is_fixture(node) and node.name in APP_FIXTURES else [])
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
            node.func.attr in ("usefixtures", "getfixturevalue"):
        return [f"names the fixture {arg.value!r}" for arg in node.args
                if isinstance(arg, ast.Constant) and arg.value in APP_FIXTURES]
    return []


def _unit_violations(path: Path) -> list[str]:
    """Why the module at ``path`` is no unit test: what it imports or asks for of the app tier."""
    found = [f"imports {name}" for name in _imports(path)
             if any(_within(name, module) for module in UNIT_FORBIDDEN_MODULES)]
    return found + [why for node in ast.walk(_tree(path)) for why in _asks_for_the_app(node)]


def test_a_unit_test_uses_neither_moto_nor_the_app_nor_an_aws_client():
    """tests/unit is pure logic; the app on moto is tests/app, the app over HTTP tests/integration."""
    found = [f"{path.relative_to(ROOT)} {why}" for path in _sources("tests/unit") for why in _unit_violations(path)]
    assert found == []


def test_the_unit_rule_catches_each_way_of_reaching_the_app(tmp_path):
    bad = tmp_path / "test_bad.py"
    bad.write_text("import boto3\nfrom moto import mock_aws\nfrom chalice.test import Client\nimport app\n"
                   "from harness.inprocess import rollup\n"
                   "import pytest\n\n"
                   "@pytest.fixture\ndef dynamodb():\n    yield\n\n"
                   "def test_x(api):\n    pass\n\n"
                   "def helper(api, poller):\n    pass\n\n"
                   "@pytest.mark.usefixtures('poller')\ndef test_y():\n    pass\n")
    assert sorted(_unit_violations(bad)) == [
        "defines the fixture dynamodb", "imports app", "imports boto3", "imports chalice.test",
        "imports chalice.test.Client", "imports harness.inprocess", "imports harness.inprocess.rollup",
        "imports moto", "imports moto.mock_aws", "names the fixture 'poller'", "test_x asks for api"]


# moto's internals are patched in one place ---------------------------------------------------

MOTO_PATCHES = ROOT / "harness" / "moto_patches.py"


def _reaches_inside_moto(path: Path) -> list[str]:
    """The imports of ``path`` from inside moto (``moto.core``, ...): only ``moto``'s public
    ``mock_aws`` and ``python -m moto.server`` are used elsewhere."""
    found = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.startswith("moto.")]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("moto."):
            found.append(node.module)
    return found


def test_moto_internals_are_imported_only_where_they_are_patched():
    found = [f"{path.relative_to(ROOT)} imports {name}" for folder in ("tests", "harness", "bench")
             for path in _sources(folder) if path != MOTO_PATCHES for name in _reaches_inside_moto(path)]
    assert found == []
    assert _reaches_inside_moto(MOTO_PATCHES) == ["moto.core"]


def test_the_moto_that_is_patched_is_the_version_the_patch_was_checked_against():
    checked = re.search(r'^CHECKED_AGAINST = "([^"]+)"$', MOTO_PATCHES.read_text(encoding="utf-8"), re.M)
    pinned = re.search(r"^moto\[[a-z,]+\]==(\S+)", (ROOT / "requirements-dev.txt").read_text(encoding="utf-8"), re.M)
    assert checked and pinned and checked.group(1) == pinned.group(1)


# Raw items only where the wire format is what is tested ---------------------------------------

TYPE_TAGS = frozenset({"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"})
WIRE_FORMAT_TESTS = {
    "tests/unit/test_codec.py": "the codec itself: items to and from values",
    "tests/unit/test_recount.py": "store.events_table.same_image compares two raw stream images",
    "tests/unit/test_journal.py": "the local journal stores and streams DynamoDB JSON",
    "tests/integration/test_journal_proxy.py": "the journaling proxy speaks DynamoDB's HTTP API",
    "tests/integration/test_journal_scrub.py": "an erasure's scrub rewrites journaled and set-aside images",
    "tests/app/test_aggregate.py": "the aggregator skips malformed stream records (no kind, impossible numbers)",
    "tests/integration/test_local_dynamodb_atomic.py": "the local DynamoDB server itself, before any store code",
}
"""Modules that spell DynamoDB attribute values (``{"S": …}``, ``item["N"]``) because the wire
format is what they test. Every other test reads through the store's typed records or the
HTTP surface, and looks past the store only through harness/raw_items.py."""


def _is_attribute_value(node: ast.AST) -> bool:
    """``item["N"]`` (unpacking one) or ``{"S": ...}`` (spelling one)."""
    if isinstance(node, ast.Subscript):
        return isinstance(node.slice, ast.Constant) and node.slice.value in TYPE_TAGS
    return isinstance(node, ast.Dict) and any(isinstance(k, ast.Constant) and k.value in TYPE_TAGS for k in node.keys)


def _attribute_values(path: Path) -> int:
    """How many DynamoDB attribute values ``path`` spells or unpacks itself."""
    tree = _tree(path)
    return sum(_is_attribute_value(node) for node in ast.walk(tree))


def test_only_the_tests_of_the_wire_format_spell_dynamodb_attribute_values():
    spelled = {str(path.relative_to(ROOT)) for folder in ("tests", "harness") for path in _sources(folder)
               if _attribute_values(path)}
    assert spelled - set(WIRE_FORMAT_TESTS) == set()


def test_each_wire_format_exception_still_spells_attribute_values():
    """An exception that no longer needs its attribute values leaves the list."""
    assert {name for name in WIRE_FORMAT_TESTS if not _attribute_values(ROOT / name)} == set()
