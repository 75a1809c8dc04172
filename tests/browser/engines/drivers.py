"""The two engines fans use besides Chromium, behind one small interface: ``engine.profile()`` is a fresh
browser profile (its own cookies and storage) with one tab, which can ``goto`` a URL, ``run`` a JavaScript
expression, ``click`` or ``fill`` the element an expression finds, and list the tabs it opened.

- Gecko: Debian's Firefox ESR, headless, over WebDriver BiDi through puppeteer-core (``gecko_bridge.mjs``,
  a Node process spoken to one JSON line at a time). One Firefox per engine; a profile is a user context.
- WebKit: Debian's WebKitWebDriver and its MiniBrowser (WebKitGTK), through Selenium. Each profile is a
  session of its own on an Xvfb display of its own: a second MiniBrowser started on a display that
  another had used now and then never answered WebKitWebDriver (2 runs in 5 hung on it), which a
  display per session does not do. A session that does not start within ``TIMEOUT`` is killed,
  display included, and started once more.

Neither browser reaches anything but loopback addresses. Every request for another address goes to an
``OutsideProxy`` on 127.0.0.1, which records where the browser wanted to go, answers with a stub and
forwards nothing, so no name is looked up for it either; Firefox also resolves any name it would look up
to 127.0.0.1 (``network.dns.forceResolve``) and has its background services off (gecko_bridge.mjs). Every
server started here (the proxy, WebKitWebDriver, Xvfb without TCP, Firefox's BiDi socket) binds 127.0.0.1.
"""
from __future__ import annotations

import contextlib
import json
import os
import queue
import select
import shutil
import signal
import subprocess
import threading
import time
import warnings
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

from dev.processes import ROOT, die_with_parent, free_port, wait_http

ENGINES = ("gecko", "webkit")
FIREFOX = os.environ.get("RELAIS_FIREFOX", "/usr/bin/firefox-esr")
WEBKIT_DRIVER = os.environ.get("RELAIS_WEBKIT_DRIVER", "/usr/bin/WebKitWebDriver")
XVFB = os.environ.get("RELAIS_XVFB", "/usr/bin/Xvfb")
BRIDGE = Path(__file__).with_name("gecko_bridge.mjs")
PUPPETEER = ROOT / "node_modules" / "puppeteer-core" / "package.json"
TIMEOUT = 20.0
"""Seconds for a browser to start (1-2 s on an idle 2-core machine), or to answer one command (a page
load, a click, a script)."""

T = TypeVar("T")


class OutsideProxy:
    """A loopback HTTP proxy standing for the Internet: ``seen`` records each request for it (``host:443``
    for https, the URL for plain http); https is refused, http gets a stub page; nothing is forwarded.
    Firefox's own services are pointed at it directly (gecko_bridge.mjs): those requests (a path, not a
    URL) get a 404 and are not the Internet's."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_CONNECT(self) -> None:
                proxy.seen.append(self.path)
                self.send_response(403)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                if self.path.startswith("/"):
                    self.send_error(404)
                    return
                proxy.seen.append(self.path)
                body = b"<!doctype html><title>outside</title>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_HEAD = do_GET

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class StartFailed(RuntimeError):
    """A browser did not start (or not in time); what was started for it is stopped."""


def _require(path: str | Path, what: str) -> None:
    if not Path(path).exists():
        raise StartFailed(f"{path} is missing ({what}): run scripts/ensure-browser.sh and `npm ci` "
                          "(make test does both), or point the RELAIS_* variable at it.")


def _tail(log: Path, lines: int = 15) -> str:
    text = log.read_text(errors="replace").strip().splitlines()[-lines:] if log.exists() else []
    return ("\n" + "\n".join(text)) if text else ""


def _stop(process: subprocess.Popen | None, group: bool = False) -> None:
    """Stop ``process`` (with its process group if it leads one): SIGTERM, then SIGKILL after 5 s."""
    if process is None or process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            if group:
                os.killpg(process.pid, sig)
            else:
                process.send_signal(sig)
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def twice(start: Callable[[], T]) -> T:
    """``start()``, and once more if it failed (each start cleans up after itself when it fails); the
    first failure is reported as a warning in pytest's summary."""
    try:
        return start()
    except StartFailed as failed:
        warnings.warn(f"{failed} (started once more)", stacklevel=2)
        return start()


# Gecko ---------------------------------------------------------------------------------------------

