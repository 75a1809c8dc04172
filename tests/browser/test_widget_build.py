"""The shipped widget: the minified build of its readable source, within its weight budget."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from dev.processes import ROOT
from harness.widget import BUDGET, gzipped_size


def test_the_shipped_widget_is_the_build_of_its_source():
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "terser").is_dir():
        pytest.fail("node and the npm packages are needed: run `npm ci` at the repository root (make test does).",
                    pytrace=False)
    check = subprocess.run([node, "scripts/build-widget.mjs", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_the_widget_weighs_at_most_8_kb_gzipped():
    assert gzipped_size() <= BUDGET
