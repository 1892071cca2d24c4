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
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from collector.errors import first_line
from collector.report import StepRecord
from collector.scenario import (
    Back,
    Change,
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

T = TypeVar("T")


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
    note: Callable[[str], None]  # what the step could not do, for the report's capture notes
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
        # In the frame the step names (Recorder `frame`), else the page's main frame.
        await scope.goto(ctx.resolve_url(step.url), wait_until=step.wait_until, timeout=ctx.left())
    elif isinstance(step, Click | Dblclick):
        await _click(ctx, step)
    elif isinstance(step, Change):
        await _change(ctx, step)
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
        if scope is page or scope == page.main_frame:
            await page.close()
        # else: the step targets an iframe, which has nothing to close (as in the Recorder).
    elif isinstance(step, SetViewport):
        await page.set_viewport_size({"width": step.width, "height": step.height})
    elif isinstance(step, EmulateNetwork):
        await _emulate_network(page, step)
    else:  # pragma: no cover - the scenario model admits no other kind
        raise StepFailed(f"unsupported step {type(step).__name__}")


async def locate(ctx: StepContext, selector: str | list[str]) -> Locator:
    """A locator for ``selector``; with alternatives, the first that matches (recorded)."""
    if isinstance(selector, str):
        return ctx.scope.locator(selector)
    unusable: dict[str, str] = {}
    while True:
        for candidate in selector:
            locator = ctx.scope.locator(candidate)
            try:
                found = await locator.count()
            except Exception as exc:  # a selector this engine cannot parse: try the next one
                unusable[candidate] = first_line(exc)
                continue
            if found:
                ctx.record.matched_selector = candidate
                return locator.first
        if time.monotonic() >= ctx.deadline:
            raise StepFailed(
                f"none of the {len(selector)} selectors matched within {ctx.timeout} ms: "
                + ", ".join(selector[:5])
                + _unusable(unusable)
            )
        await asyncio.sleep(POLL_S)


def _unusable(reasons: dict[str, str]) -> str:
    """Why alternatives could not even be tried, for the step's error."""
    if not reasons:
        return ""
    return "; not usable: " + "; ".join(f"{sel} ({why})" for sel, why in list(reasons.items())[:3])


# Chrome's own names for the buttons Playwright's click has no name for, and the
# `buttons` bit each sets while pressed.
CDP_BUTTONS = {"back": 8, "forward": 16}


async def _click(ctx: StepContext, step: Click | Dblclick) -> None:
    locator = await locate(ctx, step.selector)
    if step.offset is None and step.button not in CDP_BUTTONS:
        kwargs: dict[str, Any] = {"button": step.button, "delay": step.delay}
        if isinstance(step, Dblclick):
            await locator.dblclick(timeout=ctx.left(), **kwargs)
        else:
            await locator.click(timeout=ctx.left(), **kwargs)
        return
    # A point recorded by the Recorder: computed as its replay library computes it
    # (border box, plus each enclosing iframe's border and padding), because
    # Playwright's own position is off by the iframe's border in out-of-process
    # iframes. Playwright still waits until the element can be clicked.
    await locator.click(trial=True, timeout=ctx.left())
    x, y = await _recorded_point(ctx, locator, step)
    clicks = 2 if isinstance(step, Dblclick) else 1
    if step.button in CDP_BUTTONS:
        await _cdp_click(ctx, x, y, step.button, clicks, step.delay)
        return
    # The buttons Playwright's mouse does not know went through DevTools above.
    button: Literal["left", "middle", "right"] = step.button  # type: ignore[assignment]
    mouse = ctx.page.mouse
    await mouse.move(x, y)
    for count in range(1, clicks + 1):
        await mouse.down(button=button, click_count=count)
        if step.delay and count == clicks:
            await asyncio.sleep(step.delay / 1000)
        await mouse.up(button=button, click_count=count)


BORDER_BOX = """e => {
  const rect = [...e.getClientRects()].find(r => r.width >= 1 && r.height >= 1)
    || e.getBoundingClientRect();
  return [rect.x, rect.y, rect.width, rect.height];
}"""
FRAME_ORIGIN = """e => {
  const rect = e.getBoundingClientRect();
  const style = getComputedStyle(e);
  return [rect.left + parseInt(style.paddingLeft, 10) + parseInt(style.borderLeftWidth, 10),
          rect.top + parseInt(style.paddingTop, 10) + parseInt(style.borderTopWidth, 10)];
}"""


async def _recorded_point(
    ctx: StepContext, locator: Locator, step: Click | Dblclick
) -> tuple[float, float]:
    """The step's point in the page's viewport: its offset, else the element's centre."""
    left, top, width, height = await locator.evaluate(BORDER_BOX, timeout=ctx.left())
    if step.offset is None:
        x, y = left + width / 2, top + height / 2
    else:
        x, y = left + step.offset.x, top + step.offset.y
    frame = ctx.scope if not hasattr(ctx.scope, "main_frame") else ctx.page.main_frame
    while frame.parent_frame is not None:
        element = await frame.frame_element()
        dx, dy = await element.evaluate(FRAME_ORIGIN)
        x, y = x + dx, y + dy
        frame = frame.parent_frame
    return x, y


async def _cdp_click(
    ctx: StepContext, x: float, y: float, button: str, clicks: int, delay: int
) -> None:
    # Playwright's mouse knows left, middle and right only; the back and forward
    # buttons go to Chrome as the Recorder's replay sends them, through DevTools.
    session = await ctx.page.context.new_cdp_session(ctx.page)
    try:
        await session.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y})
        for count in range(1, clicks + 1):
            press = {"x": x, "y": y, "button": button, "clickCount": count}
            await session.send(
                "Input.dispatchMouseEvent",
                {"type": "mousePressed", "buttons": CDP_BUTTONS[button], **press},
            )
            if delay and count == clicks:
                await asyncio.sleep(delay / 1000)
            await session.send(
                "Input.dispatchMouseEvent", {"type": "mouseReleased", "buttons": 0, **press}
            )
    finally:
        await session.detach()


