"""Record the browser actions a pytest test performs, as collector steps.

The plugin's bundle must be replayable: ``collector replay`` runs its
``scenario.yaml``. So while a browser test runs, the public action methods of
Playwright's ``Page``, ``Frame``, ``Locator``, ``Keyboard``, ``Mouse`` and of
the ``expect(...)`` assertion classes (sync and async API alike) are wrapped;
each call on a page of the test's captured contexts becomes a step, in call
order, with the selector the test used. Calls that have no step equivalent
(mouse moves, routes, evaluate with arguments, uploads …) become a comment at
their place in the YAML and a warning in the report.

Why instrumentation and not Playwright tracing: a trace's "before" events
carry no page or frame identity (a popup and its opener cannot be told apart)
and ``context.tracing.start`` conflicts with pytest-playwright's own
``--tracing`` option.

Values typed into password fields are never written: after a fill or type the
element is probed, and a password field's value becomes
``${COLLECTOR_PASSWORD_N}`` (declared in ``secrets:``, its literal redacted
from every file of the bundle).
"""

from __future__ import annotations

import contextvars
import datetime
import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from collector.either_api import drive, settled
from collector.scenario import (
    MAX_TIMEOUT_MS,
    Back,
    Check,
    Click,
    Close,
    Dblclick,
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
    Scroll,
    Select,
    SetViewport,
    StepBase,
    Type,
    Uncheck,
    Wait,
    WaitFor,
    WaitForExpression,
    WaitForUrl,
)

# Our own password probe must not record itself (a contextvar: per asyncio task).
_PROBING: contextvars.ContextVar[bool] = contextvars.ContextVar("collector_probing", default=False)
PASSWORD_PROBE = "e => e instanceof HTMLInputElement && e.type === 'password'"
SECRET_PREFIX = "COLLECTOR_PASSWORD_"

# Methods that act on the page. Those not mapped by `_step_for` become comments.
ACTIONS: dict[str, tuple[str, ...]] = {
    "Page": (
        "goto", "click", "dblclick", "fill", "type", "press", "select_option", "check",
        "uncheck", "set_checked", "hover", "tap", "focus", "wait_for_selector", "wait_for_url",
        "wait_for_timeout", "wait_for_function", "wait_for_load_state", "reload", "go_back",
        "go_forward", "close", "set_input_files", "evaluate", "evaluate_handle",
        "set_viewport_size", "route", "route_from_har", "unroute", "drag_and_drop",
        "dispatch_event", "set_content", "add_init_script", "add_script_tag",
        "add_style_tag", "expose_function", "expose_binding", "emulate_media",
        "set_extra_http_headers",
    ),
    "Frame": (
        "goto", "click", "dblclick", "fill", "type", "press", "select_option", "check",
        "uncheck", "set_checked", "hover", "tap", "focus", "wait_for_selector", "wait_for_url",
        "wait_for_timeout", "wait_for_function", "wait_for_load_state", "set_input_files",
        "evaluate", "evaluate_handle", "drag_and_drop", "dispatch_event", "set_content",
        "add_script_tag", "add_style_tag",
    ),
    "Locator": (
        "click", "dblclick", "fill", "type", "press", "press_sequentially", "select_option",
        "check", "uncheck", "set_checked", "hover", "clear", "tap", "focus", "blur",
        "wait_for", "scroll_into_view_if_needed", "set_input_files", "drag_to",
        "dispatch_event", "select_text", "evaluate", "evaluate_all", "evaluate_handle",
    ),
    "Keyboard": ("press", "down", "up", "type", "insert_text"),
    "Mouse": ("click", "dblclick", "down", "up", "move", "wheel"),
    "LocatorAssertions": (
        "to_have_text", "to_contain_text", "to_be_visible", "to_be_hidden", "to_be_attached",
        "to_be_checked", "to_be_enabled", "to_be_disabled", "to_be_editable", "to_be_empty",
        "to_be_focused", "to_be_in_viewport", "to_have_value", "to_have_values",
        "to_have_attribute", "to_have_class", "to_have_count", "to_have_css", "to_have_id",
        "to_have_js_property", "to_have_accessible_name", "to_have_role",
        "not_to_have_text", "not_to_contain_text", "not_to_be_visible", "not_to_be_attached",
        "not_to_be_checked", "not_to_have_value", "not_to_have_count",
    ),
    "PageAssertions": ("to_have_url", "to_have_title", "not_to_have_url", "not_to_have_title"),
}  # fmt: skip
TYPING = {"fill", "type", "press_sequentially", "insert_text"}


