"""collector: reproduce a user's steps in Chromium and write a support-ticket bundle.

The small public API, imported lazily so that `collector --help` stays fast:

- ``load_scenario(path)`` / ``load_any(path)``: read a steps file (or a Chrome Recorder export)
- ``run_scenario(scenario, browser, options)``: run it with capture (async)
- ``reproduce(scenario, ...)``: run it and write a bundle (async)
- ``Report``: the model of ``report.json``
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # What type checkers see for the lazy names below; at run time __getattr__ imports them.
    from collector.errors import CollectorError as CollectorError
    from collector.loader import load_any as load_any
    from collector.report import Report as Report
    from collector.repro import reproduce as reproduce
    from collector.runner import RunOptions as RunOptions
    from collector.runner import run_scenario as run_scenario
    from collector.scenario import load_scenario as load_scenario

__version__ = "0.1.0"

_EXPORTS = {
    "load_scenario": "collector.scenario",
    "load_any": "collector.loader",
    "run_scenario": "collector.runner",
    "RunOptions": "collector.runner",
    "reproduce": "collector.repro",
    "Report": "collector.report",
    "CollectorError": "collector.errors",
}
__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'collector' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(module), name)
