"""What a report says about the machine a run or a test ran on."""

from __future__ import annotations

import platform
from functools import cache
from importlib import metadata
from typing import Any

from collector import __version__
from collector.report import Environment


@cache  # reads the installed packages' metadata: 5 ms, once per page of a `check` before
def playwright_version() -> str:
    """The installed Playwright for Python ("" when it is not installed as a package)."""
    try:
        return metadata.version("playwright")
    except metadata.PackageNotFoundError:
        return ""


def describe_environment(browser_version: str, url: str | None, **details: Any) -> Environment:
    """This machine, collector and Playwright, with the browser and what the run adds."""
    return Environment(
        browser_version=browser_version,
        os=platform.platform(),
        url=url,
        collector_version=__version__,
        python=platform.python_version(),
        playwright_version=playwright_version(),
        **details,
    )
