"""Imports of platforms' exports (app tier): a file in, a job queued, the importer run,
figures out — first import, the same file again (all unchanged), a corrected file (only
the differences move), a dry run (nothing moves), row errors by line, a file that is not
CSV, two importers on one job, and tag totals counted by their difference. Reading files
alone: ``tests/unit/test_import_files.py``; over HTTP with the real queue and S3 server:
``tests/integration/test_imports_http.py``."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from chalicelib.domain import imports
from chalicelib.store import clients

ULULE = {"name": "ulule", "tag_param": "utm_source"}
HEADER = "pledge_id,amount,currency,status,occurred_at,tag\n"


@pytest.fixture
def bucket(dynamodb, monkeypatch):
    monkeypatch.setenv("RELAIS_IMPORT_BUCKET", "relais-test-imports")
    clients.s3().create_bucket(Bucket="relais-test-imports")


@pytest.fixture
def campaign(api, bucket):
    campaign, key = api.create_campaign(platform=ULULE, goal={"amount": 100000, "currency": "EUR"})
    return campaign, key


def fan(api, campaign, name):
    response = api.call("POST", f"/v1/campaigns/{campaign['id']}/referrers", {"name": name})
    assert response.status_code == 201, response.body
    return response.data


def send(api, campaign, key, text, **query):
    params = "&".join(f"{name}={value}" for name, value in {"kind": "pledges", **query}.items())
    response = api.call("POST", f"/v1/campaigns/{campaign['id']}/imports?{params}", token=key, raw=text,
                        headers={"Content-Type": "text/csv"})
    assert response.status_code == 202, response.body
    assert response.data["status"] == "queued"
    return response.data["import"]


def run(api, campaign, key, poller, text, **query) -> dict:
    """Send the file, run its job to the end, count the stream; the job as the API shows it."""
    job = send(api, campaign, key, text, **query)
    assert imports.run(campaign["id"], job) is True
    poller.drain()
    response = api.call("GET", f"/v1/campaigns/{campaign['id']}/imports/{job}", token=key)
    assert response.status_code == 200, response.body
    return response.data


def totals(api, campaign, key) -> dict:
    response = api.call("GET", f"/v1/campaigns/{campaign['id']}/stats", token=key)
    assert response.status_code == 200, response.body
    return response.data


def pledges_file(tag_a, tag_b, refunded=False) -> str:
    today = datetime.now(UTC).date().isoformat()
    return HEADER + "".join([
        f"u-1,2500,EUR,confirmed,{today}T10:00:00Z,{tag_a}\n",
        f"u-2,1000,EUR,{'refunded' if refunded else 'confirmed'},{today}T11:00:00Z,{tag_a}\n",
        f"u-3,4000,EUR,confirmed,{today}T12:00:00Z,{tag_b}\n",
        f"u-4,700,EUR,confirmed,{today}T13:00:00Z,\n",
    ])


def test_a_first_import_counts_each_pledge_on_its_fan_and_says_so_in_reported(api, campaign, poller):
    campaign, key = campaign
    ana, bo = fan(api, campaign, "Ana"), fan(api, campaign, "Bo")
    job = run(api, campaign, key, poller, pledges_file(ana["platform_tag"], bo["platform_tag"]))
    assert (job["status"], job["rows"], job["rows_done"], job["applied"], job["unchanged"], job["errors"]) == \
        ("done", 4, 4, 4, 0, [])
    assert job["changes"] == {"pledges": 4, "amount": {"EUR": 8200}}
    stats = totals(api, campaign, key)
    assert (stats["totals"]["pledges"], stats["totals"]["amount"]) == (4, {"EUR": 8200})
    assert stats["totals"]["reported"] == {"pledges": 4, "amount": {"EUR": 8200}}
    by_code = {row["code"]: row for row in stats["referrers"]}
    assert (by_code[ana["code"]]["pledges"], by_code[ana["code"]]["amount"]) == (2, {"EUR": 3500})
    assert by_code[bo["code"]]["reported"] == {"pledges": 1, "amount": {"EUR": 4000}}
    assert stats["direct"] == {"pledges": 1, "amount": {"EUR": 700}}
    assert stats["fan_amount"] == 7500


def test_the_same_file_again_is_all_unchanged_and_moves_nothing(api, campaign, poller):
    campaign, key = campaign
    ana, bo = fan(api, campaign, "Ana"), fan(api, campaign, "Bo")
    text = pledges_file(ana["platform_tag"], bo["platform_tag"])
    run(api, campaign, key, poller, text)
    before = totals(api, campaign, key)
    again = run(api, campaign, key, poller, text)
    assert (again["applied"], again["unchanged"], again["changes"]) == (0, 4, {"pledges": 0, "amount": {}})
    assert totals(api, campaign, key)["totals"] == before["totals"]


def test_a_corrected_file_moves_only_its_differences_and_a_changed_amount_is_a_row_error(api, campaign, poller):
    campaign, key = campaign
    ana, bo = fan(api, campaign, "Ana"), fan(api, campaign, "Bo")
    run(api, campaign, key, poller, pledges_file(ana["platform_tag"], bo["platform_tag"]))
    corrected = pledges_file(ana["platform_tag"], bo["platform_tag"], refunded=True).replace("u-3,4000", "u-3,4500")
    job = run(api, campaign, key, poller, corrected)
    assert (job["applied"], job["unchanged"], job["errors_count"]) == (1, 2, 1)
    assert [(error["line"], error["code"]) for error in job["errors"]] == [(4, "pledge_conflict")]
    assert job["changes"] == {"pledges": -1, "amount": {"EUR": -1000}}
    stats = totals(api, campaign, key)
    assert (stats["totals"]["pledges"], stats["totals"]["amount"]) == (3, {"EUR": 7200})
    by_code = {row["code"]: row for row in stats["referrers"]}
    assert (by_code[ana["code"]]["pledges"], by_code[ana["code"]]["amount"]) == (1, {"EUR": 2500})


def test_a_dry_run_answers_what_an_import_would_do_and_moves_nothing(api, campaign, poller):
    campaign, key = campaign
    ana, bo = fan(api, campaign, "Ana"), fan(api, campaign, "Bo")
    job = run(api, campaign, key, poller, pledges_file(ana["platform_tag"], bo["platform_tag"]), dry_run=1)
    assert (job["dry_run"], job["status"], job["applied"], job["changes"]) == \
        (True, "done", 4, {"pledges": 4, "amount": {"EUR": 8200}})
    assert totals(api, campaign, key)["totals"]["pledges"] == 0
    real = run(api, campaign, key, poller, pledges_file(ana["platform_tag"], bo["platform_tag"]))
    assert real["changes"] == job["changes"]


def test_bad_rows_are_errors_by_line_and_the_other_rows_are_applied(api, campaign, poller):
    campaign, key = campaign
    ana = fan(api, campaign, "Ana")
    today = datetime.now(UTC).date().isoformat()
    text = HEADER + (f"g-1,1500,EUR,confirmed,{today}T10:00:00Z,{ana['platform_tag']}\n"
                     f"g-2,-5,EUR,confirmed,{today}T10:00:00Z,\n"
                     f"g-3,100,XXQ,confirmed,{today}T10:00:00Z,\n"
                     f"g-1,1500,EUR,confirmed,{today}T10:00:00Z,\n")
    job = run(api, campaign, key, poller, text)
    assert [error["line"] for error in job["errors"]] == [3, 4, 5]
    assert job["errors"][2]["code"] == "duplicate_pledge_id"
    assert (job["applied"], totals(api, campaign, key)["totals"]["pledges"]) == (1, 1)


def test_a_file_that_is_not_csv_fails_with_one_error_and_applies_nothing(api, campaign, poller):
    campaign, key = campaign
    job = run(api, campaign, key, poller, "\x00\x01\x02 binary \x00")
    assert (job["status"], job["errors_count"], job["applied"]) == ("failed", 1, 0)
    assert job["errors"][0]["code"] == "not_csv"


def test_two_importers_running_one_job_at_once_count_each_row_once(api, campaign, poller):
    campaign, key = campaign
    ana = fan(api, campaign, "Ana")
    today = datetime.now(UTC).date().isoformat()
    text = HEADER + "".join(f"c-{i},{100 + i},EUR,confirmed,{today}T10:00:00Z,{ana['platform_tag'] if i % 2 else ''}\n"
                            for i in range(450))
    job = send(api, campaign, key, text)
    with ThreadPoolExecutor(2) as pool:
        assert list(pool.map(lambda _: imports.run(campaign["id"], job), range(2))) == [True, True]
    poller.drain()
    state = api.call("GET", f"/v1/campaigns/{campaign['id']}/imports/{job}", token=key).data
    amount = sum(100 + i for i in range(450))
    assert (state["status"], state["rows_done"], state["applied"] + state["unchanged"]) == ("done", 450, 450)
    assert state["changes"] == {"pledges": 450, "amount": {"EUR": amount}}
    assert totals(api, campaign, key)["totals"]["amount"] == {"EUR": amount}


def test_an_import_stopped_for_time_resumes_where_it_stood(api, campaign, poller):
    campaign, key = campaign
    today = datetime.now(UTC).date().isoformat()
    text = HEADER + "".join(f"t-{i},100,EUR,confirmed,{today}T10:00:00Z,\n" for i in range(250))
    job = send(api, campaign, key, text)
    calls = iter([False, True])
    assert imports.run(campaign["id"], job, lambda: next(calls)) is False  # one chunk, then out of time
    middle = api.call("GET", f"/v1/campaigns/{campaign['id']}/imports/{job}", token=key).data
    assert (middle["status"], middle["rows_done"], middle["rows"]) == ("running", imports.CHUNK, 250)
    assert imports.run(campaign["id"], job) is True
    poller.drain()
    done = api.call("GET", f"/v1/campaigns/{campaign['id']}/imports/{job}", token=key).data
    assert (done["status"], done["applied"]) == ("done", 250)
    assert totals(api, campaign, key)["totals"]["pledges"] == 250


def test_tag_totals_move_each_fan_by_the_difference_from_the_last_import(api, campaign, poller):
    campaign, key = campaign
    ana, bo = fan(api, campaign, "Ana"), fan(api, campaign, "Bo")
    a, b = ana["platform_tag"], bo["platform_tag"]
    header = "tag,pledges,amount,currency\n"
    first = run(api, campaign, key, poller, header + f"{a},5,12500,EUR\n{b},1,900,EUR\n", kind="tag_totals")
    assert (first["applied"], first["changes"]) == (2, {"pledges": 6, "amount": {"EUR": 13400}})
    second = run(api, campaign, key, poller, header + f"{a},8,20000,EUR\n{b},1,900,EUR\nnobody-s-tag,3,100,EUR\n",
                 kind="tag_totals")
    assert (second["applied"], second["unchanged"]) == (1, 1)
    assert second["changes"] == {"pledges": 3, "amount": {"EUR": 7500}}
    assert [(error["line"], error["code"]) for error in second["errors"]] == [(4, "unknown_tag")]
    stats = totals(api, campaign, key)
    by_code = {row["code"]: row for row in stats["referrers"]}
    assert (by_code[ana["code"]]["pledges"], by_code[ana["code"]]["amount"]) == (8, {"EUR": 20000})
    assert stats["totals"]["reported"] == {"pledges": 9, "amount": {"EUR": 20900}}
    today = datetime.now(UTC).date().isoformat()
    assert [day["pledges"] for day in stats["daily"] if day["date"] == today] == [9]


def test_an_import_needs_the_campaigns_platform_a_known_kind_and_a_body(api, bucket):
    campaign, key = api.create_campaign()
    path = f"/v1/campaigns/{campaign['id']}/imports"
    csv = {"Content-Type": "text/csv"}
    answer = api.call("POST", f"{path}?kind=pledges", token=key, raw=HEADER, headers=csv)
    assert (answer.status_code, answer.data["error"]["code"]) == (409, "platform_required")
    api.call("PATCH", f"/v1/campaigns/{campaign['id']}", {"platform": ULULE}, token=key)
    for query, code in (("kind=everything", "invalid_kind"), ("kind=pledges&preset=nope", "invalid_preset"),
                        ("kind=pledges&dry_run=maybe", "invalid_dry_run"), ("kind=pledges&upload=abcdefghij", None)):
        answer = api.call("POST", f"{path}?{query}", token=key, raw=HEADER, headers=csv)
        expected = (404, "upload_not_found") if code is None else (400, code)
        assert (answer.status_code, answer.data["error"]["code"]) == expected
    empty = api.call("POST", f"{path}?kind=pledges", token=key, raw="", headers=csv)
    assert (empty.status_code, empty.data["error"]["code"]) == (400, "empty_body")
    assert api.call("GET", f"{path}/0000000000000000000000", token=key).status_code == 404
    assert api.call("POST", f"{path}?kind=pledges", raw=HEADER, headers=csv).status_code == 401


def test_a_refund_applied_before_the_importer_died_is_still_reported_applied_when_the_job_resumes(
        api, campaign, poller, monkeypatch):
    """The corrected file's refund lands, then the importer dies before the chunk's progress
    write (a crash, a timeout, a throttling burst longer than the client's retries): run again,
    the job reports what one clean run reports."""
    from chalicelib.store import import_jobs

    campaign, key = campaign
    ana, bo = fan(api, campaign, "Ana"), fan(api, campaign, "Bo")
    run(api, campaign, key, poller, pledges_file(ana["platform_tag"], bo["platform_tag"]))
    job = send(api, campaign, key, pledges_file(ana["platform_tag"], bo["platform_tag"], refunded=True))
    advance = import_jobs.advance

    def killed(*args, **kwargs):  # the chunk's writes landed; the process died before its progress write
        monkeypatch.setattr(import_jobs, "advance", advance)
        raise SystemExit("killed")

    monkeypatch.setattr(import_jobs, "advance", killed)
    with pytest.raises(SystemExit):
        imports.run(campaign["id"], job)
    assert imports.run(campaign["id"], job) is True  # the queue delivers the job again
    poller.drain()
    state = api.call("GET", f"/v1/campaigns/{campaign['id']}/imports/{job}", token=key).data
    assert totals(api, campaign, key)["totals"]["pledges"] == 3  # the figures are right...
    assert (state["applied"], state["unchanged"], state["changes"]) == \
        (1, 3, {"pledges": -1, "amount": {"EUR": -1000}})  # ...the job's tallies are not


def test_row_errors_of_every_chunk_are_listed_in_line_order_and_the_jobs_own_item_stays_small(api, campaign, poller):
    from chalicelib.store import keys
    from harness.raw_items import stored

    campaign, key = campaign
    today = datetime.now(UTC).date().isoformat()
    text = HEADER + "".join(f"e-{i},{'-1' if i % 2 else '100'},EUR,confirmed,{today}T10:00:00Z,\n" for i in range(250))
    job = run(api, campaign, key, poller, text)
    assert (job["applied"], job["errors_count"]) == (125, 125)
    assert [error["line"] for error in job["errors"]] == [i + 2 for i in range(250) if i % 2]
    item = stored("rollups", pk=keys.imports_pk(campaign["id"]), sk=job["import"])
    assert len(json.dumps(item)) < 1024  # a progress write is one write unit, whatever the errors
