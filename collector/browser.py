"""Find a Chromium, launch it (or connect to one), and hand out a Browser.

Playwright usually downloads its own Chromium; where it cannot (no general
network), the distribution's ``chromium`` package works just as well. Order:
``--browser-path``; for a headless run, Chromium's headless shell on PATH;
Playwright's own build; then ``chromium``, ``chromium-browser``,
``google-chrome`` on PATH.

The headless shell is the same engine without the desktop browser around it,
and what Playwright itself runs headless pages in. A page in a new context
costs it a quarter of what it costs ``chromium`` (46 against 192 CPU-ms outside
the page's own process, 30 pages each way, idle): most of a short run's work.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import os
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar
from urllib.parse import urlsplit

from collector.cache import cache_folder
from collector.errors import BrowserLaunchError, BrowserNotFound, first_line

if TYPE_CHECKING:
    from playwright.async_api import Browser, Playwright

T = TypeVar("T")
PATH_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
# Debian's /usr/bin/chromium-headless-shell runs its binary without exec: a shell would
# stand between collector and the browser (a signal meant for the browser would stop
# the shell only), so the binary itself comes first.
HEADLESS_CANDIDATES = (
    "/usr/lib/chromium/chromium-headless-shell",
    "chromium-headless-shell",
    "chrome-headless-shell",
)
INSTALL_HINT = (
    "install it with `apt-get install -y chromium` (as root), "
    "or pass --browser-path /path/to/chrome"
)
# Without the networking flags Chromium keeps calling Google services, which on a
# closed network means a storm of refused connections at every start.
QUIET_FLAGS = (
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)
# Chrome gives each site's frames processes of their own; the headless shell does so only
# when asked. Cross-site frames must run as in the user's browser: their own DevTools
# targets, their own crashes.
FIDELITY_FLAGS = ("--site-per-process",)
CONNECT_TIMEOUT_MS = 15_000


@dataclass(frozen=True)
class BrowserOptions:
    """How to get a browser: launch a local one, or connect to a remote one."""

    browser_path: str | None = None
    headed: bool = False
    connect: str | None = None
    cdp: str | None = None
    slow_mo: float = 0


def find_chromium(
    explicit: str | None = None,
    *,
    headless: bool = False,
    playwright_executable: str | None = None,
    which: Callable[[str], str | None] = shutil.which,
) -> Path:
    """Return the Chromium executable to launch, or raise BrowserNotFound.

    ``headless``: the browser will show no window, so the headless shell will do.
    """
    if explicit:
        path = Path(explicit).expanduser()
        if not path.exists():
            raise BrowserNotFound(f"--browser-path {explicit}: no such file")
        if path.is_dir() or not os.access(path, os.X_OK):
            raise BrowserNotFound(f"--browser-path {explicit}: not an executable file")
        return path
    shell = headless_shell(which) if headless else None
    if shell is not None:
        return shell
    if playwright_executable and Path(playwright_executable).is_file():
        return Path(playwright_executable)
    for name in PATH_CANDIDATES:
        found = which(name)
        if found:
            return Path(found)
    raise BrowserNotFound(
        "no Chromium found (looked for Playwright's own build and "
        f"{', '.join(PATH_CANDIDATES)} on PATH); {INSTALL_HINT}"
    )


def headless_shell(which: Callable[[str], str | None] = shutil.which) -> Path | None:
    """Chromium's headless shell, if this machine has one."""
    for name in HEADLESS_CANDIDATES:
        found = which(name)
        if found:
            return Path(found)
    return None


def needs_no_sandbox(euid: int | None = None) -> bool:
    """Chromium refuses to start its sandbox as root; elsewhere keep it."""
    if euid is None:
        euid = os.geteuid() if hasattr(os, "geteuid") else 1
    return euid == 0


def launch_args() -> list[str]:
    return [*QUIET_FLAGS, *FIDELITY_FLAGS]


def playwright_executable(pw: Playwright) -> str | None:
    try:
        return pw.chromium.executable_path
    except Exception:  # Playwright raises when its browser registry is unknown
        return None


