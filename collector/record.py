"""`collector record`: the person uses the site in a real window; collector writes the steps.

A headed Chromium with a fresh profile opens with repro's capture attached before the
first navigation (the same listeners, store, rules, screenshots and bundle writer: a
recording's bundle is a repro bundle). A script injected into every frame turns what
the person does into actions (``record_page.js``); each becomes a collector step as it
happens, and the events that follow belong to it, as they do in a run. The person stops
with the injected "Report this problem" control, Ctrl+Shift+Enter, or by closing the
window.

Typed secrets never reach a file: a value typed into a password field, or equal to the
value of a declared secret, is written as ``${NAME}`` and its value joins the run's
secrets, which the bundle writer redacts everywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets as random_tokens
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from collector.errors import BadInput, BrowserLaunchError, EnvironmentProblem, first_line
from collector.report import StepRecord
from collector.runner import RunOptions, RunResult, StepCallback, StopReason, _Run, _target, _value
from collector.scenario import (
    Back,
    Check,
    Click,
    Dblclick,
    Fill,
    Goto,
    MouseButton,
    Press,
    Reload,
    Scenario,
    Scroll,
    Select,
    Step,
    Uncheck,
    Upload,
)

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Frame, Page

    from collector.bundle import BundleOptions
    from collector.repro import Reproduction
    from collector.workspace import Workspace

PAGE_SCRIPT = Path(__file__).with_name("record_page.js")
STOP_SHORTCUT = "Ctrl+Shift+Enter"
# How often the wait for the person looks for a first error to take its picture.
POLL_S = 0.25
PASSWORD_VAR = "PASSWORD"

NO_DISPLAY = (
    "record needs a desktop (no DISPLAY or WAYLAND_DISPLAY is set): run it on a machine "
    "with a screen, or record elsewhere with Chrome DevTools' Recorder, export it as JSON "
    "and run `collector repro recording.json`"
)


def check_display(env: Mapping[str, str] | None = None) -> None:
    """Raise EnvironmentProblem (exit 3) when there is no desktop to open a window on."""
    env = os.environ if env is None else env
    if not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        raise EnvironmentProblem(NO_DISPLAY)


@dataclass(frozen=True)
class RecordOptions:
    """What `collector record` was told besides the run and bundle options."""

    url: str | None = None
    storage_state: Path | None = None
    browser_path: str | None = None
    # Declared secrets: NAME -> value (from the environment); typed values equal to one
    # are written as ${NAME}.
    secrets: Mapping[str, str] = field(default_factory=dict)
    # For tests and tools that drive the window: a DevTools port on 127.0.0.1.
    debug_port: int | None = None


class Recorder:
    """Turns the page script's actions into collector steps, in order (pure: no browser)."""

    def __init__(self, declared: Mapping[str, str]) -> None:
        self.declared = dict(declared)
        self.steps: list[Step] = []
        self.secrets: list[str] = []  # NAMEs the steps refer to
        self.values: dict[str, str] = {}  # NAME -> value typed (kept in memory only)
        self._left_main = False

    def secret_name(self, value: str, password: bool) -> str | None:
        """The variable a typed value is written as, or None when it is no secret."""
        if not value:
            return None
        for name, secret in self.declared.items():
            if secret and value == secret:
                return self._use(name, value)
        if not password:
            return None
        for name, known in self.values.items():
            if known == value:
                return name
        taken = {n for n in self.values if n.startswith(PASSWORD_VAR)}
        name = PASSWORD_VAR if not taken else f"{PASSWORD_VAR}_{len(taken) + 1}"
        return self._use(name, value)

    def _forget(self, written: str) -> None:
        match = re.fullmatch(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", written)
        if match and match.group(1) not in self.declared:
            name = match.group(1)
            self.values.pop(name, None)
            if name in self.secrets:
                self.secrets.remove(name)

    def _use(self, name: str, value: str) -> str:
        if name not in self.secrets:
            self.secrets.append(name)
        self.values[name] = value
        return name

    def add(
        self, action: Mapping[str, Any], *, target: str | None, frame: list[int] | None
    ) -> tuple[int, bool] | None:
        """Add the step for ``action``: (its 1-based index, whether it is new), or None
        when the action is not a step (a stop, a malformed message)."""
        kind = action.get("kind")
        where: dict[str, Any] = {}
        if target is not None:
            where["target"] = target
            self._left_main = True
        elif self._left_main:
            where["target"] = "main"
        if frame:
            where["frame"] = frame
        selectors = _selector(action.get("selectors"))
        last = self.steps[-1] if self.steps else None
        step: Step
        needs_element = ("click", "dblclick", "fill", "select", "check", "uncheck", "upload")
        if kind in needs_element and selectors is None:
            return None
        element: str | list[str] = selectors or ""
        if kind == "click":
            button: MouseButton = "right" if action.get("button") == "right" else "left"
            if action.get("button") == "middle":
                button = "middle"
            step = Click(selector=element, button=button, **where)
        elif kind == "dblclick":
            # The two clicks before a double click are part of it.
            for _ in range(2):
                if (
                    self.steps
                    and isinstance(self.steps[-1], Click)
                    and self._same(self.steps[-1], selectors, where)
                ):
                    self.steps.pop()
            step = Dblclick(selector=element, **where)
            self.steps.append(step)
            return len(self.steps), True
        elif kind == "fill":
            value = str(action.get("value") or "")
            typing_on = isinstance(last, Fill) and self._same(last, element, where)
            if typing_on and isinstance(last, Fill):
                # The same field still being typed into: its earlier value was a prefix
                # of this one, and is forgotten (a password keeps its variable).
                self._forget(last.value)
            name = self.secret_name(value, bool(action.get("secret")))
            step = Fill(selector=element, value=f"${{{name}}}" if name else value, **where)
            if typing_on:
                # Typing goes on in the same field: one step with the whole value.
                self.steps[-1] = step
                return len(self.steps), False
        elif kind == "select":
            values = [str(v) for v in action.get("values") or []]
            step = Select(
                selector=element, value=values[0] if len(values) == 1 else values, **where
            )
        elif kind == "check":
            step = Check(selector=element, **where)
        elif kind == "uncheck":
            step = Uncheck(selector=element, **where)
        elif kind == "upload":
            files = [Path(str(f)).name for f in action.get("files") or []]
            if not files:
                return None
            step = Upload(selector=element, files=files, **where)
        elif kind == "press":
            key = action.get("key")
            if not isinstance(key, str) or not key:
                return None
            step = Press(key=key, selector=selectors, **where)
        elif kind == "scroll":
            step = Scroll(
                x=int(action.get("x") or 0), y=int(action.get("y") or 0), absolute=True, **where
            )
            if isinstance(last, Scroll) and last.target == step.target and last.frame == step.frame:
                self.steps[-1] = step
                return len(self.steps), False
        elif kind == "goto":
            step = Goto(url=str(action["url"]), **where)
        elif kind == "reload":
            step = Reload(**where)
        elif kind == "back":
            step = Back(**where)
        else:
            return None
        self.steps.append(step)
        return len(self.steps), True

    @staticmethod
    def _same(step: Any, selectors: Any, where: Mapping[str, Any]) -> bool:
        return bool(
            step.selector == selectors
            and step.target == where.get("target")
            and step.frame == where.get("frame")
        )

    def scenario(self, url: str | None, *, name: str | None, expected: str | None) -> Scenario:
        return Scenario(
            name=name or None,
            url=url,
            expected=expected or None,
            secrets=list(self.secrets),
            steps=list(self.steps),
        )


def _selector(raw: Any) -> str | list[str] | None:
    if not isinstance(raw, list):
        return None
    chosen = [s for s in raw if isinstance(s, str) and s]
    if not chosen:
        return None
    return chosen[0] if len(chosen) == 1 else chosen


def page_script(binding: str, host_attr: str, lang: str) -> str:
    from collector.labels import LABELS

    params = {
        "binding": binding,
        "hostAttr": host_attr,
        "label": LABELS[lang]["record_control"],
        "hint": LABELS[lang]["record_hint"].format(shortcut=STOP_SHORTCUT),
    }
    return f"({PAGE_SCRIPT.read_text(encoding='utf-8').strip().rstrip(';')})({json.dumps(params)});"


def frame_path(frame: Frame) -> list[int]:
    """The child-index path from the page's main frame to ``frame`` (a step's ``frame``)."""
    path: list[int] = []
    while frame.parent_frame is not None:
        parent = frame.parent_frame
        path.insert(0, parent.child_frames.index(frame))
        frame = parent
    return path


class _BrowserShim:
    """What the runner asks of a Browser, for a persistent context (which has none)."""

    def __init__(self) -> None:
        self.version = ""

    def is_connected(self) -> bool:
        return True


@dataclass
class Recorded:
    """A finished recording, its bundle not yet written (the person still has words to add)."""

    result: RunResult
    workspace: Workspace
    recorder: Recorder
    executable: str
    how_stopped: str


async def record(
    options: RecordOptions,
    run_options: RunOptions,
    bundle_options: BundleOptions,
    *,
    on_step: StepCallback | None = None,
    on_ready: Callable[[], None] | None = None,
) -> Recorded:
    """Open the window and record until the person stops; the browser is closed on return.

    ``on_ready`` is called once the first page has loaded and the person can start.
    """
    from playwright.async_api import async_playwright

    from collector.browser import (
        find_chromium,
        launch_args,
        needs_no_sandbox,
        playwright_executable,
    )
    from collector.repro import StopGuard, _in_workspace
    from collector.workspace import discard_workspace, new_workspace

    if options.storage_state is not None and not options.storage_state.is_file():
        raise BadInput(f"--storage-state {options.storage_state}: no such file")
    state = _read_state(options.storage_state) if options.storage_state else None
    recorder = Recorder(options.secrets)
    with (
        tempfile.TemporaryDirectory(prefix="collector-record-profile-") as profile,
        StopGuard() as guard,
    ):
        async with async_playwright() as pw:
            executable = find_chromium(
                options.browser_path, playwright_executable=playwright_executable(pw)
            )
            args = launch_args()
            if options.debug_port is not None:
                args.append(f"--remote-debugging-port={options.debug_port}")
            workspace = new_workspace(bundle_options.out_dir)
            har: dict[str, Any] = {}
            if run_options.har:  # where the runner looks for it: the run's work folder
                har = {
                    "record_har_path": str(workspace.path / "network.har"),
                    "record_har_content": "omit",
                }
            try:
                context = await pw.chromium.launch_persistent_context(
                    profile,
                    executable_path=str(executable),
                    headless=False,
                    args=args,
                    chromium_sandbox=not needs_no_sandbox(),
                    no_viewport=True,  # the window's own size: the person may resize it
                    handle_sigint=False,
                    handle_sigterm=False,
                    handle_sighup=False,
                    **har,
                )
            except Exception as exc:
                discard_workspace(workspace)
                raise BrowserLaunchError(
                    f"Chromium at {executable} did not open a window: {first_line(exc)}"
                ) from exc
            try:
                run = _RecordingRun(
                    context,
                    recorder,
                    options,
                    bundle_options.lang,
                    state,
                    _in_workspace(run_options, workspace.path),
                    on_step,
                    lambda: guard.stop,
                )
                run.on_ready = on_ready
                task = asyncio.ensure_future(run.execute())
                guard._task = task
                if guard.stop is not None:
                    guard.request(guard.stop)
                try:
                    result = await task
                finally:
                    guard._task = None
            except BaseException:
                discard_workspace(workspace)
                raise
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(context.close(), 10)
    result.scenario = recorder.scenario(options.url, name=None, expected=None)
    if run.how_stopped == "window closed":
        # Closing the last window ends this browser: what it writes at the end may be lost.
        for wanted, name in ((run_options.trace, "trace.zip"), (run_options.har, "network.har")):
            if wanted and not (workspace.path / name).is_file():
                result.problems.append(
                    f"{name} not saved: the window was closed before the browser wrote it "
                    "(stop with Report this problem or Ctrl+Shift+Enter to keep it)"
                )
    return Recorded(result, workspace, recorder, str(executable), run.how_stopped)


def write_recording(
    recorded: Recorded,
    bundle_options: BundleOptions,
    *,
    actual: str | None = None,
    expected: str | None = None,
) -> Reproduction:
    """The bundle of a recording, with the person's words: what happened (the title)
    and what they expected."""
    from collector.bundle import write_run_bundle
    from collector.repro import Reproduction

    result = recorded.result
    result.scenario = recorded.recorder.scenario(
        result.scenario.url, name=actual, expected=expected
    )
    written = write_run_bundle(result, recorded.workspace, bundle_options)
    return Reproduction(
        written.path, result, recorded.workspace.reference, written.report, bundle_options
    )


def _read_state(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadInput(f"--storage-state {path}: not a Playwright storage state ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("cookies", []), list):
        raise BadInput(f"--storage-state {path}: not a Playwright storage state")
    return data


class _RecordingRun(_Run):
    """The runner with the person as its step list (see ``runner._Run``)."""

    def __init__(
        self,
        context: BrowserContext,
        recorder: Recorder,
        record_options: RecordOptions,
        lang: str,
        state: dict[str, Any] | None,
        options: RunOptions,
        on_step: StepCallback | None,
        stop: StopReason,
    ) -> None:
        self.recording_context = context
        self.recorder = recorder
        self.record_options = record_options
        self.lang = lang
        self.state = state
        self.on_ready: Callable[[], None] | None = None
        self.shim = _BrowserShim()
        super().__init__(
            Scenario(url=record_options.url, steps=[]),
            self.shim,  # type: ignore[arg-type]
            options,
            on_step,
            stop,
        )
        self.stopped = asyncio.Event()
        self.binding = "__collector_" + random_tokens.token_hex(8)
        self.host_attr = "data-collector-" + random_tokens.token_hex(6)
        self.main_page: Page | None = None
        # Per page: documents loaded so far, and whether the page asked for the next one.
        self._documents: dict[Page, int] = {}
        self._requested: dict[Page, bool] = {}
        self._own_goto = False
        self._watching: set[asyncio.Future[None]] = set()
        self.how_stopped = ""

    async def _open_context(self, har_path: Path | None) -> None:
        from collector.deadlines import within
        from collector.runner import OPEN_S, _user_agent

        context = self.recording_context
        self.context = context
        if self.options.trace:
            # The person may type a secret at any moment: a recording's trace has no
            # screencast frames (they cannot be masked).
            await within(context.tracing.start(screenshots=False, snapshots=True), OPEN_S, "trace")
            self.capture.problems.append("trace recorded without screenshots (a recording)")
        await within(self.capture.attach(context, None), OPEN_S, "listening")
        if self.state:
            await _apply_state(context, self.state)
        await context.expose_binding(self.binding, self._on_action)
        await context.add_init_script(page_script(self.binding, self.host_attr, self.lang))
        blank = list(context.pages)
        self.page = await within(context.new_page(), OPEN_S, "new page")
        for page in blank:  # the profile's first tab, opened before capture listened
            await page.close()
        self.main_page = self.page
        await self._watch_navigations(self.page)
        context.on("page", self._on_page)
        self.page.on("close", self._on_close)
        try:
            session = await context.new_cdp_session(self.page)
            version = await session.send("Browser.getVersion")
            await session.detach()
            product = str(version.get("product", ""))
            self.shim.version = product.split("/", 1)[-1]
            self.environment.browser_version = self.shim.version
        except Exception as exc:
            self.capture.problems.append(f"browser version: {first_line(exc)}")
        try:
            self.environment.user_agent = await _user_agent(self.browser, self.page)
        except Exception as exc:
            self.capture.problems.append(f"user agent: {first_line(exc)}")
        await self.capture.settle()

    def _on_page(self, page: Page) -> None:
        page.on("close", self._on_close)
        watching = asyncio.ensure_future(self._watch_navigations(page))
        self._watching.add(watching)
        watching.add_done_callback(self._watching.discard)

    def _on_close(self, _page: Page) -> None:
        if not [p for p in self.recording_context.pages if not p.is_closed()]:
            self.how_stopped = self.how_stopped or "window closed"
            self.stopped.set()

    async def _steps(self) -> None:
        url = self.record_options.url
        page = self.page
        if url and page is not None:
            self._add({"kind": "goto", "url": url}, page, None)
            self._own_goto = True
            try:
                await page.goto(url)
            except Exception as exc:
                record = self.records[-1]
                record.status = "failed"
                record.error = first_line(exc)
                self.outcome = self._outcome_for_failure(1, exc, 30_000)
                return
        if self.on_ready is not None:
            self.on_ready()
        while not self.stopped.is_set():
            if self.capture.broken.is_set():
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopped.wait(), POLL_S)
            await self._picture_of_first_error()
        await self._picture_of_first_error()

    async def _picture_of_first_error(self) -> None:
        if self.first_error_step is not None or not self.records or not self._new_failures():
            return
        index = len(self.records)
        self.first_error_step = index
        self.records[-1].screenshot = await self._screenshot(
            f"step-{index:02d}-error", index, "first_error"
        )

    def _on_action(self, source: Mapping[str, Any], action: Any) -> None:
        if not isinstance(action, dict) or self.stopped.is_set():
            return
        page: Page = source["page"]
        if action.get("kind") == "stop":
            self.how_stopped = str(action.get("how") or "control")
            self.page = page
            self.stopped.set()
            return
        if action.get("kind") == "document":
            self._new_document(page, action)
            return
        self._add(action, page, source.get("frame"))

    def _new_document(self, page: Page, action: Mapping[str, Any]) -> None:
        """A new document in a tab: a step of its own when the page did not ask for it
        (an address typed, a bookmark, Reload, Back: the browser's own navigations)."""
        url = str(action.get("url") or "")
        if not url.startswith(("http:", "https:", "file:")):
            return
        seen = self._documents.get(page, 0)
        self._documents[page] = seen + 1
        requested = self._requested.pop(page, False)
        if page is self.main_page and self._own_goto:
            self._own_goto = False  # record's own goto to the URL it was given
            return
        if requested or (seen == 0 and page is not self.main_page):
            return  # a link, a form, a script; or a popup's first page (its opener's click)
        navigation = str(action.get("navigation"))
        kind = {"reload": "reload", "back_forward": "back"}.get(navigation, "goto")
        self._add(
            {"kind": kind if seen else "goto", "url": url, "at": action.get("at")}, page, None
        )

    async def _watch_navigations(self, page: Page) -> None:
        """Note the navigations a page asks for (links, forms, scripts) on its top frame."""
        try:
            session = await self.recording_context.new_cdp_session(page)
            tree = await session.send("Page.getFrameTree")
            top = tree["frameTree"]["frame"]["id"]

            def requested(params: Any) -> None:
                if params.get("frameId") == top:
                    self._requested[page] = True

            session.on("Page.frameRequestedNavigation", requested)
            await session.send("Page.enable")
        except Exception as exc:
            self.capture.problems.append(f"navigations of a page: {first_line(exc)}")

    def _add(self, action: Mapping[str, Any], page: Page | None, frame: Frame | None) -> None:
        target = None
        if page is not None and page is not self.main_page:
            target = page.url
        path = frame_path(frame) if frame is not None else None
        added = self.recorder.add(action, target=target, frame=path)
        if added is None:
            return
        if page is not None:
            self.page = page
        index, new = added
        step = self.recorder.steps[index - 1]
        # The values typed as secrets (the latest of each): redacted from every file.
        self.secrets[:] = [v for v in self.recorder.values.values() if v]
        record = StepRecord(
            index=index,
            action=step.action,
            target=_target(step, Scenario(url=self.record_options.url, steps=[]), None),
            status="ok",
            url=str(action.get("url") or (page.url if page else "")) or None,
            value=_value(step),
        )
        self.resolved = Scenario(url=self.record_options.url, steps=list(self.recorder.steps))
        if not new:
            self.records[index - 1] = record
            return
        # A double click replaced the clicks before it.
        del self.records[index - 1 :]
        at = action.get("at")
        self.capture.step_started(index, float(at) if isinstance(at, int | float) else None)
        self._done(record)

    async def _screenshot(self, stem: str, step: int | None, role: str, **kwargs: Any) -> Any:
        page = self.page
        hidden = await self._show_control(page, False)
        try:
            return await super()._screenshot(stem, step, role, **kwargs)
        finally:
            if hidden:
                await self._show_control(page, True)

    async def _show_control(self, page: Page | None, show: bool) -> bool:
        """Hide (or show again) the "Report this problem" control: never in a picture."""
        if page is None or page.is_closed():
            return False
        try:
            await asyncio.wait_for(
                page.evaluate(
                    "([attr, show]) => { for (const e of document.querySelectorAll(`[${attr}]`))"
                    " e.style.display = show ? '' : 'none'; }",
                    [self.host_attr, show],
                ),
                2,
            )
        except Exception:
            return False
        return True


async def _apply_state(context: BrowserContext, state: dict[str, Any]) -> None:
    """A storage state in a persistent context: its cookies, and its local storage set
    on the first load of each origin."""
    cookies = state.get("cookies") or []
    if cookies:
        await context.add_cookies(cookies)
    for origin in state.get("origins") or []:
        if not isinstance(origin, dict) or not origin.get("localStorage"):
            continue
        items = {i["name"]: i["value"] for i in origin["localStorage"] if isinstance(i, dict)}
        await context.add_init_script(
            "(([origin, items]) => { if (location.origin !== origin) return;"
            " if (sessionStorage.getItem('__collector_state')) return;"
            " for (const [k, v] of Object.entries(items)) localStorage.setItem(k, v);"
            " sessionStorage.setItem('__collector_state', '1'); })"
            f"({json.dumps([origin.get('origin'), items])});"
        )


def fingerprints_of(done: Reproduction) -> list[str]:
    """The failing errors' fingerprints of a reproduction, sorted."""
    return sorted({g.fingerprint for g in done.report.errors if g.fails})


async def verify(
    scenario: Scenario,
    executable: str | None,
    run_options: RunOptions,
    bundle_options: BundleOptions,
    env: Mapping[str, str],
) -> Reproduction:
    """Replay the recorded steps headless once, in this process, with the same Chromium."""
    from collector.browser import BrowserOptions
    from collector.repro import reproduce

    return await reproduce(
        scenario,
        browser_options=BrowserOptions(browser_path=executable, headed=False),
        run_options=replace(run_options, env={**os.environ, **env}),
        bundle_options=bundle_options,
    )
