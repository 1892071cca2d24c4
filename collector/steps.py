"""Perform one scenario step on a page: the only module that knows each step kind.

The runner decides which page, timeout and bookkeeping; this module turns a
step model into Playwright calls. Selector alternatives (from Chrome Recorder
exports) are tried in order and the one that matched is recorded.
"""

from __future__ import annotations

import asyncio
import fnmatch
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from collector.errors import first_line
from collector.report import StepRecord
from collector.scenario import (
    Back,
    Check,
    Click,
    Close,
    Dblclick,
    EmulateNetwork,
    Evaluate,
    ExpectText,
    ExpectUrl,
    ExpectVisible,
    Fill,
    Goto,
    Hover,
    KeyDown,
    KeyUp,
    Press,
    Reload,
    Screenshot,
    Scroll,
    Select,
    SetViewport,
    StepBase,
    Type,
    Uncheck,
    Upload,
    Wait,
    WaitFor,
    WaitForExpression,
    WaitForUrl,
)

if TYPE_CHECKING:
    from playwright.async_api import Frame, Locator, Page

REDACTED = "[REDACTED]"
POLL_S = 0.1


class StepFailed(Exception):
    """A step's own failure (not a Playwright error): an expectation not met."""


@dataclass
class StepContext:
    """What a step needs from the run around it."""

    page: Page
    scope: Page | Frame  # the page, or the frame the step's `frame` path names
    timeout: int
    record: StepRecord
    index: int
    resolve_url: Callable[[str], str]
    scenario_dir: Path
    learn_secret: Callable[[str], None]
    screenshot: Callable[..., Awaitable[str | None]]


async def perform(step: StepBase, ctx: StepContext) -> None:
    """Carry out ``step``; raise (Playwright errors, StepFailed) when it cannot be done."""
    page, scope, timeout = ctx.page, ctx.scope, ctx.timeout
    if isinstance(step, Goto):
        await page.goto(ctx.resolve_url(step.url), wait_until=step.wait_until, timeout=timeout)
    elif isinstance(step, Click):
        await (await locate(ctx, step.selector)).click(button=step.button, timeout=timeout)
    elif isinstance(step, Dblclick):
        await (await locate(ctx, step.selector)).dblclick(timeout=timeout)
    elif isinstance(step, Fill | Type):
        await _type_text(ctx, step)
    elif isinstance(step, Press):
        if step.selector:
            await (await locate(ctx, step.selector)).press(step.key, timeout=timeout)
        else:
            await page.keyboard.press(step.key)
    elif isinstance(step, KeyDown):
        await page.keyboard.down(step.key)
    elif isinstance(step, KeyUp):
        await page.keyboard.up(step.key)
    elif isinstance(step, Select):
        values = [step.value] if isinstance(step.value, str) else list(step.value)
        await _select(await locate(ctx, step.selector), values, timeout)
    elif isinstance(step, Check):
        await (await locate(ctx, step.selector)).check(timeout=timeout)
    elif isinstance(step, Uncheck):
        await (await locate(ctx, step.selector)).uncheck(timeout=timeout)
    elif isinstance(step, Hover):
        await (await locate(ctx, step.selector)).hover(timeout=timeout)
    elif isinstance(step, Scroll):
        await _scroll(ctx, step)
    elif isinstance(step, Upload):
        files = [step.files] if isinstance(step.files, str) else list(step.files)
        paths = [str((ctx.scenario_dir / f).resolve()) for f in files]
        missing = [p for p in paths if not Path(p).is_file()]
        if missing:
            raise StepFailed(f"file to upload not found: {missing[0]}")
        await (await locate(ctx, step.selector)).set_input_files(paths, timeout=timeout)
    elif isinstance(step, Wait):
        await asyncio.sleep(step.ms / 1000)
    elif isinstance(step, WaitFor):
        await _wait_for(ctx, step)
    elif isinstance(step, WaitForUrl):
        await page.wait_for_url(_url_pattern(ctx.resolve_url(step.url)), timeout=timeout)
    elif isinstance(step, WaitForExpression):
        await scope.wait_for_function(step.expression, timeout=timeout, polling=100)
    elif isinstance(step, ExpectText):
        await _expect_text(ctx, step)
    elif isinstance(step, ExpectVisible):
        await (await locate(ctx, step.selector)).wait_for(state="visible", timeout=timeout)
    elif isinstance(step, ExpectUrl):
        await _expect_url(page, ctx.resolve_url(step.url), timeout)
    elif isinstance(step, Screenshot):
        name = slug(step.name or f"step-{ctx.index:02d}")
        shot = await ctx.screenshot(
            f"step-{ctx.index:02d}-{name}",
            ctx.index,
            "step",
            full_page=step.full_page,
            selector=step.selector,
            raise_errors=True,
        )
        if shot is None:
            raise StepFailed("screenshot failed")
        ctx.record.screenshot = shot
    elif isinstance(step, Evaluate):
        await scope.evaluate(step.expression)
    elif isinstance(step, Reload):
        await page.reload(timeout=timeout)
    elif isinstance(step, Back):
        await page.go_back(timeout=timeout)
    elif isinstance(step, Close):
        await page.close()
    elif isinstance(step, SetViewport):
        await page.set_viewport_size({"width": step.width, "height": step.height})
    elif isinstance(step, EmulateNetwork):
        await _emulate_network(page, step)
    else:  # pragma: no cover - the scenario model admits no other kind
        raise StepFailed(f"unsupported step {step.action}")


