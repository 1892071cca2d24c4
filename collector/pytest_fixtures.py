"""Fixtures of the pytest plugin that build on pytest-playwright's own.

This module is registered by ``collector.pytest_plugin`` in ``pytest_configure``,
after pytest-playwright or pytest-playwright-asyncio, so that
``browser_type_launch_args`` here wraps (and receives) that plugin's fixture
of the same name.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from collector.pytest_plugin import CAPTURE_KEY, USES_BROWSER, TestCapture


@pytest.fixture(scope="session")
def browser_type_launch_args(
    browser_type_launch_args: dict[str, Any], browser_name: str | None, playwright: Any
) -> dict[str, Any]:
    """Use the machine's Chromium when Playwright's own build is not installed."""
    args = dict(browser_type_launch_args)
    if browser_name not in (None, "chromium") or "executable_path" in args or "channel" in args:
        return args
    own = Path(playwright.chromium.executable_path)
    if own.is_file():
        return args
    from collector.browser import find_chromium, launch_args, needs_no_sandbox

    args["executable_path"] = str(find_chromium(headless=args.get("headless", True)))
    args["args"] = [*args.get("args", []), *launch_args()]
    args.setdefault("chromium_sandbox", not needs_no_sandbox())
    return args


@pytest.fixture(autouse=True)
def _collector_capture(request: pytest.FixtureRequest) -> Iterator[None]:
    if not any(name in request.fixturenames for name in USES_BROWSER):
        yield
        return
    from collector.pytest_recorder import install

    # A sync fixture on purpose: pytest-asyncio resolves the async plugin's `browser`
    # for it, and our wrapper of `new_context` follows the API the browser speaks.
    browser = request.getfixturevalue("browser")
    session = TestCapture(request.node, browser)
    original = browser.new_context

    if inspect.iscoroutinefunction(original):

        async def new_context_async(*args: Any, **kwargs: Any) -> Any:
            context = await original(*args, **kwargs)
            await session.add_context_async(context)
            return context

        browser.new_context = new_context_async
    else:

        def new_context(*args: Any, **kwargs: Any) -> Any:
            context = original(*args, **kwargs)
            session.add_context(context)
            return context

        browser.new_context = new_context
    request.node.stash[CAPTURE_KEY] = session
    # Installed before the other fixtures run: a fixture that logs in is part of the steps.
    restore = install(session.recorder)
    try:
        if "context" in request.fixturenames or "page" in request.fixturenames:
            request.getfixturevalue("context")  # created now, through the wrapper
        yield
    finally:
        restore()
        browser.new_context = original
