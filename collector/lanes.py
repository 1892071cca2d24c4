"""A check worker's browser context and page, used again for page after page.

A fresh context per page costs Chromium a new renderer process and about
170 CPU-ms, twice what loading a small page costs: it was most of check's time.
Its headless shell opens contexts for a quarter of that, and reusing them still
pays there (12.8 against 10.4 pages/s, bench/check_throughput.py).
A lane keeps one context and one page and, between two pages, makes them
forget everything the last page left: the page goes to about:blank and its
history is dropped, other pages (popups) are closed, the context's cookies
and permissions are cleared, every origin the page's requests reached loses
its storage (local and session storage, IndexedDB, Cache Storage, service
workers), and the HTTP cache is emptied. What the next page can see is what a
fresh context shows (``tests/test_lanes.py`` checks each).

What costs round trips is set up once per context, not once per run: the
page's DevTools session with its console on (each run listens to it, and the
reset goes through it) and the driver's event subscriptions.

Anything unusual spoils the lane instead, and the next page gets a fresh
context: a page that crashed or stopped responding, a run that was
interrupted, more origins than the capture remembers, a reset step that
fails, a step whose effect no reset undoes (``LASTING_STEPS``).

Lanes serve ``check``'s plain URL targets and ``minimize``'s candidate runs
(the same steps again and again, each run as if in a fresh context); other
flows, traces and HARs keep a context of their own.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from collector.capture.devtools import PageConsole, enable_console
from collector.capture.quiet import TIMER_TRACKER
from collector.deadlines import CLOSE_S, within
from collector.errors import first_line

if TYPE_CHECKING:
    from collections.abc import Iterable

    from playwright.async_api import Browser, BrowserContext, Dialog, Page

    from collector.scenario import Step

# Steps whose effect outlives the document and that the reset does not undo: a key held
# down, the page's own viewport, network conditions (held by a DevTools session that lives
# as long as the page), the page closed.
LASTING_STEPS = frozenset({"key_down", "set_viewport", "emulate_network", "close"})

# A context serves this many pages before a fresh one: whatever a renderer keeps
# across documents (caches of compiled code, fonts, leaks) stays bounded.
PAGES_PER_CONTEXT = 50


class Lane:
    """One worker's context and page (see the module's docstring)."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.context: BrowserContext | None = None
        self.page: Page | None = None
        # The page's DevTools session: its console is on for the context's whole life
        # (each run listens to it), and the reset goes through it.
        self.console: PageConsole | None = None
        # Whether a run has the context (and answers its dialogs).
        self._lent = False
        self._settings: dict[str, Any] | None = None
        self._served = 0
        # Why the last context was not reused (for tests).
        self.spoiled: str | None = None
        # What went wrong closing a context, for the next run's notes.
        self.problems: list[str] = []
        # Contexts left in an unknown state (a run cancelled or failed while using one):
        # never used again, closed by the next take or close.
        self._dropped: list[BrowserContext] = []

    async def take(self, settings: dict[str, Any]) -> tuple[BrowserContext, Page]:
        """The lane's context and page for a run whose context needs ``settings``.

        A context opened with other settings, or one that served its share of
        pages, is closed and a new one opened (with the timer tracker installed).
        """
        if self.context is not None and (
            settings != self._settings or self._served >= PAGES_PER_CONTEXT
        ):
            self.drop()
        await self._close_dropped()
        if self.context is None or self.page is None or self.console is None:
            self.context = context = await self.browser.new_context(**settings)
            self._settings = dict(settings)
            self._served = 0
            # Playwright asks the driver for these events when the first listener comes and
            # stops when the last goes: a listener of the lane's own on each spares every run
            # those round trips (ten a page).
            context.on("request", _unheard)
            context.on("response", _unheard)
            context.on("requestfailed", _unheard)
            context.on("requestfinished", _unheard)
            context.on("dialog", self._answer_unheard)
            await context.add_init_script(TIMER_TRACKER)
            self.page = await context.new_page()
            session = await context.new_cdp_session(self.page)
            self.console = PageConsole(session, await enable_console(session))
        self._served += 1
        self._lent = True
        return self.context, self.page

    async def _answer_unheard(self, dialog: Dialog) -> None:
        """A dialog while no run listens (one the reset's about:blank raises): answered as
        Playwright answers a dialog nobody listens for, which this listener stops it doing."""
        if self._lent:
            return
        try:
            await (dialog.accept() if dialog.type == "beforeunload" else dialog.dismiss())
        except Exception as exc:  # the page went away meanwhile: nothing waits on the dialog
            self.problems.append(f"answering a {dialog.type} dialog: {first_line(exc)}")

    async def give_back(self, origins: set[str], spoiled: str | None = None) -> None:
        """Make the context forget the run that used it, or close it (``spoiled``: why).

        ``origins``: where the run's requests went (each loses its storage).
        """
        self._lent = False
        if spoiled is None:
            try:
                await within(self._reset(origins), CLOSE_S, "resetting the context")
            except Exception as exc:
                spoiled = f"reset failed: {first_line(exc)}"
        if spoiled is not None:
            self.spoiled = spoiled
            await self.close()

    async def _reset(self, origins: set[str]) -> None:
        context, page, console = self.context, self.page, self.console
        if context is None or page is None or console is None or page.is_closed():
            raise RuntimeError("the lane's page is gone")
        # about:blank first: the last document's script stops, so it writes nothing
        # more into what is cleared next.
        await asyncio.gather(
            page.goto("about:blank"), *(p.close() for p in context.pages if p is not page)
        )
        session = console.session
        clear = [
            session.send("Storage.clearDataForOrigin", {"origin": o, "storageTypes": "all"})
            for o in sorted(origins)
        ]
        await asyncio.gather(
            context.clear_cookies(),
            context.clear_permissions(),
            session.send("Network.clearBrowserCache"),
            session.send("Page.resetNavigationHistory"),
            # The browsing context's name outlives its documents. Through the session: a
            # Playwright evaluate would first install its helper script in about:blank.
            session.send("Runtime.evaluate", {"expression": "window.name = ''"}),
            *clear,
        )

    def drop(self) -> None:
        """Never use the current context again (it is closed by the next take or close)."""
        if self.context is not None:
            self._dropped.append(self.context)
        self.context, self.page, self.console = None, None, None
        self._lent = False

    async def close(self) -> None:
        """Close the lane's contexts (the next ``take`` opens a fresh one)."""
        self.drop()
        await self._close_dropped()

    async def _close_dropped(self) -> None:
        dropped, self._dropped = self._dropped, []
        closing = [within(c.close(), CLOSE_S, "closing a reused context") for c in dropped]
        for failure in await asyncio.gather(*closing, return_exceptions=True):
            if isinstance(failure, BaseException):
                # A browser that is gone took its contexts with it.
                self.problems.append(f"closing a reused context: {first_line(failure)}")


def _unheard(_event: Any) -> None:
    """Keeps the driver's subscription to an event on; the run's capture is what listens."""


def lasting_step(steps: Iterable[Step]) -> str | None:
    """The action of the first of ``steps`` whose effect a reset does not undo, if any."""
    return next((step.action for step in steps if step.action in LASTING_STEPS), None)
