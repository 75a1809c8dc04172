"""docs/privacy.md says what the stack does with backups: each table's point-in-time
recovery, on (and for how long) or off, is what the synthesized template sets, and what the
erasure's answer reports as restorable."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from chalicelib.core.retention import FAN_DATA, after_erasure
from tests.infra.synthesis import REPO_ROOT

PRIVACY = (REPO_ROOT / "docs" / "privacy.md").read_text()
SECTION = "## Backups: what an erasure leaves restorable"
ROW = re.compile(r"^\| `(\w+)` \| (off|on, (\d+) days) \|", re.MULTILINE)


def _stated() -> dict[str, int | None]:
    """Each table's recovery period in days as the doc's table states it (``None``: off)."""
    start = PRIVACY.index(f"\n{SECTION}\n")
    end = PRIVACY.find("\n## ", start + 1)
    rows = ROW.findall(PRIVACY[start:end if end > 0 else None])
    stated = {table: int(days) if setting != "off" else None for table, setting, days in rows}
    assert len(stated) == len(rows), "a table has two rows"
    return stated


def test_the_privacy_doc_states_point_in_time_recovery_for_every_table_and_no_other(synth):
    assert sorted(_stated()) == sorted(synth.table_ids())


def test_each_tables_point_in_time_recovery_in_the_template_is_what_the_privacy_doc_states(synth):
    stated = _stated()
    for base, logical_id in synth.table_ids().items():
        days = stated[base]
        expected = ({"PointInTimeRecoveryEnabled": False} if days is None
                    else {"PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": days})
        assert synth.resources[logical_id]["Properties"]["PointInTimeRecoverySpecification"] == expected, base


def test_no_table_holding_fans_e_mails_keeps_a_point_in_time_recovery(synth):
    """The finding this fixed: every table had it, so erased e-mails stayed restorable for 35 days."""
    recovered = [base for base, logical_id in synth.table_ids().items() if synth.resources[logical_id][
        "Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"]]
    assert [base for base in recovered if "email" in FAN_DATA[base]] == []
    assert [base for base, days in _stated().items() if days is not None and "email" in FAN_DATA[base]] == []


def test_the_erasure_answer_reports_each_recovery_the_doc_states_for_a_table_holding_fans_data():
    erased_at = datetime(2031, 1, 30, 12, 0, 5, tzinfo=UTC)
    backups = {entry["store"]: entry for entry in after_erasure(erased_at) if entry["store"].endswith("_recovery")}
    expected = {f"{table}_point_in_time_recovery": {
        "store": f"{table}_point_in_time_recovery", "holds": list(FAN_DATA[table]),
        "until": (erased_at + timedelta(days=days)).isoformat().replace("+00:00", "Z")}
        for table, days in _stated().items() if days is not None and FAN_DATA[table]}
    assert backups == expected
    assert sorted(backups) == ["events_point_in_time_recovery"]
