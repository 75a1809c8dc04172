"""What every benchmark needs: a real local DynamoDB server, an environment, timing helpers."""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from dev.processes import ROOT, free_port, spawn, wait_http

BENCH_ENV = {
    "RELAIS_STAGE": "local",
    "RELAIS_LOCAL": "1",
    "RELAIS_SECRET": "bench-secret",
    "RELAIS_ADMIN_TOKEN": "bench-operator",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "RELAIS_TABLE_PREFIX": "bench-",
}


@contextmanager
def dynamodb_server() -> Iterator[str]:
    """moto's DynamoDB server on a free loopback port, with the tables created; yields its URL."""
    port = free_port()
    log = Path(tempfile.mkdtemp(prefix="relais-bench-")) / "dynamodb.log"
    server = spawn([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                   {**os.environ, **BENCH_ENV}, own_session=True, log_file=log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/moto-api/")
        os.environ.update(BENCH_ENV)
        os.environ["RELAIS_DYNAMODB_ENDPOINT"] = url
        from chalicelib.store import tables

        tables.create_tables()
        yield url
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:  # a server holding every benchmark's data can be slow to go
            server.kill()
            server.wait(10)


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def interleaved(runs: int, *functions: Callable[[], None]) -> list[list[float]]:
    """Time each function ``runs`` times, alternating, so machine noise hits all alike."""
    timings: list[list[float]] = [[] for _ in functions]
    for _ in range(runs):
        for index, function in enumerate(functions):
            started = time.perf_counter()
            function()
            timings[index].append(time.perf_counter() - started)
    return timings


def run_python(code: str, env: dict) -> float:
    """Wall time of a fresh interpreter running ``code`` (process start to exit)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)
    return time.perf_counter() - started


def report(name: str, value: str, target: str = "") -> None:
    sys.stdout.write(f"{name:<58} {value:>22}   {target}\n")
    sys.stdout.flush()


@contextmanager
def environment(**values: str) -> Iterator[None]:
    """``os.environ`` with ``values`` set for the block, then as it was."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
