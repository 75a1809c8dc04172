"""Local spool files: the ``make dev`` stand-ins for SQS queues (the request path's fallback,
webhook deliveries). A file is whole once it exists: written aside, fsynced, renamed, and
the directory fsynced, so a crash leaves either the message or nothing."""
from __future__ import annotations

import os
from pathlib import Path


def write_durably(directory: Path, name: str, body: str) -> None:
    """Write ``body`` as ``directory/name`` (0600; the directory 0700: messages hold private data)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = directory / f".{name}.tmp"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(descriptor, body.encode())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    os.replace(temporary, directory / name)
    directory_descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(directory_descriptor)
    finally:
        os.close(directory_descriptor)
