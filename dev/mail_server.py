"""``make dev``'s SMTP server: aiosmtpd on 127.0.0.1, keeping every message it receives as an
``.eml`` file (any mail client opens one) in ``<data dir>/mail/``.

Run as a child of the local stack: ``python -m dev.mail_server --port N --dir DIR``. Files
and the directory are private (0600, 0700): messages hold fans' addresses and sign-in
links. A file appears whole (written aside, then renamed), named by the time it arrived.
"""
from __future__ import annotations

import argparse
import os
import secrets
import signal
import threading
import time
from pathlib import Path

from aiosmtpd.controller import Controller


class KeepMessages:
    """The aiosmtpd handler: each message's bytes, as received, in a file of its own."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)

    async def handle_DATA(self, server, session, envelope) -> str:
        name = f"{int(time.time() * 1000):013d}-{secrets.token_hex(4)}.eml"
        temporary = self.directory / f".{name}.tmp"
        content = envelope.original_content or envelope.content
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(content if isinstance(content, bytes) else content.encode())
        os.replace(temporary, self.directory / name)
        return "250 Message accepted for delivery"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", type=Path, required=True)
    arguments = parser.parse_args()
    controller = Controller(KeepMessages(arguments.dir), hostname="127.0.0.1", port=arguments.port)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    controller.start()
    try:
        stop.wait()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