class GeckoTab:
    """One Firefox profile (a WebDriver BiDi user context) with one tab."""

    def __init__(self, firefox: Gecko, index: int) -> None:
        self.firefox, self.index = firefox, index

    def goto(self, url: str) -> None:
        self.firefox.call("goto", page=self.index, url=url)

    @property
    def url(self) -> str:
        return self.firefox.call("url", page=self.index)

    def run(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (JSON-serialisable)."""
        return self.firefox.call("run", page=self.index, expression=expression)

    def click(self, target: str) -> None:
        """A real mouse click on the element that the JavaScript expression ``target`` finds."""
        self.firefox.call("click", page=self.index, target=target)

    def fill(self, target: str, text: str) -> None:
        """Empty the field that ``target`` finds, then type ``text`` into it, key by key."""
        self.firefox.call("fill", page=self.index, target=target, text=text)

    def other_windows(self) -> list[str]:
        """The URLs of the tabs this tab opened (a share button opens one)."""
        return self.firefox.call("others", page=self.index)


class Gecko:
    name = "gecko"

    def __init__(self, outside: OutsideProxy, log_dir: Path) -> None:
        for path, what in ((FIREFOX, "Debian's firefox-esr"), (PUPPETEER, "puppeteer-core, from package.json")):
            _require(path, what)
        self.outside = outside
        node = shutil.which("node")
        if node is None:
            raise StartFailed("node is missing (Debian's nodejs)")
        self.log = log_dir / "gecko-bridge.log"
        self.answers: queue.Queue[str] = queue.Queue()
        with self.log.open("a") as log:
            self.process = subprocess.Popen([node, str(BRIDGE), FIREFOX, str(outside.port)], cwd=ROOT, text=True,
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                            preexec_fn=die_with_parent)
        threading.Thread(target=self._read, daemon=True).start()
        try:
            self._answer("start", TIMEOUT + 5)  # the bridge's first line: Firefox answers, or its error
        except RuntimeError as error:
            self._stop_bridge()
            raise StartFailed(str(error)) from None

    def _read(self) -> None:
        assert self.process.stdout
        for line in self.process.stdout:
            self.answers.put(line)
        self.answers.put("")  # the bridge stopped

    def _answer(self, op: str, timeout: float) -> Any:
        try:
            line = self.answers.get(timeout=timeout)
        except queue.Empty:
            raise RuntimeError(f"Firefox did not answer {op} within {timeout:.0f}s{_tail(self.log)}") from None
        if not line:
            raise RuntimeError(f"the Firefox bridge stopped (exit {self.process.wait()}){_tail(self.log)}")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"Firefox, {op}: {answer['error']}")
        return answer["ok"]

    def call(self, op: str, **arguments) -> Any:
        assert self.process.stdin
        self.process.stdin.write(json.dumps({"op": op, **arguments}) + "\n")
        self.process.stdin.flush()
        return self._answer(op, TIMEOUT)

    def profile(self) -> GeckoTab:
        """A fresh profile (own cookies and storage), as a friend's browser would be."""
        return GeckoTab(self, self.call("profile"))

    def _stop_bridge(self) -> None:
        """Close Firefox (the bridge does when its input closes), or kill the bridge if it does not stop."""
        if self.process.stdin and not self.process.stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                self.process.stdin.close()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            _stop(self.process)

    def close(self) -> None:
        self._stop_bridge()
        self.outside.close()


# WebKit --------------------------------------------------------------------------------------------

class WebKitTab:
    """One WebKit session: an Xvfb display, a WebKitWebDriver and its MiniBrowser (ephemeral storage)."""

    def __init__(self, proxy: OutsideProxy, log: Path) -> None:
        self.xvfb: subprocess.Popen | None = None
        self.service: subprocess.Popen | None = None
        self.driver: Any = None
        self.log = log
        try:
            self._start(proxy)
        except Exception as error:  # a timeout, a refused session, a driver that died: all of it stopped
            self.close()
            raise StartFailed(f"WebKit did not start: {error!r}{_tail(self.log)}") from error

    def _display(self) -> str:
        """A new Xvfb display (no TCP); its number, which Xvfb picks among the free ones."""
        self.xvfb = subprocess.Popen([XVFB, "-displayfd", "1", "-screen", "0", "1280x900x24", "-nolisten", "tcp"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                     preexec_fn=die_with_parent)
        assert self.xvfb.stdout
        ready, _, _ = select.select([self.xvfb.stdout], [], [], TIMEOUT)
        number = self.xvfb.stdout.readline().strip() if ready else ""
        if not number.isdigit():
            raise StartFailed(f"Xvfb gave no display within {TIMEOUT:.0f}s")
        return f":{number}"

    def _start(self, proxy: OutsideProxy) -> None:
        from selenium import webdriver
        from selenium.webdriver.remote.client_config import ClientConfig

        env = {**os.environ, "DISPLAY": self._display()}
        env.pop("WAYLAND_DISPLAY", None)
        port = free_port()
        with self.log.open("a") as log:
            self.service = subprocess.Popen([WEBKIT_DRIVER, "--host=127.0.0.1", f"--port={port}"], env=env, cwd=ROOT,
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                            preexec_fn=die_with_parent)
        address = f"http://127.0.0.1:{port}"
        wait_http(f"{address}/status", timeout=TIMEOUT)
        options = webdriver.WebKitGTKOptions()
        # The proxy for every scheme, as MiniBrowser's own options: through WebDriver's proxy capability,
        # WebKitWebDriver makes sslProxy an HTTPS proxy (spoken to over TLS, so https cannot be told from
        # a refusal), and a SOCKS proxy serves no scheme at all (WebKit then looks names up itself).
        for argument in ("--automation", f"--proxy=http://127.0.0.1:{proxy.port}", "--ignore-host=127.0.0.1",
                         "--ignore-host=localhost"):
            options.add_argument(argument)
        # Every request of the session, its start included, is answered within TIMEOUT or fails
        self.driver = webdriver.Remote(command_executor=address, options=options,
                                       client_config=ClientConfig(remote_server_addr=address, timeout=TIMEOUT))

    def goto(self, url: str) -> None:
        self.driver.get(url)

    @property
    def url(self) -> str:
        return self.driver.current_url

    def run(self, expression: str) -> Any:
        return self.driver.execute_script(f"return ({expression});")

    def _act(self, target: str, action: Callable[[Any], None]) -> None:
        """Find the element and act on it, found again if the widget redrew its card in between."""
        from selenium.common.exceptions import ElementNotInteractableException, StaleElementReferenceException

        for attempt in range(5):
            try:
                return action(self.driver.execute_script(f"return ({target});"))
            except (StaleElementReferenceException, ElementNotInteractableException):
                if attempt == 4:
                    raise
                time.sleep(0.1)

    def click(self, target: str) -> None:
        self._act(target, lambda element: element.click())

    def fill(self, target: str, text: str) -> None:
        def fill(element) -> None:
            element.clear()
            element.send_keys(text)

        self._act(target, fill)

    def other_windows(self) -> list[str]:
        """The URLs of the windows this tab opened (a share button opens one)."""
        home, urls = self.driver.current_window_handle, []
        for handle in self.driver.window_handles:
            if handle != home:
                self.driver.switch_to.window(handle)
                urls.append(self.driver.current_url)
        self.driver.switch_to.window(home)
        return urls

    def close(self) -> None:
        if self.driver is not None:
            with contextlib.suppress(Exception):
                self.driver.quit()
            self.driver = None
        _stop(self.service, group=True)  # WebKitWebDriver, and the MiniBrowser it started if quit could not
        _stop(self.xvfb)


class WebKit:
    name = "webkit"

    def __init__(self, outside: OutsideProxy, log_dir: Path) -> None:
        for path, what in ((WEBKIT_DRIVER, "Debian's webkit2gtk-driver"), (XVFB, "Debian's xvfb")):
            _require(path, what)
        self.outside, self.log_dir = outside, log_dir
        self.tabs: list[WebKitTab] = []

    def profile(self) -> WebKitTab:
        """A fresh MiniBrowser (own storage, own display)."""
        log = self.log_dir / f"webkit-{len(self.tabs) + 1}.log"
        tab = twice(lambda: WebKitTab(self.outside, log))
        self.tabs.append(tab)
        return tab

    def close(self) -> None:
        for tab in self.tabs:
            tab.close()
        self.outside.close()


def start(name: str, log_dir: Path) -> Gecko | WebKit:
    """The engine called ``name`` with its own stand-in for the Internet (``engine.outside``), started
    once more if its first start failed. ``close()`` it."""
    engine = {"gecko": Gecko, "webkit": WebKit}[name]
    outside = OutsideProxy()
    try:
        return twice(lambda: engine(outside, log_dir))
    except BaseException:
        outside.close()
        raise
