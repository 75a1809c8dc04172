"""docs/runbook.md says what the stack does: every alarm has a row, every alarm that points
at the docs points at a section of the runbook, and the recount's operator policy grants
what the stack keeps for operators (and no function role gets)."""
from __future__ import annotations

import json
import re

from infra.stack import RECOUNT_OPERATOR_ACTIONS
from tests.infra.synthesis import REPO_ROOT

RUNBOOK = (REPO_ROOT / "docs" / "runbook.md").read_text()


def _section(title: str) -> str:
    start = RUNBOOK.index(f"\n## {title}\n")
    end = RUNBOOK.find("\n## ", start + 1)
    return RUNBOOK[start:end if end > 0 else None]


def test_every_alarm_of_the_stack_has_a_row_in_the_alarms_table(synth):
    rows = set(re.findall(r"^\| `(\w+)` \|", _section("Alarms"), flags=re.MULTILINE))
    assert set(synth.stack.alarms) <= rows


def test_every_alarm_description_that_points_at_the_docs_names_a_section_of_the_runbook(synth):
    headings = set(re.findall(r"^#+ (.+)$", RUNBOOK, flags=re.MULTILINE))
    pointers = [alarm["Properties"]["AlarmDescription"] for alarm in synth.of_type("AWS::CloudWatch::Alarm").values()
                if "docs/" in alarm["Properties"]["AlarmDescription"]]
    assert pointers
    for description in pointers:
        section = re.search(r"docs/runbook\.md, '([^']+)'", description)
        assert section is not None and section[1] in headings, description


def test_the_recount_operator_policy_grants_exactly_what_a_recount_does():
    (policy,) = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", _section("Permissions"), re.DOTALL)
                 if "Recount" in block]
    granted = {}
    for statement in policy["Statement"]:
        table = statement["Resource"].rpartition(":table/relais-<stage>-")[2]
        granted[table] = {action.removeprefix("dynamodb:") for action in statement["Action"]}
    assert granted == {table: set(actions) for table, actions in RECOUNT_OPERATOR_ACTIONS.items()}
