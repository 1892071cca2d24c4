"""Finding Chromium, `collector doctor`, and the three ways to get a browser (launch, --connect, --cdp)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from run_collector import Ran, invoke

from collector.browser import (
    INSTALL_HINT,
    find_chromium,
    needs_no_sandbox,
)
from collector.errors import EXIT_ENVIRONMENT, BrowserNotFound

# ---------------------------------------------------------------- find_chromium (no browser)


def executable(path: Path) -> Path:
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def fake_which(found: dict[str, str]) -> Any:
    asked: list[str] = []

    def which(name: str) -> str | None:
        asked.append(name)
        return found.get(name)

    which.asked = asked  # type: ignore[attr-defined]
    return which


def test_explicit_path(tmp_path: Path) -> None:
    chrome = executable(tmp_path / "chrome")
    assert find_chromium(str(chrome), which=fake_which({"chromium": "/usr/bin/chromium"})) == chrome


def test_explicit_path_expands_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    chrome = executable(tmp_path / "chrome")
    assert find_chromium("~/chrome", which=fake_which({})) == chrome


def test_explicit_path_missing(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope" / "chrome")
    with pytest.raises(BrowserNotFound) as info:
        find_chromium(missing, which=fake_which({"chromium": "/usr/bin/chromium"}))
    assert str(info.value) == f"--browser-path {missing}: no such file"
    assert info.value.exit_code == EXIT_ENVIRONMENT


def test_explicit_path_is_a_directory(tmp_path: Path) -> None:
    with pytest.raises(BrowserNotFound) as info:
        find_chromium(str(tmp_path), which=fake_which({}))
    assert str(info.value) == f"--browser-path {tmp_path}: not an executable file"


def test_explicit_path_not_executable(tmp_path: Path) -> None:
    plain = tmp_path / "chrome"
    plain.write_text("not a program")
    plain.chmod(0o644)  # even root may only execute files with an x bit
    with pytest.raises(BrowserNotFound) as info:
        find_chromium(str(plain), which=fake_which({}))
    assert str(info.value) == f"--browser-path {plain}: not an executable file"


def test_playwright_build_preferred_over_path(tmp_path: Path) -> None:
    own = executable(tmp_path / "playwright-chrome")
    which = fake_which({"chromium": "/usr/bin/chromium"})
    assert find_chromium(playwright_executable=str(own), which=which) == own
    assert which.asked == []


def test_missing_playwright_build_falls_back_to_path(tmp_path: Path) -> None:
    which = fake_which({"google-chrome": "/opt/google/chrome"})
    found = find_chromium(playwright_executable=str(tmp_path / "gone"), which=which)
    assert found == Path("/opt/google/chrome")


@pytest.mark.parametrize(
    ("on_path", "expected"),
    [
        (
            {"chromium": "/a/chromium", "chromium-browser": "/b", "google-chrome": "/c"},
            "/a/chromium",
        ),
        ({"chromium-browser": "/b/chromium-browser", "google-chrome": "/c"}, "/b/chromium-browser"),
        ({"google-chrome": "/c/google-chrome"}, "/c/google-chrome"),
    ],
)
def test_path_order(on_path: dict[str, str], expected: str) -> None:
    assert find_chromium(which=fake_which(on_path)) == Path(expected)


def test_a_headless_run_prefers_the_headless_shell(tmp_path: Path) -> None:
    on_path = {"chromium-headless-shell": "/s/shell", "chromium": "/a/chromium"}
    own = str(executable(tmp_path / "playwright-chrome"))
    assert find_chromium(headless=True, which=fake_which(on_path)) == Path("/s/shell")
    assert find_chromium(headless=True, playwright_executable=own, which=fake_which(on_path)) == (
        Path("/s/shell")
    )
    # A window needs the whole browser; an explicit path is taken as given.
    assert find_chromium(headless=False, which=fake_which(on_path)) == Path("/a/chromium")
    assert find_chromium(own, headless=True, which=fake_which(on_path)) == Path(own)
    # Without a shell, a headless run takes what a headed one would.
    assert find_chromium(headless=True, which=fake_which({"chromium": "/a/chromium"})) == Path(
        "/a/chromium"
    )


def test_nothing_found() -> None:
    which = fake_which({})
    with pytest.raises(BrowserNotFound) as info:
        find_chromium(which=which)
    message = str(info.value)
    assert "apt-get install -y chromium" in message
    assert message == (
        "no Chromium found (looked for Playwright's own build and chromium, chromium-browser, "
        f"google-chrome on PATH); {INSTALL_HINT}"
    )
    assert which.asked == ["chromium", "chromium-browser", "google-chrome"]
    assert info.value.exit_code == EXIT_ENVIRONMENT


def test_needs_no_sandbox() -> None:
    assert needs_no_sandbox(0) is True
    assert needs_no_sandbox(1000) is False


# ---------------------------------------------------------------- helpers for real processes


def run_cli(*args: str) -> Ran:
    return invoke(*args, cwd=Path.cwd())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop(proc: subprocess.Popen[Any]) -> None:
    """Stop a process started with start_new_session=True, and everything it spawned."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    else:
        # The leader is gone; children in its group may not be.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def wait_until(ready: Any, proc: subprocess.Popen[Any], what: str, deadline_s: float = 60) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before it was ready")
        if ready():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} not ready after {deadline_s} s")


