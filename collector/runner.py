"""Run a scenario's steps in a fresh browser context with capture attached.

``run_scenario`` never raises for what the page does: a failing step stops the
run and is recorded, a crash or a killed browser ends the running step at once
and is an outcome, a page whose script hangs ends its step at the step's timeout,
an interrupt (Ctrl-C, SIGTERM, SIGHUP, a time limit) is an outcome. Nothing is
awaited from the page without a deadline. Only problems of the machine (no
context or page can be created) raise.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from collector.capture import UNRESPONSIVE, Capture, CaptureLimits, wait_quiet
from collector.capture.listeners import MAX_ORIGINS
from collector.capture.maps import MapCache, MapLimits, SourceMaps, context_fetch
from collector.deadlines import (
    CLOSE_S,
    CTRL_C,
    Interrupt,
    NoAnswer,
    answers,
    ignore_result,
    within,
)
from collector.environment import describe_environment
from collector.errors import BrowserLaunchError, first_line, step_error
from collector.lanes import lasting_step
from collector.masking import MASK_COLOR, MaskFailed, clear_marks, masks_for
from collector.redact import Redactor
from collector.report import KIND_RANK, Environment, Event, Outcome, StepRecord
from collector.report import Frame as StackFrame
from collector.rules import Rules, slow_patterns
from collector.scenario import (
    Back,
    ExpectText,
    ExpectUrl,
    ExpectVisible,
    Goto,
    Reload,
    Scenario,
    Screenshot,
    Scroll,
    StepBase,
    Wait,
    WaitFor,
    WaitForUrl,
    secret_values,
    substitute_secrets,
)
from collector.sourcemaps import symbolicate
from collector.stacks import frames_from_stack, script_urls
from collector.steps import StepContext, StepFailed, perform

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, Frame, Page

    from collector.lanes import Lane

PASSIVE_STEPS = (Wait, WaitFor, WaitForUrl, ExpectText, ExpectVisible, ExpectUrl, Screenshot)

DEFAULT_STEP_TIMEOUT_MS = 10_000
DEFAULT_NAVIGATION_TIMEOUT_MS = 30_000
SCREENSHOT_TIMEOUT_MS = 10_000
# Past its own timeout, a step gets this long for Playwright to say why before the
# runner stops waiting (calls without a timeout of their own: evaluate, keys, CDP).
STEP_GRACE_S = 1.0
TRACE_STOP_S = 30.0
# Opening a context or a page is the browser's work, slow only on a machine whose
# cores are all busy.
OPEN_S = 30.0
# Stopping a page is a browser-side round trip; only a frozen browser takes longer.
STOP_LOADING_S = 2.0
DEFAULT_VIEWPORT = {"width": 1280, "height": 800}
# Seconds to wait after the last step for late errors (timers, responses).
DEFAULT_LINGER_S = 2.0
UNREACHABLE_ERRORS = (
    "ERR_CONNECTION_REFUSED",
    "ERR_NAME_NOT_RESOLVED",
    "ERR_ADDRESS_UNREACHABLE",
    "ERR_CONNECTION_TIMED_OUT",
    "ERR_INTERNET_DISCONNECTED",
    "ERR_CONNECTION_RESET",
    "ERR_NAME_RESOLUTION_FAILED",
    "ERR_TUNNEL_CONNECTION_FAILED",
)


@dataclass(frozen=True)
class RunOptions:
    """How to run: the knobs of `collector repro` that are not the scenario itself."""

    base_url: str | None = None
    timeout_ms: int | None = None
    linger_s: float = DEFAULT_LINGER_S
    # Where screenshots, the trace and the HAR go. None: a new temporary folder
    # (never the working folder); the result's paths point into it, and it is the
    # caller's to remove.
    work_dir: Path | None = None
    trace: bool = False
    har: bool = False
    rules: Rules = field(default_factory=Rules)
    limits: CaptureLimits = field(default_factory=CaptureLimits)
    scenario_dir: Path = Path(".")
    env: Mapping[str, str] | None = None
    # "on_failure": no final screenshot of a page that produced nothing failing (CI scans).
    # "never": no picture of the run at all (a scan that keeps no bundle), screenshot
    # steps aside.
    final_screenshot: Literal["always", "on_failure", "never"] = "always"
    # Source maps: a folder of maps the site does not serve, the limits of fetching them,
    # and a cache shared by the runs of one command (check's pages).
    source_maps_dir: Path | None = None
    map_limits: MapLimits = field(default_factory=MapLimits)
    map_cache: MapCache | None = None
    resolve_source_maps: bool = True


@dataclass
class Shot:
    """A screenshot file in ``work_dir/screenshots``."""

    path: Path
    step: int | None
    role: str  # "failed_step", "first_error", "final" or "step"
    full_page: bool = False


@dataclass
class RunResult:
    scenario: Scenario
    started: datetime
    duration_ms: int
    steps: list[StepRecord]
    events: list[Event]
    totals: dict[str, Any]
    dropped: int
    outcome: Outcome
    environment: Environment
    screenshots: list[Shot]
    secrets: list[str]
    problems: list[str]
    trace_path: Path | None = None
    har_path: Path | None = None
    rules: Rules = field(default_factory=Rules)
    interrupt: Interrupt | None = None
    # Comments written into scenario.yaml before step i (the pytest plugin's unreplayable calls).
    scenario_comments: dict[int, list[str]] = field(default_factory=dict)

    @property
    def failing_events(self) -> list[Event]:
        return [e for e in self.events if e.fails]


StepCallback = Callable[[StepRecord, int], None]
# Says why the run's task is being cancelled (None: plain Ctrl-C).
StopReason = Callable[[], "Interrupt | None"]


async def run_scenario(
    scenario: Scenario,
    browser: Browser,
    options: RunOptions,
    on_step: StepCallback | None = None,
    stop_reason: StopReason | None = None,
    lane: Lane | None = None,
) -> RunResult:
    """Run every step with capture; always return a result describing what happened.

    ``on_step(record, total)`` is called as each step ends (for progress output).
    Cancelling the task ends the run as ``interrupted``, for ``stop_reason()``.
    ``lane``: a context and page to use and reset afterwards, instead of a context
    of the run's own (check's plain pages; not with a trace or a HAR).
    """
    run = _Run(scenario, browser, options, on_step, stop_reason, lane)
    return await run.execute()


class _Run:
    def __init__(
        self,
        scenario: Scenario,
        browser: Browser,
        options: RunOptions,
        on_step: StepCallback | None = None,
        stop_reason: StopReason | None = None,
        lane: Lane | None = None,
    ) -> None:
        self.on_step = on_step
        self.lane = lane if not (options.trace or options.har) else None
        self.stop_reason = stop_reason
        self.interrupt: Interrupt | None = None
        self.scenario = scenario
        # The scenario may tighten or loosen the rules it was given (config, flags).
        self.rules = options.rules.with_overrides(
            fail_on=scenario.fail_on, ignore=tuple(scenario.ignore), expect=tuple(scenario.expect)
        )
        self.browser = browser
        self.options = options
        self.env = options.env if options.env is not None else {}
        self.resolved = substitute_secrets(scenario, self.env)
        self.secrets = secret_values(scenario, self.env)
        self.capture = Capture(options.limits)
        self.maps: SourceMaps | None = None
        self.capture.frames_seen = self._frames_seen
        self.records: list[StepRecord] = []
        self.shots: list[Shot] = []
        self.work_dir = options.work_dir or Path(tempfile.mkdtemp(prefix="collector-run-"))
        self.shot_dir = self.work_dir / "screenshots"
        self.context: BrowserContext | None = None
        self.page: Page | None = None
        self.outcome: Outcome | None = None
        self.first_error_step: int | None = None
        self._target_frames: dict[str, tuple[Page, Frame]] = {}
        self._progress_redactor: Redactor | None = None
        self._redacted_secrets = 0
        self._seen_entries = 0
        self._failures_seen = False
        self.environment = describe_environment(
            browser.version,
            options.base_url or scenario.url,
            viewport=(scenario.viewport.model_dump() if scenario.viewport else DEFAULT_VIEWPORT),
            locale=scenario.locale,
            timezone=scenario.timezone,
        )

    async def execute(self) -> RunResult:
        started = datetime.now(UTC)
        t0 = time.monotonic()
        har_path = self.work_dir / "network.har" if self.options.har else None
        trace_path = self.work_dir / "trace.zip" if self.options.trace else None
        try:
            await self._open_context(har_path)
            await self._steps()
            await self.capture.settle()
            await wait_quiet(self.capture, self.options.linger_s, evaluate=self.capture.evaluate)
        except asyncio.CancelledError:
            self._interrupted()
        await self._finish(trace_path)
        duration = int((time.monotonic() - t0) * 1000)
        events = self.rules.judge(self._resolved(self.capture.events()))
        self._note_slow_patterns()
        return RunResult(
            scenario=self.scenario,
            started=started,
            duration_ms=duration,
            steps=self.records,
            events=events,
            totals=self.capture.totals,
            dropped=self.capture.dropped,
            outcome=self._final_outcome(events),
            environment=self.environment,
            screenshots=self.shots,
            secrets=self.secrets,
            problems=self.capture.problems,
            trace_path=trace_path if trace_path and trace_path.exists() else None,
            har_path=har_path if har_path and har_path.exists() else None,
            rules=self.rules,
            interrupt=self.interrupt,
        )

    def _note_slow_patterns(self) -> None:
        """Say which of the run's patterns matched nothing because matching them never ended."""
        rules = self.rules
        mine = {*rules.expect, *(r.pattern for r in rules.all_ignores())}
        mine.update(r.url for r in rules.all_ignores() if r.url)
        for pattern, why in slow_patterns().items():
            if pattern in mine:
                self.capture.problems.append(f"pattern {pattern!r} matched nothing: it {why}")

    def _frames_seen(self, frames: list[dict[str, Any]], stack: str | None) -> None:
        """An error's frames: start fetching its scripts' source maps (once per script)."""
        if self.maps is not None:
            found = [StackFrame(**f) for f in frames] if frames else frames_from_stack(stack)
            self.maps.want(u for u in script_urls(found) if u not in self.capture.documents)

    def _resolved(self, events: list[Event]) -> list[Event]:
        """The events with their frames resolved through the maps fetched during the run."""
        if self.maps is None:
            return events
        resolved = symbolicate(events, self.maps.loaded())
        for note in self.maps.notes:
            self.capture.note(note)
        return resolved

    def _why_stopped(self) -> Interrupt:
        if self.interrupt is None:
            self.interrupt = (self.stop_reason() if self.stop_reason else None) or CTRL_C
        return self.interrupt

    def _interrupted(self) -> None:
        """The run's task was cancelled: say why, and skip the steps it did not reach."""
        if self.outcome is None or self.outcome.status != "interrupted":
            self.outcome = Outcome(status="interrupted", message=self._why_stopped().message)
            self._skip_rest(self.resolved.steps)

    async def _open_context(self, har_path: Path | None) -> None:
        scenario = self.scenario
        kwargs: dict[str, Any] = {
            "viewport": scenario.viewport.model_dump() if scenario.viewport else DEFAULT_VIEWPORT,
        }
        if scenario.locale:
            kwargs["locale"] = scenario.locale
        if scenario.timezone:
            kwargs["timezone_id"] = scenario.timezone
        base_url = self.options.base_url or scenario.url
        if base_url and urlsplit(base_url).scheme in ("http", "https"):
            # URL patterns (wait_for_url, expect_url) are handed to Playwright as written;
            # it resolves relative ones against the context's base URL.
            kwargs["base_url"] = base_url
        if har_path is not None:
            kwargs["record_har_path"] = str(har_path)
            kwargs["record_har_content"] = "omit"
        if self.lane is not None:
            try:
                await self._open_in_lane(self.lane, kwargs)
            except BaseException:
                self.lane.drop()
                raise
            return
        try:
            self.context = await within(self.browser.new_context(**kwargs), OPEN_S, "new context")
        except Exception as exc:
            raise BrowserLaunchError(f"cannot open a browser context: {first_line(exc)}") from exc
        try:
            if self.options.trace:
                # Screencast frames cannot be masked: with secrets in play the trace has none.
                frames = not self.secrets
                await within(
                    self.context.tracing.start(screenshots=frames, snapshots=True), OPEN_S, "trace"
                )
                if not frames:
                    self.capture.problems.append(
                        "trace recorded without screenshots: the steps type secrets"
                    )
            self.maps = self._source_maps(self.context)
            await within(self.capture.attach(self.context, self.browser), OPEN_S, "listening")
            self.page = await within(self.context.new_page(), OPEN_S, "new page")
        except Exception as exc:
            # Not left open in a browser that goes on (check's next pages, a --cdp browser);
            # the error to report is the first one.
            with contextlib.suppress(Exception):
                await within(self.context.close(), CLOSE_S, "closing the context")
            raise BrowserLaunchError(f"cannot open a page: {first_line(exc)}") from exc
        await self._ready(self.page)

    def _source_maps(self, context: BrowserContext) -> SourceMaps | None:
        if not self.options.resolve_source_maps:
            return None
        return SourceMaps(
            context_fetch(
                context, self.options.map_limits.timeout_s, lambda: self.environment.user_agent
            ),
            self.options.source_maps_dir,
            self.options.map_limits,
            self.options.map_cache,
        )

    async def _open_in_lane(self, lane: Lane, settings: dict[str, Any]) -> None:
        try:
            context, page = await within(lane.take(settings), OPEN_S, "new context")
        except Exception as exc:
            raise BrowserLaunchError(f"cannot open a browser context: {first_line(exc)}") from exc
        self.context = context
        self.capture.problems.extend(lane.problems)
        lane.problems.clear()
        self.maps = self._source_maps(context)
        try:
            await within(
                self.capture.attach(context, self.browser, tracker=False), OPEN_S, "listening"
            )
        except Exception as exc:
            raise BrowserLaunchError(f"cannot open a page: {first_line(exc)}") from exc
        self.capture.adopt(page, lane.console)
        self.page = page
        await self._ready(page)

    async def _ready(self, page: Page) -> None:
        """Listen before the first navigation (popups rely on DevTools replaying their
        early messages); ask for the user agent meanwhile."""
        agent, _ = await asyncio.gather(
            _user_agent(self.browser, page), self.capture.settle(), return_exceptions=True
        )
        if isinstance(agent, BaseException):
            self.capture.problems.append(f"user agent: {first_line(agent)}")
        else:
            self.environment.user_agent = agent

    async def _steps(self) -> None:
        steps = self.resolved.steps
        for index, step in enumerate(steps, start=1):
            if starts_attribution(step, self.capture.current_step):
                self.capture.step_started(index)
            self.capture.step_running(index)
            started = time.monotonic()
            record = StepRecord(
                index=index,
                action=step.action,
                target=_target(step, self.scenario, self.options.base_url),
                name=step.name,
                status="ok",
                url=self._page_url(),
                value=_value(self.scenario.steps[index - 1]),
            )
            try:
                await self._perform_in_time(index, step, record)
            except asyncio.CancelledError:
                record.status = "failed"
                record.error = self._why_stopped().message
                record.duration_ms = _ms_since(started)
                self._done(record)
                self._interrupted()
                raise
            except Exception as exc:
                record.duration_ms = _ms_since(started)
                record.error = step_error(exc, self._timeout(step))
                # A navigation the network refused is no busy script: on a loaded machine
                # the probe of the error page may be slow and would call it hung.
                refused = any(code in record.error for code in UNREACHABLE_ERRORS)
                hung = not refused and await self._stopped_responding()
                if hung:
                    record.error = f"{UNRESPONSIVE}: {record.error}"
                elif step.optional:
                    record.status = "skipped"
                    self._done(record)
                    continue
                record.status = "failed"
                self._done(record)
                if hung:
                    # A busy renderer paints nothing: there is no picture to take.
                    self.outcome = Outcome(
                        status="step_failed", message=record.error, failed_step=index
                    )
                else:
                    # The run stops here: a navigation still waiting for its server would
                    # hold the screenshot and the quiet wait until their own timeouts.
                    navigating = isinstance(step, Goto | Reload | Back)
                    await self._stop_loading(self.page if navigating else None)
                    # A page whose first document never came shows nothing: no picture,
                    # so that a server that never answers costs its timeout and no more.
                    blank = self.page is not None and self.page.url == "about:blank"
                    shot = (
                        None
                        if blank
                        else await self._screenshot(
                            f"step-{index:02d}-failed", index, "failed_step"
                        )
                    )
                    record.screenshot = shot
                    self.outcome = self._outcome_for_failure(index, exc, self._timeout(step))
                self._skip_rest(steps)
                return
            record.duration_ms = _ms_since(started)
            self._done(record)
            if index < len(steps) and self.first_error_step is None and self._new_failures():
                self.first_error_step = index
                record.screenshot = await self._screenshot(
                    f"step-{index:02d}-error", index, "first_error"
                )

    def _done(self, record: StepRecord) -> None:
        if record.matched_selector:
            # Name the alternative that matched everywhere, not the first one recorded.
            record.target = record.matched_selector
        self.records.append(record)
        if self.on_step is not None:
            # Progress goes to a terminal or a CI log: no secret may reach it either.
            if self._progress_redactor is None or self._redacted_secrets != len(self.secrets):
                self._progress_redactor = Redactor(secrets=self.secrets)
                self._redacted_secrets = len(self.secrets)
            shown = self._progress_redactor.data(record.model_dump())
            self.on_step(StepRecord.model_validate(shown), len(self.resolved.steps))

    def _skip_rest(self, steps: list[Any]) -> None:
        """Record the steps not reached as skipped."""
        reached = len(self.records)
        for later, step in enumerate(steps[reached:], start=reached + 1):
            self.records.append(
                StepRecord(
                    index=later,
                    action=step.action,
                    target=_target(step, self.scenario, self.options.base_url),
                    name=step.name,
                    status="skipped",
                )
            )

    def _any_failure(self) -> bool:
        """Whether anything failing was captured so far (looks only at what is new)."""
        self._new_failures()
        return self._failures_seen

    def _new_failures(self) -> bool:
        new = self.capture.events_since(self._seen_entries)
        self._seen_entries += len(new)
        found = any(self.rules.fails(e) for e in new)
        self._failures_seen = self._failures_seen or found
        return found

    def _current_page(self) -> Page:
        if self.page is None or self.page.is_closed():
            open_pages = [p for p in self.capture.pages if not p.is_closed()]
            if not open_pages:
                raise StepFailed("no open page left (the last one was closed)")
            self.page = open_pages[-1]
        return self.page

    def _page_url(self) -> str | None:
        page = self.page
        return page.url if page is not None and not page.is_closed() else None

    async def _perform_in_time(self, index: int, step: StepBase, record: StepRecord) -> None:
        """Perform a step; end it when its time is up, or at once when the page or browser dies.

        Playwright's own timeouts end most steps; this bound also covers calls
        that have none (evaluate, keyboard, DevTools) and a page whose script hangs.
        """
        limit = self._timeout(step) / 1000 + STEP_GRACE_S
        if isinstance(step, Wait):
            limit += step.ms / 1000
        work = asyncio.ensure_future(self._perform(index, step, record))
        broken = asyncio.ensure_future(self.capture.broken.wait())
        try:
            await asyncio.wait({work, broken}, timeout=limit, return_when=asyncio.FIRST_COMPLETED)
        finally:
            broken.cancel()
            if not work.done():
                work.cancel()
                work.add_done_callback(ignore_result)
        failure = work.exception() if work.done() and not work.cancelled() else None
        if work.done() and not work.cancelled() and failure is None:
            return
        if self.capture.broken.is_set():
            raise _Broken(
                "The browser went away (closed or killed) during this step"
                if self.capture.disconnected
                else "The page crashed during this step"
            )
        if failure is not None:
            raise failure
        raise NoAnswer(f"the step did not finish within {int(limit * 1000)} ms")

    async def _stopped_responding(self) -> bool:
        """After a failed step: whether its page's script is busy for good.

        Such a page never answers again: it is closed (by the browser, which does
        answer) so that nothing after the step waits on it.
        """
        page = self.page
        if page is None or page.is_closed() or self.capture.broken.is_set():
            return False
        if self.capture.navigating(page):
            return False  # waiting on a server, which the step's own error says
        if page not in self.capture.unresponsive and await answers(page):
            return False
        self.capture.stopped_responding(page)
        await self._let_go(page)
        return True

    async def _let_go(self, page: Page) -> None:
        try:
            await within(page.close(), CLOSE_S, "closing a page that stopped responding")
        except Exception as exc:
            self.capture.problems.append(first_line(exc))

    async def _perform(self, index: int, step: StepBase, record: StepRecord) -> None:
        timeout = self._timeout(step)
        # One budget for the whole step: finding its page and frame spends from it too.
        deadline = time.monotonic() + timeout / 1000
        page, root = await self._page_for(step, timeout)
        self.page = page
        scope = await _frame_at(root, step.frame, timeout) if step.frame else root
        context = StepContext(
            deadline=deadline,
            page=page,
            scope=scope,
            timeout=timeout,
            record=record,
            index=index,
            resolve_url=lambda url: self.resolved.resolve_url(url, self.options.base_url),
            scenario_dir=self.options.scenario_dir,
            learn_secret=self.secrets.append,
            note=self.capture.note,
            screenshot=self._screenshot,
        )
        await perform(step, context)

    async def _page_for(self, step: StepBase, timeout: int) -> tuple[Page, Page | Frame]:
        """The page a step acts on, and its root: the page itself or the frame ``target`` names.

        A Recorder ``target`` is the URL of a popup, or of an out-of-process iframe
        (DevTools sees those as targets of their own; Playwright, as frames).
        """
        if step.target in (None, "main"):
            if step.target == "main" and self.capture.pages and not self.capture.pages[0].is_closed():
                return self.capture.pages[0], self.capture.pages[0]
            page = self._current_page()
            return page, page
        deadline = time.monotonic() + timeout / 1000
        while True:
            for page in reversed(self.capture.pages):
                if not page.is_closed() and _same_target(page.url, step.target):
                    return page, page
            for page in reversed(self.capture.pages):
                if page.is_closed():
                    continue
                for frame in page.frames:
                    if frame.parent_frame is not None and frame.url == step.target:
                        self._target_frames[step.target] = (page, frame)
                        return page, frame
            # The frame a step found may have navigated since (the asserted navigation
            # that follows a click in it): it is still the step's frame.
            known = self._target_frames.get(step.target)
            if known is not None and not known[0].is_closed() and not known[1].is_detached():
                return known
            if time.monotonic() >= deadline:
                raise StepFailed(f"no open page or frame at {step.target} (target of the step)")
            await asyncio.sleep(0.05)

    async def _stop_loading(self, page: Page | None = None) -> None:
        """Stop what is still loading, as the browser's Stop button does.

        ``page`` (a page whose navigating step failed) and every page whose main
        frame still waits for a server's answer. A navigation that never got an
        answer would otherwise make screenshots and evaluations of its page wait
        out their timeouts, and "quiet" wait out the whole linger: a page of a
        server that never answers would cost far more than its step's timeout.
        """
        pages = self.capture.pages_navigating()
        if page is not None and page not in pages:
            pages.append(page)
        pages = [p for p in pages if not p.is_closed()]
        if not pages or self.context is None or self.capture.disconnected:
            return
        try:
            await asyncio.wait_for(
                asyncio.gather(*(_stop_page(self.context, p) for p in pages)), STOP_LOADING_S
            )
        except Exception as exc:
            self.capture.problems.append(f"stopping a page that never loaded: {first_line(exc)}")

    def _timeout(self, step: StepBase) -> int:
        explicit = step.timeout or self.options.timeout_ms or self.scenario.timeout
        if explicit:
            return explicit
        navigates = isinstance(step, Goto | Reload | Back | WaitForUrl)
        return DEFAULT_NAVIGATION_TIMEOUT_MS if navigates else DEFAULT_STEP_TIMEOUT_MS

    async def _clear_marks(self, page: Page) -> None:
        for failure in await clear_marks(page):
            self.capture.problems.append(f"mask marks left in a frame: {failure}")

    async def _screenshot(
        self,
        stem: str,
        step: int | None,
        role: str,
        *,
        full_page: bool = False,
        selector: str | None = None,
        raise_errors: bool = False,
    ) -> str | None:
        page = self.page
        if role != "step" and self.options.final_screenshot == "never":
            return None
        if page is None or page.is_closed() or self.capture.broken.is_set():
            return None
        if page in self.capture.unresponsive or self.capture.navigating(page):
            # Neither paints for us: a hung script, or a document still on its way
            # (DevTools holds the request until it arrives, for up to the timeout).
            return None
        # Full pages are captured as JPEG: a tall PNG is many MB and slow to encode,
        # and it would be re-encoded to fit the attachment budget anyway.
        suffix = ".jpg" if full_page else ".png"
        path = self.shot_dir / f"{stem}{suffix}"
        try:
            # Playwright scrolls or resizes for full-page and element pictures: its own mask.
            masks = await masks_for(page, self.secrets, cover=not full_page and not selector)
        except MaskFailed as exc:
            # A picture that might show a secret is not taken at all.
            self.capture.problems.append(f"screenshot {stem} not taken: {exc}")
            await self._clear_marks(page)
            return None
        kwargs: dict[str, Any] = {
            "path": str(path),
            "timeout": SCREENSHOT_TIMEOUT_MS,
            "mask": masks.locators,
            "mask_color": MASK_COLOR,
            "animations": "disabled",
        }
        if full_page:
            kwargs.update(type="jpeg", quality=80)
        # Playwright's timeout ends it; the bound is for a driver that never says so.
        bound = SCREENSHOT_TIMEOUT_MS / 1000 + 5
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if selector:
                await within(page.locator(selector).screenshot(**kwargs), bound, "screenshot")
            else:
                await within(page.screenshot(full_page=full_page, **kwargs), bound, "screenshot")
        except Exception as exc:
            if raise_errors:
                raise
            self.capture.problems.append(f"screenshot {stem}: {first_line(exc)}")
            return None
        finally:
            if masks.marked:
                await self._clear_marks(page)
        self.shots.append(Shot(path, step, role, full_page))
        return f"screenshots/{path.name}"

    async def _finish(self, trace_path: Path | None) -> None:
        try:
            # Pages that hung during the linger: closed before anything waits on them.
            for page in list(self.capture.unresponsive):
                if not page.is_closed():
                    await self._let_go(page)
            policy = self.options.final_screenshot
            wanted = policy == "always" or (policy == "on_failure" and self._any_failure())
            if self.outcome is None and wanted:
                await self._stop_loading()  # after the linger, a navigation still pending never ends
                last = len(self.records) or None
                shot = await self._screenshot("final", last, "final")
                if shot and self.first_error_step is None and self._any_failure():
                    self.first_error_step = last
            await self.capture.settle()
            await self.capture.finish_bodies()
            if self.maps is not None:
                await self.maps.finish()  # through the context: before it closes
            if self.lane is not None:
                lane, self.lane = self.lane, None
                await self._give_back(lane)
                return
            self.capture.close_sessions()
            if self.context is not None:
                if trace_path is not None:
                    await within(
                        self.context.tracing.stop(path=str(trace_path)), TRACE_STOP_S, "trace"
                    )
                await within(self.context.close(), CLOSE_S, "closing the context")
        except asyncio.CancelledError:
            # What the run found stands; the stop still decides the exit code.
            self._why_stopped()
            if self.outcome is None:
                self._interrupted()
        except Exception as exc:
            self.capture.problems.append(f"closing the context: {first_line(exc)}")
        finally:
            self.capture.detach()
            if self.lane is not None and self.lane.context is self.context:
                self.lane.drop()  # not given back (cancelled, failed): never used again

    async def _give_back(self, lane: Lane) -> None:
        """Hand the lane's context on, reset, or closed when the run leaves doubt about it."""
        try:
            await self.capture.detach_sessions(CLOSE_S)
        except Exception as exc:
            lane.drop()
            self.capture.problems.append(f"ending the console sessions: {first_line(exc)}")
        self.capture.detach()
        if lane.context is not self.context:
            await lane.close()
            return
        spoiled = None
        if self.capture.broken.is_set():
            spoiled = "a page crashed or the browser went away"
        elif self.capture.unresponsive:
            spoiled = "a page stopped responding"
        elif self.interrupt is not None:
            spoiled = "the run was interrupted"
        elif len(self.capture.origins) > MAX_ORIGINS:
            spoiled = f"the page reached more than {MAX_ORIGINS} origins (not all are known)"
        elif lasting := lasting_step(self.resolved.steps):
            spoiled = f"a {lasting} step changed what no reset undoes"
        try:
            await lane.give_back(self.capture.origins, spoiled)
        except BaseException:
            lane.drop()  # cancelled halfway through the reset
            raise

    def _outcome_for_failure(self, index: int, exc: BaseException, budget_ms: int) -> Outcome:
        message = step_error(exc, budget_ms)
        if isinstance(exc, _Broken):
            return Outcome(status="crashed", message=message, failed_step=index)
        if self.capture.crashed or "crash" in message.lower():
            return Outcome(status="crashed", message=message, failed_step=index)
        if self.capture.disconnected or not self.browser.is_connected():
            return Outcome(
                status="crashed", message=f"The browser went away: {message}", failed_step=index
            )
        if any(code in message for code in UNREACHABLE_ERRORS):
            return Outcome(status="unreachable", message=message, failed_step=index)
        return Outcome(status="step_failed", message=message, failed_step=index)

    def _final_outcome(self, events: list[Event]) -> Outcome:
        if self.outcome is not None:
            return self.outcome
        if self.capture.crashed or self.capture.disconnected:
            return Outcome(status="crashed", message="The page or browser crashed")
        failing = [e for e in events if e.fails]
        if failing:
            count = sum(e.count for e in failing)
            more = f" (+{self.capture.dropped} events over the caps)" if self.capture.dropped else ""
            ranked = min(failing, key=lambda e: KIND_RANK.get(e.kind, 5))
            first = ranked.text.splitlines()[0][:200] if ranked.text else ""
            errors = f"{count} error{'' if count == 1 else 's'}"
            return Outcome(status="errors", message=f"{errors} captured{more}: {first}")
        return Outcome(status="clean", message="No errors captured")


