"""Context-level listeners that turn what the browser reports into bounded events.

Listening on the BrowserContext (not on each page) from before the first
navigation is what covers iframes, popups (their very first message included)
and workers. Every callback only appends to a bounded, folding store: a page
that logs 100,000 errors costs a counter bump per message once the caps are
reached, and huge texts are cut when they arrive.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from collector.deadlines import NoAnswer, answers, ignore_result, within
from collector.errors import first_line
from collector.report import Event

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

# Wraps setTimeout so that "quiet" can wait for short timers already scheduled:
# an exception thrown by a timer 1-2 s after a click must land in the report.
# Long timers and intervals (heartbeats, polling) are not counted. A dedicated
# worker counts as a short timer for its first seconds: its script is fetched and
# run after the page looks quiet, and what it logs comes later still.
TIMER_TRACKER_JS = """
(() => {
  if (window.__collectorPendingTimers !== undefined) return;
  // Only the due time of each short timer is noted; callbacks are not wrapped, so
  // stack traces of errors thrown by timers stay exactly as the page made them.
  const set = window.setTimeout, clear = window.clearTimeout, due = new Map();
  window.setTimeout = function (fn, delay, ...rest) {
    const id = set.call(window, fn, delay, ...rest);
    const ms = Number(delay) || 0;
    if (typeof fn === 'function' && ms <= %(max_ms)d) due.set(id, performance.now() + ms);
    return id;
  };
  window.clearTimeout = function (id) { due.delete(id); return clear.call(window, id); };
  const workers = [];
  if (typeof window.Worker === 'function') {
    window.Worker = new Proxy(window.Worker, {construct(target, args, newTarget) {
      workers.push(performance.now() + %(worker_ms)d);
      return Reflect.construct(target, args, newTarget);
    }});
  }
  Object.defineProperty(window, '__collectorPendingTimers', {get: () => {
    const now = performance.now();
    for (const [id, at] of due) if (at + 50 < now) due.delete(id);
    while (workers.length && workers[0] < now) workers.shift();
    return due.size + workers.length;
  }});
})();
"""
TRACKED_TIMER_MAX_MS = 5000
WORKER_START_MS = 2000
TIMER_TRACKER = TIMER_TRACKER_JS % {"max_ms": TRACKED_TIMER_MAX_MS, "worker_ms": WORKER_START_MS}
# Beyond this, a DevTools timestamp is not from this machine's clock.
CLOCK_TRUST_MS = 60_000
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
NATIVE_PREFIXES = ("Failed to load resource",)
CONSOLE_LEVELS = {"warning": "warning", "assert": "error", "trace": "log"}
CDP_CONSOLE_LEVELS = {
    "warning": "warning", "assert": "error", "trace": "log", "dir": "log", "dirxml": "log",
    "table": "log", "count": "log", "timeEnd": "log", "startGroup": "log",
    "startGroupCollapsed": "log", "endGroup": "log", "clear": "log",
}  # fmt: skip
CDP_LOG_LEVELS = {"verbose": "debug", "info": "info", "warning": "warning", "error": "error"}
PLAYWRIGHT_MARKER = "--playwright"
UNRESPONSIVE = "The page stopped responding (its script is busy)"
FORMAT_SPEC = re.compile(r"%[sdifoOc%]")


@dataclass(frozen=True)
class CaptureLimits:
    """Caps that keep memory and report size bounded, whatever the page does."""

    max_text_chars: int = 8_000
    max_stack_chars: int = 8_000
    max_console_entries: int = 1_000
    max_other_entries: int = 300


def safe_text(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` chars with a marker, and make it valid UTF-8.

    Pages can log lone surrogates, which cannot be encoded as UTF-8; they
    become U+FFFD. NUL and control characters stay: JSON escapes them, and the
    human-readable outputs escape them on the way out.
    """
    cut = ""
    if len(text) > limit:
        dropped = len(text[limit:].encode("utf-8", "surrogatepass"))
        cut = f" … [truncated {dropped} bytes]"
        text = text[:limit]
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = LONE_SURROGATE.sub("\ufffd", text)
    return text + cut


