"""The Playwright front end: context-level listeners that feed the capture store.

Listening on the BrowserContext (not on each page) from before the first
navigation is what covers iframes, popups (their very first message included)
and workers. A run of collector takes each page's console through DevTools
(``collector.capture.devtools``); a test's context (pytest plugin) takes it
through Playwright's own console events, so sync and async tests get the
same verdicts. Every callback only appends to the bounded store.
"""

from __future__ import annotations

import asyncio
import time
from asyncio import FIRST_COMPLETED
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from playwright.async_api import Error as PlaywrightError

from collector.capture.bodies import (
    body_excerpt,
    is_text_type,
    media_type,
    not_text_note,
    over_cap_note,
    run_ended_note,
    too_slow_note,
    unreadable_note,
)
from collector.capture.devtools import (
    PLAYWRIGHT_MARKER,
    ConsoleTarget,
    PageConsole,
    enable_console,
    one_based,
)
from collector.capture.quiet import TIMER_TRACKER
from collector.capture.store import UNRESPONSIVE, CaptureLimits, CaptureStore
from collector.deadlines import NoAnswer, evaluate_within
from collector.errors import first_line

if TYPE_CHECKING:
    from playwright.async_api import (
        Browser,
        BrowserContext,
        ConsoleMessage,
        Dialog,
        Download,
        Page,
        Request,
        Response,
        WebError,
    )

NATIVE_PREFIXES = ("Failed to load resource",)
CONSOLE_LEVELS = {"warning": "warning", "assert": "error", "trace": "log"}
SETTLE_S = 5.0
# A failed response's body: how long one read may take, and how long the end of a
# run waits for the reads still going (a body that never ends must not hold the run).
BODY_READ_S = 10.0
BODY_FINISH_S = 3.0
# Bodies kept per run: 20 x 4 kB keeps report.json and report.html far under the budget.
MAX_BODIES = 20
# Origins remembered per run (more: the run's context is not reused, see collector.lanes).
MAX_ORIGINS = 32