@asynccontextmanager
async def start_playwright(survive_signals: bool = False) -> AsyncIterator[Playwright]:
    """Start the Playwright driver; with ``survive_signals`` it ignores Ctrl-C, SIGTERM and
    SIGHUP sent to the process group (see below)."""
    from playwright.async_api import async_playwright

    # The driver is spawned by a task that the manager creates now, and that task
    # inherits this context: only this start's driver gets the option.
    token = _DRIVER_NODE_OPTIONS.set(_keepalive_option() if survive_signals else None)
    try:
        _hook_driver_env()
        manager = async_playwright()
        pw = await manager.__aenter__()
    except Exception as exc:
        raise BrowserLaunchError(f"cannot start the Playwright driver: {first_line(exc)}") from exc
    finally:
        _DRIVER_NODE_OPTIONS.reset(token)
    try:
        yield pw
    finally:
        await manager.__aexit__(None, None, None)


def _keepalive_option() -> str:
    """Make the driver (a child in our process group) outlive the signals that stop us.

    Ctrl-C, and `kill -TERM`/`kill -HUP` of the group (CI runners, systemd, a
    closed terminal), reach the driver too; collector still needs it to take the
    last screenshots and close the browser in order.
    """
    return f"--require={Path(__file__).with_name('driver_keepalive.js')}"


# The cache folder of the driver's compiled JavaScript (NODE_COMPILE_CACHE).
DRIVER_CACHE = "node-compile-cache"

# NODE_OPTIONS to add for the driver the current task starts (None: none).
_DRIVER_NODE_OPTIONS: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "collector_driver_node_options", default=None
)


def _hook_driver_env() -> None:
    """Let each start of the driver add its own NODE_OPTIONS, for that driver only.

    Playwright offers no argument for its driver's environment; it builds it with
    ``get_driver_env()`` from a copy of ``os.environ``. Wrapping that function
    (once) and reading a context variable keeps the option out of ``os.environ``,
    where every thread and every other child process of ours would see it.
    """
    from playwright._impl import transport

    original = transport.get_driver_env  # type: ignore[attr-defined]
    if getattr(original, "collector_hook", False):
        return

    def get_driver_env() -> dict[str, str]:
        env: dict[str, str] = original()
        option = _DRIVER_NODE_OPTIONS.get()
        if option and option not in env.get("NODE_OPTIONS", ""):
            env["NODE_OPTIONS"] = f"{env.get('NODE_OPTIONS', '')} {option}".strip()
        if "NODE_COMPILE_CACHE" not in env:
            # Node keeps the driver's compiled code there (checked against each file's
            # hash and its own version): each start compiles Playwright's JavaScript
            # again otherwise, about 60 CPU-ms of every run.
            folder = cache_folder(DRIVER_CACHE)
            if folder is not None:
                env["NODE_COMPILE_CACHE"] = str(folder)
        return env

    get_driver_env.collector_hook = True  # type: ignore[attr-defined]
    transport.get_driver_env = get_driver_env  # type: ignore[attr-defined]


async def get_browser(pw: Playwright, options: BrowserOptions) -> tuple[Browser, str]:
    """Launch or connect; return the browser and a description of where it came from."""
    if options.connect:
        try:
            browser = await pw.chromium.connect(
                options.connect,
                timeout=CONNECT_TIMEOUT_MS,
                slow_mo=options.slow_mo or None,
                headers=remote_launch_headers(options, pw),
            )
        except Exception as exc:
            detail = first_line(exc)
            hint = "is `playwright run-server` running there?"
            if "Executable doesn't exist" in detail:
                hint = (
                    "the server has no browser of its own; start it with "
                    "`playwright run-server --unsafe` so collector can hand it this machine's "
                    "Chromium, or install one on the server"
                )
            raise BrowserLaunchError(
                f"cannot connect to Playwright server {options.connect}: {detail}; {hint}"
            ) from exc
        return browser, f"remote Playwright server {options.connect}"
    if options.cdp:
        try:
            browser = await pw.chromium.connect_over_cdp(
                options.cdp, timeout=CONNECT_TIMEOUT_MS, slow_mo=options.slow_mo or None
            )
        except Exception as exc:
            raise BrowserLaunchError(
                f"cannot connect to Chromium over CDP at {options.cdp}: {first_line(exc)}; "
                "start it with --remote-debugging-port"
            ) from exc
        return browser, f"Chromium over CDP at {options.cdp}"
    executable = find_chromium(
        options.browser_path,
        headless=not options.headed,
        playwright_executable=playwright_executable(pw),
    )
    try:
        browser = await pw.chromium.launch(
            executable_path=str(executable),
            headless=not options.headed,
            args=launch_args(),
            chromium_sandbox=not needs_no_sandbox(),
            slow_mo=options.slow_mo or None,
            # collector handles these signals itself, and still needs the browser then.
            handle_sigint=False,
            handle_sigterm=False,
            handle_sighup=False,
        )
    except Exception as exc:
        hint = ""
        if options.headed and not os.environ.get("DISPLAY"):
            hint = " (--headed needs a display: set DISPLAY or run under xvfb-run)"
        raise BrowserLaunchError(
            f"Chromium at {executable} did not start: {first_line(exc)}{hint}"
        ) from exc
    return browser, str(executable)


