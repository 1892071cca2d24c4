"""One reproduction end to end: browser, run, bundle. What `collector repro` calls.

Whatever happens to the page, the browser or the user's patience, a bundle is
written: the run returns a result for every page fault, and Ctrl-C ends the
run early but still goes through the writer.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from collector.browser import BrowserOptions, start_while_preparing

if TYPE_CHECKING:
    from playwright.async_api import Browser

    from collector.bundle import BundleOptions
    from collector.runner import RunOptions, RunResult, StepCallback
    from collector.scenario import Scenario

# What a run needs besides a browser: the scenario and the options built from the
# config and the command line (prepared in a thread while the browser starts).
Prepared = tuple["Scenario", "RunOptions", "BundleOptions"]


@dataclass
class Reproduction:
    """A finished reproduction: the bundle folder and what the run found."""

    bundle: Path
    result: RunResult
    reference: str


async def reproduce(
    scenario: Scenario,
    *,
    browser_options: BrowserOptions,
    run_options: RunOptions,
    bundle_options: BundleOptions,
    on_step: StepCallback | None = None,
    browser: Browser | None = None,
) -> Reproduction:
    """Run ``scenario`` (in ``browser``, or one launched for it) and write its bundle."""
    if browser is None:
        return await reproduce_prepared(
            lambda: (scenario, run_options, bundle_options),
            browser_options=browser_options,
            on_step=on_step,
        )
    from collector.bundle import discard_workspace, new_workspace, write_bundle

    workspace = new_workspace(bundle_options.out_dir)
    try:
        result = await _run_shielded(
            scenario, browser, _in_workspace(run_options, workspace.path), on_step
        )
    except BaseException:
        discard_workspace(workspace)
        raise
    bundle = write_bundle(result, workspace, bundle_options)
    return Reproduction(bundle, result, workspace.reference)


async def reproduce_prepared(
    prepare: Callable[[], Prepared],
    *,
    browser_options: BrowserOptions,
    on_step: StepCallback | None = None,
) -> Reproduction:
    """Prepare the run while the browser starts, run it, write the bundle while the
    browser closes (a bad scenario still wins over a browser problem)."""
    loop = asyncio.get_running_loop()
    starting = await start_while_preparing(prepare, browser_options, survive_sigint=True)
    scenario, run_options, bundle_options = starting.prepared
    from collector.bundle import discard_workspace, new_workspace, warm_up_writer, write_bundle

    workspace = new_workspace(bundle_options.out_dir)
    try:
        try:
            browser = await starting.browser()
            # The run mostly waits on the browser: prepare the bundle writer meanwhile.
            loop.run_in_executor(None, warm_up_writer, bundle_options.template_dir)
            result = await _run_shielded(
                scenario, browser, _in_workspace(run_options, workspace.path), on_step
            )
        except BaseException:
            discard_workspace(workspace)
            raise
        writing = loop.run_in_executor(None, write_bundle, result, workspace, bundle_options)
    finally:
        await starting.close()
    bundle = await writing
    return Reproduction(bundle, result, workspace.reference)


async def _run_shielded(
    scenario: Scenario, browser: Browser, options: RunOptions, on_step: StepCallback | None
) -> RunResult:
    """Run with Ctrl-C turned into a cancellation the runner records as `interrupted`."""
    from collector.runner import run_scenario

    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(run_scenario(scenario, browser, options, on_step))
    try:
        loop.add_signal_handler(signal.SIGINT, task.cancel)
    except (NotImplementedError, RuntimeError):  # not the main thread, or no signals here
        return await task
    try:
        return await task
    finally:
        loop.remove_signal_handler(signal.SIGINT)


def _in_workspace(options: RunOptions, work_dir: Path) -> RunOptions:
    from dataclasses import replace

    env: Mapping[str, str] = options.env if options.env is not None else dict(os.environ)
    return replace(options, work_dir=work_dir, env=env)