class Capture(CaptureStore):
    """Collects events from one BrowserContext and attributes them to steps."""

    def __init__(
        self,
        limits: CaptureLimits | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(limits, clock, wall_clock)
        self._pending: set[Request] = set()
        self._page_labels: dict[Page, str] = {}
        self.pages: list[Page] = []
        self.crashed = False
        self.disconnected = False
        # Set when a page crashes or the browser goes away: a running step stops at once.
        self.broken = asyncio.Event()
        # Pages whose script never answered again: nothing may wait on them any more.
        self.unresponsive: set[Page] = set()
        self.closed = False
        self._browser: Browser | None = None
        self._context: BrowserContext | None = None
        self._console_via_cdp = True
        # Each page's DevTools console being attached, and the label of its page.
        self._attaching: dict[asyncio.Future[None], str] = {}
        self._given_up: set[asyncio.Future[None]] = set()
        # The DevTools console of each page (collector's own runs).
        self.consoles: list[ConsoleTarget] = []
        self._cdp_sessions: list[Any] = []
        # Response bodies of HTTP errors being read (collector's own runs only): task -> entry.
        self._read_bodies = False
        self._bodies_started = 0
        self._body_reads: dict[asyncio.Future[None], tuple[tuple[Any, ...], dict[str, Any]]] = {}
        # URLs that answered as documents: a frame there is an inline script, and the page
        # is not fetched again to look for a source map.
        self.documents: set[str] = set()
        # The origins the run's requests went to: what a reused context must forget after
        # the run (collector.lanes); over MAX_ORIGINS, the context is not reused.
        self.origins: set[str] = set()
        # Each page's DevTools session (its console's): "quiet" asks the page through it.
        self._sessions: dict[Page, Any] = {}
        # Every listener this capture added, so that a context that outlives the run
        # (collector.lanes) reports nothing more to it.
        self._listening: list[tuple[Any, str, Callable[[Any], Any]]] = []

    # -- attaching -----------------------------------------------------------

    async def attach(
        self, context: BrowserContext, browser: Browser | None = None, *, tracker: bool = True
    ) -> None:
        """Listen on ``context`` (call before the first page opens).

        ``tracker=False``: the context already has the timer tracker (a reused one).
        """
        if tracker:
            await context.add_init_script(TIMER_TRACKER)
        self._context = context
        self._read_bodies = True
        self._listen(context)
        # Dialogs block the page until answered: a reproduction dismisses and records them.
        self._on(context, "dialog", self._on_dialog)
        if browser is not None:
            self._browser = browser
            self._on(browser, "disconnected", self._on_disconnected)

    def adopt(self, page: Page, console: PageConsole | None = None) -> None:
        """Take ``page``, opened before this capture listened (a reused context's), as its first.

        ``console``: the page's DevTools session, kept with the context (``collector.lanes``):
        its console is listened to as it is, neither attached again nor detached.
        """
        self._on_page(page, console)

    def attach_sync(self, context: Any) -> None:
        """Listen on a context of Playwright's sync API (pytest-playwright's fixtures).

        The console comes through Playwright's own context-level event there, and
        dialogs are left to the test, which may answer them itself.
        """
        context.add_init_script(TIMER_TRACKER)
        self._listen_like_a_test(context)

    async def attach_test(self, context: BrowserContext) -> None:
        """``attach_sync`` for a context of the async API (pytest-playwright-asyncio):
        the same listeners, so sync and async tests get the same verdicts."""
        await context.add_init_script(TIMER_TRACKER)
        self._listen_like_a_test(context)

    def _listen_like_a_test(self, context: Any) -> None:
        self._console_via_cdp = False
        self._listen(context)
        self._on(context, "console", self._on_console)
        self._on(context, "weberror", self._on_web_error)

    def _listen(self, context: Any) -> None:
        self._on(context, "request", self._on_request)
        self._on(context, "response", self._on_response)
        self._on(context, "requestfailed", self._on_request_failed)
        self._on(context, "requestfinished", self._on_request_done)
        self._on(context, "page", self._on_page)

    def _on(self, emitter: Any, event: str, handler: Callable[[Any], Any]) -> None:
        listener = self._guard(handler)
        emitter.on(event, listener)
        self._listening.append((emitter, event, listener))

    def detach(self) -> None:
        """Stop recording: what a closing browser (or the next run in a reused context)
        reports is not part of the run."""
        self.closed = True
        for emitter, event, listener in self._listening:
            emitter.remove_listener(event, listener)
        self._listening.clear()

    def _guard(self, handler: Callable[[Any], Any]) -> Callable[[Any], Any]:
        """A failing listener must not lose the run: record the failure instead."""

        def call(arg: Any) -> Any:
            if self.closed:
                return None
            try:
                return handler(arg)
            except Exception as exc:
                self.note(f"{handler.__name__}: {type(exc).__name__}: {exc}")
                return None

        return call

    # -- what the run asks ---------------------------------------------------

    @property
    def pending_requests(self) -> int:
        return len(self._pending)

    def open_pages(self) -> list[Page]:
        """The pages still open and answering (a hung one is left alone)."""
        return [p for p in self.pages if not p.is_closed() and p not in self.unresponsive]

    def attached(self) -> bool:
        """Whether every console session is attached and has replayed what came before."""
        return not self._still_attaching()

    def navigating(self, page: Page) -> bool:
        """Whether ``page``'s main frame waits for a document that has not arrived.

        DevTools holds every message to such a page until the navigation commits,
        so it does not answer an evaluate either: waiting on a server is not a
        hung script, and must not be taken for one.
        """
        return any(
            r.is_navigation_request() and _has_frame(r) and r.frame == page.main_frame
            for r in list(self._pending)
        )

    def pages_navigating(self) -> list[Page]:
        """Pages whose main frame still waits for a navigation's answer.

        A server that accepts the connection and never answers leaves the page
        here for good; screenshots and evaluations of such a page wait for the
        navigation to commit, so the runner stops it before taking its picture.
        """
        pages: list[Page] = []
        for request in list(self._pending):
            if not request.is_navigation_request() or not _has_frame(request):
                continue
            frame = request.frame
            if frame.parent_frame is None and frame.page not in pages:
                pages.append(frame.page)
        return pages

    def stopped_responding(self, page: Page) -> None:
        """``page``'s script is busy for good: record it once, against the running step."""
        if page in self.unresponsive:
            return
        self.unresponsive.add(page)
        self.record(
            "crash", "error", UNRESPONSIVE, url=page.url, source=self.source_of(page),
            at_step=self.running_step,
        )  # fmt: skip

    def source_of(self, page: Page | None) -> str:
        if page is None:
            return ""
        return self._page_labels.get(page, "page")

    # -- DevTools consoles ---------------------------------------------------

    def _on_page(self, page: Page, console: PageConsole | None = None) -> None:
        number = len(self.pages) + 1
        label = f"page {number}" if number == 1 else f"page {number} (popup)"
        self.pages.append(page)
        self._page_labels[page] = label
        self._on(page, "crash", self._on_crash)
        self._on(page, "download", self._on_download)
        if console is not None:
            self._listen_console(console.session, label, page).main_frame = console.main_frame
        elif self._console_via_cdp:
            self._attaching[asyncio.ensure_future(self._attach_console(page, label))] = label

    async def _attach_console(self, page: Page, label: str) -> None:
        """Console messages through a CDP session of the page (see ``capture.devtools``)."""
        if self._context is None:
            return
        try:
            session = await self._context.new_cdp_session(page)
        except Exception as exc:
            # Not Chromium, or the page is already gone: Playwright's listener still works.
            self.note(f"console via CDP for {label}: {first_line(exc)}; using Playwright's")
            self._on(page, "console", self._on_console)
            self._on(page, "pageerror", lambda error: self._on_page_error(page, error))
            return
        # Listening before the console is enabled: what it replays is kept.
        console = self._listen_console(session, label, page)
        self._cdp_sessions.append(session)
        try:
            console.main_frame = await enable_console(session)
        except Exception as exc:
            if not page.is_closed():
                self.note(f"console via CDP for {label}: {first_line(exc)}")

    def _listen_console(self, session: Any, label: str, page: Page) -> ConsoleTarget:
        console = ConsoleTarget(self, label)
        self.consoles.append(console)
        console.listen(session, self._on)
        self._sessions[page] = session
        return console

    async def evaluate(self, page: Page, expression: str, seconds: float) -> Any:
        """``expression``'s value in ``page``, or NoAnswer after ``seconds`` (``Evaluate``).

        Through the page's DevTools session when it has one: Playwright's evaluate
        first installs a helper script in each new document, which costs a check's
        page more than the question.
        """
        session = self._sessions.get(page)
        if session is None or self.broken.is_set():
            # Playwright knows a crashed page and fails at once; a session to it stays silent.
            return await evaluate_within(page, expression, seconds)
        asking = asyncio.ensure_future(
            session.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        )
        breaking = asyncio.ensure_future(self.broken.wait())
        try:
            await asyncio.wait({asking, breaking}, timeout=seconds, return_when=FIRST_COMPLETED)
        finally:
            breaking.cancel()
            if not asking.done():
                asking.cancel()
        if not asking.done() or asking.cancelled():
            if self.broken.is_set():
                raise PlaywrightError("the page crashed or the browser went away")
            raise NoAnswer(f"evaluating {expression}: no answer within {seconds:g} s")
        reply = asking.result()
        if "exceptionDetails" in reply:
            details = reply["exceptionDetails"]
            raise PlaywrightError(str((details.get("exception") or details).get("description")))
        return (reply.get("result") or {}).get("value")

    def _still_attaching(self) -> list[asyncio.Future[None]]:
        waits = [t for t in self._attaching if not t.done() and t not in self._given_up]
        return waits + [f for console in self.consoles for f in console.unanswered()]

    async def settle(self, timeout_s: float = SETTLE_S) -> None:
        """Wait until every page's console session is attached (and has replayed).

        What has not answered within ``timeout_s`` is named in the capture notes
        and not waited for again.
        """
        pending = self._still_attaching()
        if not pending:
            return
        await asyncio.wait(pending, timeout=timeout_s)
        children = 0
        for waiting in self._still_attaching():
            self._given_up.add(waiting)
            label = self._attaching.get(waiting)
            if label is not None:
                self.note(f"console via CDP for {label}: not attached within {timeout_s:g} s")
            else:
                waiting.set_result(None)  # a child target's answer that never came
                children += 1
        if children:
            self.note(
                f"console of child targets (frames, workers): {children} request(s) "
                f"unanswered within {timeout_s:g} s; their early messages may be missing"
            )

    def close_sessions(self) -> None:
        """Forget the DevTools sessions: closing the context ends them (no round trip)."""
        ended = self._cdp_sessions
        self._sessions = {p: s for p, s in self._sessions.items() if s not in ended}
        self._cdp_sessions = []
        for task in self._attaching:
            task.cancel()

    async def detach_sessions(self, timeout_s: float) -> None:
        """End the DevTools sessions of a context that stays open (a reused one)."""
        sessions = list(self._cdp_sessions)
        self.close_sessions()
        if sessions:
            await asyncio.wait_for(asyncio.gather(*(s.detach() for s in sessions)), timeout_s)

    # -- Playwright events ---------------------------------------------------

    def _on_console(self, msg: ConsoleMessage) -> None:
        """Playwright's console event: for sync-API contexts, or when CDP is unavailable."""
        level = CONSOLE_LEVELS.get(msg.type, msg.type)
        location = msg.location
        text = msg.text
        if text.startswith(PLAYWRIGHT_MARKER):
            return
        worker = getattr(msg, "worker", None)
        source = f"worker {worker.url}" if worker is not None else self.source_of(msg.page)
        self.record(
            "console",
            level,
            text,
            url=location.get("url") or None,
            line=one_based(location.get("lineNumber")),
            column=one_based(location.get("columnNumber")),
            source=source,
            native=text.startswith(NATIVE_PREFIXES) and not msg.args,
        )

    def _on_web_error(self, web_error: WebError) -> None:
        self._on_page_error(web_error.page, web_error.error)

    def _on_page_error(self, page: Page | None, error: Any) -> None:
        """Playwright's view of an uncaught exception (sync-API contexts, CDP fallback)."""
        stack = error.stack or ""
        name = error.name or "Error"
        message = error.message or ""
        url, line, column = _top_location(stack)
        self.page_error(
            f"{name}: {message}" if name and not message.startswith(name) else message,
            name=name,
            rejection="rejection" in name.lower() or stack.startswith("Uncaught (in promise)"),
            url=url, line=line, column=column, stack=stack or None, source=self.source_of(page),
        )  # fmt: skip

    def _on_request(self, request: Request) -> None:
        self._pending.add(request)
        self.touch()
        if len(self.origins) <= MAX_ORIGINS:
            origin = _origin(request.url)
            if origin:
                self.origins.add(origin)

    def _on_request_done(self, request: Request) -> None:
        self._pending.discard(request)
        self.touch()

    def _on_response(self, response: Response) -> None:
        # A response settles its request for "quiet": pages that never read a
        # failed response's body never get a requestfinished for it.
        request = response.request
        self._pending.discard(request)
        self.touch()
        if request.resource_type == "document":
            self.documents.add(request.url.split("#", 1)[0])
        status = response.status
        if status < 400:
            return
        frame = request.frame if _has_frame(request) else None
        key = self.record(
            "http_error",
            "error",
            f"HTTP {status} {response.status_text or ''} {request.method} {request.url}".replace(
                "  ", " "
            ),
            url=request.url,
            source=self.source_of(frame.page if frame else None),
            status=status,
            method=request.method,
        )
        if key is not None and self._read_bodies:
            self._read_body_later(key, response)

    # -- response bodies of HTTP errors ----------------------------------------

    def _read_body_later(self, key: tuple[Any, ...], response: Response) -> None:
        content_type = response.headers.get("content-type")
        info: dict[str, Any] = {"content_type": content_type}
        self.add_detail(key, response=info)
        if media_type(content_type) and not is_text_type(content_type):
            # Not text: not even read (an image or a download can be large).
            length = response.headers.get("content-length", "")
            info.update(note=not_text_note(content_type), duration_ms=_duration(response))
            if length.isdigit():
                info["bytes"] = int(length)
            self.add_detail(key, response=info)
            return
        if self._bodies_started >= MAX_BODIES:
            info.update(note=over_cap_note(MAX_BODIES), duration_ms=_duration(response))
            self.add_detail(key, response=info)
            return
        self._bodies_started += 1
        task = asyncio.ensure_future(self._read_body(key, response, info))
        self._body_reads[task] = (key, info)
        task.add_done_callback(lambda done: self._body_reads.pop(done, None))

    async def _read_body(
        self, key: tuple[Any, ...], response: Response, info: dict[str, Any]
    ) -> None:
        try:
            data = await asyncio.wait_for(response.body(), BODY_READ_S)
        except TimeoutError:
            info = {**info, "note": too_slow_note(BODY_READ_S)}
        except Exception as exc:
            info = {**info, "note": unreadable_note(first_line(exc))}
        else:
            info = {**info, **body_excerpt(data, info["content_type"])}
        info["duration_ms"] = _duration(response)
        self.add_detail(key, response=info)

    async def finish_bodies(self, timeout_s: float = BODY_FINISH_S) -> None:
        """Wait (at most ``timeout_s``) for the bodies still being read; note the others."""
        pending = list(self._body_reads)
        if not pending:
            return
        await asyncio.wait(pending, timeout=timeout_s)
        for task in pending:
            if task.done():
                continue
            key, info = self._body_reads.pop(task, (None, {}))
            task.cancel()
            if key is not None:
                note = run_ended_note(timeout_s)
                self.add_detail(key, response={**info, "note": note})

    def _on_request_failed(self, request: Request) -> None:
        self._pending.discard(request)
        failure = request.failure or "failed"
        # Navigations cancel in-flight requests; that is not an error of the page.
        level = "warning" if "ERR_ABORTED" in failure else "error"
        frame = request.frame if _has_frame(request) else None
        self.record(
            "request_failed",
            level,
            f"{request.method} {request.url} failed: {failure}",
            url=request.url,
            source=self.source_of(frame.page if frame else None),
            method=request.method,
        )

    def _on_dialog(self, dialog: Dialog) -> None:
        source = self.source_of(dialog.page)
        self.record("dialog", "info", f"{dialog.type}: {dialog.message}", source=source)
        # Dialogs block the page until answered; a reproduction must not hang on one.
        dismissing = asyncio.ensure_future(dialog.dismiss())

        def dismissed(task: asyncio.Future[None]) -> None:
            failure = None if task.cancelled() else task.exception()
            page = dialog.page
            if failure is not None and not (page is not None and page.is_closed()):
                self.note(f"dialog of {source or 'a page'} not dismissed: {first_line(failure)}")

        dismissing.add_done_callback(dismissed)

    def _on_crash(self, page: Page) -> None:
        self.crashed = True
        self.broken.set()
        self.record(
            "crash", "error", "The page crashed", url=page.url, source=self.source_of(page),
            at_step=self.running_step,
        )  # fmt: skip

    def _on_download(self, download: Download) -> None:
        self.record(
            "download",
            "info",
            f"download {download.suggested_filename} from {download.url}",
            url=download.url,
            source=self.source_of(download.page),
        )

    def _on_disconnected(self, _browser: Browser) -> None:
        self.disconnected = True
        self.broken.set()
        self.record(
            "disconnect", "error", "The browser disconnected (closed or killed)",
            at_step=self.running_step,
        )  # fmt: skip


def _duration(response: Response) -> int | None:
    """Milliseconds from the request's start to its response's end (or first byte)."""
    timing = response.request.timing  # a plain dict Playwright fills in; -1 where unknown
    for point in ("responseEnd", "responseStart"):
        value = timing.get(point, -1)
        if isinstance(value, int | float) and value >= 0:
            return round(value)
    return None


def _origin(url: str) -> str | None:
    """scheme://host[:port] of an http(s) URL (what storage is kept by), else None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2].lower()}"


def _has_frame(request: Request) -> bool:
    try:
        request.frame  # noqa: B018 - raises for service-worker requests
    except Exception:
        return False
    return True


def _top_location(stack: str) -> tuple[str | None, int | None, int | None]:
    """URL, line and column of the first frame of a V8 stack that has them."""
    for raw in stack.splitlines()[1:12]:
        line = raw.strip()
        if not line.startswith("at "):
            continue
        where = line[line.rfind("(") + 1 : -1] if line.endswith(")") else line[3:]
        parts = where.rsplit(":", 2)
        if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
            return parts[0], int(parts[1]), int(parts[2])
    return None, None, None
