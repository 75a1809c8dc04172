"""The modules, files and make targets that prose names, judged against the tree as it is.

Prose is the README, ``docs/*.md``, and the docstrings and comments of the Python code
(``app.py``, ``chalicelib/``, ``dev/``, ``infra/``, ``harness/``, ``bench/``). A reference is:

- a path with a slash (``chalicelib/store/links.py``, ``tests/unit``, ``img/widget.png``)
  whose first folder is one of the repository's, of ``chalicelib/``'s (``store/links.py``)
  or of the referring file's folder. It must exist there. ``read/write`` is not a path: a
  name relative to ``chalicelib/`` counts only with a file extension or a closing slash;
- a file name alone (``app.py``, ``pyproject.toml``, ``privacy.md``): beside the referring
  file, at the root, or anywhere in the tree. ``.js``, ``.png``, ``.svg`` and ``.json`` names
  are left out: alone they are as often a route (``widget.js``, ``qr.png``) or a file the
  code writes (``demo-campaign.json``) as a file of the tree;
- a dotted module name starting with a top-level package (``chalicelib.store.links``,
  ``infra.stack``) or a package of ``chalicelib/`` (``store.links``, relative to it). Once a
  module is found, the next name must be defined in it (``store.links.create``: a function,
  a class, a constant or an import), and a name after a class must be defined in the class;
- ``make <target>``: a rule of the Makefile. English after "make" (``make sure``) is not one.

Links between the docs are checked too: a relative Markdown link reaches a file, and its
``#anchor`` a heading of that file (as GitHub names headings).

Folders that ``.gitignore`` lists (``.venv/``, ``.relais/``, ``node_modules/``…) are made by
the tools, not kept in the tree: paths into them are not judged.
"""
from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PYTHON_FOLDERS = ("chalicelib", "dev", "infra", "harness", "bench")
# chalicelib's packages as the code has named them: a name among these is judged even once
# its package is gone (``hotpath.signing`` must fail, not pass unnoticed, if hotpath/ moves).
KNOWN_SUBPACKAGES = frozenset({"aggregate", "core", "domain", "hotpath", "outbound", "read", "store", "web"})
BARE_EXTENSIONS = ("py", "md", "html", "mjs", "yaml", "yml", "toml", "txt", "sh", "ini", "cfg")
FILE_EXTENSIONS = (*BARE_EXTENSIONS, "js", "json", "png", "svg", "jsonl", "lock", "zip")
# Words that follow "make" in English, never a target's name.
NOT_TARGETS = frozenset({
    "a", "an", "the", "it", "its", "is", "in", "at", "no", "two", "one", "sure", "them", "that", "this", "these",
    "those", "up", "use", "do", "for", "of", "to", "on", "or", "and", "so", "any", "every", "each", "all", "more",
    "less", "sense", "room", "way", "their", "both",
})

_SLASH_PATH = re.compile(r"(?<![\w./$<{@:~#%=+-])(\.?[A-Za-z_][\w.-]*(?:/[\w.-]+)+/?)")
_BARE_FILE = re.compile(r"(?<![\w./$<{@:~#%=+-])([A-Za-z_][\w-]*(?:\.[\w-]+)*\.(?:"
                        + "|".join(BARE_EXTENSIONS) + r"))(?![\w(/-])")
_MAKE = re.compile(r"(?<![\w-])make ([a-z][\w-]*)")
_TARGET_RULE = re.compile(r"^([A-Za-z0-9_.-]+(?: +[A-Za-z0-9_.-]+)*) *:(?!=)", re.MULTILINE)


@dataclass(frozen=True)
class Reference:
    kind: str  # "path", "file", "module" or "make target"
    name: str
    where: str  # "docs/deploy.md:12"

    def __str__(self) -> str:
        return f"{self.where}: {self.kind} {self.name}"


