"""The erasure's answer over HTTP: asked for one (``Prefer: return=representation``), it says
when the fan was erased and what still holds their name, restorable, until when (the events
table's point-in-time recovery, 35 days; its stream, 24 hours); not asked, it is the
contract's ``204``."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import requests

PREFER = {"Prefer": "return=representation"}


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def test_an_erasure_asked_for_its_answer_says_what_stays_restorable_and_until_when(stack):
    campaign, key = stack.create_campaign()
    code = stack.new_fan(campaign["id"], "Restorable Ottilie Brandvold", email="ottilie@example.org")["code"]
    path = f"{stack.api}/v1/campaigns/{campaign['id']}/referrers/{code}"
    keyed = {"Authorization": f"Bearer {key}"}
    before = datetime.now(UTC).replace(microsecond=0)
    answer = requests.delete(path, headers={**keyed, **PREFER}, timeout=10)
    assert answer.status_code == 200, answer.text
    assert (answer.headers["Preference-Applied"], answer.headers["Cache-Control"]) == (
        "return=representation", "no-store")
    body = answer.json()
    erased_at = datetime.fromisoformat(body["erased_at"].replace("Z", "+00:00"))
    assert before <= erased_at <= datetime.now(UTC)
    assert body == {"code": code, "erased": True, "erased_at": _iso(erased_at), "restorable": [
        {"store": "events_point_in_time_recovery", "holds": ["name"], "until": _iso(erased_at + timedelta(days=35))},
        {"store": "events_stream", "holds": ["name"], "until": _iso(erased_at + timedelta(hours=24))},
    ]}
    again = requests.delete(path, headers={**keyed, "Prefer": 'handling=lenient, RETURN="Representation"'},
                            timeout=10)
    assert again.status_code == 200 and again.json() == body  # dated from the first erasure
    plain = requests.delete(path, headers=keyed, timeout=10)
    assert (plain.status_code, plain.content, "Preference-Applied" in plain.headers) == (204, b"", False)
