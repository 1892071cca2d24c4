"""Perform one scenario step on a page: the only module that knows each step kind.

The runner decides which page, timeout and bookkeeping; this module turns a
step model into Playwright calls. Selector alternatives (from Chrome Recorder
exports) are tried in order and the one that matched is recorded.
"""

from __future__ import annotations

import asyncio
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
    timeout: int  # the step's whole budget in ms, as the user wrote it (for messages)
    record: StepRecord
    index: int
    resolve_url: Callable[[str], str]
    scenario_dir: Path
    learn_secret: Callable[[str], None]
    screenshot: Callable[..., Awaitable[str | None]]
    # time.monotonic() when the step's budget runs out: every wait and fallback of the
    # step shares it, so a 15 s step never takes 30 s.
    deadline: float = 0.0

    def __post_init__(self) -> None:
        if not self.deadline:
            self.deadline = time.monotonic() + self.timeout / 1000

    def left(self) -> int:
        """Milliseconds left of the step's budget (at least 1: 0 means no limit)."""
        return max(1, int((self.deadline - time.monotonic()) * 1000))


async def perform(step: StepBase, ctx: StepContext) -> None:
    """Carry out ``step``; raise (Playwright errors, StepFailed) when it cannot be done."""
    page, scope = ctx.page, ctx.scope
    if isinstance(step, Goto):
        await page.goto(ctx.resolve_url(step.url), wait_until=step.wait_until, timeout=ctx.left())
    elif isinstance(step, Click):
        await (await locate(ctx, step.selector)).click(button=step.button, timeout=ctx.left())
    elif isinstance(step, Dblclick):
        await (await locate(ctx, step.selector)).dblclick(timeout=ctx.left())
    elif isinstance(step, Fill | Type):
        await _type_text(ctx, step)
    elif isinstance(step, Press):
        if step.selector:
            await (await locate(ctx, step.selector)).press(step.key, timeout=ctx.left())
        else:
            await page.keyboard.press(step.key)
    elif isinstance(step, KeyDown):
        await page.keyboard.down(step.key)
    elif isinstance(step, KeyUp):
        await page.keyboard.up(step.key)
    elif isinstance(step, Select):
        values = [step.value] if isinstance(step.value, str) else list(step.value)
        await _select(await locate(ctx, step.selector), values, ctx)
    elif isinstance(step, Check):
        await (await locate(ctx, step.selector)).check(timeout=ctx.left())
    elif isinstance(step, Uncheck):
        await (await locate(ctx, step.selector)).uncheck(timeout=ctx.left())
    elif isinstance(step, Hover):
        await (await locate(ctx, step.selector)).hover(timeout=ctx.left())
    elif isinstance(step, Scroll):
        await _scroll(ctx, step)
    elif isinstance(step, Upload):
        files = [step.files] if isinstance(step.files, str) else list(step.files)
        paths = [str((ctx.scenario_dir / f).resolve()) for f in files]
        missing = [p for p in paths if not Path(p).is_file()]
        if missing:
            raise StepFailed(f"file to upload not found: {missing[0]}")
        await (await locate(ctx, step.selector)).set_input_files(paths, timeout=ctx.left())
    elif isinstance(step, Wait):
        await asyncio.sleep(step.ms / 1000)
    elif isinstance(step, WaitFor):
        await _wait_for(ctx, step)
    elif isinstance(step, WaitForUrl):
        await _wait_for_url(ctx, step.url)
    elif isinstance(step, WaitForExpression):
        await scope.wait_for_function(step.expression, timeout=ctx.left(), polling=100)
    elif isinstance(step, ExpectText):
        await _expect_text(ctx, step)
    elif isinstance(step, ExpectVisible):
        await (await locate(ctx, step.selector)).wait_for(state="visible", timeout=ctx.left())
    elif isinstance(step, ExpectUrl):
        await _expect_url(ctx, step.url)
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
        await page.reload(timeout=ctx.left())
    elif isinstance(step, Back):
        await page.go_back(timeout=ctx.left())
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
        if time.monotonic() >= ctx.deadline:
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
            timeout=ctx.left(),
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
        await _select(locator, [text], ctx)
    elif isinstance(step, Fill):
        await locator.fill(text, timeout=ctx.left())
    else:
        await locator.press_sequentially(text, delay=step.delay, timeout=ctx.left())


async def _select(locator: Locator, values: list[str], ctx: StepContext) -> None:
    # Playwright matches each string against an option's value or its label in one
    # call: one wait, one timeout, and its own reason when the element is hidden.
    await locator.select_option(value=values, timeout=ctx.left())


async def _scroll(ctx: StepContext, step: Scroll) -> None:
    moves = step.x or step.y or step.absolute
    if step.selector and not moves:
        await (await locate(ctx, step.selector)).scroll_into_view_if_needed(timeout=ctx.left())
    elif step.selector:
        script = "(e, [x, y, to]) => to ? e.scrollTo(x, y) : e.scrollBy(x, y)"
        locator = await locate(ctx, step.selector)
        await locator.evaluate(script, [step.x, step.y, step.absolute], timeout=ctx.left())
    else:
        script = "([x, y, to]) => to ? window.scrollTo(x, y) : window.scrollBy(x, y)"
        await ctx.scope.evaluate(script, [step.x, step.y, step.absolute])


async def _wait_for(ctx: StepContext, step: WaitFor) -> None:
    if step.count is None:
        await (await locate(ctx, step.selector)).wait_for(state=step.state, timeout=ctx.left())
        return
    selectors = [step.selector] if isinstance(step.selector, str) else step.selector
    compare = {">=": lambda n: n >= step.count, "==": lambda n: n == step.count,
               "<=": lambda n: n <= step.count}[step.operator]  # fmt: skip
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
        if time.monotonic() >= ctx.deadline:
            raise StepFailed(
                f"expected {step.operator} {step.count} element(s) for {selectors[0]} "
                f"within {ctx.timeout} ms"
            )
        await asyncio.sleep(POLL_S)


async def _expect_text(ctx: StepContext, step: ExpectText) -> None:
    from playwright.async_api import expect

    locator = await locate(ctx, step.selector)
    try:
        await expect(locator.first).to_contain_text(step.text, timeout=ctx.left())
    except AssertionError as exc:
        where = step.selector if isinstance(step.selector, str) else step.selector[0]
        raise StepFailed(f"expected text {step.text!r} in {where}: {first_line(exc)}") from None


async def _wait_for_url(ctx: StepContext, pattern: str) -> None:
    # The pattern goes to Playwright as written: its own glob semantics (`*` within a
    # path segment, `**` across them, `{a,b}`), relative patterns resolved against the
    # context's base URL exactly as Playwright resolves them.
    try:
        await ctx.scope.wait_for_url(pattern, timeout=ctx.left())
    except Exception as exc:
        if "Timeout" not in str(exc):
            raise
        raise StepFailed(
            f"no navigation to {pattern} within {ctx.timeout} ms; the page is at {ctx.scope.url}"
        ) from None


async def _expect_url(ctx: StepContext, pattern: str) -> None:
    # wait_until="commit": the URL is the assertion, not the page's load.
    try:
        await ctx.scope.wait_for_url(pattern, wait_until="commit", timeout=ctx.left())
    except Exception as exc:
        if "Timeout" not in str(exc):
            raise
        raise StepFailed(f"expected URL {pattern}, the page is at {ctx.scope.url}") from None


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


def slug(text: str) -> str:
    value = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")
    return value[:60] or "shot"
