"""Concurrent fans on a running stack for a fixed time: what was acknowledged, and how fast.

Shared by the soak test (a few seconds) and ``make bench`` (a minute). Loopback only,
bounded in time and in requests.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import requests

from harness.user_agents import HUMAN_AGENTS

CHANNELS = ("x", "whatsapp", "email", "telegram")


@dataclass
class SoakResult:
    seconds: float
    clicks: int = 0  # answered 302
    pledges: int = 0  # answered 201
    amount: int = 0
    unanswered: int = 0  # errors and timeouts: not acknowledged, so not owed
    latencies: list[float] = field(default_factory=list)

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def run(api: str, campaign_id: str, key: str, codes: list[str], fans: int = 16, seconds: float = 10.0,
        max_requests: int = 200_000, pledge_every: int = 10) -> SoakResult:
    """``fans`` threads clicking ``codes`` for ``seconds``; one click in ``pledge_every`` is
    followed by a pledge carrying its ref (sent by the 'creator's server')."""
    result = SoakResult(seconds)
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    budget = iter(range(max_requests))
    agents = list(HUMAN_AGENTS.values())

    def fan(index: int) -> None:
        session = requests.Session()
        agent = f"{agents[index % len(agents)]} fan{index}"
        n = 0
        while time.monotonic() < deadline and next(budget, None) is not None:
            code, channel = codes[(index + n) % len(codes)], CHANNELS[n % len(CHANNELS)]
            n += 1
            started = time.perf_counter()
            try:
                response = session.get(f"{api}/r/{code}?c={channel}", headers={"User-Agent": agent},
                                       allow_redirects=False, timeout=10)
            except requests.RequestException:
                with lock:
                    result.unanswered += 1
                continue
            elapsed = time.perf_counter() - started
            if response.status_code != 302:
                with lock:
                    result.unanswered += 1
                continue
            with lock:
                result.clicks += 1
                result.latencies.append(elapsed)
            if n % pledge_every:
                continue
            ref = parse_qs(urlsplit(response.headers["Location"]).query)["ref"][0]
            amount = 100 + (index * 7919 + n) % 5000
            try:
                answer = session.post(f"{api}/v1/campaigns/{campaign_id}/pledges", timeout=10,
                                      headers={"Authorization": f"Bearer {key}"},
                                      json={"pledge_id": f"soak-{index}-{n}", "amount": amount, "currency": "EUR",
                                            "ref": ref})
            except requests.RequestException:
                continue
            if answer.status_code == 201:
                with lock:
                    result.pledges += 1
                    result.amount += amount

    threads = [threading.Thread(target=fan, args=(i,)) for i in range(fans)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 60)
    return result


def wait_for_spool(data_dir, timeout: float = 30.0) -> None:
    """Wait until the stack has applied every fact its request path spooled (``RELAIS_FALLBACK_DIR``)."""
    from pathlib import Path

    spool = Path(data_dir) / "fallback"
    deadline = time.monotonic() + timeout
    while spool.exists() and any(spool.glob("*.json")):
        if time.monotonic() > deadline:
            raise AssertionError(f"the fallback spool in {spool} was not drained within {timeout:.0f} s")
        time.sleep(0.2)
