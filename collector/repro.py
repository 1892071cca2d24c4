"""One reproduction end to end: browser, run, bundle. What `collector repro` calls.

Whatever happens to the page, the browser or the user's patience, a bundle is
written: the run returns a result for every page fault, and Ctrl-C, SIGTERM,
SIGHUP or --max-run-time end the run early but still go through the writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from collector.browser import BrowserOptions, start_while_preparing
from collector.deadlines import CTRL_C, Interrupt

if TYPE_CHECKING:
    from playwright.async_api import Browser

    from collector.bundle import BundleOptions
    from collector.lanes import Lane
    from collector.options import Options
    from collector.report import Report
    from collector.runner import RunOptions, RunResult, StepCallback
    from collector.scenario import Scenario

# What a run needs besides a browser: the scenario and the options built from the
# config and the command line (prepared in a thread while the browser starts).
Prepared = tuple["Scenario", "Options"]


@dataclass
class Reproduction:
    """A finished reproduction: the bundle folder, what the run found and its report."""

    bundle: Path
    result: RunResult
    reference: str
    report: Report
    options: BundleOptions | None = None  # how it was written: language, reason, support desk

    @property
    def zip_path(self) -> Path:
        """The attachment, by its absolute path (what the person attaches to the ticket)."""
        return (self.bundle / f"{self.reference}.zip").resolve()


async def reproduce(
    scenario: Scenario,
    *,
    browser_options: BrowserOptions,
    run_options: RunOptions,
    bundle_options: BundleOptions,
    on_step: StepCallback | None = None,
    browser: Browser | None = None,
    guard: StopGuard | None = None,
) -> Reproduction:
    """Run ``scenario`` (in ``browser``, or one launched for it) and write its bundle.

    ``guard`` stops the run on a signal or a time limit (one of its own by default).
    """
    if browser is None:
        from collector.options import Options

        return await reproduce_prepared(
            lambda: (scenario, Options(run_options, bundle_options)),
            browser_options=browser_options,
            on_step=on_step,
        )
    from collector.bundle import write_run_bundle
    from collector.workspace import discard_workspace, new_workspace

    with contextlib.ExitStack() as stack:
        if guard is None:
            guard = stack.enter_context(StopGuard())
        workspace = new_workspace(bundle_options.out_dir)
        try:
            result = await guard.run(
                scenario, browser, _in_workspace(run_options, workspace.path), on_step
            )
        except BaseException:
            discard_workspace(workspace)
            raise
        written = write_run_bundle(result, workspace, bundle_options)
    return Reproduction(
        written.path, result, workspace.reference, written.report, bundle_options
    )


async def reproduce_prepared(
    prepare: Callable[[], Prepared],
    *,
    browser_options: BrowserOptions,
    on_step: StepCallback | None = None,
    max_run_time_s: float | None = None,
) -> Reproduction:
    """Prepare the run while the browser starts, run it, write the bundle while the
    browser closes (a bad scenario still wins over a browser problem)."""
    loop = asyncio.get_running_loop()
    # Installed first: a signal while the browser starts still ends in a bundle.
    with StopGuard(max_run_time_s) as guard:
        # The runner and the writer are heavy imports: the thread takes them while the
        # driver starts, so the driver starts as early as in a bare Playwright script.
        starting = await start_while_preparing(
            lambda: _with_run_imports(prepare), browser_options, survive_signals=True
        )
        from collector.bundle import write_run_bundle
        from collector.workspace import discard_workspace, new_workspace

        try:
            scenario, options = starting.prepared
            workspace = new_workspace(options.bundle.out_dir)
            try:
                browser = await starting.browser()
                result = await guard.run(
                    scenario, browser, _in_workspace(options.run, workspace.path), on_step
                )
            except BaseException:
                discard_workspace(workspace)
                raise
            writing = loop.run_in_executor(
                None, write_run_bundle, result, workspace, options.bundle
            )
        finally:
            await starting.close()
        written = await writing
    return Reproduction(
        written.path, result, workspace.reference, written.report, options.bundle
    )


def _with_run_imports(prepare: Callable[[], Prepared]) -> Prepared:
    """``prepare``, plus the imports and templates of the run and of its writer."""
    import collector.runner  # noqa: F401
    from collector.bundle_text import warm_up

    prepared = prepare()
    # A template that fails to load fails the writer the same way, and the writer
    # reports it with the run's bundle: nothing to add here.
    with contextlib.suppress(Exception):
        warm_up(prepared[1].bundle.template_dir)
    return prepared


STOP_SIGNALS = {
    signal.SIGINT: CTRL_C,
    signal.SIGTERM: Interrupt("Interrupted: terminated (SIGTERM)", signal.SIGTERM),
    signal.SIGHUP: Interrupt("Interrupted: hung up (SIGHUP)", signal.SIGHUP),
}


class StopGuard:
    """Turns Ctrl-C, SIGTERM, SIGHUP and a time limit into an orderly end of the run.

    The run in progress is cancelled, which the runner records as `interrupted`
    keeping all it collected; the caller still writes the bundle. A stop asked
    before the run starts ends it as soon as it starts. Outside the main thread
    (tests that drive their own loop) signals are left to their owner.
    """

    def __init__(self, max_run_time_s: float | None = None) -> None:
        self.max_run_time_s = max_run_time_s
        self.stop: Interrupt | None = None
        self._task: asyncio.Future[RunResult] | None = None
        self._signals: list[int] = []
        self._timer: asyncio.TimerHandle | None = None

    def __enter__(self) -> StopGuard:
        loop = asyncio.get_running_loop()
        for signum, interrupt in STOP_SIGNALS.items():
            try:
                loop.add_signal_handler(signum, self.request, interrupt)
            except (NotImplementedError, RuntimeError, ValueError):
                break  # not the main thread, or no signals on this platform
            self._signals.append(signum)
        if self.max_run_time_s is not None:
            limit = Interrupt(f"Stopped: the run reached --max-run-time {self.max_run_time_s:g} s")
            self._timer = loop.call_later(self.max_run_time_s, self.request, limit)
        return self

    def __exit__(self, *_exc: object) -> None:
        loop = asyncio.get_running_loop()
        for signum in self._signals:
            loop.remove_signal_handler(signum)
        if self._timer is not None:
            self._timer.cancel()

    def request(self, interrupt: Interrupt) -> None:
        """Stop the run (the first reason given is the one reported)."""
        if self.stop is None:
            self.stop = interrupt
        if self._task is not None and not self._task.done():
            # Scheduled, not immediate: the task has always taken its first step by
            # then, so the runner (not asyncio) receives the cancellation.
            asyncio.get_running_loop().call_soon(self._task.cancel)

    async def run(
        self,
        scenario: Scenario,
        browser: Browser,
        options: RunOptions,
        on_step: StepCallback | None = None,
        lane: Lane | None = None,
    ) -> RunResult:
        from collector.runner import run_scenario

        task = asyncio.ensure_future(
            run_scenario(
                scenario, browser, options, on_step, stop_reason=lambda: self.stop, lane=lane
            )
        )
        self._task = task
        if self.stop is not None:
            self.request(self.stop)
        try:
            return await task
        finally:
            self._task = None


def _in_workspace(options: RunOptions, work_dir: Path) -> RunOptions:
    from dataclasses import replace

    env: Mapping[str, str] = options.env if options.env is not None else dict(os.environ)
    return replace(options, work_dir=work_dir, env=env)