def answers_json_version(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/version", timeout=2) as reply:
            return reply.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def cdp_chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A headless Chromium with --remote-debugging-port; yields its http:// CDP URL."""
    port = free_port()
    profile = tmp_path_factory.mktemp("cdp-profile")
    proc = subprocess.Popen(
        [
            str(find_chromium()),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--remote-debugging-port={port}",
            f"--user-data-dir={profile}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_until(lambda: answers_json_version(port), proc, "chromium --remote-debugging-port")
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


# ---------------------------------------------------------------- collector doctor

VERSION_LINE = re.compile(r"^Chromium version\s+\d+\.\d+\.\d+", re.MULTILINE)


@pytest.mark.browser
def test_doctor_launches_local_chromium() -> None:
    result = run_cli("doctor")
    assert result.returncode == 0, result.stderr
    assert VERSION_LINE.search(result.stdout), result.stdout
    assert re.search(r"^Page test\s+ok$", result.stdout, re.MULTILINE)
    assert re.search(r"^Cache\s+/\S+/collector/node-compile-cache$", result.stdout, re.MULTILINE)
    # make setup installs the headless shell, and a headless run uses it.
    shell = str(find_chromium(headless=True))
    assert "headless-shell" in shell, "make setup installs chromium-headless-shell"
    assert re.search(rf"^Chromium\s+{re.escape(shell)}$", result.stdout, re.MULTILINE)
    assert re.search(rf"^Headless shell\s+{re.escape(shell)} \(", result.stdout, re.MULTILINE)
    assert result.stdout.rstrip().endswith("Everything needed is here.")
    assert "Traceback" not in result.stderr


def test_doctor_says_what_runs_lose_without_the_headless_shell() -> None:
    from collector.doctor import headless_shell_state

    assert headless_shell_state(fake_which({})).startswith("not installed: headless runs use")
    assert "apt-get install -y chromium-headless-shell" in headless_shell_state(fake_which({}))
    found = fake_which({"chrome-headless-shell": "/opt/shell"})
    assert headless_shell_state(found).startswith("/opt/shell (headless runs;")


def test_doctor_says_where_runs_keep_their_cache_or_why_they_cannot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from collector.doctor import _cache_state

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert _cache_state() == str(tmp_path / "cache" / "collector" / "node-compile-cache")
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "file"))
    assert _cache_state() == (
        "not usable, every run starts slower: "
        f"{tmp_path / 'file' / 'collector' / 'node-compile-cache'}: Not a directory"
    )


@pytest.mark.browser
def test_doctor_with_missing_browser_path() -> None:
    result = run_cli("doctor", "--browser-path", "/nonexistent")
    assert result.returncode == 3
    assert result.stderr.splitlines() == ["Error: --browser-path /nonexistent: no such file"]
    assert re.search(r"^Chromium\s+not found$", result.stdout, re.MULTILINE)


@pytest.mark.browser
def test_doctor_connect(playwright_server: str) -> None:
    result = run_cli("doctor", "--connect", playwright_server)
    assert result.returncode == 0, result.stderr
    assert f"remote Playwright server {playwright_server}" in result.stdout
    assert VERSION_LINE.search(result.stdout), result.stdout


@pytest.mark.browser
def test_doctor_connect_to_closed_port() -> None:
    url = f"ws://127.0.0.1:{free_port()}/"
    result = run_cli("doctor", "--connect", url)
    assert result.returncode == 3
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Error: cannot connect to Playwright server {url}: ")
    assert lines[0].endswith("; is `playwright run-server` running there?")
    assert "ECONNREFUSED" in lines[0]


@pytest.mark.browser
def test_doctor_cdp(cdp_chromium: str) -> None:
    result = run_cli("doctor", "--cdp", cdp_chromium)
    assert result.returncode == 0, result.stderr
    assert f"Chromium over CDP at {cdp_chromium}" in result.stdout
    assert VERSION_LINE.search(result.stdout), result.stdout


@pytest.mark.browser
def test_doctor_cdp_closed_port() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = run_cli("doctor", "--cdp", url)
    assert result.returncode == 3
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Error: cannot connect to Chromium over CDP at {url}: ")
    assert lines[0].endswith("; start it with --remote-debugging-port")


def test_doctor_connect_and_cdp_together() -> None:
    result = run_cli("doctor", "--connect", "ws://127.0.0.1:1/", "--cdp", "http://127.0.0.1:1")
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["Error: --connect and --cdp cannot be used together"]
    assert result.stdout == ""


@pytest.mark.browser
def test_the_environment_names_the_browser_when_no_flag_does(cdp_chromium: str) -> None:
    # What a CI job does once for all its commands: point them at a browser service.
    result = invoke("doctor", cwd=Path.cwd(), env={"COLLECTOR_CDP": cdp_chromium})
    assert result.returncode == 0, result.stderr
    assert f"Chromium over CDP at {cdp_chromium}" in result.stdout


def test_a_browser_flag_wins_over_the_environment() -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    result = invoke(
        "doctor", "--browser-path", "/nonexistent", cwd=Path.cwd(), env={"COLLECTOR_CDP": closed}
    )
    assert result.returncode == 3
    assert result.stderr.splitlines() == ["Error: --browser-path /nonexistent: no such file"]


def test_connect_and_cdp_in_the_environment_together() -> None:
    env = {"COLLECTOR_CONNECT": "ws://127.0.0.1:1/", "COLLECTOR_CDP": "http://127.0.0.1:1"}
    result = invoke("doctor", cwd=Path.cwd(), env=env)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "Error: COLLECTOR_CONNECT and COLLECTOR_CDP cannot be used together"
    ]


