"""The local stack as ``make dev`` runs it (moto server, ``chalice local``, the demo page),
started as a subprocess on free ports for the integration and browser tiers."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from dev.processes import ROOT, free_port


@dataclass
class LocalStack:
    api: str
    demo: str
    dynamodb: str
    admin_token: str
    data_dir: Path
    process: subprocess.Popen

    def create_campaign(self, **overrides) -> tuple[dict, str]:
        body = {"name": "Integration", "target_url": "https://example.org/campaign", **overrides}
        response = requests.post(f"{self.api}/v1/campaigns", json=body,
                                 headers={"Authorization": f"Bearer {self.admin_token}"}, timeout=10)
        assert response.status_code == 201, response.text
        return response.json()["campaign"], response.json()["api_key"]

    def new_fan(self, campaign_id: str, name: str = "Fan", **extra) -> dict:
        response = requests.post(f"{self.api}/v1/campaigns/{campaign_id}/referrers",
                                 json={"name": name, **extra}, timeout=10)
        assert response.status_code == 201, response.text  # every new fan, a known e-mail's too
        return response.json()


def start_stack(data_dir: Path, poller: str = "off") -> LocalStack:
    ports = {"RELAIS_PORT": free_port(), "RELAIS_DEMO_PORT": free_port(), "RELAIS_DYNAMODB_PORT": free_port()}
    env = {**os.environ, **{k: str(v) for k, v in ports.items()},
           "RELAIS_DATA_DIR": str(data_dir), "RELAIS_POLLER": poller,
           "RELAIS_WEBHOOK_RETRY_BASE_SECONDS": "0.25",  # webhook retries in a second, not a minute
           # Tests script hundreds of fans and shares from one address; the limits themselves are
           # tested on API processes of their own (tests/integration/test_rate_limits_http.py).
           "RELAIS_RATE_LIMITS": "referrers=10000/600,shares=10000/600,landings=10000/600",
           "RELAIS_FAN_CEILING": "100000/60"}
    for name in ("RELAIS_PUBLIC_URL", "RELAIS_ADMIN_TOKEN", "RELAIS_SECRET"):
        env.pop(name, None)
    log = data_dir.parent / f"{data_dir.name}-stack.log"
    with open(log, "ab") as output:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen([sys.executable, "-m", "dev.local_stack"], cwd=ROOT, env=env, stdout=output,
                                   stderr=subprocess.STDOUT)
    api = f"http://127.0.0.1:{ports['RELAIS_PORT']}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the local stack exited early; see {log}")
        try:
            if requests.get(f"{api}/healthz", timeout=1).status_code == 200 and \
                    requests.get(f"http://127.0.0.1:{ports['RELAIS_DEMO_PORT']}/", timeout=1).ok:
                break
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    else:
        process.kill()
        raise RuntimeError("the local stack did not come up within 90 s")
    return LocalStack(api=api, demo=f"http://127.0.0.1:{ports['RELAIS_DEMO_PORT']}",
                      dynamodb=f"http://127.0.0.1:{ports['RELAIS_DYNAMODB_PORT']}",
                      admin_token=(data_dir / "admin-token").read_text().strip(), data_dir=data_dir, process=process)


def stop_stack(stack: LocalStack) -> None:
    stack.process.send_signal(signal.SIGTERM)
    stack.process.wait(30)


def recount(stack: LocalStack, campaign_id: str, *flags: str) -> subprocess.CompletedProcess:
    """``make recount CAMPAIGN=<id> [flags]`` from another shell, as an operator runs it: the
    command finds the running stack through its data dir."""
    env = {**os.environ, "RELAIS_DATA_DIR": str(stack.data_dir)}
    for name in ("RELAIS_DYNAMODB_ENDPOINT", "STAGE"):
        env.pop(name, None)
    return subprocess.run(["make", "--no-print-directory", "recount", f"CAMPAIGN={campaign_id}", *flags], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=180)


@dataclass
class ApiProcess:
    """Another ``chalice local`` on the stack's DynamoDB: another Lambda container, as far as
    anything shared (limits, salts, counters) can tell."""

    url: str
    process: subprocess.Popen
    log: Path

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def start_api(stack: LocalStack, log_dir: Path, **env: str | None) -> ApiProcess:
    """A ``chalice local`` of its own on a free port, with the stack's settings changed by
    ``env`` (a value of ``None`` unsets that variable)."""
    port = free_port()
    settings = {**os.environ, "RELAIS_STAGE": "local", "RELAIS_LOCAL": "1", "RELAIS_DYNAMODB_ENDPOINT": stack.dynamodb,
                "RELAIS_FALLBACK_DIR": str(stack.data_dir / "fallback"), "RELAIS_ADMIN_TOKEN": stack.admin_token,
                "RELAIS_SECRET": (stack.data_dir / "secret").read_text().strip(),
                "RELAIS_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    for name, value in env.items():
        if value is None:
            settings.pop(name, None)
        else:
            settings[name] = value
    log = log_dir / f"chalice-{port}.log"
    with open(log, "ab") as output:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("chalice")), "local", "--host", "127.0.0.1", "--port", str(port),
             "--stage", "local", "--no-autoreload"], cwd=ROOT, env=settings, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            requests.get(f"{url}/healthz", timeout=1)
            return ApiProcess(url, process, log)
        except requests.ConnectionError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError(f"chalice local did not start; see {log}") from None
            time.sleep(0.1)