class _Broken(Exception):
    """The page crashed or the browser went away while a step ran."""


def starts_attribution(step: StepBase, current_step: int | None) -> bool:
    """Whether events from the start of ``step`` on belong to it.

    Waiting, checking and screenshots cause nothing: what happens meanwhile still
    belongs to the action before them (a late error of a click). A passive first
    step has no action before it, so it owns what follows.
    """
    return not isinstance(step, PASSIVE_STEPS) or current_step is None


async def _stop_page(context: BrowserContext, page: Page) -> None:
    # Over CDP: page.evaluate("window.stop()") itself waits for the pending navigation.
    session = await context.new_cdp_session(page)
    try:
        await session.send("Page.stopLoading")
    finally:
        await session.detach()


def _target(step: StepBase, scenario: Scenario, base_url: str | None) -> str | None:
    if isinstance(step, ExpectText):
        return step.selector if isinstance(step.selector, str) else step.selector[0]
    for attr in ("selector", "url", "key", "expression", "text"):
        value = getattr(step, attr, None)
        if isinstance(value, list) and value:
            value = value[0]  # alternatives: the first is the recorded one
        if isinstance(value, str):
            if attr == "url":
                return scenario.resolve_url(value, base_url)
            return value
    if isinstance(step, Wait):
        return f"{step.ms} ms"
    if isinstance(step, Screenshot):
        return step.name
    return None