# ---------------------------------------------------------------- the shared session browser


@pytest.mark.browser
def test_shared_browser_opens_a_local_page(browser_loop: Any, pages_url: str) -> None:
    async def visit(browser: Any) -> list[tuple[int, str]]:
        context = await browser.new_context()
        try:
            page = await context.new_page()
            seen = []
            for code in (200, 404):
                response = await page.goto(f"{pages_url}status/{code}")
                seen.append((response.status, await page.text_content("body")))
            return seen
        finally:
            await context.close()

    assert browser_loop.run(visit) == [
        (200, '{"error": "status 200"}'),
        (404, '{"error": "status 404"}'),
    ]


@pytest.mark.browser
def test_a_repro_leaves_no_context_open_and_keeps_the_drivers_compiled_code(
    browser_loop: Any, pages_url: str, tmp_path: Path
) -> None:
    """A repro in a browser it connected to (--cdp), someone else's, leaves no context
    there. And the driver's compiled JavaScript is kept in collector's cache folder for
    the next start."""

    async def contexts(browser: Any) -> int:
        session = await browser.new_browser_cdp_session()
        try:
            found = await session.send("Target.getBrowserContexts")
        finally:
            await session.detach()
        return len(found["browserContextIds"])

    before = browser_loop.run(contexts)
    steps = tmp_path / "steps.yaml"
    steps.write_text(f"url: {pages_url}\nsteps:\n  - goto: check/clean-plain.html\n")
    cache = tmp_path / "cache"
    ran = invoke(
        "repro", steps, "--out", tmp_path / "out", "--linger", "0", cwd=tmp_path,
        env={"XDG_CACHE_HOME": str(cache), "NODE_COMPILE_CACHE": None},
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert browser_loop.run(contexts) == before
    compiled = [p for p in (cache / "collector" / "node-compile-cache").rglob("*") if p.is_file()]
    assert compiled and sum(p.stat().st_size for p in compiled) > 100_000


def _drivers() -> dict[int, str]:
    """Our child processes that are Playwright drivers, with their NODE_OPTIONS."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid != os.getpid() or b"run-driver" not in (entry / "cmdline").read_bytes():
                continue
            env = (entry / "environ").read_bytes().split(b"\0")
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile, or not ours to read
        options = [v for v in env if v.startswith(b"NODE_OPTIONS=")]
        found[int(entry.name)] = options[0].decode()[len("NODE_OPTIONS=") :] if options else ""
    return found


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads /proc")
def test_the_driver_keepalive_reaches_the_driver_only_not_our_environment() -> None:
    import asyncio

    from collector.browser import start_playwright

    before_env = dict(os.environ)
    before = set(_drivers())

    async def start(survive: bool) -> str:
        async with start_playwright(survive_signals=survive):
            [new] = [options for pid, options in _drivers().items() if pid not in before]
            assert dict(os.environ) == before_env  # not even while the driver runs
            return new

    keeping, plain = asyncio.run(start(True)), asyncio.run(start(False))
    assert "driver_keepalive.js" in keeping
    assert "driver_keepalive.js" not in plain
    assert dict(os.environ) == before_env
