"""pytest plugin: fail pytest-playwright tests whose pages log errors the rules do not allow.

Built on pytest-playwright's fixtures: every context a test creates (the
``context``/``page`` fixtures, ``new_context``, or ``browser.new_context``)
gets collector's capture. After the test body, the plugin waits briefly for
late errors, judges the events with collector's rules (config, options,
markers) and fails the test with one line per error. Every failing test gets a
bundle in ``<--collector-output>/<test id slug>/``.
"""

from __future__ import annotations

import platform
import re
import time
from collections.abc import Generator
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from collector import __version__
from collector.capture import Capture
from collector.deadlines import PROBE_S
from collector.masking import MASK_COLOR, PASSWORD_FIELDS
from collector.report import Environment, Event, Outcome, StepRecord
from collector.rules import Rules, load_config

USES_BROWSER = ("page", "context", "new_context")
SLUG_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
QUIET_MS = 25
SCREENSHOT_TIMEOUT_MS = 10_000


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("collector", "collector: fail tests on browser console errors")
    group.addoption(
        "--collector-fail-on",
        choices=("error", "warning", "never"),
        default=None,
        help="Lowest console level that fails a test (default: config, else error).",
    )
    group.addoption(
        "--collector-output",
        default="collector-results",
        help="Folder for the bundles of failing tests (default: collector-results).",
    )
    group.addoption(
        "--collector-ignore",
        action="append",
        default=[],
        metavar="PATTERN",
        help="Ignore errors matching PATTERN (regex or substring); repeatable.",
    )
    group.addoption(
        "--collector-linger",
        type=float,
        default=0.5,
        metavar="S",
        help="Seconds to wait for late errors after each test (default 0.5).",
    )
    group.addoption(
        "--collector-disable", action="store_true", help="Do not capture or judge anything."
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "allow_console(*patterns): errors matching these patterns do not fail the test"
    )
    config.addinivalue_line(
        "markers", "expect_console(*patterns): the test fails unless errors matching these occur"
    )
    if not config.getoption("--collector-disable") and config.pluginmanager.has_plugin(
        "playwright"
    ):
        # Registered now, after pytest-playwright, so these fixtures wrap its own.
        from collector import pytest_fixtures

        config.pluginmanager.register(pytest_fixtures, "collector-playwright-fixtures")


CAPTURE_KEY = pytest.StashKey["TestCapture"]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    session = item.stash.get(CAPTURE_KEY, None)
    if session is None:
        return (yield)
    try:
        outcome = yield
    except BaseException as exc:
        session.finish(item, test_error=exc)
        raise
    problems = session.finish(item)
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)
    return outcome


