"""pytest plugin: fail Playwright tests whose pages log errors the rules do not allow.

Built on the fixtures of pytest-playwright *or* pytest-playwright-asyncio,
whichever the project has (collector requires neither): every context a test
creates (the ``context``/``page`` fixtures, ``new_context``, or
``browser.new_context``) gets collector's capture, and the test's Playwright
calls are recorded as steps (``collector.pytest_recorder``). After the test
body, the plugin waits briefly for late errors, judges the events with
collector's rules (config, options, markers) and fails the test with one line
per error. ``--collector-bundles`` says which tests leave a bundle in
``<--collector-output>/<test id slug>-<hash>/``; its ``scenario.yaml`` replays
the test's actions with ``collector replay``.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections.abc import Coroutine, Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest

from collector.capture import Capture, wait_quiet
from collector.config import load_config
from collector.deadlines import NoAnswer
from collector.either_api import drive, settled
from collector.environment import describe_environment
from collector.masking import MASK_COLOR, password_masks
from collector.options import Flags, Options, resolve_options
from collector.report import Event, Outcome, StepRecord
from collector.rules import Rules

USES_BROWSER = ("page", "context", "new_context")
# pytest-playwright registers as "playwright", pytest-playwright-asyncio as "playwright-asyncio".
PLAYWRIGHT_PLUGINS = ("playwright", "playwright-asyncio")
SLUG_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
SCREENSHOT_TIMEOUT_MS = 10_000
BUNDLE_POLICIES = ("on-error", "on-failure", "never")
SECTION = "collector"
T = TypeVar("T")


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
        help="Folder for the bundles (default: collector-results).",
    )
    group.addoption(
        "--collector-bundles",
        choices=BUNDLE_POLICIES,
        default="on-error",
        help="Which tests leave a bundle: on-error (their pages logged errors that fail "
        "them; the default), on-failure (also tests failing by their own assertion, "
        "and interrupted ones), never.",
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
    if config.getoption("--collector-disable"):
        return
    if any(config.pluginmanager.has_plugin(name) for name in PLAYWRIGHT_PLUGINS):
        # Registered now, after the Playwright plugin, so these fixtures wrap its own.
        from collector import pytest_fixtures

        config.pluginmanager.register(pytest_fixtures, "collector-playwright-fixtures")


CAPTURE_KEY = pytest.StashKey["TestCapture"]()
SECTION_KEY = pytest.StashKey[str]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    session = item.stash.get(CAPTURE_KEY, None)
    if session is None:
        return (yield)
    try:
        outcome = yield
    except BaseException as exc:
        if isinstance(exc, pytest.skip.Exception):
            session.abandon()
            raise
        # The test's own failure stays the failure; collector's findings go beside it.
        try:
            lines = session.finish(item, test_error=exc).lines
        except Exception as ours:  # e.g. an unwritable --collector-output: never mask the test's
            lines = [f"collector: could not judge or bundle this test: {_error_text(ours)}"]
        if lines:
            item.stash[SECTION_KEY] = "\n".join(lines)
        raise
    verdict = session.finish(item)
    if verdict.problems:
        pytest.fail("\n".join(verdict.lines), pytrace=False)
    return outcome


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    text = item.stash.get(SECTION_KEY, None)
    if text and call.when == "call":
        # A report section: shown under the failure, also from pytest-xdist workers.
        report.sections.append((SECTION, text))
    return report


@dataclass
class Verdict:
    """What collector found in one test: its problems and the bundle, if one was written."""

    problems: list[str] = field(default_factory=list)
    bundle: Path | None = None

    @property
    def lines(self) -> list[str]:
        lines = list(self.problems)
        if lines:
            count = len(lines)
            lines.insert(0, f"collector: {count} browser problem(s):")
        if self.bundle is not None:
            lines.append(f"bundle: {self.bundle}")
        return lines


class TestCapture:
    """Capture for one test: its contexts, its recorded actions, its verdict and bundle.

    Works with Playwright's sync API and its async one. With the async API the
    test body ran on pytest-asyncio's loop, which is idle once the body is
    done: the linger and screenshots run on it with ``run_until_complete``.
    """

    __test__ = False  # not a test class, despite the name

    def __init__(self, item: pytest.Item, browser: Any) -> None:
        from collector.pytest_recorder import ActionRecorder

        self.item = item
        self.browser = browser
        self.capture = Capture()
        self.contexts: list[Any] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self.started = datetime.now(UTC)
        self.t0 = time.monotonic()
        self.options = self._options(item.config)
        self.rules = self._rules(item)
        self.recorder = ActionRecorder(
            owns_page=lambda impl: any(p._impl_obj is impl for p in self.capture.pages),
            main_page=lambda: self.capture.pages[0]._impl_obj if self.capture.pages else None,
            on_step=self.capture.step_started,
        )

    @staticmethod
    def _options(config: pytest.Config) -> Options:
        flags = Flags(
            out_dir=config.getoption("--collector-output"),
            linger_s=config.getoption("--collector-linger"),
            fail_on=config.getoption("--collector-fail-on"),
            ignore=tuple(config.getoption("--collector-ignore")),
            ignore_option="--collector-ignore",
        )
        return resolve_options(flags, load_config(Path(str(config.rootpath))))

    def _rules(self, item: pytest.Item) -> Rules:
        allowed = [str(p) for m in item.iter_markers("allow_console") for p in m.args]
        expected = [str(p) for m in item.iter_markers("expect_console") for p in m.args]
        # Expected errors must occur, and do not fail the test when they do.
        return self.options.run.rules.with_overrides(
            ignore=tuple(allowed + expected), expect=tuple(expected)
        )

    def add_context(self, context: Any) -> None:
        self.capture.attach_sync(context)
        self.contexts.append(context)

    async def add_context_async(self, context: Any) -> None:
        self.loop = asyncio.get_running_loop()
        await self.capture.attach_test(context)
        self.contexts.append(context)

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run code written once for both APIs (``collector.either_api``) on the test's API.

        With the async API the test body ran on pytest-asyncio's loop, idle once the
        body is done; with the sync API nothing suspends, and no loop is needed.
        """
        if self.loop is None:
            return drive(coroutine)
        if self.loop.is_running():
            # Not pytest-asyncio's idle loop (another runner drives this test): skip.
            coroutine.close()
            raise RuntimeError("the test's event loop is not available after the test")
        return self.loop.run_until_complete(coroutine)

    def open_pages(self) -> list[Any]:
        """The pages still open and answering (a hung one is left alone)."""
        return self.capture.open_pages()

    def linger(self, seconds: float) -> None:
        """Give late errors (timers, responses) a chance to arrive, but stop once quiet."""
        self._run(wait_quiet(self.capture, seconds, evaluate=_evaluate, pause=_pause))

    def abandon(self) -> None:
        """A skipped test: nothing to judge."""
        self.recorder.active = False
        self.capture.detach()

    def finish(self, item: pytest.Item, test_error: BaseException | None = None) -> Verdict:
        """Judge the captured events; write a bundle when ``--collector-bundles`` asks."""
        self.recorder.active = False  # what the linger and screenshots do is not the test's
        config = item.config
        interrupted = isinstance(test_error, KeyboardInterrupt)
        if not interrupted:
            try:
                self.linger(config.getoption("--collector-linger"))
            except Exception as exc:  # judge what arrived; say why the wait stopped
                self.capture.problems.append(
                    f"waiting for late errors: {type(exc).__name__}: {exc}"
                )
        events = self.rules.judge(self.capture.events())
        failing = [e for e in events if e.fails]
        missing = self.rules.missing_expected(events)
        verdict = Verdict([_problem_line(e) for e in failing])
        verdict.problems += [
            f"  expected a console error matching {p!r}, none occurred" for p in missing
        ]
        if self._wants_bundle(config.getoption("--collector-bundles"), verdict, test_error):
            verdict.bundle = self._write_bundle(item, events, verdict, test_error)
        self.capture.detach()
        return verdict

    @staticmethod
    def _wants_bundle(policy: str, verdict: Verdict, test_error: BaseException | None) -> bool:
        if policy == "never":
            return False
        if policy == "on-failure":
            return bool(verdict.problems) or test_error is not None
        # on-error: the errors collector found are what a bundle explains; an interrupted
        # run is the user's choice, not a finding.
        return bool(verdict.problems) and not isinstance(test_error, KeyboardInterrupt)

    def _write_bundle(
        self,
        item: pytest.Item,
        events: list[Event],
        verdict: Verdict,
        test_error: BaseException | None,
    ) -> Path | None:
        from collector.bundle import write_run_bundle
        from collector.pytest_recorder import base_url_of
        from collector.runner import RunResult, Shot, _target, _value
        from collector.scenario import Goto, Scenario, StepBase
        from collector.workspace import new_workspace

        out_dir = self.options.bundle.out_dir
        workspace = new_workspace(out_dir, name=_free_name(out_dir, bundle_name(item.nodeid)))
        recorded = [r for r in self.recorder.records if r.step is not None]
        first_url = next((p.url for p in self.capture.pages), "about:blank")
        steps: list[StepBase] = [r.step for r in recorded if r.step is not None]
        # The base URL the test ran against (pytest-playwright's --base-url), so that
        # `collector replay --url` moves the steps to another deployment from there.
        base_url = base_url_of(self.capture.pages[0]._impl_obj) if self.capture.pages else None
        scenario = Scenario(
            name=item.nodeid,
            url=base_url,
            secrets=list(self.recorder.secret_names),
            steps=steps or [Goto(url=first_url)],  # type: ignore[arg-type]
        )
        error_text = _error_text(test_error) if test_error is not None else None
        records = [
            StepRecord(
                index=i,
                action=step.action,
                target=_target(step, scenario, None),
                status="failed" if i <= len(recorded) and recorded[i - 1].error else "ok",
                error=recorded[i - 1].error if i <= len(recorded) else None,
                value=_value(step),
            )
            for i, step in enumerate(scenario.steps, 1)
        ]
        failed_step = next((r.index for r in records if r.status == "failed"), None)
        if error_text and failed_step is None:
            # The test failed between actions (its own assertion): a step of its own.
            records.append(
                StepRecord(
                    index=len(records) + 1,
                    action="test",
                    target=item.nodeid,
                    name=item.name,
                    status="failed",
                    error=error_text,
                )
            )
            failed_step = len(records)
        last = records[-1].index
        shots = []
        for number, page in enumerate(self.open_pages(), 1):
            path = workspace.path / "screenshots" / f"page-{number}.png"
            try:
                shot = page.screenshot(
                    path=str(path),
                    mask=password_masks(page),
                    mask_color=MASK_COLOR,
                    timeout=SCREENSHOT_TIMEOUT_MS,
                )
                self._run(settled(shot))
                shots.append(Shot(path, last, "final" if number == 1 else "step"))
            except Exception as exc:  # a closed or crashed page: the bundle goes on without it
                self.capture.problems.append(f"screenshot of page {number}: {exc}")
        if shots:
            records[-1] = records[-1].model_copy(
                update={"screenshot": f"screenshots/{shots[0].path.name}"}
            )
        if isinstance(test_error, KeyboardInterrupt):
            outcome = Outcome(status="interrupted", message="interrupted (KeyboardInterrupt)")
        elif verdict.problems:
            outcome = Outcome(status="errors", message=verdict.lines[0])
        else:
            outcome = Outcome(
                status="step_failed", message=error_text or "", failed_step=failed_step
            )
        result = RunResult(
            scenario=scenario,
            started=self.started,
            duration_ms=int((time.monotonic() - self.t0) * 1000),
            steps=records,
            events=events,
            totals=self.capture.totals,
            dropped=self.capture.dropped,
            outcome=outcome,
            environment=describe_environment(self.browser.version, base_url),
            screenshots=shots,
            secrets=list(self.recorder.secrets),
            problems=self.capture.problems + self.recorder.warnings(),
            scenario_comments=self.recorder.comments(),
        )
        return write_run_bundle(result, workspace, self.options.bundle).path