def _value(step: StepBase) -> str | None:
    if isinstance(step, Scroll) and (step.x or step.y or step.absolute):
        # The move, read back by the ticket's wording: "by 0, 600" or "to 0, 600".
        return f"{'to' if step.absolute else 'by'} {step.x}, {step.y}"
    value = getattr(step, "value", None) or getattr(step, "text", None)
    if isinstance(value, list):
        return ", ".join(value)
    return value if isinstance(value, str) else None


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


# One evaluation per browser: every context of it reports the same user agent.
_USER_AGENTS: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


async def _user_agent(browser: Browser, page: Page) -> str:
    agent = _USER_AGENTS.get(browser)
    if agent is None:
        agent = str(await within(page.evaluate("navigator.userAgent"), CLOSE_S, "user agent"))
        _USER_AGENTS[browser] = agent
    return agent


async def _frame_at(root: Page | Frame, path: list[int], timeout: int) -> Any:
    """The frame at a child-index path from ``root``, waiting for it to attach."""
    deadline = time.monotonic() + timeout / 1000
    while True:
        frame = root.main_frame if hasattr(root, "main_frame") else root
        for index in path:
            children = frame.child_frames
            if index >= len(children):
                break
            frame = children[index]
        else:
            return frame
        if time.monotonic() >= deadline:
            raise StepFailed(f"no frame at index path {path}")
        await asyncio.sleep(0.05)


def _same_target(url: str, target: str) -> bool:
    return url == target or url.rstrip("/") == target.rstrip("/") or url.startswith(target)