@dataclass
class Recorded:
    """One recorded call: a step, or a comment where no step fits."""

    step: StepBase | None
    comment: str | None = None
    error: str | None = None
    probe: Callable[[], Any] | None = None  # returns (or awaits to) "is a password field"


@dataclass
class ActionRecorder:
    """The steps of one test, recorded from Playwright calls on its pages."""

    owns_page: Callable[[Any], bool]  # page impl -> does it belong to the test's contexts
    main_page: Callable[[], Any]  # the impl of the test's first page, or None
    records: list[Recorded] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)  # literal password values, to redact
    secret_names: list[str] = field(default_factory=list)
    on_step: Callable[[int], None] = lambda _index: None
    active: bool = True
    step_count: int = 0

    # -- results -----------------------------------------------------------------

    def steps(self) -> list[StepBase]:
        return [r.step for r in self.records if r.step is not None]

    def comments(self) -> dict[int, list[str]]:
        """Comments to write before the step at each 0-based position (len(steps): at the end)."""
        notes: dict[int, list[str]] = {}
        position = 0
        for record in self.records:
            if record.step is None and record.comment:
                notes.setdefault(position, []).append(record.comment)
            elif record.step is not None:
                position += 1
        return notes

    def warnings(self) -> list[str]:
        return [
            f"not replayable: {r.comment}" for r in self.records if r.step is None and r.comment
        ]

    # -- recording ---------------------------------------------------------------

    def before(
        self, kind: str, method: str, obj: Any, arguments: dict[str, Any]
    ) -> Recorded | None:
        if not self.active or _PROBING.get():
            return None
        impl = getattr(obj, "_impl_obj", None)
        page = _page_of(kind, impl)
        if page is None or not self.owns_page(page):
            return None
        label = f"{_LABELS.get(kind, kind)}.{method}()"
        main = self.main_page()
        try:
            if main is not None and page.context is not main.context:
                # A replay runs one context: a second user's steps would act on the wrong page.
                raise _NoStep("acts in a second browser context: a scenario has one")
            step = _step_for(kind, method, obj, impl, page, arguments)
        except _NoStep as reason:
            record = Recorded(None, comment=f"{label} {reason}".strip())
            self.records.append(record)
            return None
        if step is None:
            self.records.append(Recorded(None, comment=f"{label} has no step equivalent"))
            return None
        target = None if page is main else _url_of(page)
        if target:
            step = step.model_copy(update={"target": target})
        timeout = _timeout_ms(arguments.get("timeout"))
        if timeout is not None and not isinstance(step, Wait):
            # A wait the test made longer must be as long in the replay.
            step = step.model_copy(update={"timeout": timeout})
        record = Recorded(step)
        if method in TYPING or (kind == "Keyboard" and method == "type"):
            record.probe = _prober(kind, obj, arguments)
        self.records.append(record)
        self.step_count += 1
        self.on_step(self.step_count)
        return record

    def typed_into_password(self, record: Recorded) -> None:
        """The value just typed is a password: write a variable, redact the literal."""
        step = record.step
        value_field = "value" if isinstance(step, Fill) else "text"
        literal = getattr(step, value_field, None)
        if not isinstance(literal, str) or not literal:
            return
        if literal not in self.secrets:
            self.secrets.append(literal)
            self.secret_names.append(f"{SECRET_PREFIX}{len(self.secrets)}")
        name = self.secret_names[self.secrets.index(literal)]
        record.step = step.model_copy(update={value_field: f"${{{name}}}"})  # type: ignore[union-attr]


