"""One reproduction end to end: browser, run, bundle. What `collector repro` calls.

Whatever happens to the page, the browser or the user's patience, a bundle is
written: the run returns a result for every page fault, and Ctrl-C ends the
run early but still goes through the writer.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from collector.browser import BrowserOptions, open_browser
from collector.bundle import BundleOptions, discard_workspace, new_workspace, write_bundle
from collector.runner import RunOptions, RunResult, StepCallback, run_scenario
from collector.scenario import Scenario

if TYPE_CHECKING:
    from playwright.async_api import Browser


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
    workspace = new_workspace(bundle_options.out_dir)
    options = _in_workspace(run_options, workspace.path)
    try:
        if browser is not None:
            result = await _run_shielded(scenario, browser, options, on_step)
        else:
            async with open_browser(browser_options, survive_sigint=True) as (launched, _origin):
                result = await _run_shielded(scenario, launched, options, on_step)
    except BaseException:
        discard_workspace(workspace)
        raise
    bundle = write_bundle(result, workspace, bundle_options)
    return Reproduction(bundle, result, workspace.reference)


async def _run_shielded(
    scenario: Scenario, browser: Browser, options: RunOptions, on_step: StepCallback | None
) -> RunResult:
    """Run with Ctrl-C turned into a cancellation the runner records as `interrupted`."""
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
