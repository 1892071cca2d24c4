"""`collector doctor`: is there a usable Chromium here, and what fixes it if not."""

from __future__ import annotations

import platform
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from collector.browser import (
    DRIVER_CACHE,
    BrowserOptions,
    get_browser,
    headless_shell,
    start_playwright,
)
from collector.cache import UNUSABLE, cache_folder
from collector.environment import playwright_version
from collector.errors import CollectorError


@dataclass
class Diagnosis:
    """What doctor found; ``problem`` is set (with its fix) when something is missing."""

    python: str = field(default_factory=lambda: platform.python_version())
    os: str = field(default_factory=lambda: platform.platform())
    playwright: str = ""
    browser: str = ""
    browser_version: str = ""
    page_ok: bool = False
    headless_shell: str = ""
    cache: str = ""
    problem: CollectorError | None = None

    def lines(self) -> list[str]:
        rows = [
            ("Python", self.python),
            ("OS", self.os),
            ("Playwright", self.playwright or "not installed"),
            ("Chromium", self.browser or "not found"),
            ("Chromium version", self.browser_version or "-"),
            ("Page test", "ok" if self.page_ok else "failed"),
            ("Headless shell", self.headless_shell),
            ("Cache", self.cache),
        ]
        return [f"{name:<17} {value}" for name, value in rows]


async def diagnose(options: BrowserOptions) -> Diagnosis:
    """Find the browser, launch it and load a page; never raises for what it finds."""
    found = Diagnosis()
    found.headless_shell = headless_shell_state()
    found.cache = _cache_state()
    found.playwright = playwright_version()
    if not found.playwright:
        found.problem = CollectorError(
            f"Playwright is not installed; install it with `{sys.executable} -m pip install playwright`"
        )
        return found
    try:
        async with start_playwright() as pw:
            browser, origin = await get_browser(pw, options)
            found.browser = origin
            found.browser_version = browser.version
            try:
                page = await browser.new_page()
                await page.set_content("<p id=ok>ok</p>")
                found.page_ok = await page.text_content("#ok") == "ok"
            finally:
                await browser.close()
    except CollectorError as exc:
        found.problem = exc
    return found


def headless_shell_state(which: Callable[[str], str | None] = shutil.which) -> str:
    """Where the headless shell is, or what runs lose without it."""
    shell = headless_shell(which)
    if shell is not None:
        return f"{shell} (headless runs; --headed and record use Chromium)"
    return (
        "not installed: headless runs use Chromium itself, which opens each page several "
        "times slower (apt-get install -y chromium-headless-shell)"
    )


def _cache_state() -> str:
    """Where runs keep what saves them work (the driver's compiled code), or why they cannot."""
    folder = cache_folder(DRIVER_CACHE)
    if folder is None:
        return f"not usable, every run starts slower: {UNUSABLE[DRIVER_CACHE]}"
    return str(folder)
