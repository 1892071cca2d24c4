"""Shared test infrastructure: pages served on 127.0.0.1 and one real Chromium per session."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from shared_browser import BrowserLoop, close_shared_browser, shared_browser

PAGES = Path(__file__).parent / "pages"


# /body/NAME: (status, Content-Type, body) of HTTP errors with bodies worth keeping or not.
CARD_TOKEN = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
ERROR_BODIES: dict[str, tuple[int, str, bytes]] = {
    "card": (
        503,
        "application/json",
        b'{"error":"card processor unavailable","token":"%s"}' % CARD_TOKEN.encode(),
    ),
    "image": (500, "image/png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40),
    # 11 bytes, then 2-byte characters: the 4 kB cut falls in the middle of one.
    "big": (500, "text/plain; charset=utf-8", b"BIG-START: " + b"\xc3\xa9" * 600_000),
    "latin1": (400, "text/plain; charset=iso-8859-1", b"caf\xe9 ferm\xe9\x00\xff"),
    "hostile": (
        500,
        "text/html",
        b"</pre><script>alert(1)</script><img src=x onerror=alert(2)> ``` {{ 7*7 }}",
    ),
}


# Every GET this process's page server received, in order: a test that must act while a
# step is running waits for the request that step makes, instead of for a time.
SEEN_PATHS: list[str] = []


def wait_for_request(path: str, timeout: float = 60) -> None:
    """Block until the page server has received a GET for ``path`` (with its query)."""
    deadline = time.monotonic() + timeout
    while path not in SEEN_PATHS:
        assert time.monotonic() < deadline, f"no request for {path} within {timeout:g} s"
        time.sleep(0.05)


# /alternate?key=K answers "1", "0", "1" … per key: a bug that shows every other run
# (tests/pages/minimize/flaky.html), flaky at 50 % and still deterministic.
ALTERNATE_CALLS: dict[str, int] = {}
ALTERNATE_LOCK = threading.Lock()


def alternate(key: str) -> str:
    with ALTERNATE_LOCK:
        ALTERNATE_CALLS[key] = ALTERNATE_CALLS.get(key, 0) + 1
        return "1" if ALTERNATE_CALLS[key] % 2 else "0"


class PageHandler(SimpleHTTPRequestHandler):
    """Static files from tests/pages plus a few endpoints that misbehave on purpose."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, directory=str(PAGES), **kwargs)

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        return

    def do_GET(self) -> None:
        SEEN_PATHS.append(self.path)
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        if parts.path.startswith("/status/"):
            code = int(parts.path.rsplit("/", 1)[1])
            self._reply(code, b'{"error": "status %d"}' % code, "application/json")
        elif parts.path == "/slow":
            time.sleep(int(query.get("ms", ["500"])[0]) / 1000)
            self._reply(200, b"slow ok", "text/plain")
        elif parts.path == "/slow-body":
            self._slow_body(int(query.get("ms", ["600"])[0]) / 1000)
        elif parts.path == "/hang":
            time.sleep(30)
            self._reply(200, b"late", "text/plain")
        elif parts.path == "/echo":
            self._reply(200, parts.query.encode(), "text/plain")
        elif parts.path == "/alternate":
            self._reply(200, alternate(query.get("key", [""])[0]).encode(), "text/plain")
        elif parts.path.startswith("/body/"):
            self._error_body(parts.path.removeprefix("/body/"))
        else:
            super().do_GET()

    def end_headers(self) -> None:
        # ?max-age=N: a file the browser may keep in its HTTP cache (tests/pages/lanes).
        age = parse_qs(urlsplit(self.path).query).get("max-age")
        if age:
            self.send_header("Cache-Control", f"max-age={int(age[0])}")
        super().end_headers()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        parts = urlsplit(self.path)
        if parts.path.startswith("/status/"):
            code = int(parts.path.rsplit("/", 1)[1])
            self._reply(code, b'{"error": "status %d"}' % code, "application/json")
        else:
            self._reply(200, b'{"ok": true}', "application/json")

    def _slow_body(self, delay_s: float) -> None:
        """Headers at once, the body ``delay_s`` later: a response the page is still reading
        after Playwright has seen it (tests/pages/body-after-headers.html)."""
        body = b"the body"
        # A page that hangs up before the body is a failure the server thread reports.
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.flush()
        time.sleep(delay_s)
        self.wfile.write(body)

    def _error_body(self, name: str) -> None:
        """HTTP errors whose response bodies collector keeps (or not): see ERROR_BODIES."""
        if name == "stall":
            # Headers and the start of the body, then nothing for 30 s: a body that never ends.
            try:
                self.send_response(502)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "100000")
                self.end_headers()
                self.wfile.write(b"partial ")
                self.wfile.flush()
                time.sleep(30)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        code, content_type, body = ERROR_BODIES[name]
        self._reply(code, body, content_type)

    def _reply(self, code: int, body: bytes, content_type: str) -> None:
        try:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            return


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # clients that hang up early (hang/slow endpoints) are expected


@pytest.fixture(scope="session")
def pages_url() -> Iterator[str]:
    """Base URL (with trailing slash) of tests/pages served on a free port."""
    server = QuietServer(("127.0.0.1", 0), PageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser_loop() -> BrowserLoop:
    """The session's shared real Chromium, driven from a background event loop."""
    return shared_browser()


def pytest_sessionfinish(session: pytest.Session) -> None:
    close_shared_browser()


@pytest.fixture(scope="session")
def playwright_server() -> Iterator[str]:
    """`playwright run-server` on a free loopback port; yields its ws:// URL.

    --unsafe lets collector hand it this machine's Chromium (the server has none).
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    script = Path(sys.executable).parent / "playwright"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "playwright"]
    proc = subprocess.Popen(
        [*command, "run-server", "--port", str(port), "--host", "127.0.0.1", "--unsafe"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"playwright run-server exited with {proc.returncode}"
            assert time.monotonic() < deadline, "playwright run-server not ready after 60 s"
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            time.sleep(0.1)
        yield f"ws://127.0.0.1:{port}/"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)
        # The server's node outlives its Python launcher and that SIGTERM once a browser
        # was launched through it (Playwright's handler closes browsers, never exits):
        # nothing of the group may be left running after the tests.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


# `make test` runs `--dist loadfile`: one xdist worker takes each module whole, so a
# module-scoped fixture (a browser run, a build, a reference run) runs once. The modules
# that take longest start first, so that no long one is left to run alone at the end.
LONGEST_FIRST = (  # each module's wall time run alone, idle (bench/cpu_of.py), longest first
    "test_robustness",
    "test_minimize_cases",
    "test_recorder_reference",  # in a fresh clone its reference run adds some 20 s
    "test_pytest_projects",
    "test_check",
    "test_ci_outputs",
    "test_repro",
    "test_step_semantics",
    "test_minimize",
    "test_pytest_plugin",
    "test_replay",
    "test_replay_verdicts",
    "test_readme",
    "test_lanes",
    "test_inbox",
    "test_desk_words",
    "test_report_responsive",
    "test_record",
    "test_check_slow_servers",
    "test_repro_cli",
    "test_browser",
)


def module_of(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0].rsplit("/", 1)[-1].removesuffix(".py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(module_of(item), len(rank)))  # stable: order kept within
