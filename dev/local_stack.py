"""``make dev``: the whole Relais stack on one laptop, in the foreground.

Starts moto's DynamoDB server (a separate process on 127.0.0.1 that, like the proxy in
front of it, refuses web pages: :mod:`dev.browser_guard`), creates the tables,
recovers the data dir's journal into them, and puts the journaling proxy in front of
moto (:mod:`dev.persistence`): every write anyone acknowledges is fsynced first, so a
crash or a power cut loses nothing that was answered. Then it seeds the demo campaign,
feeds the journal's events stream to the aggregator (:mod:`dev.journal_stream`), drains
the request path's fallback spool, and starts ``chalice local`` and the demo page.
Ctrl-C (or SIGTERM) stops everything in order; children die with this process.

``RELAIS_JOURNAL=off`` runs plain moto and its own in-memory stream instead: nothing
survives a stop (the journal's benchmark compares the two). ``RELAIS_POLLER=off``
leaves the stream to the caller (the integration tests drain it with
:class:`dev.journal_stream.JournalStream`).
"""
from __future__ import annotations

import fcntl
import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from dev.processes import ROOT, free_port, spawn, wait_http

if TYPE_CHECKING:
    from dev.persistence import JournaledDynamoDB
    from dev.stream_feed import StreamFeed

log = logging.getLogger("relais_dev")
ENDPOINT_FILE = "dynamodb-endpoint"  # read by chalicelib.aggregate.recount's command line

STREAM_CONSUMER = "aggregator"  # the stack's own stream consumer (its position file)
IMPORT_BUCKET = "relais-local-imports"  # platform exports being imported (moto's S3)


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
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_urlsafe(24))
    return path.read_text().strip()


