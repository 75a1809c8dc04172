"""Imports over HTTP on the real local stack: a platform's export uploaded to the local S3
server through its presigned URL (or sent in the request), run by the stack's importer
thread, polled until done, counted through the stream: the figures equal the file's, the
same file again moves nothing. The preset samples are built from the columns each public
source shows (``tests/fixtures/imports/README.md``)."""
from __future__ import annotations

import time
from pathlib import Path

import requests

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"


def _keyed(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def start(stack, campaign_id: str, key: str, query: dict, body: bytes | None = None) -> str:
    response = requests.post(f"{stack.api}/v1/campaigns/{campaign_id}/imports", params=query, data=body or b"",
                             headers={**_keyed(key), "Content-Type": "text/csv"}, timeout=30)
    assert response.status_code == 202, response.text
    return response.json()["import"]


def upload(stack, campaign_id: str, key: str, data: bytes) -> str:
    """Upload a file the way a large one goes: a presigned PUT to the bucket, no API in between."""
    answer = requests.post(f"{stack.api}/v1/campaigns/{campaign_id}/imports/uploads", headers=_keyed(key), timeout=10)
    assert answer.status_code == 201, answer.text
    assert answer.headers["Cache-Control"] == "no-store"
    put = requests.put(answer.json()["url"], data=data, headers={"Content-Type": "text/csv"}, timeout=30)
    assert put.status_code == 200, put.text
    return answer.json()["upload"]


def finished(stack, campaign_id: str, key: str, job: str, poller) -> dict:
    """Poll the job until the stack's importer is done with it, then count the stream."""
    deadline = time.monotonic() + 60
    while True:
        state = requests.get(f"{stack.api}/v1/campaigns/{campaign_id}/imports/{job}", headers=_keyed(key),
                             timeout=10).json()
        if state["status"] in ("done", "failed"):
            poller.drain()
            return state
        assert time.monotonic() < deadline, f"import still {state['status']} after 60 s"
        time.sleep(0.2)


def stats(stack, campaign_id: str, key: str) -> dict:
    response = requests.get(f"{stack.api}/v1/campaigns/{campaign_id}/stats", headers=_keyed(key), timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_kickstarter_backer_report_uploaded_through_its_presigned_url_counts_its_direct_pledges(stack, poller):
    campaign, key = stack.create_campaign(platform={"name": "kickstarter"},
                                          goal={"amount": 2000000, "currency": "SEK"})
    data = (FIXTURES / "kickstarter-backers.csv").read_bytes()
    query = {"kind": "pledges", "preset": "kickstarter_backers"}
    job = finished(stack, campaign["id"], key, start(stack, campaign["id"], key,
                                                     {**query, "upload": upload(stack, campaign["id"], key, data)}),
                   poller)
    assert (job["status"], job["rows"], job["applied"], job["unchanged"]) == ("done", 9, 8, 0)
    assert [(error["line"], error["code"]) for error in job["errors"]] == [(8, "unsettled_status")]
    assert job["changes"] == {"pledges": 6, "amount": {"SEK": 610000}}
    figures = stats(stack, campaign["id"], key)
    assert figures["from"] == "2026-10-01"  # the first pledge's day: stats start there, before the campaign
    assert (figures["totals"]["pledges"], figures["totals"]["amount"]) == (6, {"SEK": 610000})
    assert figures["totals"]["reported"] == {"pledges": 6, "amount": {"SEK": 610000}}
    assert figures["direct"] == {"pledges": 6, "amount": {"SEK": 610000}}
    again = finished(stack, campaign["id"], key, start(stack, campaign["id"], key, query, data), poller)
    assert (again["applied"], again["unchanged"], again["changes"]) == (0, 8, {"pledges": 0, "amount": {}})
    assert stats(stack, campaign["id"], key)["totals"] == figures["totals"]
    history = requests.get(f"{stack.api}/v1/campaigns/{campaign['id']}/imports", headers=_keyed(key), timeout=10)
    assert [item["import"] for item in history.json()["imports"]] == [again["import"], job["import"]]


def test_an_indiegogo_export_sent_in_the_request_credits_the_fan_whose_tag_it_names(stack, poller):
    campaign, key = stack.create_campaign(platform={"name": "indiegogo", "tag_param": "referrer_id"},
                                          goal={"amount": 500000, "currency": "USD"})
    fan = stack.new_fan(campaign["id"], "Maya")
    sample = (FIXTURES / "indiegogo-contributions.csv").read_text()
    data = sample.replace("3q2i76ye84", fan["platform_tag"]).encode()  # the sample's fan is now this campaign's
    job = finished(stack, campaign["id"], key, start(stack, campaign["id"], key,
                                                     {"kind": "pledges", "preset": "indiegogo_contributions"}, data),
                   poller)
    assert (job["status"], job["applied"], job["changes"]) == ("done", 8, {"pledges": 8, "amount": {"USD": 150000}})
    figures = stats(stack, campaign["id"], key)
    (maya,) = [row for row in figures["referrers"] if row["code"] == fan["code"]]
    assert (maya["pledges"], maya["amount"], maya["reported"]) == \
        (2, {"USD": 5000}, {"pledges": 2, "amount": {"USD": 5000}})
    assert figures["direct"] == {"pledges": 6, "amount": {"USD": 145000}}


def test_a_file_over_five_megabytes_in_the_request_is_413_and_starts_nothing(stack):
    campaign, key = stack.create_campaign(platform={"name": "kickstarter"})
    big = b"pledge_id,amount,currency\n" + b"x" * (5 * 1024 * 1024)
    response = requests.post(f"{stack.api}/v1/campaigns/{campaign['id']}/imports", params={"kind": "pledges"},
                             data=big, headers={**_keyed(key), "Content-Type": "text/csv"}, timeout=60)
    assert (response.status_code, response.json()["error"]["code"]) == (413, "payload_too_large")
    listed = requests.get(f"{stack.api}/v1/campaigns/{campaign['id']}/imports", headers=_keyed(key), timeout=10)
    assert listed.json() == {"imports": []}