class Tree:
    """What exists in the work tree at ``root``, read when first asked."""

    def __init__(self, root: Path = REPO_ROOT) -> None:
        self.root = root

    @cached_property
    def generated(self) -> frozenset[str]:
        """The folders ``.gitignore`` lists (``.venv/``, ``infra/cdk.out/``), as root-relative paths."""
        lines = (self.root / ".gitignore").read_text().splitlines()
        return frozenset(line.strip().strip("/") for line in lines
                         if line.strip().endswith("/") and "*" not in line)

    def is_generated(self, relative: str) -> bool:
        return any(relative == folder or relative.startswith(folder + "/") for folder in self.generated)

    @cached_property
    def files(self) -> list[Path]:
        """Every file of the tree, generated folders and ``.git`` left out."""
        found: list[Path] = []
        pending = [self.root]
        while pending:
            folder = pending.pop()
            for entry in folder.iterdir():
                relative = entry.relative_to(self.root).as_posix()
                if entry.name in (".git", "__pycache__") or self.is_generated(relative):
                    continue
                if entry.is_dir():
                    pending.append(entry)
                else:
                    found.append(entry)
        return found

    @cached_property
    def file_names(self) -> frozenset[str]:
        return frozenset(path.name for path in self.files)

    @cached_property
    def packages(self) -> frozenset[str]:
        """The root's packages. Not ``app``: in prose, ``app.routes`` is the Chalice app's, not app.py's."""
        return frozenset(path.name for path in self.root.iterdir() if (path / "__init__.py").is_file())

    @cached_property
    def subpackages(self) -> frozenset[str]:
        """chalicelib's packages today, and the names its packages have had (``KNOWN_SUBPACKAGES``)."""
        present = {path.name for path in (self.root / "chalicelib").iterdir() if (path / "__init__.py").is_file()}
        return frozenset(present | KNOWN_SUBPACKAGES) - self.packages

    @cached_property
    def make_targets(self) -> frozenset[str]:
        rules = _TARGET_RULE.findall((self.root / "Makefile").read_text())
        return frozenset(target for rule in rules for target in rule.split() if not target.startswith("$"))

    @cached_property
    def _dotted(self) -> re.Pattern[str]:
        firsts = "|".join(sorted(self.packages | self.subpackages, key=len, reverse=True))
        return re.compile(r"(?<![\w.$/-])((?:" + firsts + r")(?:\.[A-Za-z_]\w*)+)")

    # --- finding references in a text -------------------------------------------------

    def references(self, text: str, source: str, first_line: int = 1) -> Iterator[Reference]:
        """Every reference in ``text``, which starts at ``first_line`` of ``source`` (root-relative)."""
        for number, line in enumerate(text.splitlines(), start=first_line):
            where = f"{source}:{number}"
            for match in _SLASH_PATH.finditer(line):
                path = match.group(1).rstrip(".")
                if "/" in path.rstrip("/"):
                    yield Reference("path", path, where)
            for match in _BARE_FILE.finditer(line):
                yield Reference("file", match.group(1), where)
            for match in self._dotted.finditer(line):
                name = match.group(1)
                if name.rsplit(".", 1)[1] not in FILE_EXTENSIONS:
                    yield Reference("module", name, where)
            for match in _MAKE.finditer(line):
                if match.group(1) not in NOT_TARGETS:
                    yield Reference("make target", match.group(1), where)

    # --- judging them --------------------------------------------------------------------

    def exists(self, reference: Reference) -> bool | None:
        """Whether the reference names something real; ``None`` when it is not judged (not a reference)."""
        folder = self.root / reference.where.rsplit(":", 1)[0]
        folder = folder if folder.is_dir() else folder.parent
        if reference.kind == "path":
            return self._path_exists(reference.name, folder)
        if reference.kind == "file":
            name = reference.name
            return ((folder / name).is_file() or (self.root / name).is_file()
                    or (self.root / "chalicelib" / name).is_file() or name in self.file_names)
        if reference.kind == "module":
            return self.module_exists(reference.name)
        return reference.name in self.make_targets

    def _path_exists(self, path: str, folder: Path) -> bool | None:
        first = path.split("/", 1)[0]
        bases = []
        if (self.root / first).exists() or first in ("chalicelib", "docs", "tests"):
            bases.append(self.root)
        if first in self.subpackages and (path.endswith("/") or "." in path.rsplit("/", 1)[1]):
            bases.append(self.root / "chalicelib")
        if folder != self.root and (folder / first).exists():
            bases.append(folder)
        bases = [base for base in bases if not self.is_generated((base / path).relative_to(self.root).as_posix())]
        if not bases:
            return None
        return any((base / path.rstrip("/")).exists() for base in bases)

    def module_exists(self, dotted: str) -> bool:
        parts = dotted.split(".")
        if parts[0] in self.packages:
            here = self.root
        else:
            here, parts = self.root / "chalicelib", parts
        for index, part in enumerate(parts):
            if (here / part / "__init__.py").is_file():
                here = here / part
                continue
            if (here / f"{part}.py").is_file():
                return _defines(here / f"{part}.py", parts[index + 1:])
            if here.is_dir() and index > 0:  # a name of the package itself (its __init__)
                return _defines(here / "__init__.py", parts[index:])
            return False
        return True

    def unresolved(self, references: Iterable[Reference]) -> list[Reference]:
        return [reference for reference in references if self.exists(reference) is False]