def _lock(data_dir: Path, timeout: float = 15) -> int:
    """An exclusive lock on the data dir: one stack (and its compaction child) at a time."""
    fd = os.open(data_dir / "lock", os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(fd)
                raise RuntimeError(f"another `make dev` is using {data_dir}") from None
            time.sleep(0.2)


class Stack:
    """The running processes and threads of the local stack."""

    def __init__(self) -> None:
        self.port = int(os.environ.get("RELAIS_PORT", "8000"))
        self.demo_port = int(os.environ.get("RELAIS_DEMO_PORT", "8001"))
        self.ddb_port = int(os.environ.get("RELAIS_DYNAMODB_PORT") or free_port())  # what every client talks to
        self.journaled = os.environ.get("RELAIS_JOURNAL", "on") != "off"
        self.feeds_stream = os.environ.get("RELAIS_POLLER", "on") != "off"
        self.data_dir = Path(os.environ.get("RELAIS_DATA_DIR") or ROOT / ".relais").resolve()
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.fallback_dir = self.data_dir / "fallback"
        self.fallback_dir.mkdir(mode=0o700, exist_ok=True)
        self.mail_dir = self.data_dir / "mail"  # every e-mail sent, as an .eml file (dev.mail_server)
        self.smtp_port = int(os.environ.get("RELAIS_SMTP_PORT") or free_port())
        self.moto_port = free_port() if self.journaled else self.ddb_port
        self.moto_url = f"http://127.0.0.1:{self.moto_port}"
        self.api_url = f"http://127.0.0.1:{self.port}"
        self.demo_url = f"http://127.0.0.1:{self.demo_port}"
        self.stop = threading.Event()
        self.children: list[subprocess.Popen] = []
        self.threads: dict[str, threading.Thread] = {}
        self.store: JournaledDynamoDB | None = None  # when journaled
        self.feed: StreamFeed | None = None  # the stream from the journal, or moto's (RELAIS_JOURNAL=off)
        self.lock_fd: int | None = None
        self.env = self._environment()
        os.environ.update(self.env)

    def _environment(self) -> dict:
        env = dict(os.environ)
        env.update({
            "RELAIS_STAGE": "local",
            "RELAIS_LOCAL": "1",  # locality is this flag, never the stage's name (chalicelib.core.config.is_local)
            "RELAIS_DYNAMODB_ENDPOINT": f"http://127.0.0.1:{self.ddb_port}",
            "RELAIS_FALLBACK_DIR": str(self.fallback_dir),
            "RELAIS_WEBHOOK_SPOOL": str(self.data_dir / "webhooks"),
            "RELAIS_MAIL_SPOOL": str(self.data_dir / "outbox"),
            "RELAIS_IMPORT_SPOOL": str(self.data_dir / "imports"),
            "RELAIS_IMPORT_BUCKET": IMPORT_BUCKET,
            "RELAIS_S3_ENDPOINT": self.moto_url,  # moto's own S3, not through the DynamoDB journal
            "RELAIS_SMTP": f"127.0.0.1:{self.smtp_port}",
            "RELAIS_MAIL_FROM": os.environ.get("RELAIS_MAIL_FROM") or "relais@localhost.localdomain",
            "RELAIS_ADMIN_TOKEN": os.environ.get("RELAIS_ADMIN_TOKEN")
            or _persistent_secret(self.data_dir, "admin-token"),
            "RELAIS_SECRET": os.environ.get("RELAIS_SECRET") or _persistent_secret(self.data_dir, "secret"),
            "RELAIS_PUBLIC_URL": os.environ.get("RELAIS_PUBLIC_URL") or self.api_url,
            "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
            "PYTHONUNBUFFERED": "1",
        })
        env.pop("AWS_PROFILE", None)
        return env

    def start(self) -> None:
        from chalicelib.core import config
        from chalicelib.store import clients, tables
        from dev import seed

        self.lock_fd = _lock(self.data_dir)
        self.children.append(spawn([sys.executable, "-m", "dev.moto_server", "-p", str(self.moto_port)],
                                   {**self.env, "MOTO_PORT": str(self.moto_port)}, own_session=True,
                                   log_file=self.data_dir / "dynamodb.log"))
        wait_http(f"{self.moto_url}/moto-api/")
        os.environ["RELAIS_DYNAMODB_ENDPOINT"] = self.moto_url  # tables are created on moto itself
        try:
            tables.create_tables()
        finally:
            os.environ["RELAIS_DYNAMODB_ENDPOINT"] = self.env["RELAIS_DYNAMODB_ENDPOINT"]
        if self.journaled:
            from dev.persistence import JournaledDynamoDB

            self.store = JournaledDynamoDB(self.data_dir, self.moto_url, config.region(), {config.table_name("events")},
                                           port=self.ddb_port, lock_fd=self.lock_fd)
            restored = self.store.start()
            log.info("restored %d items (%d journaled changes after the snapshot) in %.1f s; journal continues at %d",
                     restored.items, restored.tail_changes, restored.seconds, restored.next_seq)
        else:
            log.warning("RELAIS_JOURNAL=off: plain moto, nothing in %s survives a stop", self.data_dir)
        self.campaign_id, self.api_key = seed.demo_campaign(
            self.data_dir, f"{self.demo_url}/", [self.demo_url, f"http://localhost:{self.demo_port}"])
        self._start_stream()
        self._thread("fallback-drain", self._drain_fallback_loop)
        self._thread("webhook-dispatcher", self._dispatch_webhooks)
        self.children.append(spawn([sys.executable, "-m", "dev.mail_server", "--port", str(self.smtp_port),
                                    "--dir", str(self.mail_dir)], self.env, own_session=True,
                                   log_file=self.data_dir / "mail-server.log"))
        self._thread("mailer", self._send_mail)
        clients.s3().create_bucket(Bucket=IMPORT_BUCKET)  # its files are not journaled: a restart forgets them
        self._thread("importer", self._run_imports)
        if self.store is not None:
            self.store.start_compactor(self.stop, self._stream_floor)
        self.children.append(spawn([sys.executable, "-m", "dev.demo_server"],
                                   {**self.env, "RELAIS_DEMO_CAMPAIGN": self.campaign_id,
                                    "RELAIS_DEMO_KEY": self.api_key, "RELAIS_API_URL": self.api_url},
                                   own_session=True))
        chalice = str(Path(sys.executable).with_name("chalice"))
        self.children.append(spawn([chalice, "local", "--host", "127.0.0.1", "--port", str(self.port),
                                    "--stage", "local", "--no-autoreload"], self.env, own_session=True))
        wait_http(f"{self.api_url}/healthz")
        wait_http(f"{self.demo_url}/")
        # `make recount` (run from another shell) finds this stack's DynamoDB here
        endpoint = os.open(self.data_dir / ENDPOINT_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(endpoint, "w") as out:  # every file of the data dir is private
            out.write(self.env["RELAIS_DYNAMODB_ENDPOINT"])

    def _thread(self, name: str, target) -> None:
        self.threads[name] = threading.Thread(target=target, name=name, daemon=True)
        self.threads[name].start()

    # the stream -----------------------------------------------------------------------

    def _start_stream(self) -> None:
        """The stream hook: what Lambda's event source mapping does on AWS."""
        if not self.feeds_stream:
            return  # the integration tests drain the stream themselves
        from app import aggregator

        if self.store is None:
            from dev.stream_poller import StreamPoller

            self.feed = StreamPoller(aggregator)
        else:
            from chalicelib.core import config
            from dev.journal_stream import FAILED_BATCHES, JournalStream, StreamFeeder

            assert self.store.journal is not None
            stream = JournalStream(self.data_dir, aggregator, consumer=STREAM_CONSUMER, region=config.region())
            self.feed = StreamFeeder(stream, self.store.journal, self.data_dir / FAILED_BATCHES)
        feed = self.feed
        self._thread("stream-feed", lambda: feed.run(self.stop))

    def _stream_floor(self) -> int:
        """The slowest stream consumer's saved position: compaction carries what follows it."""
        from dev.journal import positions

        assert self.store is not None
        saved = positions(self.store.directory)
        if self.feeds_stream:
            return saved.get(STREAM_CONSUMER, 0)
        others = [position for consumer, position in saved.items() if consumer != STREAM_CONSUMER]
        return min(others, default=0)

    # the request path's fallback spool ------------------------------------------------

    def _drain_fallback_loop(self) -> None:
        """Apply, every second, the facts the request path spooled when DynamoDB was slow."""
        last_error, last_logged = "", 0.0
        while not self.stop.wait(1.0):
            try:
                self._drain_fallback()
                last_error = ""
            except ModuleNotFoundError as exc:
                if exc.name != "chalicelib.store.fallback":
                    raise
                log.info("no fallback spool to drain (chalicelib.store.fallback is not there)")
                return
            except Exception as exc:  # keep draining: the spool stays on disk until applied
                message = f"{type(exc).__name__}: {exc}"
                if message != last_error or time.monotonic() - last_logged > 60:
                    log.error("draining the fallback spool failed (retried every second): %s", message)
                    last_error, last_logged = message, time.monotonic()

    def _drain_fallback(self) -> None:
        from chalicelib.store import fallback

        applied = fallback.drain_local()
        if applied:
            log.info("applied %d facts from the fallback spool", applied)

    # outbound webhooks ----------------------------------------------------------------

    def _dispatch_webhooks(self) -> None:
        """Attempt webhook deliveries as they come due: the ``dispatcher`` Lambda's part on AWS."""
        from chalicelib.outbound import dispatcher

        dispatcher.run_spool(Path(self.env["RELAIS_WEBHOOK_SPOOL"]), self.stop, on_error=lambda exc: log.error(
            "a webhook message failed (due again once its lease runs out): %s: %s", type(exc).__name__, exc))

    # e-mails --------------------------------------------------------------------------

    def _send_mail(self) -> None:
        """Send the outbox's e-mails to the local SMTP server: the ``mailer`` Lambda's part on AWS."""
        from chalicelib.outbound import mailer

        mailer.run_spool(Path(self.env["RELAIS_MAIL_SPOOL"]), self.stop, on_error=lambda exc: log.error(
            "an e-mail job failed (kept, retried): %s: %s", type(exc).__name__, exc))

    # imports ---------------------------------------------------------------------------

    def _run_imports(self) -> None:
        """Run the queued import jobs: the ``importer`` Lambda's part on AWS."""
        from chalicelib.domain import imports

        imports.run_spool(Path(self.env["RELAIS_IMPORT_SPOOL"]), self.stop, on_error=lambda exc: log.error(
            "an import job failed (kept, resumed in a few seconds): %s: %s", type(exc).__name__, exc))

    # running and stopping -------------------------------------------------------------

    def failure(self) -> str | None:
        """Why the stack must stop, if it must."""
        if any(child.poll() is not None for child in self.children):
            return "a child process exited"
        if self.store is not None and self.store.failure is not None:
            return f"the journal failed ({self.store.failure}); restart to recover"
        return None

    def banner(self) -> str:
        if self.store is not None:
            database = f"{self.env['RELAIS_DYNAMODB_ENDPOINT']} (moto behind the journal in {self.store.directory})"
        else:
            database = f"{self.env['RELAIS_DYNAMODB_ENDPOINT']} (moto, not persisted: RELAIS_JOURNAL=off)"
        return "\n".join([
            "",
            "Relais is running (Ctrl-C stops everything).",
            f"  API:            {self.api_url}",
            f"  Demo page:      {self.demo_url}/",
            f"  Dashboard:      {self.api_url}/dashboard#campaign={self.campaign_id}",
            f"  Demo campaign:  {self.campaign_id}",
            f"  Campaign key:   {self.api_key}",
            f"  Operator token: {self.env['RELAIS_ADMIN_TOKEN']}",
            f"  Operator page:  {self.api_url}/operator (create campaigns there with the operator token;",
            f"                  a local page shows a new campaign's widget once {self.demo_url}, or that",
            "                  page's own origin, is among the campaign's allowed origins)",
            f"  DynamoDB:       {database}",
            f"  Data:           {self.data_dir}",
            f"  E-mails:        {self.mail_dir}/*.eml (any mail client opens them; SMTP 127.0.0.1:{self.smtp_port})",
            "",
        ])

    def shutdown(self) -> None:
        """Stop serving, apply the spool, count what is left, close the journal, then stop the database."""
        self.stop.set()
        (self.data_dir / ENDPOINT_FILE).unlink(missing_ok=True)
        database, servers = (self.children[0], self.children[1:]) if self.children else (None, [])
        _stop(servers)
        try:
            self._finish_background_work()
        finally:
            if self.store is not None:
                self.store.stop_serving()
                self.store.close()
                if self.store.journal is not None:
                    log.info("stopped; the journal is durable up to %d", self.store.journal.durable_seq)
            if database is not None:
                _stop([database])
            if self.lock_fd is not None:
                os.close(self.lock_fd)

    def _finish_background_work(self) -> None:
        """With no server left to write: the threads stop, the spool and the stream are drained."""
        for name in ("fallback-drain", "stream-feed", "webhook-dispatcher", "mailer", "importer"):
            if name in self.threads:
                self.threads[name].join(30)
        if "fallback-drain" in self.threads:
            try:
                self._drain_fallback()
            except Exception as exc:
                log.error("last fallback drain failed (the spool is kept for the next start): %s", exc)
        if self.feed is not None:
            self.feed.drain()


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s relais.dev %(message)s", datefmt="%H:%M:%S")
    for noisy in ("botocore", "pynamodb"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    sys.path.insert(0, str(ROOT))
    stack = Stack()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stack.stop.set())
    failed = None
    try:
        stack.start()
        sys.stdout.write(stack.banner() + "\n")
        sys.stdout.flush()
        while not stack.stop.wait(0.5):
            failed = stack.failure()
            if failed:
                log.error("%s; stopping", failed)
                break
    finally:
        stack.shutdown()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
