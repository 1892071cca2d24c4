"""A tiny local server for the embedded demo shop.

The demo must work on a machine with no network and no second process to
start, so the shop is served from the package's own ``static/`` folder by the
standard library's :class:`~http.server.ThreadingHTTPServer` in a background
thread, on 127.0.0.1 and (by default) a free port chosen by the OS so that
parallel test runs never collide.

Usage::

    with DemoServer() as shop:            # variant="buggy"
        run_scenario(base_url=shop.url)   # http://127.0.0.1:PORT/

    with DemoServer(variant="fixed") as shop:
        ...                               # /api/pay succeeds: a replay is "not reproduced"

``python -m collector.demo.server`` serves the shop on http://127.0.0.1:8000/
(the URL the bundled scenarios use) until Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any, Literal
from urllib.parse import urlsplit

Variant = Literal["buggy", "fixed"]
VARIANTS: tuple[Variant, ...] = ("buggy", "fixed")

PAY_ERROR: dict[str, Any] = {"error": "card processor unavailable"}
PAY_OK: dict[str, Any] = {"data": {"card": "visa", "receipt": "R-1"}}
MAX_BODY_BYTES = 1_000_000
# What socketserver hands a handler: a TCP connection (a UDP server's datagram never comes here).
_Request = socket.socket | tuple[bytes, socket.socket]


@contextlib.contextmanager
def static_dir() -> Iterator[Path]:
    """The shop's ``static/`` folder as a real directory for as long as it is needed.

    ``importlib.resources`` rather than ``__file__`` so that the files are found
    from any installed form of the package (wheel, editable, zip import).
    """
    with resources.as_file(resources.files("collector.demo").joinpath("static")) as path:
        yield Path(path)


class _ShopHandler(SimpleHTTPRequestHandler):
    """Static files plus the shop's two API endpoints.

    The ``server`` attribute is a :class:`_ShopHTTPServer`, which carries the
    variant and the static folder, because the stdlib builds one handler per
    request and gives it nothing else.
    """

    server: _ShopHTTPServer
    # Explicit types (with charset) so the pages never depend on the host's mimetypes table.
    # Not a ClassVar: typeshed declares the stdlib's attribute an instance one.
    extensions_map: dict[str, str] = {  # noqa: RUF012
        **SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".css": "text/css",
        ".html": "text/html; charset=utf-8",
    }

    def __init__(
        self, request: _Request, client_address: Any, server: _ShopHTTPServer
    ) -> None:
        super().__init__(request, client_address, server, directory=str(server.root))

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: request lines would drown the collector's own output."""
        return

    def end_headers(self) -> None:
        # Browsers must always fetch the current variant's answers, never a cached page.
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/api/health":
            self._json(HTTPStatus.OK, {"status": "ok", "variant": self.server.variant})
        elif path.startswith("/api/"):
            self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})
        else:
            super().do_GET()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "request too large"})
            return
        self.rfile.read(length)  # the order itself is not needed, only drained
        path = urlsplit(self.path).path
        if path == "/api/pay":
            self.server.count_payment()
            if self.server.variant == "fixed":
                self._json(HTTPStatus.OK, PAY_OK)
            else:
                self._json(HTTPStatus.INTERNAL_SERVER_ERROR, PAY_ERROR)
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})

    def _json(self, status: HTTPStatus, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            return  # the browser closed the page mid-answer: nothing to tell anyone


class _ShopHTTPServer(ThreadingHTTPServer):
    """A threading server that knows its variant and never prints tracebacks."""

    daemon_threads = True  # a hung browser connection must not keep Python alive

    def __init__(self, address: tuple[str, int], root: Path, variant: Variant) -> None:
        self.root = root
        self.variant: Variant = variant
        self.payments = 0
        self._lock = threading.Lock()
        super().__init__(address, _ShopHandler)

    def count_payment(self) -> None:
        with self._lock:
            self.payments += 1

    def handle_error(self, request: _Request, client_address: Any) -> None:
        return  # browsers drop connections all the time; that is not the demo's bug


class DemoServer:
    """Serve the demo shop on 127.0.0.1 in a background thread (a context manager).

    ``variant="buggy"`` (the default) answers ``POST /api/pay`` with HTTP 500
    ``{"error": "card processor unavailable"}``, which makes the checkout page
    throw an uncaught ``TypeError``; ``variant="fixed"`` answers 200 with a
    receipt and the page shows "Thank you — payment received".
    ``port=0`` lets the OS pick a free port; read it back from :attr:`url`.
    """

    def __init__(
        self, variant: Variant = "buggy", *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {', '.join(VARIANTS)}, not {variant!r}")
        self.variant: Variant = variant
        self.host = host
        self.port = port
        self._stack: contextlib.ExitStack | None = None
        self._server: _ShopHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL with a trailing slash, e.g. ``http://127.0.0.1:41234/``."""
        if self._server is None:
            raise RuntimeError(
                "DemoServer is not running; use it as a context manager or call start()"
            )
        # The bound socket's own name (what server_address holds): a str host, where
        # server_address's declared type also admits bytes.
        host, port = self._server.socket.getsockname()[:2]
        return f"http://{host}:{port}/"

    @property
    def payments(self) -> int:
        """How many ``POST /api/pay`` requests arrived: lets tests prove the click happened."""
        return self._server.payments if self._server is not None else 0

    def start(self) -> DemoServer:
        """Bind the socket and serve in a daemon thread; returns self."""
        if self._server is not None:
            return self
        stack = contextlib.ExitStack()
        try:
            root = stack.enter_context(static_dir())
            server = _ShopHTTPServer((self.host, self.port), root, self.variant)
        except BaseException:
            stack.close()
            raise
        stack.callback(server.server_close)
        self._stack, self._server = stack, server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},  # quick stop(): tests start and stop it often
            name="collector-demo-shop",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port. Safe to call twice."""
        server, thread, stack = self._server, self._thread, self._stack
        self._server = self._thread = self._stack = None
        if server is not None:
            server.shutdown()
        if thread is not None:
            thread.join(5)
        if stack is not None:
            stack.close()

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """Serve the shop in the foreground until Ctrl-C (for trying the examples by hand)."""
    parser = argparse.ArgumentParser(
        prog="python -m collector.demo.server", description="Serve collector's demo shop."
    )
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port (default 8000)")
    parser.add_argument("--variant", choices=VARIANTS, default="buggy")
    args = parser.parse_args(argv)
    try:
        server = DemoServer(args.variant, port=args.port).start()
    except OSError as exc:
        print(f"cannot serve on 127.0.0.1:{args.port}: {exc.strerror or exc} (try --port 0)")
        return 3
    print(f"Demo shop ({args.variant}) at {server.url} — Ctrl-C to stop", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print()
        return 130
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
