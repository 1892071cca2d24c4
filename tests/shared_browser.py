"""One real Chromium per test process, for tests in this process and for the commands
they start.

Tests drive it from a background event loop (`BrowserLoop.run`). A command under test
that is not about launching a browser attaches to it with the product's own `--cdp`
option (`attach()`), so that it costs a connection instead of a Chromium start: most of
a short run's CPU time is the start.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class BrowserLoop:
    """One Playwright driver and Chromium on a background event loop, shared by tests.

    Tests call ``run(lambda browser: some_coroutine(browser, ...))`` from sync code.
    The browser also listens for DevTools clients at ``cdp_url``.
    """

    def __init__(self, headless_shell: bool = True) -> None:
        """``headless_shell``: the browser a headless run launches (else Chromium itself)."""
        self.headless_shell = headless_shell
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self._pw_manager: Any = None
        self.browser: Any = None
        self.cdp_url = ""
        self.run_sync(self._start)

    async def _start(self) -> None:
        from playwright.async_api import async_playwright

        from collector.browser import find_chromium, launch_args, needs_no_sandbox

        self._pw_manager = async_playwright()
        pw = await self._pw_manager.__aenter__()
        port = free_port()
        # Launched as collector launches it (same flags), plus a DevTools port.
        self.browser = await pw.chromium.launch(
            executable_path=str(find_chromium(headless=self.headless_shell)),
            args=[*launch_args(), f"--remote-debugging-port={port}"],
            chromium_sandbox=not needs_no_sandbox(),
        )
        self.cdp_url = f"http://127.0.0.1:{port}"

    async def _stop(self) -> None:
        await self.browser.close()
        await self._pw_manager.__aexit__(None, None, None)

    def run_sync(self, factory: Callable[[], Awaitable[T]], timeout: float = 120) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(_call(factory), self.loop)
        return future.result(timeout)

    def run(self, factory: Callable[[Any], Awaitable[T]], timeout: float = 120) -> T:
        return self.run_sync(lambda: factory(self.browser), timeout)

    def close(self) -> None:
        self.run_sync(self._stop)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


async def _call(factory: Callable[[], Awaitable[T]]) -> T:
    return await factory()


_shared: BrowserLoop | None = None


def shared_browser() -> BrowserLoop:
    """This process's browser, started on first use."""
    global _shared
    if _shared is None:
        _shared = BrowserLoop()
    return _shared


def attach() -> tuple[str, str]:
    """The options that make a collector command use the shared browser."""
    return ("--cdp", shared_browser().cdp_url)


def close_shared_browser() -> None:
    global _shared
    if _shared is not None:
        _shared.close()
        _shared = None


# Commands that start a browser, and the options by which a test chooses its own.
BROWSER_COMMANDS = frozenset({"repro", "replay", "check", "demo", "minimize"})
BROWSER_CHOICES = frozenset({"--connect", "--cdp", "--browser-path", "--headed"})


def attached(args: Sequence[str]) -> list[str]:
    """ARGS (a collector command line) with the shared browser's `--cdp` added when the
    command runs a browser and the test chose none."""
    args = [str(a) for a in args]
    if args and args[0] in BROWSER_COMMANDS and not BROWSER_CHOICES & set(args):
        return [*args, *attach()]
    return args