def remote_launch_headers(options: BrowserOptions, pw: Playwright) -> dict[str, str]:
    """Launch options for a Playwright server, which launches the browser on its side.

    A server on this machine (loopback) shares our file system, so it gets the
    Chromium we would launch ourselves; a remote grid keeps its own browser.
    """
    launch: dict[str, object] = {"headless": not options.headed, "args": launch_args()}
    host = urlsplit(options.connect or "").hostname or ""
    if options.browser_path or host in ("127.0.0.1", "localhost", "::1"):
        try:
            launch["executablePath"] = str(
                find_chromium(
                    options.browser_path,
                    headless=not options.headed,
                    playwright_executable=playwright_executable(pw),
                )
            )
        except BrowserNotFound:
            if options.browser_path:
                raise
    return {"x-playwright-launch-options": json.dumps(launch)}


# Turns of the event loop Playwright takes from entering to spawning its driver.
SPAWN_TURNS = 10


@dataclass
class Starting(Generic[T]):
    """A browser being started while the work for it is prepared in a thread."""

    prepared: T
    opening: asyncio.Future[tuple[Browser, str]]
    stack: AsyncExitStack

    async def browser(self) -> Browser:
        browser, _origin = await self.opening
        return browser

    async def close(self) -> None:
        if not self.opening.done():  # never needed (nothing to run): stop it half-way
            self.opening.cancel()
            with contextlib.suppress(BaseException):
                await self.opening
        await self.stack.aclose()


async def start_while_preparing(
    prepare: Callable[[], T], options: BrowserOptions, survive_signals: bool = False
) -> Starting[T]:
    """Start the driver and Chromium while ``prepare`` runs in a thread.

    Starting them is mostly waiting on other processes; reading the config and
    the steps (and importing pydantic to validate them) fills that time instead of
    adding to it. An error of ``prepare`` wins: it is raised and the half-started
    browser dropped. The caller closes the browser with ``Starting.close``.
    """
    import playwright.async_api  # noqa: F401 - imported before any thread competes for the GIL

    loop = asyncio.get_running_loop()
    stack = AsyncExitStack()
    opening = asyncio.ensure_future(
        stack.enter_async_context(open_browser(options, survive_signals=survive_signals))
    )
    # A few turns of the loop let it spawn the driver; the thread starts after that.
    for _ in range(SPAWN_TURNS):
        await asyncio.sleep(0)
    try:
        prepared = await loop.run_in_executor(None, prepare)
    except BaseException:
        opening.cancel()
        with contextlib.suppress(BaseException):
            await opening
        await stack.aclose()
        raise
    return Starting(prepared, opening, stack)


@asynccontextmanager
async def open_browser(
    options: BrowserOptions, survive_signals: bool = False
) -> AsyncIterator[tuple[Browser, str]]:
    """Playwright driver + browser for the duration of the block."""
    async with start_playwright(survive_signals) as pw:
        browser, origin = await get_browser(pw, options)
        try:
            yield browser, origin
        finally:
            # Already gone (killed, disconnected): nothing is left to close.
            with contextlib.suppress(Exception):
                await browser.close()