def slug(nodeid: str) -> str:
    """A readable folder name for a test id: tests/test_x.py::test_y[a] -> tests-test-x-py-test-y-a."""
    return SLUG_UNSAFE.sub("-", nodeid).strip("-.")[:100] or "test"


def bundle_name(nodeid: str) -> str:
    """The bundle folder of a test: its slug and 8 hex of the id's SHA-1.

    The slug alone folds punctuation (``[a b]`` and ``[a/b]`` both give ``a-b``);
    the hash keeps every test id its own folder, the same on every run and on
    every pytest-xdist worker.
    """
    digest = hashlib.sha1(nodeid.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{slug(nodeid)}-{digest}"


def _free_name(out_dir: Path, name: str) -> str:
    """The name itself, unless a folder that is not one of our bundles has it."""
    candidate, n = name, 1
    while (out_dir / candidate).exists() and not (out_dir / candidate / "report.json").is_file():
        n += 1
        candidate = f"{name}-{n}"
    return candidate


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


async def _evaluate(page: Any, expression: str, seconds: float) -> Any:
    """Evaluate in ``page`` of either API within ``seconds``; NoAnswer when its script is busy."""
    # One class for both APIs: async_api.TimeoutError is sync_api.TimeoutError.
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    # Through a locator: its timeout also bounds a page whose script hangs, which
    # page.evaluate would wait on forever (and the sync API has no other deadline).
    try:
        return await settled(
            page.locator(":root").evaluate(f"() => {expression}", timeout=seconds * 1000)
        )
    except PlaywrightTimeout:
        raise NoAnswer(f"evaluating {expression}: no answer within {seconds:g} s") from None


async def _pause(pages: list[Any]) -> bool:
    """Let Playwright dispatch the events that came meanwhile (the sync API only does so
    during a call); without an open page there is nothing left to wait on."""
    if not pages:
        return False
    await settled(pages[0].wait_for_timeout(10))
    return True