async def locate(ctx: StepContext, selector: str | list[str]) -> Locator:
    """A locator for ``selector``; with alternatives, the first that matches (recorded)."""
    if isinstance(selector, str):
        return ctx.scope.locator(selector)
    deadline = time.monotonic() + ctx.timeout / 1000
    while True:
        for candidate in selector:
            locator = ctx.scope.locator(candidate)
            try:
                found = await locator.count()
            except Exception:  # a selector this engine cannot parse: try the next one
                continue
            if found:
                ctx.record.matched_selector = candidate
                return locator.first
        if time.monotonic() >= deadline:
            raise StepFailed(
                f"none of the {len(selector)} selectors matched within {ctx.timeout} ms: "
                + ", ".join(selector[:5])
            )
        await asyncio.sleep(POLL_S)


async def _type_text(ctx: StepContext, step: Fill | Type) -> None:
    locator = await locate(ctx, step.selector)
    text = step.value if isinstance(step, Fill) else step.text
    try:
        tag, kind = await locator.evaluate(
            "e => [e.tagName, (e.getAttribute('type') || '').toLowerCase()]",
            timeout=ctx.timeout,
        )
    except Exception:  # the fill itself reports a missing or detached element
        tag, kind = "", ""
    if kind == "password" and text:
        # Values typed into password fields are secrets, declared or not.
        ctx.learn_secret(text)
        if "${" not in (ctx.record.value or ""):
            ctx.record.value = REDACTED
    if tag == "SELECT":
        # Chrome Recorder writes a choice in a <select> as a "change" with its value.
        await _select(locator, [text], ctx.timeout)
    elif isinstance(step, Fill):
        await locator.fill(text, timeout=ctx.timeout)
    else:
        await locator.press_sequentially(text, delay=step.delay, timeout=ctx.timeout)


async def _select(locator: Locator, values: list[str], timeout: int) -> None:
    try:
        await locator.select_option(value=values, timeout=timeout)
    except Exception:
        # The user may have written the visible label rather than the value.
        await locator.select_option(label=values, timeout=timeout)


async def _scroll(ctx: StepContext, step: Scroll) -> None:
    moves = step.x or step.y or step.absolute
    if step.selector and not moves:
        await (await locate(ctx, step.selector)).scroll_into_view_if_needed(timeout=ctx.timeout)
    elif step.selector:
        script = "(e, [x, y, to]) => to ? e.scrollTo(x, y) : e.scrollBy(x, y)"
        locator = await locate(ctx, step.selector)
        await locator.evaluate(script, [step.x, step.y, step.absolute], timeout=ctx.timeout)
    else:
        script = "([x, y, to]) => to ? window.scrollTo(x, y) : window.scrollBy(x, y)"
        await ctx.scope.evaluate(script, [step.x, step.y, step.absolute])


async def _wait_for(ctx: StepContext, step: WaitFor) -> None:
    if step.count is None:
        await (await locate(ctx, step.selector)).wait_for(state=step.state, timeout=ctx.timeout)
        return
    selectors = [step.selector] if isinstance(step.selector, str) else step.selector
    compare = {">=": lambda n: n >= step.count, "==": lambda n: n == step.count,
               "<=": lambda n: n <= step.count}[step.operator]  # fmt: skip
    deadline = time.monotonic() + ctx.timeout / 1000
    while True:
        for candidate in selectors:
            locator = ctx.scope.locator(candidate)
            if step.state == "visible":
                locator = locator.locator("visible=true")
            try:
                found = await locator.count()
            except Exception:
                continue
            if compare(found):
                ctx.record.matched_selector = candidate
                return
        if time.monotonic() >= deadline:
            raise StepFailed(
                f"expected {step.operator} {step.count} element(s) for {selectors[0]} "
                f"within {ctx.timeout} ms"
            )
        await asyncio.sleep(POLL_S)


async def _expect_text(ctx: StepContext, step: ExpectText) -> None:
    from playwright.async_api import expect

    locator = await locate(ctx, step.selector)
    try:
        await expect(locator.first).to_contain_text(step.text, timeout=ctx.timeout)
    except AssertionError as exc:
        where = step.selector if isinstance(step.selector, str) else step.selector[0]
        raise StepFailed(f"expected text {step.text!r} in {where}: {first_line(exc)}") from None


async def _expect_url(page: Page, url: str, timeout: int) -> None:
    from playwright.async_api import expect

    try:
        await expect(page).to_have_url(_url_pattern(url), timeout=timeout)
    except AssertionError:
        raise StepFailed(f"expected URL {url}, the page is at {page.url}") from None


async def _emulate_network(page: Page, step: EmulateNetwork) -> None:
    # The conditions last as long as this CDP session, which Playwright keeps open
    # until the page closes: so it is deliberately never detached.
    session = await page.context.new_cdp_session(page)
    await session.send(
        "Network.emulateNetworkConditions",
        {
            "offline": step.offline,
            "latency": step.latency,
            "downloadThroughput": step.download,
            "uploadThroughput": step.upload,
        },
    )


def _url_pattern(url: str) -> str | re.Pattern[str]:
    return re.compile(fnmatch.translate(url)) if "*" in url else url


def slug(text: str) -> str:
    value = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")
    return value[:60] or "shot"