def _defines(module: Path, names: list[str]) -> bool:
    """Whether ``module`` defines ``names[0]`` (and, when it is a class, ``names[1]`` in it)."""
    if not names:
        return True
    body = ast.parse(module.read_text(encoding="utf-8")).body
    found = _names(body)
    if names[0] not in found:
        return False
    node = found[names[0]]
    if len(names) > 1 and isinstance(node, ast.ClassDef):
        return names[1] in _names(node.body)
    return True


def _names(body: list[ast.stmt]) -> dict[str, ast.AST]:
    """The names a module or class body binds at its top level (``if`` and ``try`` branches included)."""
    found: dict[str, ast.AST] = {}
    for node in body:
        for name in _bound(node):
            found[name] = node
        if isinstance(node, ast.If | ast.Try):
            branches = [*node.body, *node.orelse]
            if isinstance(node, ast.Try):
                branches += [*node.finalbody, *(line for handler in node.handlers for line in handler.body)]
            found.update(_names(branches))
    return found


def _bound(node: ast.stmt) -> list[str]:
    """The names one statement binds: a definition, an assignment's targets, an import's aliases."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [name.id for target in node.targets for name in ast.walk(target) if isinstance(name, ast.Name)]
    if isinstance(node, ast.AnnAssign | ast.AugAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    if isinstance(node, ast.Import | ast.ImportFrom):
        return [(alias.asname or alias.name).split(".")[0] for alias in node.names]
    return []


# --- where prose is ------------------------------------------------------------------------

def documents(root: Path = REPO_ROOT) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def python_sources(root: Path = REPO_ROOT) -> list[Path]:
    tree = Tree(root)
    sources = [root / "app.py"]
    for folder in PYTHON_FOLDERS:
        sources += sorted(path for path in (root / folder).rglob("*.py")
                          if not tree.is_generated(path.relative_to(root).as_posix()))
    return sources


def python_prose(source: str) -> Iterator[tuple[int, str]]:
    """``(first line, text)`` of every comment and docstring (any string statement) of a module."""
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            yield token.start[0], token.string
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)):
            yield node.lineno, node.value.value


def all_references(tree: Tree) -> list[Reference]:
    found: list[Reference] = []
    for document in documents(tree.root):
        found += tree.references(document.read_text(encoding="utf-8"), document.relative_to(tree.root).as_posix())
    for path in python_sources(tree.root):
        relative = path.relative_to(tree.root).as_posix()
        for line, text in python_prose(path.read_text(encoding="utf-8")):
            found += tree.references(text, relative, line)
    return found


# --- links between the docs ----------------------------------------------------------------

_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives a document's headings: lower case, punctuation dropped, spaces to
    hyphens, a repeated one numbered (``-1``, ``-2``)."""
    found: set[str] = set()
    for heading in re.findall(r"^#{1,6} +(.+?) *#*$", _FENCE.sub("", markdown), flags=re.MULTILINE):
        anchor = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        numbered, count = anchor, 0
        while numbered in found:
            count += 1
            numbered = f"{anchor}-{count}"
        found.add(numbered)
    return found


def broken_links(document: Path, root: Path = REPO_ROOT) -> list[str]:
    """``"<document>: <link>"`` for each relative link of ``document`` that reaches no file or no heading."""
    broken = []
    for target in _LINK.findall(_FENCE.sub("", document.read_text(encoding="utf-8"))):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        linked = (document.parent / path).resolve() if path else document
        if not linked.exists() or (anchor and linked.suffix == ".md"
                                   and anchor not in anchors(linked.read_text(encoding="utf-8"))):
            broken.append(f"{document.relative_to(root)}: {target}")
    return broken