class _NoStep(Exception):
    """A call that acts on the page but that a scenario cannot express (the reason)."""


_LABELS = {
    "Page": "page",
    "Frame": "frame",
    "Locator": "locator",
    "Keyboard": "page.keyboard",
    "Mouse": "page.mouse",
    "LocatorAssertions": "expect(locator)",
    "PageAssertions": "expect(page)",
}


def install(recorder: ActionRecorder) -> Callable[[], None]:
    """Wrap the action methods of both Playwright APIs; return the function that undoes it."""
    import playwright.async_api as async_api
    import playwright.sync_api as sync_api

    undo: list[tuple[type, str, Any]] = []
    for module in (sync_api, async_api):
        for kind, methods in ACTIONS.items():
            cls = getattr(module, kind, None)
            if cls is None:
                continue
            for method in methods:
                original = cls.__dict__.get(method)
                if original is None or not callable(original):
                    continue
                setattr(cls, method, _wrap(recorder, kind, method, original))
                undo.append((cls, method, original))

    def restore() -> None:
        recorder.active = False
        for cls, method, original in reversed(undo):
            setattr(cls, method, original)

    return restore


@functools.cache
def _signature(function: Any) -> inspect.Signature:
    return inspect.signature(function)  # computed once per method, not once per test


def _wrap(recorder: ActionRecorder, kind: str, method: str, original: Any) -> Any:
    signature = _signature(original)

    def arguments_of(obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        try:
            bound = signature.bind(obj, *args, **kwargs)
        except TypeError:
            return {}
        return dict(bound.arguments)

    if inspect.iscoroutinefunction(original):

        @functools.wraps(original)
        async def async_wrapper(obj: Any, *args: Any, **kwargs: Any) -> Any:
            __tracebackhide__ = True  # pytest shows the test's line, not ours
            record = _before(recorder, kind, method, obj, arguments_of(obj, args, kwargs))
            try:
                result = await original(obj, *args, **kwargs)
            except BaseException as exc:
                if record is not None:
                    record.error = _first_line(exc)
                    if isinstance(exc, Exception):  # a failed fill may still name a password
                        await _probe(recorder, record)
                raise
            if record is not None:
                await _probe(recorder, record)
            return result

        return async_wrapper

    @functools.wraps(original)
    def wrapper(obj: Any, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True  # pytest shows the test's line, not ours
        record = _before(recorder, kind, method, obj, arguments_of(obj, args, kwargs))
        try:
            result = original(obj, *args, **kwargs)
        except BaseException as exc:
            if record is not None:
                record.error = _first_line(exc)
                if isinstance(exc, Exception):  # a failed fill may still name a password
                    drive(_probe(recorder, record))
            raise
        if record is not None:
            drive(_probe(recorder, record))
        return result

    return wrapper


async def _probe(recorder: ActionRecorder, record: Recorded) -> None:
    """Ask whether the field just typed into is a password field (either API)."""
    if record.probe is None:
        return
    token = _PROBING.set(True)
    try:
        if await settled(record.probe()):
            recorder.typed_into_password(record)
    except Exception:
        # Unsure whether it was a password field: the value is kept as a secret.
        recorder.typed_into_password(record)
    finally:
        _PROBING.reset(token)


def _before(
    recorder: ActionRecorder, kind: str, method: str, obj: Any, arguments: dict[str, Any]
) -> Recorded | None:
    try:
        return recorder.before(kind, method, obj, arguments)
    except Exception as exc:  # recording must never break the user's test
        # The type only: the message may quote the call's arguments (a typed secret).
        label = f"{_LABELS.get(kind, kind)}.{method}()"
        recorder.records.append(
            Recorded(None, comment=f"{label} not recorded ({type(exc).__name__})")
        )
        return None


def _prober(kind: str, obj: Any, arguments: dict[str, Any]) -> Callable[[], Any]:
    if kind == "Locator":
        return lambda: obj.evaluate(PASSWORD_PROBE, timeout=1000)
    if kind == "Keyboard":
        # Typing goes to the focused element; the keyboard's page is its owner.
        page = _wrapper_of(obj._impl_obj._page, obj)
        return lambda: page.locator(":focus").evaluate(PASSWORD_PROBE, timeout=1000)
    selector = arguments.get("selector")
    return lambda: obj.locator(selector).evaluate(PASSWORD_PROBE, timeout=1000)


def _wrapper_of(impl: Any, like: Any) -> Any:
    """The public object (sync or async, as ``like``) of a Playwright impl object."""
    module = type(like).__module__
    if module.startswith("playwright.async_api"):
        from playwright.async_api._generated import mapping  # type: ignore[attr-defined]
    else:
        from playwright.sync_api._generated import mapping  # type: ignore[attr-defined]
    return mapping.from_impl(impl)


def _timeout_ms(value: Any) -> int | None:
    """A Playwright ``timeout=`` (ms, or a timedelta) as a step timeout; None if not one."""
    if isinstance(value, datetime.timedelta):
        value = value.total_seconds() * 1000
    if isinstance(value, int | float) and not isinstance(value, bool):
        ms = int(value)
        if 0 < ms <= MAX_TIMEOUT_MS:
            return ms
    return None  # absent, 0 (no timeout) or beyond what a scenario allows: replay's default


def _page_of(kind: str, impl: Any) -> Any:
    if impl is None:
        return None
    if kind == "Page":
        return impl
    if kind == "Frame":
        return impl._page
    if kind == "Locator":
        return impl._frame._page
    if kind in ("Keyboard", "Mouse"):
        return impl._page
    if kind == "LocatorAssertions":
        return impl._actual_locator._frame._page
    if kind == "PageAssertions":
        return impl._actual_page
    return None


def _url_of(page: Any) -> str | None:
    url = getattr(page, "url", None)
    return url if isinstance(url, str) and url and url != "about:blank" else None


def _frame_path(frame: Any) -> list[int] | None:
    """Child-frame indexes from the page's main frame down to ``frame`` (impl objects)."""
    path: list[int] = []
    while frame is not None and frame.parent_frame is not None:
        parent = frame.parent_frame
        path.insert(0, parent.child_frames.index(frame))
        frame = parent
    return path or None


def base_url_of(page: Any) -> str | None:
    """The ``base_url`` of a page's context (an impl object), if the test set one."""
    # A private field: a Playwright without it gives no base URL, and steps keep full URLs.
    options = getattr(page.context, "_options", None)
    base = options.get("baseURL") if isinstance(options, dict) else None
    return base if isinstance(base, str) else None


def _absolute(url: str, page: Any) -> str:
    if urlsplit(url).scheme:
        return url
    base = base_url_of(page) or _url_of(page)
    return urljoin(base, url) if base else url


def _step_for(
    kind: str, method: str, obj: Any, impl: Any, page: Any, a: dict[str, Any]
) -> StepBase | None:
    """The collector step for one call, None when it has none, _NoStep to say why."""
    if method == "set_input_files":
        # The file is on the tester's machine, not in the bundle; replay refuses uploads.
        raise _NoStep("uploads a file: replay refuses uploads from a received bundle")
    frame_path: list[int] | None = None
    selector: str | None = None
    if kind in ("Page", "Frame"):
        if kind == "Frame":
            frame_path = _frame_path(impl)
        selector = a.get("selector") if isinstance(a.get("selector"), str) else None
    elif kind == "Locator":
        frame_path = _frame_path(impl._frame)
        selector = impl._selector
    elif kind == "LocatorAssertions":
        frame_path = _frame_path(impl._actual_locator._frame)
        selector = impl._actual_locator._selector
    common: dict[str, Any] = {"frame": frame_path} if frame_path else {}
    with_selector = {**common, "selector": selector}

    if kind in ("Page", "Frame"):
        if method == "goto" and kind == "Page":
            return Goto(url=_absolute(a["url"], page))
        if method == "wait_for_url":
            url = a.get("url")
            if not isinstance(url, str):
                raise _NoStep("with a pattern or predicate has no step equivalent")
            return WaitForUrl(url=_absolute(url, page), **common)
        if method == "wait_for_timeout":
            return Wait(ms=max(0, int(a.get("timeout") or 0)), **common)
        if method in ("evaluate", "wait_for_function"):
            if a.get("arg") is not None:
                raise _NoStep("with an argument has no step equivalent")
            model = Evaluate if method == "evaluate" else WaitForExpression
            return model(expression=a["expression"], **common)
        if method == "reload":
            return Reload()
        if method == "go_back":
            return Back()
        if method == "close":
            return Close()
        if method == "set_viewport_size":
            size = a["viewport_size"]
            return SetViewport(width=int(size["width"]), height=int(size["height"]))
        if method == "wait_for_selector":
            state = a.get("state") or "visible"
            return WaitFor(selector=selector, state=state, **common)  # type: ignore[arg-type]
    if kind == "Locator" and method == "wait_for":
        return WaitFor(selector=selector, state=a.get("state") or "visible", **common)  # type: ignore[arg-type]
    if kind == "Locator" and method == "clear":
        return Fill(selector=selector, value="", **common)  # type: ignore[arg-type]
    if kind == "Locator" and method == "scroll_into_view_if_needed":
        return Scroll(selector=selector, **common)
    if kind in ("Page", "Frame", "Locator") and selector is not None:
        return _element_step(method, with_selector, a)
    if kind == "Keyboard":
        if method == "press":
            return Press(key=a["key"])
        if method in ("down", "up"):
            return (KeyDown if method == "down" else KeyUp)(key=a["key"])
        if method in ("type", "insert_text"):
            return Type(selector=":focus", text=a["text"], delay=int(a.get("delay") or 0))
    if kind == "LocatorAssertions":
        if method in ("to_have_text", "to_contain_text") and isinstance(a.get("expected"), str):
            if a.get("use_inner_text") or a.get("ignore_case"):
                return None
            return ExpectText(text=a["expected"], **with_selector)
        if method == "to_be_visible" and a.get("visible") in (None, True):
            return ExpectVisible(**with_selector)
        return None
    if (
        kind == "PageAssertions"
        and method == "to_have_url"
        and isinstance(a.get("url_or_reg_exp"), str)
    ):
        return ExpectUrl(url=_absolute(a["url_or_reg_exp"], page))
    return None


def _element_step(method: str, s: dict[str, Any], a: dict[str, Any]) -> StepBase | None:
    if method == "click":
        if a.get("click_count") not in (None, 1) or a.get("modifiers") or a.get("position"):
            raise _NoStep("with click_count, modifiers or position has no step equivalent")
        return Click(button=a.get("button") or "left", **s)
    if method == "dblclick":
        return Dblclick(**s)
    if method == "fill":
        return Fill(value=a["value"], **s)
    if method in ("type", "press_sequentially"):
        return Type(text=a["text"], delay=int(a.get("delay") or 0), **s)
    if method == "press":
        return Press(key=a["key"], **s)
    if method == "hover":
        return Hover(**s)
    if method in ("check", "uncheck", "set_checked"):
        on = a.get("checked", True) if method == "set_checked" else method == "check"
        return (Check if on else Uncheck)(**s)
    if method == "select_option":
        value = a.get("value") if a.get("value") is not None else a.get("label")
        others = [a.get(k) for k in ("index", "element")]
        if any(o is not None for o in others) or value is None:
            raise _NoStep("by index or element has no step equivalent")
        if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            return Select(value=list(value), **s)
        if isinstance(value, str):
            return Select(value=value, **s)
        raise _NoStep("with these options has no step equivalent")
    return None


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"[:500]