# What kind of control a Recorder "change" acts on (@puppeteer/replay's Locator.fill).
CHANGE_KIND = """e => {
  if (e instanceof HTMLSelectElement) return 'select';
  if (e instanceof HTMLTextAreaElement) return 'typeable';
  if (e instanceof HTMLInputElement) {
    if (e.type === 'checkbox' || e.type === 'radio') return 'checkable';
    return ['text', 'url', 'tel', 'search', 'password', 'number', 'email'].includes(e.type)
      ? (e.type === 'password' ? 'password' : 'typeable') : 'other';
  }
  const role = e.getAttribute('role');
  if (role === 'checkbox' || role === 'radio' || role === 'switch') return 'checkable';
  return e.isContentEditable ? 'typeable' : 'unknown';
}"""
CHANGE_SELECT = """(e, value) => {
  if (!e.multiple) for (const option of e.options) option.selected = false;
  for (const option of e.options) {
    if (option.value === value) { option.selected = true; if (!e.multiple) break; }
    else if (e.multiple) option.selected = false;
  }
  e.dispatchEvent(new Event('input', {bubbles: true}));
  e.dispatchEvent(new Event('change', {bubbles: true}));
}"""
CHANGE_CHECKED = """e => e.indeterminate || e.getAttribute('aria-checked') === 'mixed'
  ? 'mixed' : (e.checked || e.getAttribute('aria-checked') === 'true')"""
# Keep what the field already holds when the value starts with it; the rest is typed.
CHANGE_PREFIX = """(e, value) => {
  const current = e.isContentEditable ? e.innerText : e.value;
  if (current === value) return '';
  if (!value.startsWith(current) || !current) {
    if (e.isContentEditable) e.innerText = ''; else e.value = '';
    return value;
  }
  if (e.isContentEditable) { e.innerText = ''; e.innerText = current; }
  else { e.value = ''; e.value = current; }
  return value.substring(current.length);
}"""
CHANGE_DIRECTLY = """(e, value) => {
  e.focus();
  const current = e.isContentEditable ? e.innerText : e.value;
  if (current === value) return;
  if (e.isContentEditable) e.innerText = value; else e.value = value;
  e.dispatchEvent(new Event('input', {bubbles: true}));
  e.dispatchEvent(new Event('change', {bubbles: true}));
}"""
TYPING_THRESHOLD = 100  # longer values are set at once, as the Recorder's replay does


async def _change(ctx: StepContext, step: Change) -> None:
    """A Recorder "change", with the events the Recorder's replay library produces."""
    locator = await locate(ctx, step.selector)
    # The replay library waits for the element in the viewport, stable and enabled.
    await locator.scroll_into_view_if_needed(timeout=ctx.left())
    kind = await locator.evaluate(CHANGE_KIND, timeout=ctx.left())
    if kind == "password" and step.value:
        ctx.learn_secret(step.value)
        if "${" not in (ctx.record.value or ""):
            ctx.record.value = REDACTED
    if kind == "checkable":
        state = await locator.evaluate(CHANGE_CHECKED, timeout=ctx.left())
        if state == "mixed" or state != bool(step.value):
            await locator.click(timeout=ctx.left())
    elif kind == "select":
        await locator.evaluate(CHANGE_SELECT, step.value, timeout=ctx.left())
    elif kind in ("typeable", "password") and len(step.value) < TYPING_THRESHOLD:
        rest = await locator.evaluate(CHANGE_PREFIX, step.value, timeout=ctx.left())
        if rest:
            await locator.evaluate("e => e.focus()", timeout=ctx.left())
            await ctx.page.keyboard.type(rest)
    elif kind in ("typeable", "password", "other"):
        await locator.evaluate(CHANGE_DIRECTLY, step.value, timeout=ctx.left())
    else:
        raise StepFailed("the element cannot be filled out (not a form control)")


