"""Child processes of the local stack: free ports, spawning children that die with their parent,
waiting for a server to answer."""
from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The repository's root: children run there."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def die_with_parent() -> None:
    """Linux: the child gets SIGTERM when this process dies, however it dies."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def spawn(args: list[str], env: dict, own_session: bool = False, log_file: Path | None = None) -> subprocess.Popen:
    """A child process; ``own_session`` keeps Ctrl-C from reaching it (we stop it in order)."""
    if log_file is None:
        return subprocess.Popen(args, env=env, cwd=ROOT, preexec_fn=die_with_parent, start_new_session=own_session)
    with open(os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab") as output:
        return subprocess.Popen(args, env=env, cwd=ROOT, preexec_fn=die_with_parent, start_new_session=own_session,
                                stdout=output, stderr=subprocess.STDOUT)  # the child keeps its own descriptor


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
