"""docs/deploy.md says what the stack does: every alarm has a row, and the recount's
operator policy grants what the stack keeps for operators (and no function role gets)."""
from __future__ import annotations

import json
import re

from infra.stack import RECOUNT_OPERATOR_ACTIONS
from tests.infra.synthesis import REPO_ROOT

DEPLOY_DOC = (REPO_ROOT / "docs" / "deploy.md").read_text()


def _section(title: str) -> str:
    start = DEPLOY_DOC.index(f"\n## {title}\n")
    end = DEPLOY_DOC.find("\n## ", start + 1)
    return DEPLOY_DOC[start:end if end > 0 else None]


def test_every_alarm_of_the_stack_has_a_row_in_the_alarms_table(synth):
    rows = set(re.findall(r"^\| `(\w+)` \|", _section("Alarms"), flags=re.MULTILINE))
    assert set(synth.stack.alarms) <= rows


def test_every_alarm_description_points_at_a_section_that_exists(synth):
    headings = set(re.findall(r"^#+ (.+)$", DEPLOY_DOC, flags=re.MULTILINE))
    for name, alarm in synth.resources.items():
        if alarm["Type"] == "AWS::CloudWatch::Alarm":
            for section in re.findall(r"docs/deploy\.md, '([^']+)'", alarm["Properties"]["AlarmDescription"]):
                assert section in headings, (name, section)


def test_the_recount_operator_policy_grants_exactly_what_a_recount_does():
    (policy,) = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", _section("Permissions"), re.DOTALL)
                 if "Recount" in block]
    granted = {}
    for statement in policy["Statement"]:
        table = statement["Resource"].rpartition(":table/relais-<stage>-")[2]
        granted[table] = {action.removeprefix("dynamodb:") for action in statement["Action"]}
    assert granted == {table: set(actions) for table, actions in RECOUNT_OPERATOR_ACTIONS.items()}
