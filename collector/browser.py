"""Find a Chromium, launch it (or connect to one), and hand out a Browser.

Playwright usually downloads its own Chromium; where it cannot (no general
network), the distribution's ``chromium`` package works just as well. Order:
``--browser-path``, Playwright's own build, then ``chromium``,
``chromium-browser``, ``google-chrome`` on PATH.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from collector.errors import BrowserLaunchError, BrowserNotFound

if TYPE_CHECKING:
    from playwright.async_api import Browser, Playwright

PATH_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
INSTALL_HINT = (
    "install it with `apt-get install -y chromium` (as root), "
    "or pass --browser-path /path/to/chrome"
)
# Without the networking flags Chromium keeps calling Google services, which on a
# closed network means a storm of refused connections at every start.
QUIET_FLAGS = (
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)
CONNECT_TIMEOUT_MS = 15_000


@dataclass(frozen=True)
class BrowserOptions:
    """How to get a browser: launch a local one, or connect to a remote one."""

    browser_path: str | None = None
    headed: bool = False
    connect: str | None = None
    cdp: str | None = None
    slow_mo: float = 0


def find_chromium(
    explicit: str | None = None,
    *,
    playwright_executable: str | None = None,
    which: Callable[[str], str | None] = shutil.which,
) -> Path:
    """Return the Chromium executable to launch, or raise BrowserNotFound."""
    if explicit:
        path = Path(explicit).expanduser()
        if not path.exists():
            raise BrowserNotFound(f"--browser-path {explicit}: no such file")
        if path.is_dir() or not os.access(path, os.X_OK):
            raise BrowserNotFound(f"--browser-path {explicit}: not an executable file")
        return path
    if playwright_executable and Path(playwright_executable).is_file():
        return Path(playwright_executable)
    for name in PATH_CANDIDATES:
        found = which(name)
        if found:
            return Path(found)
    raise BrowserNotFound(
        "no Chromium found (looked for Playwright's own build and "
        f"{', '.join(PATH_CANDIDATES)} on PATH); {INSTALL_HINT}"
    )


def needs_no_sandbox(euid: int | None = None) -> bool:
    """Chromium refuses to start its sandbox as root; elsewhere keep it."""
    if euid is None:
        euid = os.geteuid() if hasattr(os, "geteuid") else 1
    return euid == 0


def launch_args() -> list[str]:
    return list(QUIET_FLAGS)


def playwright_executable(pw: Playwright) -> str | None:
    try:
        return pw.chromium.executable_path
    except Exception:  # Playwright raises when its browser registry is unknown
        return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    for line in text.splitlines():
        line = line.strip(" =")
        if line and not line.startswith(("Browser logs", "Call log")):
            return line
    return type(exc).__name__


@asynccontextmanager
async def start_playwright() -> AsyncIterator[Playwright]:
    from playwright.async_api import async_playwright

    try:
        manager = async_playwright()
        pw = await manager.__aenter__()
    except Exception as exc:
        raise BrowserLaunchError(f"cannot start the Playwright driver: {_first_line(exc)}") from exc
    try:
        yield pw
    finally:
        await manager.__aexit__(None, None, None)


async def get_browser(pw: Playwright, options: BrowserOptions) -> tuple[Browser, str]:
    """Launch or connect; return the browser and a description of where it came from."""
    if options.connect:
        try:
            browser = await pw.chromium.connect(
                options.connect, timeout=CONNECT_TIMEOUT_MS, slow_mo=options.slow_mo or None
            )
        except Exception as exc:
            raise BrowserLaunchError(
                f"cannot connect to Playwright server {options.connect}: {_first_line(exc)}; "
                "is `playwright run-server` running there?"
            ) from exc
        return browser, f"remote Playwright server {options.connect}"
    if options.cdp:
        try:
            browser = await pw.chromium.connect_over_cdp(
                options.cdp, timeout=CONNECT_TIMEOUT_MS, slow_mo=options.slow_mo or None
            )
        except Exception as exc:
            raise BrowserLaunchError(
                f"cannot connect to Chromium over CDP at {options.cdp}: {_first_line(exc)}; "
                "start it with --remote-debugging-port"
            ) from exc
        return browser, f"Chromium over CDP at {options.cdp}"
    executable = find_chromium(
        options.browser_path, playwright_executable=playwright_executable(pw)
    )
    try:
        browser = await pw.chromium.launch(
            executable_path=str(executable),
            headless=not options.headed,
            args=launch_args(),
            chromium_sandbox=not needs_no_sandbox(),
            slow_mo=options.slow_mo or None,
        )
    except Exception as exc:
        hint = ""
        if options.headed and not os.environ.get("DISPLAY"):
            hint = " (--headed needs a display: set DISPLAY or run under xvfb-run)"
        raise BrowserLaunchError(
            f"Chromium at {executable} did not start: {_first_line(exc)}{hint}"
        ) from exc
    return browser, str(executable)


@asynccontextmanager
async def open_browser(options: BrowserOptions) -> AsyncIterator[tuple[Browser, str]]:
    """Playwright driver + browser for the duration of the block."""
    async with start_playwright() as pw:
        browser, origin = await get_browser(pw, options)
        try:
            yield browser, origin
        finally:
            try:
                await browser.close()
            except Exception:  # already gone (killed, disconnected): nothing left to close
                pass