class TestCapture:
    """Capture for one test: its contexts, its rules, its verdict and bundle."""

    __test__ = False  # not a test class, despite the name

    def __init__(self, item: pytest.Item, browser: Any) -> None:
        self.item = item
        self.browser = browser
        self.capture = Capture()
        self.capture.current_step = 1
        self.contexts: list[Any] = []
        self.started = datetime.now(UTC)
        self.t0 = time.monotonic()
        self.rules = self._rules(item)

    def _rules(self, item: pytest.Item) -> Rules:
        config = item.config
        base = load_config(Path(str(config.rootpath))).rules()
        allowed = [str(p) for m in item.iter_markers("allow_console") for p in m.args]
        expected = [str(p) for m in item.iter_markers("expect_console") for p in m.args]
        return base.with_overrides(
            fail_on=config.getoption("--collector-fail-on"),
            # Expected errors must occur, and do not fail the test when they do.
            ignore=tuple(config.getoption("--collector-ignore")) + tuple(allowed + expected),
            expect=tuple(expected),
        )

    def add_context(self, context: Any) -> None:
        self.capture.attach_sync(context)
        self.contexts.append(context)

    def open_pages(self) -> list[Any]:
        """The pages still open and answering (a hung one is left alone)."""
        return [
            p for p in self.capture.pages if not p.is_closed() and p not in self.capture.unresponsive
        ]

    def linger(self, seconds: float) -> None:
        """Give late errors (timers, responses) a chance to arrive, but stop once quiet."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            pages = self.open_pages()
            if not pages:
                return
            quiet = self.capture.idle_for_ms() >= QUIET_MS and not self.capture.pending_requests
            if quiet and not self._timers_pending(pages, deadline):
                return
            pages[0].wait_for_timeout(10)  # lets Playwright dispatch pending events

    def _timers_pending(self, pages: list[Any], deadline: float) -> bool:
        for page in pages:
            remaining_ms = max((deadline - time.monotonic()) * 1000, 50)
            try:
                # Through a locator: its timeout also bounds a page whose script hangs,
                # which page.evaluate would wait on forever.
                if _evaluate(page, "window.__collectorPendingTimers || 0", remaining_ms):
                    return True
            except TimeoutError:
                if not _answers(page):
                    self.capture.stopped_responding(page)
            except Exception:  # navigating or closed: nothing to wait for on it
                continue
        return False

    def finish(self, item: pytest.Item, test_error: BaseException | None = None) -> list[str]:
        """Judge the captured events; write a bundle when the test fails either way."""
        config = item.config
        self.linger(config.getoption("--collector-linger"))
        events = self.rules.judge(self.capture.events())
        failing = [e for e in events if e.fails]
        missing = self.rules.missing_expected(events)
        problems = [_problem_line(e) for e in failing]
        problems += [f"expected a console error matching {p!r}, none occurred" for p in missing]
        if problems:
            problems.insert(0, f"collector: {len(failing) + len(missing)} browser problem(s):")
        if problems or test_error is not None:
            bundle = self._write_bundle(item, events, problems, test_error)
            if bundle is not None and problems:
                problems.append(f"bundle: {bundle}")
        self.capture.detach()
        return problems

    def _write_bundle(
        self,
        item: pytest.Item,
        events: list[Event],
        problems: list[str],
        test_error: BaseException | None,
    ) -> Path | None:
        from collector.bundle import BundleOptions, new_workspace, write_bundle
        from collector.runner import RunResult, Shot
        from collector.scenario import Goto, Scenario

        config = load_config(Path(str(item.config.rootpath)))
        out_dir = Path(item.config.getoption("--collector-output"))
        workspace = new_workspace(out_dir, name=_free_name(out_dir, slug(item.nodeid)))
        shots = []
        for number, page in enumerate(self.open_pages(), 1):
            path = workspace.path / "screenshots" / f"page-{number}.png"
            try:
                page.screenshot(
                    path=str(path),
                    mask=[frame.locator(PASSWORD_FIELDS) for frame in page.frames],
                    mask_color=MASK_COLOR,
                    timeout=SCREENSHOT_TIMEOUT_MS,
                )
                shots.append(Shot(path, 1, "final" if number == 1 else "step"))
            except Exception as exc:  # a closed or crashed page: the bundle goes on without it
                self.capture.problems.append(f"screenshot of page {number}: {exc}")
        first_url = next((p.url for p in self.capture.pages), "about:blank")
        error_text = _error_text(test_error) if test_error is not None else None
        status = "failed" if (problems or test_error) else "ok"
        step = StepRecord(
            index=1,
            action="test",
            target=item.nodeid,
            name=item.name,
            status=status,
            duration_ms=int((time.monotonic() - self.t0) * 1000),
            error=error_text or (problems[1] if len(problems) > 1 else None),
            screenshot=f"screenshots/{shots[0].path.name}" if shots else None,
            url=first_url,
        )
        outcome = (
            Outcome(status="errors", message=problems[0] if problems else "")
            if problems
            else Outcome(status="step_failed", message=error_text or "", failed_step=1)
        )
        result = RunResult(
            scenario=Scenario(name=item.nodeid, steps=[Goto(url=first_url)]),
            started=self.started,
            duration_ms=step.duration_ms,
            steps=[step],
            events=events,
            totals=self.capture.totals,
            dropped=self.capture.dropped,
            outcome=outcome,
            environment=Environment(
                browser_version=self.browser.version,
                os=platform.platform(),
                collector_version=__version__,
                python=platform.python_version(),
                playwright_version=_version("playwright"),
            ),
            screenshots=shots,
            secrets=[],
            problems=self.capture.problems,
        )
        options = BundleOptions(
            out_dir=out_dir,
            max_attachment_bytes=config.attachment_budget(),
            lang=config.lang,
            redact_patterns=tuple(config.redact),
            support_email=config.support_email,
        )
        return write_bundle(result, workspace, options)


def slug(nodeid: str) -> str:
    """A folder name for a test id: tests/test_x.py::test_y[a] -> tests-test-x-py-test-y-a."""
    return SLUG_UNSAFE.sub("-", nodeid).strip("-.")[:150] or "test"


def _free_name(out_dir: Path, name: str) -> str:
    """The name itself, unless a folder that is not one of our bundles has it."""
    candidate, n = name, 1
    while (out_dir / candidate).exists() and not (out_dir / candidate / "report.json").is_file():
        n += 1
        candidate = f"{name}-{n}"
    return candidate


def _evaluate(page: Any, expression: str, timeout_ms: float) -> Any:
    """Evaluate in ``page`` within ``timeout_ms``; TimeoutError when its script is busy."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        return page.locator(":root").evaluate(f"() => {expression}", timeout=timeout_ms)
    except PlaywrightTimeout:
        raise TimeoutError(expression) from None


def _answers(page: Any) -> bool:
    """Whether ``page``'s script still runs (any reply counts, an error included)."""
    try:
        _evaluate(page, "0", PROBE_S * 1000)
    except TimeoutError:
        return False
    except Exception:
        return True
    return True


def _problem_line(event: Event) -> str:
    where = ""
    if event.url:
        where = f" at {event.url}" + "".join(f":{n}" for n in (event.line, event.column) if n)
    count = f" (×{event.count})" if event.count > 1 else ""
    text = " ".join(event.text.split())[:300]
    return f"  {event.kind} on {event.source or 'page'}{where}: {text}{count}"


def _error_text(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"[:500]


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return ""
