"""Links, redirects, previews, QR codes and privacy against the real local stack."""
import http.client
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy
import png
import pytest
import requests
import resvg_py
import zxingcpp

from dev.dynamodb_proxy import DynamoDBProxy
from dev.processes import ROOT, free_port
from harness.user_agents import HUMAN_AGENTS, PREVIEW_AGENTS


def fan_counts(stack, poller, code):
    poller.drain()
    response = requests.get(f"{stack.api}/v1/referrers/{code}", timeout=5)
    assert response.status_code == 200
    return response.json()


def test_every_agent_is_redirected_and_only_people_count_as_clicks(stack, poller):
    campaign, _ = stack.create_campaign(target_url="https://example.org/p?lang=fr")
    fan = stack.new_fan(campaign["id"], "Corpus")
    statuses = []
    for agent in PREVIEW_AGENTS.values():
        response = requests.get(f"{stack.api}/r/{fan['code']}?c=facebook", headers={"User-Agent": agent},
                                allow_redirects=False, timeout=5)
        statuses.append(response.status_code)
    for agent in HUMAN_AGENTS.values():
        response = requests.get(f"{stack.api}/r/{fan['code']}?c=whatsapp", headers={"User-Agent": agent},
                                allow_redirects=False, timeout=5)
        statuses.append(response.status_code)
        location = urlsplit(response.headers["Location"])
        assert location.netloc == "example.org" and parse_qs(location.query)["lang"] == ["fr"]
    head = requests.head(f"{stack.api}/r/{fan['code']}?c=x", headers={"User-Agent": HUMAN_AGENTS["safari-mac"]},
                         allow_redirects=False, timeout=5)
    statuses.append(head.status_code)
    assert set(statuses) == {302}
    counts = fan_counts(stack, poller, fan["code"])
    assert counts["previews"] == len(PREVIEW_AGENTS) + 1
    assert counts["clicks"] == len(HUMAN_AGENTS)
    assert counts["unique_clicks"] == len(HUMAN_AGENTS)


def _decode(rgb_rows, width, height, planes):
    pixels = numpy.array([list(row) for row in rgb_rows], dtype=numpy.uint8).reshape(height, width, planes)
    results = zxingcpp.read_barcodes(pixels[:, :, 0].copy())
    assert len(results) == 1
    return results[0].text


def test_qr_codes_decode_to_the_short_link_tagged_qr(stack):
    campaign, _ = stack.create_campaign()
    fan = stack.new_fan(campaign["id"], "QR")
    expected = f"{fan['short_url']}?c=qr"
    png_response = requests.get(fan["qr"]["png"] + "?size=300", timeout=5)
    assert png_response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    width, height, rows, _ = png.Reader(bytes=png_response.content).asRGB8()
    assert width <= 300
    assert _decode(rows, width, height, 3) == expected
    svg_response = requests.get(fan["qr"]["svg"], timeout=5)
    rendered = bytes(resvg_py.svg_to_bytes(svg_string=svg_response.text, width=400, height=400, background="#ffffff"))
    width, height, rows, _ = png.Reader(bytes=rendered).asRGBA8()
    assert _decode(rows, width, height, 4) == expected


def test_no_item_in_any_table_holds_the_visitor_ip(stack, poller):
    campaign, _ = stack.create_campaign()
    fan = stack.new_fan(campaign["id"], "Private", email="private@example.org")
    host, port = urlsplit(stack.api).hostname, urlsplit(stack.api).port
    for agent in list(HUMAN_AGENTS.values())[:5] + list(PREVIEW_AGENTS.values())[:5]:
        connection = http.client.HTTPConnection(host, port, timeout=5, source_address=("127.0.0.77", 0))
        connection.request("GET", f"/r/{fan['code']}?c=telegram", headers={"User-Agent": agent})
        assert connection.getresponse().status == 302
        connection.close()
    requests.post(f"{stack.api}/v1/shares", json={"code": fan["code"], "channel": "x"}, timeout=5)
    poller.drain()
    from dev import snapshot

    dump = stack.data_dir / "ip-check.json"
    assert snapshot.dump(dump) > 0
    text = dump.read_text()
    assert fan["code"] in text  # the dump does hold this workload
    assert "127.0.0.77" not in text


@pytest.mark.parametrize(("mode", "spooled"), [("throttle", False), ("stall", True)])
def test_a_throttled_or_stalled_click_write_still_redirects_within_a_second(stack, mode, spooled, tmp_path):
    """With a fallback the fact is spooled durably; without one it is lost, counted and logged whole."""
    campaign, _ = stack.create_campaign()
    fan = stack.new_fan(campaign["id"], "Patient")
    proxy = DynamoDBProxy(stack.dynamodb, fault=mode, fault_table="relais-local-events")
    port = free_port()
    log_path = tmp_path / "chalice.log"
    spool = tmp_path / "spool"
    env = {**os.environ, "RELAIS_DYNAMODB_ENDPOINT": proxy.url, "RELAIS_STAGE": "local"}
    env.pop("RELAIS_FALLBACK_DIR", None)
    if spooled:
        env["RELAIS_FALLBACK_DIR"] = str(spool)
    with open(log_path, "wb") as log:  # the server keeps its own copy of the descriptor
        server = subprocess.Popen([str(Path(sys.executable).with_name("chalice")), "local", "--host", "127.0.0.1",
                                   "--port", str(port), "--stage", "local", "--no-autoreload"],
                                  cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(150):
            try:
                requests.get(f"{url}/healthz", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        requests.get(f"{url}/r/zzzzzzzz", timeout=10)  # warm the redirect path (a 404 writes nothing)
        started = time.monotonic()
        response = requests.get(f"{url}/r/{fan['code']}?c=sms", headers={"User-Agent": HUMAN_AGENTS["safari-iphone"]},
                                allow_redirects=False, timeout=10)
        elapsed = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(10)
        proxy.close()
    assert response.status_code == 302
    assert elapsed < 1.0, f"redirect took {elapsed:.2f}s"
    assert proxy.faults == 2  # the first attempt and its one quick retry
    log = log_path.read_text()
    if spooled:
        facts = [json.loads(path.read_text())["fact"] for path in spool.glob("*.json")]
        assert [(fact["code"], fact["channel"], fact["kind"]) for fact in facts] == [(fan["code"], "sms", "visit")]
        assert "FallbackEvents" in log and "LostEvents" not in log
    else:
        assert "LostEvents" in log and "fact not recorded" in log and fan["code"] in log
