""""Quiet": the one wait for late errors, for the runner and for the pytest plugin alike.

Quiet means no request pending (seen by collector, or a fetch/XHR the page has
started), no console session still replaying, no event
for ``quiet_ms``, and no short timer scheduled in any open page; the wait ends
then, or when the linger is over. The page calls are arguments (``evaluate``,
``pause``), so the same code serves Playwright's async API and its sync one
(driven by ``collector.either_api.drive``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from playwright.async_api import Error as PlaywrightError

from collector.deadlines import Evaluate, NoAnswer, answers, evaluate_within
from collector.errors import first_line

if TYPE_CHECKING:
    from collector.capture.listeners import Capture

# Wraps setTimeout so that "quiet" can wait for short timers already scheduled:
# an exception thrown by a timer 1-2 s after a click must land in the report.
# Long timers and intervals (heartbeats, polling) are not counted. A dedicated
# worker counts as a short timer for its first seconds: its script is fetched and
# run after the page looks quiet, and what it logs comes later still.
TIMER_TRACKER_JS = """
(() => {
  if (window.__collectorPendingTimers !== undefined) return;
  // Callbacks are not wrapped, so stack traces of errors thrown by timers stay exactly
  // as the page made them. A timer counts until a marker timer with the same delay,
  // set just after it, has run: timers of equal delay run in the order they were set,
  // so the page's callback has run by then, however late a busy or throttled renderer
  // ran it (its due time alone said nothing about that).
  const set = window.setTimeout, clear = window.clearTimeout, markers = new Map();
  window.setTimeout = function (fn, delay, ...rest) {
    const id = set.call(window, fn, delay, ...rest);
    const ms = Number(delay) || 0;
    if (typeof fn === 'function' && ms <= %(max_ms)d) {
      markers.set(id, set.call(window, () => markers.delete(id), ms));
    }
    return id;
  };
  window.clearTimeout = function (id) {
    if (markers.has(id)) { clear.call(window, markers.get(id)); markers.delete(id); }
    return clear.call(window, id);
  };
  // A fetch or XHR counts from the call, in the page itself: its request event reaches
  // collector later, and a page whose click starts one must not look quiet meanwhile.
  // The page gets a promise that settles as the native one did, so a rejection it
  // does not handle is still reported as unhandled.
  let requests = 0;
  const settled = () => { requests -= 1; };
  const counted = (native) => {
    requests += 1;
    return new Promise((resolve, reject) => native.then(
      (value) => { settled(); resolve(value); }, (error) => { settled(); reject(error); }));
  };
  const fetch = window.fetch;
  if (typeof fetch === 'function') {
    window.fetch = function (...args) { return counted(fetch.apply(this, args)); };
  }
  // fetch settles at the headers, and so does the request for Playwright; the body can
  // come much later, and what the page does with it later still. Reading it counts too.
  const Body = typeof window.Response === 'function' ? window.Response.prototype : null;
  for (const name of ['arrayBuffer', 'blob', 'bytes', 'formData', 'json', 'text']) {
    const read = Body && Body[name];
    if (typeof read === 'function') {
      Body[name] = function (...args) { return counted(read.apply(this, args)); };
    }
  }
  const XHR = window.XMLHttpRequest;
  if (typeof XHR === 'function') {
    const send = XHR.prototype.send;
    XHR.prototype.send = function (...args) {
      // Counted before: a synchronous XHR has ended by the time send returns.
      requests += 1;
      this.addEventListener('loadend', settled, {once: true});
      try {
        return send.apply(this, args);
      } catch (error) {  // never sent: no loadend will come
        this.removeEventListener('loadend', settled);
        settled();
        throw error;
      }
    };
  }
  const workers = [];
  if (typeof window.Worker === 'function') {
    window.Worker = new Proxy(window.Worker, {construct(target, args, newTarget) {
      workers.push(performance.now() + %(worker_ms)d);
      return Reflect.construct(target, args, newTarget);
    }});
  }
  Object.defineProperty(window, '__collectorPendingTimers', {get: () => {
    const now = performance.now();
    while (workers.length && workers[0] < now) workers.shift();
    return markers.size + workers.length + requests;
  }});
})();
"""
TRACKED_TIMER_MAX_MS = 5000
WORKER_START_MS = 2000
TIMER_TRACKER = TIMER_TRACKER_JS % {"max_ms": TRACKED_TIMER_MAX_MS, "worker_ms": WORKER_START_MS}
PENDING_TIMERS = "window.__collectorPendingTimers || 0"
QUIET_MS = 25
# Whatever is left of the linger, a page gets at least this long to say how many timers it has.
MIN_EVALUATE_S = 0.05

# Lets events arrive between two looks; False: there is nothing to wait on any more.
Pause = Callable[[list[Any]], Awaitable[bool]]


async def sleep_briefly(_pages: list[Any]) -> bool:
    await asyncio.sleep(0.01)
    return True


async def wait_quiet(
    capture: Capture,
    linger_s: float,
    *,
    evaluate: Evaluate = evaluate_within,
    pause: Pause = sleep_briefly,
    quiet_ms: int = QUIET_MS,
) -> None:
    """Wait until ``capture``'s pages are quiet, or until ``linger_s`` has passed."""
    clock = capture.clock
    deadline = clock() + linger_s
    while clock() < deadline:
        if capture.disconnected:
            return
        pages = capture.open_pages()
        idle = (
            capture.idle_for_ms() >= quiet_ms
            and capture.attached()
            and not capture.pending_requests
        )
        if idle and not await _timers_pending(capture, pages, deadline, evaluate):
            return
        if not await pause(pages):
            return


async def _timers_pending(
    capture: Capture, pages: list[Any], deadline: float, evaluate: Evaluate
) -> bool:
    for page in pages:
        try:
            pending = await evaluate(
                page, PENDING_TIMERS, max(deadline - capture.clock(), MIN_EVALUATE_S)
            )
        except NoAnswer:
            # Still busy when the linger ends: working hard, or hung for good.
            if not await answers(page, evaluate=evaluate):
                capture.stopped_responding(page)
            continue
        except PlaywrightError as exc:
            if page.is_closed() or capture.broken.is_set():
                continue  # a closed or crashed page (its own event) has no timers left
            if capture.navigating(page) or "context was destroyed" in str(exc):
                # Between two documents: the new one has only begun its scripts and
                # timers (a popup's first document), so look again rather than end.
                return True
            capture.note(f"checking timers on {page.url}: {first_line(exc)}")
            continue
        if pending:
            return True
    return False
