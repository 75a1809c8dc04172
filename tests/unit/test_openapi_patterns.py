"""The contract's patterns say what the server accepts (docs/openapi.yaml)."""
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

SPEC = yaml.safe_load((Path(__file__).parents[2] / "docs" / "openapi.yaml").read_text())


@pytest.mark.parametrize("year", [2000, 2023, 2024, 2100, 2104, 2196, 2199, 2200])
def test_a_timestamp_matches_on_exactly_the_days_that_exist_leap_days_included(year):
    pattern = re.compile(SPEC["components"]["schemas"]["Timestamp"]["pattern"])
    day, matched, existing = date(year, 1, 1), [], []
    for month in range(1, 13):
        for number in range(1, 32):
            text = f"{year}-{month:02d}-{number:02d}T12:30:00Z"
            if pattern.match(text):
                matched.append(text)
    while day.year == year:
        existing.append(f"{day.isoformat()}T12:30:00Z")
        day += timedelta(days=1)
    assert matched == existing
