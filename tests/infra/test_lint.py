"""The synthesized template passes cfn-lint (including its SAM transform of the Chalice part)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

IGNORED_RULES: dict[str, str] = {}
"""Rule id → why it does not apply. Empty: the template has no errors and no warnings."""


def _cfn_lint(template: Path) -> list[dict]:
    executable = Path(sys.executable).parent / "cfn-lint"
    command = [str(executable), "--format", "json", "--regions", "us-east-1", "eu-west-1"]
    for rule in IGNORED_RULES:
        command += ["--ignore-checks", rule]
    result = subprocess.run([*command, "--", str(template)], capture_output=True, text=True, timeout=120)
    assert result.returncode in (0, 2, 4, 6, 8, 10, 12, 14), result.stderr
    return json.loads(result.stdout or "[]")


@pytest.mark.parametrize("variant", ["synth", "synth_with_options"])
def test_synthesized_template_has_no_cfn_lint_errors_or_warnings(variant, request):
    synth = request.getfixturevalue(variant)
    findings = [f for f in _cfn_lint(synth.template_path) if f["Level"] in ("Error", "Warning")]
    assert findings == [], "\n".join(
        f"{f['Rule']['Id']} {f['Level']}: {f['Message']} ({f['Location']['Path']})" for f in findings)