class Capture:
    """Collects events from one BrowserContext and attributes them to steps."""

    def __init__(
        self,
        limits: CaptureLimits | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.limits = limits or CaptureLimits()
        self._clock = clock
        self._start = clock()
        self.current_step: int | None = None
        # The step being performed, passive or not: what a crash or a hang interrupts.
        self.running_step: int | None = None
        # (wall-clock ms, step) as steps start: DevTools events carry the time they
        # happened, and may arrive after the next step started.
        self._step_starts: list[tuple[float, int]] = []
        self._wall_clock = wall_clock
        self._entries: dict[tuple[Any, ...], list[Any]] = {}
        self._kept_per_kind: dict[str, int] = {}
        self.totals: dict[str, Any] = {}
        self.dropped = 0
        self.problems: list[str] = []
        self._pending: set[Request] = set()
        self._last_activity = clock()
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
        self._attaching: list[asyncio.Future[None]] = []
        self._cdp_sessions: list[Any] = []
        self._disconnect_listener: Callable[[Any], Any] = lambda _arg: None

    # -- attaching -----------------------------------------------------------

    async def attach(self, context: BrowserContext, browser: Browser | None = None) -> None:
        """Listen on ``context`` (call before the first page opens)."""
        await context.add_init_script(TIMER_TRACKER)
        self._context = context
        self._listen(context)
        # Dialogs block the page until answered: a reproduction dismisses and records them.
        context.on("dialog", self._guard(self._on_dialog))
        if browser is not None:
            self._browser = browser
            self._disconnect_listener = self._guard(self._on_disconnected)
            browser.on("disconnected", self._disconnect_listener)

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
        context.on("console", self._guard(self._on_console))
        context.on("weberror", self._guard(self._on_web_error))

    def _listen(self, context: Any) -> None:
        context.on("request", self._guard(self._on_request))
        context.on("response", self._guard(self._on_response))
        context.on("requestfailed", self._guard(self._on_request_failed))
        context.on("requestfinished", self._guard(self._on_request_done))
        context.on("page", self._guard(self._on_page))

    @property
    def pending_requests(self) -> int:
        return len(self._pending)

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

    def idle_for_ms(self) -> float:
        return (self._clock() - self._last_activity) * 1000

    def detach(self) -> None:
        """Stop recording: what a closing browser reports is not part of the run."""
        self.closed = True
        if self._browser is not None:
            self._browser.remove_listener("disconnected", self._disconnect_listener)

    def _guard(self, handler: Callable[[Any], Any]) -> Callable[[Any], Any]:
        """A failing listener must not lose the run: record the failure instead."""

        def call(arg: Any) -> Any:
            if self.closed:
                return None
            try:
                return handler(arg)
            except Exception as exc:
                if len(self.problems) < 50:
                    self.problems.append(f"{handler.__name__}: {type(exc).__name__}: {exc}")
                return None

        return call

    # -- the store -----------------------------------------------------------

    def step_started(self, index: int) -> None:
        """Events from now on belong to step ``index`` (the last step started before them)."""
        self.current_step = index
        self._step_starts.append((self._wall_clock() * 1000, index))

    def step_running(self, index: int) -> None:
        """Step ``index`` is being performed (passive steps included)."""
        self.running_step = index

    def stopped_responding(self, page: Page) -> None:
        """``page``'s script is busy for good: record it once, against the running step."""
        if page in self.unresponsive:
            return
        self.unresponsive.add(page)
        self.record(
            "crash", "error", UNRESPONSIVE, url=page.url, source=self.source_of(page),
            at_step=self.running_step,
        )  # fmt: skip

    def step_at(self, timestamp_ms: float | None) -> int | None:
        """The step that had started when something happened at ``timestamp_ms``."""
        if timestamp_ms is None or not self._step_starts:
            return self.current_step
        if abs(self._wall_clock() * 1000 - timestamp_ms) > CLOCK_TRUST_MS:
            return self.current_step  # another machine's clock (a remote browser): arrival order
        index = bisect.bisect_right(self._step_starts, (timestamp_ms, float("inf"))) - 1
        return self._step_starts[index][1] if index >= 0 else None

    def elapsed_ms(self) -> int:
        return int((self._clock() - self._start) * 1000)

    def record(
        self,
        kind: str,
        level: str,
        text: str,
        *,
        url: str | None = None,
        line: int | None = None,
        column: int | None = None,
        stack: str | None = None,
        source: str = "",
        at: float | None = None,
        at_step: int | None = None,
        **extra: Any,
    ) -> None:
        """Count an event exactly; keep it (folded) while under the caps.

        ``at`` is when it happened (wall-clock ms) when the browser says so;
        ``at_step`` names its step outright (what a crash interrupted).
        """
        self._last_activity = self._clock()
        bucket = self.totals.get(kind)
        if kind == "console":
            if bucket is None:
                bucket = self.totals[kind] = {}
            bucket[level] = bucket.get(level, 0) + 1
        else:
            self.totals[kind] = (bucket or 0) + 1
        if at_step is not None:
            step: int | None = at_step
        else:
            step = self.current_step if at is None else self.step_at(at)
        key = (kind, level, text, url, line, column, step, source)
        entry = self._entries.get(key)
        if entry is not None:
            entry[0] += 1
            return
        cap = (
            self.limits.max_console_entries if kind == "console" else self.limits.max_other_entries
        )
        kept = self._kept_per_kind.get(kind, 0)
        if kept >= cap:
            self.dropped += 1
            return
        self._kept_per_kind[kind] = kept + 1
        self._entries[key] = [1, self.elapsed_ms(), stack, extra]

    def events(self) -> list[Event]:
        """Build the kept events, texts cut to the limits and made valid UTF-8."""
        return self.events_since(0)

    def events_since(self, start: int) -> list[Event]:
        """The kept events from the ``start``-th distinct one on, in order of arrival."""
        limits = self.limits
        result = []
        entries = list(self._entries.items())[start:] if start else self._entries.items()
        for key, (count, t_ms, stack, extra) in entries:
            kind, level, text, url, line, column, step, source = key
            result.append(
                Event(
                    kind=kind,
                    level=level,
                    text=safe_text(text, limits.max_text_chars),
                    url=safe_text(url, limits.max_text_chars) if url else None,
                    line=line,
                    column=column,
                    stack=safe_text(stack, limits.max_stack_chars) if stack else None,
                    step=step,
                    time_ms=t_ms,
                    source=source,
                    count=count,
                    **extra,
                )
            )
        return result

    # -- quiet ---------------------------------------------------------------

    async def wait_quiet(self, linger_s: float, quiet_ms: int = 25) -> None:
        """Wait until no request is pending, no short timer is scheduled and no
        event arrived for ``quiet_ms``, or until ``linger_s`` has passed."""
        deadline = self._clock() + linger_s
        while self._clock() < deadline:
            if self.disconnected:
                return
            idle = self.idle_for_ms() >= quiet_ms and all(t.done() for t in self._attaching)
            if idle and not self._pending and not await self._timers_pending(deadline):
                return
            await asyncio.sleep(0.01)

    async def _timers_pending(self, deadline: float) -> bool:
        for page in list(self.pages):
            if page.is_closed() or page in self.unresponsive:
                continue
            try:
                pending = await within(
                    page.evaluate("window.__collectorPendingTimers || 0"),
                    max(deadline - self._clock(), 0.05),
                    "pending timers",
                )
            except NoAnswer:
                # Still busy when the linger ends: working hard, or hung for good.
                if not await answers(page):
                    self.stopped_responding(page)
                continue
            except Exception:  # navigating or crashed: nothing more to wait for here
                continue
            if pending:
                return True
        return False

    # -- listeners -----------------------------------------------------------

    def source_of(self, page: Page | None) -> str:
        if page is None:
            return ""
        return self._page_labels.get(page, "page")

    def _on_page(self, page: Page) -> None:
        number = len(self.pages) + 1
        label = f"page {number}" if number == 1 else f"page {number} (popup)"
        self.pages.append(page)
        self._page_labels[page] = label
        page.on("crash", self._guard(self._on_crash))
        page.on("download", self._guard(self._on_download))
        if self._console_via_cdp:
            self._attaching.append(asyncio.ensure_future(self._attach_console(page, label)))

    async def _attach_console(self, page: Page, label: str) -> None:
        """Console messages through a CDP session of the page.

        Playwright's own console event hands Python a handle per argument that
        lives until the page navigates: a page logging 100,000 errors costs
        hundreds of MB. The CDP events carry plain values. ``Runtime.enable``
        replays what was logged before it, so a popup's first message is kept;
        workers and out-of-process iframes are auto-attached child targets.
        """
        if self._context is None:
            return
        try:
            session = await self._context.new_cdp_session(page)
        except Exception as exc:
            # Not Chromium, or the page is already gone: Playwright's listener still works.
            self.problems.append(f"console via CDP for {label}: {first_line(exc)}; using Playwright's")
            page.on("console", self._guard(self._on_console))
            page.on("pageerror", self._guard(lambda error: self._on_page_error(page, error)))
            return
        console = _ConsoleTarget(self, label)
        self._cdp_sessions.append(session)
        session.on("Runtime.executionContextCreated", self._guard(console.context_created))
        session.on("Runtime.consoleAPICalled", self._guard(console.api_called))
        session.on("Runtime.exceptionThrown", self._guard(console.exception_thrown))
        session.on("Log.entryAdded", self._guard(console.log_entry))
        session.on("Target.attachedToTarget", self._guard(console.child_attached(session)))
        session.on("Target.receivedMessageFromTarget", self._guard(console.child_message))
        try:
            # One round trip: frames are labelled when their messages arrive, by then
            # the frame tree has (almost always) answered.
            tree, *_ = await asyncio.gather(
                session.send("Page.getFrameTree"),
                session.send("Runtime.enable"),
                session.send("Log.enable"),
                session.send(
                    "Target.setAutoAttach",
                    {"autoAttach": True, "waitForDebuggerOnStart": False, "flatten": False},
                ),
            )
            console.main_frame = tree["frameTree"]["frame"]["id"]
        except Exception as exc:
            if not page.is_closed():
                self.problems.append(f"console via CDP for {label}: {first_line(exc)}")

    async def settle(self, timeout_s: float = 5) -> None:
        """Wait until every page's console session is attached (and has replayed)."""
        pending = [t for t in self._attaching if not t.done()]
        if pending:
            await asyncio.wait(pending, timeout=timeout_s)

    def close_sessions(self) -> None:
        """Forget the DevTools sessions: closing the context ends them (no round trip)."""
        self._cdp_sessions.clear()
        for task in self._attaching:
            task.cancel()

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
            line=_one_based(location.get("lineNumber")),
            column=_one_based(location.get("columnNumber")),
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
        text = f"{name}: {message}" if name and not message.startswith(name) else message
        if "rejection" in name.lower() or stack.startswith("Uncaught (in promise)"):
            text = f"Unhandled rejection: {text}"
        self.record(
            "page_error",
            "error",
            text,
            url=url,
            line=line,
            column=column,
            stack=stack or None,
            source=self.source_of(page),
            name=name,
        )

    def _on_request(self, request: Request) -> None:
        self._pending.add(request)
        self._last_activity = self._clock()

    def _on_request_done(self, request: Request) -> None:
        self._pending.discard(request)
        self._last_activity = self._clock()

    def _on_response(self, response: Response) -> None:
        # A response settles its request for "quiet": pages that never read a
        # failed response's body never get a requestfinished for it.
        request = response.request
        self._pending.discard(request)
        self._last_activity = self._clock()
        status = response.status
        if status < 400:
            return
        frame = request.frame if _has_frame(request) else None
        self.record(
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
        self.record(
            "dialog",
            "info",
            f"{dialog.type}: {dialog.message}",
            source=self.source_of(dialog.page),
        )
        # Dialogs block the page until answered; a reproduction must not hang on one.
        task = asyncio.ensure_future(dialog.dismiss())
        task.add_done_callback(ignore_result)

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


class _ConsoleTarget:
    """Turns one page's CDP console traffic (and its child targets') into events."""

    def __init__(self, capture: Capture, label: str) -> None:
        self.capture = capture
        self.label = label
        self.main_frame: str | None = None
        # execution context -> (frame id, origin); None for isolated worlds (ignored)
        self.sources: dict[int, tuple[str | None, str] | None] = {}
        self.children: dict[str, str] = {}  # child session id -> source label
        self._next_id = 0
        self._answers: dict[int, asyncio.Future[None]] = {}

    def context_created(self, event: dict[str, Any]) -> None:
        context = event["context"]
        aux = context.get("auxData") or {}
        if not aux.get("isDefault", True):
            # Isolated worlds (Playwright's own utility scripts, extensions) are not the page.
            self.sources[context["id"]] = None
        else:
            self.sources[context["id"]] = (aux.get("frameId"), context.get("origin", ""))

    def source_of(self, context_id: int) -> str | None:
        """The page, or the frame of the page, a JavaScript context belongs to (None: ignore)."""
        if context_id not in self.sources:
            return self.label
        known = self.sources[context_id]
        if known is None:
            return None
        frame, origin = known
        if frame and self.main_frame and frame != self.main_frame:
            return f"{self.label} frame {origin}"
        return self.label

    def api_called(self, event: dict[str, Any], source: str | None = None) -> None:
        if source is None:
            source = self.source_of(event.get("executionContextId", -1))
            if source is None:
                return
        text = format_console_args(event.get("args") or [])
        if text.startswith(PLAYWRIGHT_MARKER):
            return
        url, line, column = None, None, None
        frames = (event.get("stackTrace") or {}).get("callFrames") or []
        if frames:
            top = frames[0]
            url = top.get("url") or None
            line = _one_based(top.get("lineNumber"))
            column = _one_based(top.get("columnNumber"))
        kind = event.get("type", "log")
        self.capture.record(
            "console",
            CDP_CONSOLE_LEVELS.get(kind, kind),
            text,
            url=url,
            line=line,
            column=column,
            source=source,
            at=event.get("timestamp"),
        )

    def exception_thrown(self, event: dict[str, Any], source: str | None = None) -> None:
        """An uncaught exception or unhandled rejection, as DevTools reports it."""
        details = event.get("exceptionDetails") or {}
        if source is None:
            source = self.source_of(details.get("executionContextId", -1))
            if source is None:
                return
        exception = details.get("exception") or {}
        description = exception.get("description") or ""
        if description:
            stack = description if "\n    at " in description else None
            text = description.split("\n    at ", 1)[0].strip()
        else:
            # `throw "text"` or a rejection with a plain value: no Error object.
            text = _remote_text(exception) if exception else details.get("text", "")
            stack = None
        name = exception.get("className") or text.split(":", 1)[0] or "Error"
        if str(details.get("text", "")).startswith("Uncaught (in promise)"):
            text = f"Unhandled rejection: {text}"
        url = details.get("url") or None
        line = _one_based(details.get("lineNumber"))
        column = _one_based(details.get("columnNumber"))
        frames = (details.get("stackTrace") or {}).get("callFrames") or []
        if frames:
            top = frames[0]
            url = top.get("url") or url
            line = _one_based(top.get("lineNumber"))
            column = _one_based(top.get("columnNumber"))
        self.capture.record(
            "page_error",
            "error",
            text,
            url=url,
            line=line,
            column=column,
            stack=stack,
            source=source,
            at=event.get("timestamp"),
            name=name,
        )

    def log_entry(self, event: dict[str, Any], source: str | None = None) -> None:
        """Messages of the browser itself: failed resources, interventions, violations."""
        entry = event["entry"]
        if entry.get("workerId"):
            self._worker_entry(entry)
            return
        level = CDP_LOG_LEVELS.get(entry.get("level", "info"), "info")
        self.capture.record(
            "console",
            level,
            entry.get("text", ""),
            url=entry.get("url") or None,
            line=_one_based(entry.get("lineNumber")),
            source=source or self.label,
            at=entry.get("timestamp"),
            native=True,
        )

    def _worker_entry(self, entry: dict[str, Any]) -> None:
        """A dedicated worker's message, as its page relays it.

        The page's copy always arrives; a worker that finishes at once can be gone
        before its own target could be asked to replay. It has no stack or column.
        """
        text = entry.get("text", "")
        url = entry.get("url") or None
        source = f"worker {url}" if url else "worker"
        line = _one_based(entry.get("lineNumber"))
        if text.startswith("Uncaught "):
            message = text[len("Uncaught ") :]
            if message.startswith("(in promise) "):
                message = "Unhandled rejection: " + message[len("(in promise) ") :]
            name = message.split(":", 1)[0] if ":" in message else "Error"
            self.capture.record(
                "page_error", "error", message, url=url, line=line, source=source,
                at=entry.get("timestamp"), name=name,
            )  # fmt: skip
            return
        level = CDP_LOG_LEVELS.get(entry.get("level", "info"), "info")
        self.capture.record(
            "console", level, text, url=url, line=line, source=source, at=entry.get("timestamp")
        )

    def child_attached(self, session: Any) -> Callable[[dict[str, Any]], None]:
        def attached(event: dict[str, Any]) -> None:
            info = event.get("targetInfo") or {}
            kind = info.get("type", "")
            # Dedicated workers: their page relays every message (see _worker_entry).
            if kind not in ("iframe", "service_worker", "shared_worker"):
                return
            child = event["sessionId"]
            what = "frame" if kind == "iframe" else kind.replace("_", " ")
            self.children[child] = f"{self.label} {what} {info.get('url', '')}".rstrip()
            if kind != "iframe":
                self.children[child] = f"{what} {info.get('url', '')}"
            for method in ("Runtime.enable", "Log.enable"):
                self._next_id += 1
                message = json.dumps({"id": self._next_id, "method": method, "params": {}})
                task = asyncio.ensure_future(
                    session.send(
                        "Target.sendMessageToTarget", {"sessionId": child, "message": message}
                    )
                )
                task.add_done_callback(ignore_result)
                # "Quiet" waits for the child's answer: its replayed messages come before it.
                answered: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                self._answers[self._next_id] = answered
                self.capture._attaching.append(answered)

        return attached

    def child_message(self, event: dict[str, Any]) -> None:
        source = self.children.get(event.get("sessionId", ""))
        if source is None:
            return
        message = json.loads(event["message"])
        answered = self._answers.pop(message.get("id", -1), None)
        if answered is not None and not answered.done():
            answered.set_result(None)
        method = message.get("method")
        if method == "Runtime.consoleAPICalled":
            self.api_called(message["params"], source)
        elif method == "Runtime.exceptionThrown":
            self.exception_thrown(message["params"], source)
        elif method == "Log.entryAdded":
            self.log_entry(message["params"], source)


def format_console_args(args: list[dict[str, Any]]) -> str:
    """Console arguments as DevTools shows them: printf-style %s/%d/%o, then joined by spaces."""
    values = [_remote_text(a) for a in args]
    if not values:
        return ""
    first = args[0]
    if first.get("type") == "string" and "%" in values[0] and len(values) > 1:
        rest = values[1:]

        def substitute(match: re.Match[str]) -> str:
            spec = match.group(0)
            if spec == "%%":
                return "%"
            if not rest:
                return spec
            value = rest.pop(0)
            return "" if spec == "%c" else value

        head = FORMAT_SPEC.sub(substitute, values[0])
        values = [head, *rest]
    return " ".join(values)


def _remote_text(arg: dict[str, Any]) -> str:
    kind = arg.get("type")
    if "value" in arg:
        value = arg["value"]
        if value is None:
            return "null"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    if kind == "undefined":
        return "undefined"
    if "unserializableValue" in arg:
        return str(arg["unserializableValue"])
    return str(arg.get("description") or arg.get("className") or kind or "")


def _has_frame(request: Request) -> bool:
    try:
        request.frame  # noqa: B018 - raises for service-worker requests
    except Exception:
        return False
    return True


def _one_based(value: Any) -> int | None:
    return value + 1 if isinstance(value, int) else None


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
