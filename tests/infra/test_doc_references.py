"""What the docs and the code's comments name exists: modules, files, make targets, and the
headings that links between the docs point at (the rules: tests/infra/doc_references.py)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.infra.doc_references import REPO_ROOT, Reference, Tree, all_references, broken_links, documents

INVENTED = """\
The store's `chalicelib/store/links_table.py` writes, `store.links_table.create` is the call,
and `make test` runs it all. The same text, invented: `chalicelib.store.ledger` keeps a ledger,
plain store/ledger.py holds it, its twin is `store.links_table.create_twice`, and
`make frobnicate` rebuilds it.
"""


def _judged(tree: Tree, text: str, source: str = "docs/invented.md") -> dict[str, bool | None]:
    return {reference.name: tree.exists(reference) for reference in tree.references(text, source)}


@pytest.fixture(scope="module")
def tree() -> Tree:
    return Tree(REPO_ROOT)


@pytest.fixture(scope="module")
def references(tree) -> list[Reference]:
    return all_references(tree)


def test_every_module_file_and_make_target_named_in_the_docs_and_comments_exists(tree, references):
    unresolved = [str(reference) for reference in tree.unresolved(references)]
    assert unresolved == [], "named but missing:\n" + "\n".join(unresolved)


def test_every_relative_link_of_the_docs_reaches_a_file_and_a_heading_of_it():
    assert [link for document in documents() for link in broken_links(document)] == []


def test_the_checker_finds_an_invented_module_file_function_and_make_target_among_real_ones(tree, tmp_path):
    (tmp_path / "chalicelib" / "store").mkdir(parents=True)
    (tmp_path / "chalicelib" / "__init__.py").touch()
    (tmp_path / "chalicelib" / "store" / "__init__.py").touch()
    (tmp_path / "chalicelib" / "store" / "links_table.py").write_text("def create():\n    pass\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / ".gitignore").write_text(".venv/\n")
    (tmp_path / "Makefile").write_text(".PHONY: test\ntest: lint\n\tpytest\n")
    assert _judged(Tree(tmp_path), INVENTED) == {
        "chalicelib/store/links_table.py": True, "store.links_table.create": True, "test": True,
        "chalicelib.store.ledger": False, "store/ledger.py": False, "store.links_table.create_twice": False,
        "frobnicate": False,
    }


def test_paths_relative_to_chalicelib_or_the_document_resolve_and_tools_own_folders_are_not_judged(tree):
    judged = _judged(tree, "`widget/dashboard.html`, `tests/unit/test_codec.py`, `../docs/img/widget.png`, "
                           "img/widget.png, `.venv/bin/python`, `store/codec.py`, `.chalice/config.json`")
    assert judged == {"widget/dashboard.html": True, "tests/unit/test_codec.py": True, "img/widget.png": True,
                      ".venv/bin/python": None, "store/codec.py": True, ".chalice/config.json": True}


def test_english_is_not_taken_for_a_path_a_module_or_a_target(tree):
    text = ("Make sure reads and writes stay read/write: make it so, make the web. Store it in "
            "text/csv, as curl/8.5 does, and `app.routes` lists the Chalice app's routes.")
    assert {reference.name: tree.exists(reference) for reference in tree.references(text, "README.md")
            if tree.exists(reference) is not None} == {}


def test_a_docstring_names_a_function_its_module_lacks(tree, tmp_path):
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "__init__.py").touch()
    (tmp_path / "infra" / "stack.py").write_text('"""Tables from :mod:`infra.schema`, built by '
                                                 '``infra.stack.build``."""\n\n\ndef build():\n    pass\n')
    (tmp_path / "chalicelib").mkdir()
    (tmp_path / ".gitignore").write_text("")
    (tmp_path / "Makefile").write_text("")
    (tmp_path / "README.md").write_text("")
    (tmp_path / "app.py").write_text("")
    checked = Tree(tmp_path)
    assert [(reference.name, reference.where) for reference in checked.unresolved(all_references(checked))] == [
        ("infra.schema", "infra/stack.py:1")]


def test_the_docs_checked_are_the_readme_and_every_page_of_docs():
    names = [path.relative_to(REPO_ROOT).as_posix() for path in documents()]
    assert names == ["README.md", *sorted(f"docs/{path.name}" for path in Path(REPO_ROOT, "docs").glob("*.md"))]
