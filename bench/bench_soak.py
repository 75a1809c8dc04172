"""Sixteen concurrent fans on the whole local stack (``make dev``'s processes) for a minute:
sustained redirects per second, latency percentiles, and counted − acknowledged (must be 0)."""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import requests

from bench.common import report
from harness import soak
from harness.stack_process import start_stack, stop_stack


def _totals(api: str, campaign_id: str, key: str) -> dict:
    return requests.get(f"{api}/v1/campaigns/{campaign_id}/stats", headers={"Authorization": f"Bearer {key}"},
                        timeout=30).json()["totals"]


def run() -> None:
    seconds = float(os.environ.get("RELAIS_BENCH_SOAK_SECONDS", "60"))
    stack = start_stack(Path(tempfile.mkdtemp(prefix="relais-bench-soak-")) / "data", poller="on")
    try:
        campaign, key = stack.create_campaign()
        codes = [stack.new_fan(campaign["id"], f"Fan {i}")["code"] for i in range(16)]
        result = soak.run(stack.api, campaign["id"], key, codes, fans=16, seconds=seconds)
        soak.wait_for_spool(stack.data_dir, timeout=120)
        deadline = time.monotonic() + 120
        while True:  # the stack's own stream feeder counts in the background
            totals = _totals(stack.api, campaign["id"], key)
            if (totals["clicks"], totals["pledges"]) == (result.clicks, result.pledges) or time.monotonic() > deadline:
                break
            time.sleep(1)
    finally:
        stop_stack(stack)
    report(f"Soak: 16 fans × {seconds:.0f} s, redirects answered per second", f"{result.clicks / seconds:.0f} /s")
    report("Soak: redirect latency p50 | p99",
           f"{result.percentile(0.5) * 1000:.1f} | {result.percentile(0.99) * 1000:.1f} ms")
    report("Soak: clicks counted − answered (302)", f"{totals['clicks'] - result.clicks:+d} of {result.clicks}",
           "target: 0")
    report("Soak: pledges counted − answered (201)", f"{totals['pledges'] - result.pledges:+d} of {result.pledges}",
           "target: 0")
    report("Soak: amount counted − answered", f"{totals['amount'].get('EUR', 0) - result.amount:+d}", "target: 0")
    report("Soak: requests not answered (errors, timeouts)", f"{result.unanswered}")
