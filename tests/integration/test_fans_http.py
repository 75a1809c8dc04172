"""Fans' data, moderation and abuse limits over HTTP, on the real local stack: an erased fan
leaves no trace in any table or data file; an e-mail tells a stranger nothing; names are
shown as they read; depth is capped; limits hold across containers; hostile headers, CSV
formulas and framing get nowhere; the data dir is private."""
from __future__ import annotations

import csv
import io
import json
import stat
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests

from harness.stack_process import start_api
from harness.user_agents import HUMAN_AGENTS

BROWSER = HUMAN_AGENTS["firefox-linux"]
NAME = "Erasable Zoë Quartzfield"
EMAIL = "zoe.quartzfield@example.org"


def _keyed(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def _click(api: str, code: str, agent: str, channel: str = "x") -> str:
    response = requests.get(f"{api}/r/{code}?c={channel}", headers={"User-Agent": agent}, allow_redirects=False,
                            timeout=10)
    assert response.status_code == 302
    return parse_qs(urlsplit(response.headers["Location"]).query)["ref"][0]


def _pledge(stack, campaign_id: str, key: str, pledge_id: str, amount: int, ref: str | None = None) -> None:
    body = {"pledge_id": pledge_id, "amount": amount, "currency": "EUR", **({"ref": ref} if ref else {})}
    response = requests.post(f"{stack.api}/v1/campaigns/{campaign_id}/pledges", json=body, headers=_keyed(key),
                             timeout=10)
    assert response.status_code == 201, response.text


def _stats(stack, campaign_id: str, key: str, query: str = "") -> requests.Response:
    response = requests.get(f"{stack.api}/v1/campaigns/{campaign_id}/stats{query}", headers=_keyed(key), timeout=10)
    assert response.status_code == 200, response.text
    return response


def _forms(trace: str) -> list[bytes]:
    """How a string may sit in a file: UTF-8, or JSON-escaped (``\\u00eb``)."""
    return sorted({trace.encode(), json.dumps(trace)[1:-1].encode()})


def _tables_holding(stack, traces: list[str]) -> set[str]:
    client = boto3.client("dynamodb", endpoint_url=stack.dynamodb, region_name="us-east-1",
                          aws_access_key_id="local", aws_secret_access_key="local")
    found = set()
    for table in client.list_tables()["TableNames"]:
        for page in client.get_paginator("scan").paginate(TableName=table):
            text = json.dumps(page["Items"], ensure_ascii=False)
            found.update(f"{table}: {trace}" for trace in traces if trace in text)
    return found


def _files_holding(data_dir: Path, traces: list[str]) -> set[str]:
    found = set()
    for path in data_dir.rglob("*"):
        if path.is_file():
            try:
                content = path.read_bytes()
            except FileNotFoundError:  # a segment folded away while we walked
                continue
            found.update(f"{path.relative_to(data_dir)}: {trace}" for trace in traces
                         if any(form in content for form in _forms(trace)))
    return found


def _without_names(stats: dict) -> dict:
    return {**stats, "referrers": [{k: v for k, v in row.items() if k != "name"} for row in stats["referrers"]]}


def test_an_erased_fan_leaves_no_trace_in_any_table_or_data_file_and_the_stats_do_not_move(stack, poller):
    from chalicelib.domain.links import claim_digest
    from chalicelib.store import links_table

    # Given a fan with an e-mail, a recruit, clicks, a share, a landing and pledges, all counted
    campaign, key = stack.create_campaign(leaderboard="public", goal={"amount": 100_000, "currency": "EUR"})
    cid = campaign["id"]
    hooked = requests.patch(f"{stack.api}/v1/campaigns/{cid}", json={"webhook_url": "http://127.0.0.1:9/hook"},
                            headers=_keyed(key), timeout=10)  # its referrer.created delivery holds the name
    assert hooked.status_code == 200, hooked.text
    fan = stack.new_fan(cid, NAME, email=EMAIL)
    stack.new_fan(cid, "Recruit", referred_by=fan["code"])
    refs = [_click(stack.api, fan["code"], f"{BROWSER} visitor {n}") for n in range(3)]
    requests.post(f"{stack.api}/v1/shares", json={"code": fan["code"], "channel": "x"}, timeout=10)
    requests.post(f"{stack.api}/v1/landings", json={"ref": refs[0]}, headers={"User-Agent": BROWSER}, timeout=10)
    _pledge(stack, cid, key, "erasure-1", 2500, refs[1])
    _pledge(stack, cid, key, "erasure-2", 700, refs[2])
    poller.drain()
    traces = [NAME, EMAIL, claim_digest(cid, EMAIL), links_table.get(fan["code"]).sealed_email]
    holding = _tables_holding(stack, traces)
    assert {f"relais-local-{table}: {NAME}" for table in ("links", "events", "rollups")} <= holding
    assert any(NAME in hit for hit in _files_holding(stack.data_dir, traces))
    before = _stats(stack, cid, key).json()
    assert requests.get(f"{stack.api}/v1/campaigns/{cid}/widget", timeout=10).json()["leaderboard"][0]["name"] == NAME

    # When the creator erases the fan, and the stream is consumed
    erased = requests.delete(f"{stack.api}/v1/campaigns/{cid}/referrers/{fan['code']}", headers=_keyed(key),
                             timeout=10)
    assert erased.status_code == 204
    poller.drain()

    # Then no table holds the name, the e-mail, its keyed hash or its sealed form
    assert _tables_holding(stack, traces) == set()
    # and once the journal is scrubbed, no file of the data dir either
    deadline = time.monotonic() + 45
    while (left := _files_holding(stack.data_dir, traces)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert left == set()
    # and every figure is what it was; the fan shows as erased; their link still works
    after = _stats(stack, cid, key).json()
    assert _without_names(after) == _without_names(before)
    assert [row["name"] for row in after["referrers"] if row["code"] == fan["code"]] == ["erased"]
    assert requests.get(f"{stack.api}/v1/campaigns/{cid}/widget", timeout=10).json()["leaderboard"][0]["name"] == \
        "erased"
    _click(stack.api, fan["code"], f"{BROWSER} after erasure")


def test_an_email_that_already_has_a_link_tells_a_stranger_nothing(stack):
    campaign, _ = stack.create_campaign()
    path = f"{stack.api}/v1/campaigns/{campaign['id']}/referrers"
    first = requests.post(path, json={"name": "Victim Name", "email": "victim@example.org"}, timeout=10)
    probe = requests.post(path, json={"name": "Prober", "email": "Victim@Example.org"}, timeout=10)
    fresh = requests.post(path, json={"name": "Prober", "email": "nobody@example.org"}, timeout=10)
    assert (first.status_code, probe.status_code, fresh.status_code) == (201, 201, 201)
    assert set(probe.json()) == set(fresh.json())
    assert first.json()["code"] not in probe.text and "Victim" not in probe.text
    assert probe.json()["name"] == "Prober"


def test_a_name_with_bidi_and_invisible_characters_shows_as_it_reads(stack, poller):
    campaign, key = stack.create_campaign(leaderboard="public", goal={"amount": 1000, "currency": "EUR"})
    fan = stack.new_fan(campaign["id"], "\u202eelpmaxe.live\u200b\u2066")
    assert fan["name"] == "elpmaxe.live"
    _pledge(stack, campaign["id"], key, "bidi", 100, _click(stack.api, fan["code"], BROWSER))
    poller.drain()
    widget = requests.get(f"{stack.api}/v1/campaigns/{campaign['id']}/widget", timeout=10)
    assert widget.json()["leaderboard"][0]["name"] == "elpmaxe.live"
    assert not any(ch in widget.text for ch in "\u202e\u200b\u2066")


def test_a_chain_of_referrals_is_counted_no_deeper_than_the_cap(stack, poller):
    campaign, key = stack.create_campaign()
    parent = None
    for n in range(13):
        parent = stack.new_fan(campaign["id"], f"Link {n}", **({"referred_by": parent} if parent else {}))["code"]
    poller.drain()
    cascade = _stats(stack, campaign["id"], key).json()["cascade"]
    assert cascade["max_depth"] == 10
    assert [(level["depth"], level["referrers"]) for level in cascade["by_depth"]][-1] == (10, 4)


def test_a_visitor_over_a_limit_gets_429_and_retry_after_whichever_container_answers(stack, tmp_path):
    containers = [start_api(stack, tmp_path, RELAIS_RATE_LIMITS="referrers=3/600,shares=3/600",
                            RELAIS_ORIGIN_SECRET="origin-secret-of-the-test") for _ in range(2)]
    try:
        campaign, _ = stack.create_campaign()
        path = f"/v1/campaigns/{campaign['id']}/referrers"
        answers = [requests.post(f"{containers[n % 2].url}{path}", json={"name": f"Script {n}"}, timeout=10)
                   for n in range(5)]
        assert [a.status_code for a in answers] == [201, 201, 201, 429, 429]
        assert answers[3].json()["error"]["code"] == "rate_limited"
        assert 0 < int(answers[3].headers["Retry-After"]) <= 600
        # a new address in CloudFront's header is another visitor only when CloudFront sent it
        forged = {"CloudFront-Viewer-Address": "198.51.100.9:50123"}
        assert requests.post(f"{containers[0].url}{path}", json={"name": "Forged address"}, headers=forged,
                             timeout=10).status_code == 429
        someone_else = {**forged, "X-Relais-Origin": "origin-secret-of-the-test"}
        assert requests.post(f"{containers[0].url}{path}", json={"name": "Another person"}, headers=someone_else,
                             timeout=10).status_code == 201
        code = answers[0].json()["code"]
        shares = [requests.post(f"{containers[n % 2].url}/v1/shares", json={"code": code, "channel": "x"},
                                headers={"User-Agent": f"{BROWSER} {n}"}, timeout=10).status_code for n in range(4)]
        assert shares == [202, 202, 202, 429]
        assert _click(containers[1].url, code, BROWSER)  # clicks are never limited
    finally:
        for container in containers:
            container.close()


def test_without_a_public_url_a_hostile_host_or_proto_never_makes_a_short_link(stack, tmp_path):
    api = start_api(stack, tmp_path, RELAIS_PUBLIC_URL=None)
    try:
        campaign, _ = stack.create_campaign()
        path = f"{api.url}/v1/campaigns/{campaign['id']}/referrers"
        hostile = requests.post(path, json={"name": "Fan"}, timeout=10,
                                headers={"Host": "evil.example", "X-Forwarded-Proto": "javascript"})
        assert (hostile.status_code, hostile.json()["error"]["code"]) == (400, "invalid_host")
        own = requests.post(path, json={"name": "Fan"}, headers={"X-Forwarded-Proto": "javascript"}, timeout=10)
        assert own.status_code == 201 and own.json()["short_url"] == f"{api.url}/r/{own.json()['code']}"
        qr = requests.get(f"{api.url}/r/{own.json()['code']}/qr.svg", headers={"Host": "evil.example"}, timeout=10)
        assert qr.status_code == 400 and "immutable" not in qr.headers.get("Cache-Control", "")
    finally:
        api.close()


def test_no_csv_cell_runs_as_a_formula_even_in_a_spreadsheet_that_splits_on_semicolons(stack, poller):
    campaign, key = stack.create_campaign()
    stack.new_fan(campaign["id"], 'Zoé;=HYPERLINK("http://evil.example";"x")')
    stack.new_fan(campaign["id"], "+33 6 12 34 56 78, @home")
    poller.drain()
    text = _stats(stack, campaign["id"], key, "?format=csv").content.decode("utf-8-sig")
    for delimiter in (",", ";"):
        cells = [cell.strip() for row in csv.reader(io.StringIO(text), delimiter=delimiter) for cell in row]
        assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@")], delimiter
    names = [row["name"] for row in csv.DictReader(io.StringIO(text)) if row["section"] == "referrer"]
    assert sorted(names) == sorted(["'+33 6 12 34 56 78, '@home", 'Zoé;\'=HYPERLINK("http://evil.example";"x")'])


def test_the_dashboard_cannot_be_framed_by_another_site_nor_sniffed(stack):
    response = requests.get(f"{stack.api}/dashboard", timeout=10)
    assert response.status_code == 200
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert (response.headers["X-Frame-Options"], response.headers["X-Content-Type-Options"]) == ("DENY", "nosniff")


def test_no_file_of_the_data_dir_is_readable_by_other_users(stack):
    exposed = [str(path.relative_to(stack.data_dir)) for path in stack.data_dir.rglob("*")
               if path.exists() and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO)]
    assert exposed == []
    assert not stack.data_dir.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO)


@pytest.mark.parametrize("query", ["?from=2026-01-01&to=2026-06-30", "?from=2025-01-01&to=2025-12-31"])
def test_public_stats_refuse_ranges_over_31_days(stack, query):
    campaign, _ = stack.create_campaign(public_stats=True)
    response = requests.get(f"{stack.api}/v1/campaigns/{campaign['id']}/stats{query}", timeout=10)
    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_range")
