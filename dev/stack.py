"""``make dev``: the whole Relais stack on one laptop, in the foreground.

Starts moto's DynamoDB server (a separate process on 127.0.0.1), restores or creates the
tables, seeds the demo campaign, starts ``chalice local`` and the demo page, feeds the
events stream to the aggregator, and snapshots the data into ``RELAIS_DATA_DIR`` so that
it survives a restart. Ctrl-C stops everything; children die with this process.
"""
from __future__ import annotations

import ctypes
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("relais_dev")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    """Linux: the child gets SIGTERM when this process dies, however it dies."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def spawn(args: list[str], env: dict, own_session: bool = False, log_file: Path | None = None) -> subprocess.Popen:
    """A child process; ``own_session`` keeps Ctrl-C from reaching it (we stop it in order)."""
    output = open(log_file, "ab") if log_file else None
    return subprocess.Popen(args, env=env, cwd=ROOT, preexec_fn=_die_with_parent, start_new_session=own_session,
                            stdout=output, stderr=subprocess.STDOUT if output else None)


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer within {timeout:.0f}s") from None
            time.sleep(0.1)


def _stop(children: list[subprocess.Popen]) -> None:
    """Ask every child to stop, then wait up to 10 s each before killing it."""
    for child in children:
        child.terminate()
    for child in children:
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()


def _persistent_secret(data_dir: Path, name: str) -> str:
    path = data_dir / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(24))
        path.chmod(0o600)
    return path.read_text().strip()


class Stack:
    """The running processes and threads of the local stack."""

    def __init__(self) -> None:
        self.port = int(os.environ.get("RELAIS_PORT", "8000"))
        self.demo_port = int(os.environ.get("RELAIS_DEMO_PORT", "8001"))
        self.ddb_port = int(os.environ.get("RELAIS_DYNAMODB_PORT") or free_port())
        self.data_dir = Path(os.environ.get("RELAIS_DATA_DIR") or ROOT / ".relais").resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.snapshot_path = self.data_dir / "tables.json"
        self.api_url = f"http://127.0.0.1:{self.port}"
        self.demo_url = f"http://127.0.0.1:{self.demo_port}"
        self.stop = threading.Event()
        self.children: list[subprocess.Popen] = []
        self.env = self._environment()
        os.environ.update(self.env)

    def _environment(self) -> dict:
        env = dict(os.environ)
        env.update({
            "RELAIS_STAGE": "local",
            "RELAIS_DYNAMODB_ENDPOINT": f"http://127.0.0.1:{self.ddb_port}",
            "RELAIS_ADMIN_TOKEN": os.environ.get("RELAIS_ADMIN_TOKEN") or _persistent_secret(self.data_dir, "admin-token"),
            "RELAIS_SECRET": os.environ.get("RELAIS_SECRET") or _persistent_secret(self.data_dir, "secret"),
            "RELAIS_PUBLIC_URL": os.environ.get("RELAIS_PUBLIC_URL") or self.api_url,
            "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
            "PYTHONUNBUFFERED": "1",
        })
        env.pop("AWS_PROFILE", None)
        return env

    def start(self) -> None:
        from chalicelib.store import tables
        from dev import seed, snapshot

        self.children.append(spawn([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.ddb_port)],
                                   {**self.env, "MOTO_PORT": str(self.ddb_port)}, own_session=True,
                                   log_file=self.data_dir / "dynamodb.log"))
        wait_http(f"http://127.0.0.1:{self.ddb_port}/moto-api/")
        tables.create_tables()
        if self.snapshot_path.exists():
            log.info("restored %d items from %s", snapshot.load(self.snapshot_path), self.snapshot_path)
        self.campaign_id, self.api_key = seed.demo_campaign(
            self.data_dir, f"{self.demo_url}/", [self.demo_url, f"http://localhost:{self.demo_port}"])
        self._start_poller()
        self.children.append(spawn([sys.executable, "-m", "dev.demo_server"],
                                   {**self.env, "RELAIS_DEMO_CAMPAIGN": self.campaign_id,
                                    "RELAIS_DEMO_KEY": self.api_key, "RELAIS_API_URL": self.api_url},
                                   own_session=True))
        chalice = str(Path(sys.executable).with_name("chalice"))
        self.children.append(spawn([chalice, "local", "--host", "127.0.0.1", "--port", str(self.port),
                                    "--stage", "local", "--no-autoreload"], self.env, own_session=True))
        wait_http(f"{self.api_url}/healthz")
        wait_http(f"{self.demo_url}/")
        threading.Thread(target=self._snapshot_loop, daemon=True).start()

    def _start_poller(self) -> None:
        """The stream hook: what Lambda's event source mapping does on AWS."""
        self.poller = None
        if os.environ.get("RELAIS_POLLER", "on") == "off":
            return  # the integration tests drain the stream themselves
        from app import aggregator
        from dev.stream_poller import StreamPoller

        self.poller = StreamPoller(aggregator, start="LATEST")  # restored items were counted already
        threading.Thread(target=self.poller.run, args=(self.stop,),
                         kwargs={"on_error": lambda exc: log.error("aggregator batch failed: %s", exc)},
                         daemon=True).start()

    def _snapshot_loop(self) -> None:
        from dev import snapshot

        while not self.stop.wait(5):
            try:
                snapshot.dump(self.snapshot_path)
            except Exception as exc:
                log.warning("snapshot failed: %s", exc)

    def banner(self) -> str:
        return "\n".join([
            "",
            "Relais is running (Ctrl-C stops everything).",
            f"  API:            {self.api_url}",
            f"  Demo page:      {self.demo_url}/",
            f"  Dashboard:      {self.api_url}/dashboard#campaign={self.campaign_id}",
            f"  Demo campaign:  {self.campaign_id}",
            f"  Campaign key:   {self.api_key}",
            f"  Operator token: {self.env['RELAIS_ADMIN_TOKEN']}",
            f"  DynamoDB:       {self.env['RELAIS_DYNAMODB_ENDPOINT']} (moto)",
            f"  Data:           {self.data_dir}",
            "",
        ])

    def shutdown(self) -> None:
        """Stop serving, count what is left, save the data, then stop the database."""
        from dev import snapshot

        self.stop.set()
        database, *servers = self.children
        _stop(servers)
        try:
            if self.poller is not None:
                self.poller.drain()
            log.info("saved %d items to %s", snapshot.dump(self.snapshot_path), self.snapshot_path)
        finally:
            _stop([database])


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s relais.dev %(message)s", datefmt="%H:%M:%S")
    for noisy in ("botocore", "pynamodb"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    sys.path.insert(0, str(ROOT))
    stack = Stack()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stack.stop.set())
    try:
        stack.start()
        sys.stdout.write(stack.banner() + "\n")
        sys.stdout.flush()
        while not stack.stop.wait(0.5):
            if any(child.poll() is not None for child in stack.children):
                log.error("a child process exited; stopping")
                break
    finally:
        stack.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