async def _type_text(ctx: StepContext, step: Fill | Type) -> None:
    locator = await locate(ctx, step.selector)
    if isinstance(step, Fill):
        await _fill(ctx, locator, step.value)
        return
    found = await _kind_of(locator, ctx)
    unsure = found if isinstance(found, Exception) else None
    tag, kind = ("", "") if isinstance(found, Exception) else found
    if kind == "password" and step.text:
        _typed_a_secret(ctx, step.text)
    if tag == "SELECT":
        await _select(locator, [step.text], ctx)
    else:
        await locator.press_sequentially(step.text, delay=step.delay, timeout=ctx.left())
    if unsure is not None and step.text:
        _typed_unsure(ctx, step.text, unsure)


async def _fill(ctx: StepContext, locator: Locator, text: str) -> None:
    # The field's type is asked in Playwright's own world, in the same round trip as the
    # fill: a question in the page's world costs a fresh document some 20 ms, and the
    # page's script could answer it falsely there. No picture is taken before the secret
    # of a password field is learned: the step returns first.
    kind, filling = await asyncio.gather(
        _result_of(locator.get_attribute("type", timeout=ctx.left())),
        _result_of(locator.fill(text, timeout=ctx.left())),
    )
    if isinstance(kind, Exception):
        if text:
            _typed_unsure(ctx, text, kind)
    elif (kind or "").lower() == "password" and text:
        _typed_a_secret(ctx, text)
    if filling is None:
        return
    # Chrome Recorder writes a choice in a <select> as a fill of its value: the fill
    # itself fails there (and only there is the element's tag asked).
    found = await _kind_of(locator, ctx)
    if not isinstance(found, Exception) and found[0] == "SELECT":
        await _select(locator, [text], ctx)
        return
    raise filling


async def _kind_of(locator: Locator, ctx: StepContext) -> tuple[str, str] | Exception:
    """The element's tag and type attribute, or why it could not be asked."""
    try:
        tag, kind = await locator.evaluate(
            "e => [e.tagName, (e.getAttribute('type') || '').toLowerCase()]",
            timeout=ctx.left(),
        )
    except Exception as exc:  # the step's own action says why when the element is missing
        return exc
    return str(tag), str(kind)


async def _result_of(action: Awaitable[T]) -> T | Exception:
    """``action``'s result, or its error (kept for the caller to judge)."""
    try:
        return await action
    except Exception as exc:
        return exc


def _typed_unsure(ctx: StepContext, text: str, why: Exception) -> None:
    """Typed into a field whose kind is unknown: it may have been a password."""
    _typed_a_secret(ctx, text)
    ctx.note(
        f"step {ctx.index}: could not tell whether the field is a password field "
        f"({first_line(why)}); its value is kept as a secret"
    )


def _typed_a_secret(ctx: StepContext, text: str) -> None:
    """Values typed into password fields are secrets, declared or not."""
    ctx.learn_secret(text)
    if "${" not in (ctx.record.value or ""):
        ctx.record.value = REDACTED


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


# How many elements match, and whether all have the attributes and (deeply) the DOM
# properties asked for: the check of the Recorder's waitForElement.
ELEMENTS_MATCH = """(elements, [attributes, properties]) => {
  const deep = (a, b) => {
    if (a === b) return true;
    if ((a && !b) || (!a && b)) return false;
    if (!(a instanceof Object) || !(b instanceof Object)) return false;
    return Object.entries(a).every(([key, value]) => deep(value, b[key]));
  };
  const ok = elements.every(e =>
    Object.entries(attributes || {}).every(([name, value]) => e.getAttribute(name) === value)
    && (!properties || deep(properties, e)));
  return [elements.length, ok];
}"""


async def _wait_for(ctx: StepContext, step: WaitFor) -> None:
    if step.count is None and not step.attributes and not step.properties:
        await (await locate(ctx, step.selector)).wait_for(state=step.state, timeout=ctx.left())
        return
    selectors = [step.selector] if isinstance(step.selector, str) else step.selector
    count = 1 if step.count is None else step.count
    compare: Callable[[int], bool] = {">=": lambda n: n >= count, "==": lambda n: n == count,
               "<=": lambda n: n <= count}[step.operator]  # fmt: skip
    wanted = [step.attributes, step.properties]
    unusable: dict[str, str] = {}
    while True:
        for candidate in selectors:
            locator = ctx.scope.locator(candidate)
            if step.state == "visible":
                locator = locator.locator("visible=true")
            try:
                found, ok = await locator.evaluate_all(ELEMENTS_MATCH, wanted)
            except Exception as exc:  # unparsable here, or the page navigated: next poll
                unusable[candidate] = first_line(exc)
                continue
            if compare(found) and ok:
                ctx.record.matched_selector = candidate
                return
        if time.monotonic() >= ctx.deadline:
            extra = " with the attributes/properties asked for" if any(wanted) else ""
            raise StepFailed(
                f"expected {step.operator} {count} element(s){extra} for {selectors[0]} "
                f"within {ctx.timeout} ms" + _unusable(unusable)
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
