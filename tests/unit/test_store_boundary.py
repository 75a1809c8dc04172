"""DynamoDB is spoken to in one place: ``chalicelib/store``. This test fails on any route or
service that imports a DynamoDB library, reaches into the store's internals, calls a
DynamoDB operation, unpacks an attribute value (``["S"]``, ``{"N": …}``) or writes a key
shape (``"ref#…"``) itself."""
import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OUTSIDE_THE_STORE = sorted([ROOT / "app.py", *(p for p in (ROOT / "chalicelib").rglob("*.py")
                                              if "store" not in p.relative_to(ROOT / "chalicelib").parts)])
STORE_INTERNALS = ("chalicelib.store.clients", "chalicelib.store.codec", "chalicelib.store.keys",
                   "chalicelib.store.schema", "chalicelib.store.specs")
OPERATIONS = {"get_item", "put_item", "update_item", "delete_item", "query", "scan", "batch_get_item",
              "batch_write_item", "transact_write_items", "transact_get_items"}
TYPE_TAGS = {"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"}
KEY_SHAPE = re.compile(r"^(day|ref|depth|pl|pi|rf|rc|slot|u|[vcpsrledm])#")


def violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import | ast.ImportFrom):
            modules = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if isinstance(node, ast.ImportFrom) and node.module == "chalicelib.store":
                modules += [f"chalicelib.store.{alias.name}" for alias in node.names]
            for module in modules:
                if module.split(".")[0] == "pynamodb" or module.startswith("boto3.dynamodb") or \
                        module == "botocore.session" or module in STORE_INTERNALS:
                    found.append(f"{where} imports {module}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in OPERATIONS:
            found.append(f"{where} calls .{node.func.attr}")
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and node.slice.value in TYPE_TAGS:
            found.append(f"{where} unpacks [{node.slice.value!r}]")
        elif isinstance(node, ast.Dict) and any(isinstance(k, ast.Constant) and k.value in TYPE_TAGS
                                                for k in node.keys):
            found.append(f"{where} builds a typed attribute value")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and KEY_SHAPE.match(node.value):
            found.append(f"{where} writes the key shape {node.value!r}")
    return found


@pytest.mark.parametrize("path", OUTSIDE_THE_STORE, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_outside_the_store_speaks_dynamodb(path):
    assert violations(path) == []


def test_the_rule_catches_each_kind_of_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text('from pynamodb.models import Model\nfrom chalicelib.store import keys\n'
                   'def f(client, item):\n'
                   '    client.put_item(Item={"sk": {"S": f"ref#{item}"}})\n'
                   '    return item["total"]["N"]\n')
    ROOT_BAD = tmp_path
    kinds = sorted({v.split(" ", 1)[1].split(" ")[0] for v in violations_at(bad, ROOT_BAD)})
    assert kinds == ["builds", "calls", "imports", "unpacks", "writes"]


def violations_at(path: Path, root: Path) -> list[str]:
    global ROOT
    saved, ROOT = ROOT, root
    try:
        return violations(path)
    finally:
        ROOT = saved
