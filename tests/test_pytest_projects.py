"""The pytest plugin in a sync project and in an async one, each with only its own plugin.

The sync project runs with this repository's ``.venv`` (pytest-playwright);
the async one with ``.venv-async`` (pytest-playwright-asyncio and no
pytest-playwright: the two refuse each other), which ``make setup`` creates.
Both run the same tests, written once for each API, in a ``pytest`` subprocess
against pages served on 127.0.0.1; their verdicts and bundles must agree, and
a failing test's bundle must reproduce with ``collector replay``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from run_collector import invoke

from collector.pytest_plugin import bundle_name

# Each test runs whole pytest projects (their own interpreters and browsers), with
# subprocess timeouts of 300 s: the test's own bound must not be shorter.
pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[1]
ASYNC_PYTHON = ROOT / ".venv-async" / "bin" / "python"
OUT = "collector-results"
PASSWORD = "hunter2-correct-horse"
IDS = ["a b", "a/b", "a-b", "a:b"]  # one slug for all four: only the hash tells them apart

# The same tests for both APIs: `{aw}` is "await " in the async project, `{df}` "async def".
CASES = """
import pytest
{imports}

BASE = {base!r}
{mark}

{df} test_clean(page):
    {aw}page.goto(BASE + "clean.html")
    {aw}page.click("#go")


{df} test_console_error(page):
    {aw}page.goto(BASE + "console.html")
    {aw}page.click("#log")


{df} test_thrown_error(page):
    {aw}page.goto(BASE + "pay.html")
    {aw}page.fill("#email", "ana@example.com")
    {aw}page.locator("#password").fill({password!r})
    {aw}expect(page.locator("#status")).to_have_text("waiting")
    {aw}page.mouse.move(5, 5)
    {aw}page.get_by_role("button", name="Pay now").click()


@pytest.mark.allow_console("Cannot read properties of undefined")
{df} test_allowed(page):
    {aw}page.goto(BASE + "pay.html")
    {aw}page.fill("#email", "ana@example.com")
    {aw}page.click("#pay")


@pytest.mark.expect_console("never happens")
{df} test_expected_missing(page):
    {aw}page.goto(BASE + "clean.html")


@pytest.mark.parametrize("label", {ids!r})
{df} test_param(page, label):
    {aw}page.goto(BASE + "console.html?" + label)
    {aw}page.click("#log")


{df} test_own_assertion_and_errors(page):
    {aw}page.goto(BASE + "console.html")
    {aw}page.click("#log")
    assert {aw}page.title() == "Another title"


{df} test_own_assertion_clean(page):
    {aw}page.goto(BASE + "clean.html")
    assert {aw}page.title() == "Another title"
"""

EXPECTED = {
    "test_clean": "PASSED",
    "test_console_error": "FAILED",
    "test_thrown_error": "FAILED",
    "test_allowed": "PASSED",
    "test_expected_missing": "FAILED",
    **{f"test_param[{i}]": "FAILED" for i in IDS},
    "test_own_assertion_and_errors": "FAILED",
    "test_own_assertion_clean": "FAILED",
}


def cases(pages_url: str, *, asynchronous: bool) -> str:
    if asynchronous:
        return CASES.format(
            imports="from playwright.async_api import expect",
            mark='pytestmark = pytest.mark.asyncio(loop_scope="session")',
            df="async def", aw="await ", base=pages_url, password=PASSWORD, ids=IDS,
        )  # fmt: skip
    return CASES.format(
        imports="from playwright.sync_api import expect",
        mark="", df="def", aw="", base=pages_url, password=PASSWORD, ids=IDS,
    )  # fmt: skip


def project(base: Path, name: str, pages_url: str, *, asynchronous: bool) -> Path:
    folder = base / name
    folder.mkdir()
    ini = "[pytest]\n"
    if asynchronous:
        ini += "asyncio_default_fixture_loop_scope = session\n"
    (folder / "pytest.ini").write_text(ini)
    (folder / "test_cases.py").write_text(cases(pages_url, asynchronous=asynchronous))
    return folder


def run_pytest(python: Path | str, folder: Path, *args: str) -> str:
    """Run pytest in ``folder`` with ``python``; its output (stdout and stderr)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COLLECTOR_"))}
    done = subprocess.run(
        [str(python), "-m", "pytest", "-p", "no:cacheprovider", "--browser", "chromium",
         "-v", "-rN", *args],
        cwd=folder, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    return done.stdout + done.stderr


def outcomes(output: str) -> dict[str, str]:
    """Test name (with its own parameters, without [chromium]) -> PASSED/FAILED/ERROR."""
    found = {}
    for line in output.splitlines():
        match = re.match(
            r"^(?:\[gw\d+\] \[ *\d+%\] )?(PASSED|FAILED|ERROR) \S+::(\w+)\[chromium-?(.*)\]", line
        )
        if not match:
            match = re.match(r"^\S+::(\w+)\[chromium-?(.*)\] (PASSED|FAILED|ERROR)\b", line)
            if not match:
                continue
            name, params, status = match.groups()
        else:
            status, name, params = match.groups()
        found[f"{name}[{params}]" if params else name] = status
    return found


def failure_sections(output: str) -> dict[str, str]:
    """The FAILURES section of each failing test (with its own parameters)."""
    found: dict[str, list[str]] = {}
    current = None
    for line in output.splitlines():
        header = re.match(r"^_{3,} (\w+)\[chromium-?(.*)\] _{3,}$", line)
        if header:
            name, params = header.groups()
            current = f"{name}[{params}]" if params else name
            found[current] = []
        elif re.match(r"^={3,} ", line):
            current = None
        elif current is not None:
            found[current].append(line)
    return {name: "\n".join(lines) for name, lines in found.items()}


def nodeid(name: str) -> str:
    match = re.match(r"(\w+)(?:\[(.*)\])?$", name)
    assert match
    test, params = match.groups()
    return f"test_cases.py::{test}[chromium{'-' + params if params else ''}]"


def bundles(folder: Path) -> dict[str, dict]:
    """Bundle folder name -> outcome status, error messages, scenario.yaml, attached files."""
    found = {}
    for path in sorted((folder / OUT).iterdir()):
        report = json.loads((path / "report.json").read_text(encoding="utf-8"))
        found[path.name] = {
            "status": report["outcome"]["status"],
            "errors": sorted(e["message"] for e in report["errors"]),
            "scenario": (path / "scenario.yaml").read_text(encoding="utf-8"),
            "files": sorted(a["path"] for a in report["attachments"]),
        }
    return found


@pytest.fixture(scope="module")
def async_python() -> Path:
    if not ASYNC_PYTHON.exists():
        pytest.skip("no .venv-async: run `make setup` (it creates it)")
    return ASYNC_PYTHON


def test_sync_and_async_projects_agree_and_bundles_replay(
    tmp_path: Path, pages_url: str, async_python: Path
) -> None:
    sync = project(tmp_path, "sync", pages_url, asynchronous=False)
    asynchronous = project(tmp_path, "async", pages_url, asynchronous=True)

    sync_output = run_pytest(sys.executable, sync)
    async_output = run_pytest(async_python, asynchronous)

    assert outcomes(sync_output) == EXPECTED, sync_output
    assert outcomes(async_output) == EXPECTED, async_output
    # Each project has only its own flavour of the Playwright plugin.
    sync_plugins = re.search(r"^plugins: (.*)$", sync_output, re.MULTILINE)
    async_plugins = re.search(r"^plugins: (.*)$", async_output, re.MULTILINE)
    assert sync_plugins and async_plugins
    assert "playwright-0" in sync_plugins[1] and "asyncio" not in sync_plugins[1]
    assert "playwright-asyncio" in async_plugins[1] and "playwright-0" not in async_plugins[1]

    # The same bundles, named by test id: one per failing test collector explains
    # (on-error, the default), four distinct ones for the four punctuation ids.
    sync_bundles, async_bundles = bundles(sync), bundles(asynchronous)
    expected_names = {
        bundle_name(nodeid(name))
        for name in (
            "test_console_error", "test_thrown_error", "test_expected_missing",
            "test_own_assertion_and_errors", *(f"test_param[{i}]" for i in IDS),
        )
    }  # fmt: skip
    assert set(sync_bundles) == expected_names
    assert len({name.rsplit("-", 1)[0] for name in expected_names if "param" in name}) == 1
    for name, sync_bundle in sync_bundles.items():  # status, errors, the recorded scenario
        assert sync_bundle == async_bundles[name], name

    thrown = sync_bundles[bundle_name(nodeid("test_thrown_error"))]
    assert thrown["status"] == "errors"
    assert "screenshots/page-1.png" in thrown["files"]
    assert thrown["errors"] == ["TypeError: Cannot read properties of undefined (reading 'card')"]
    # The test's own calls, in order, with its selectors; the password is a variable.
    assert thrown["scenario"] == (
        f"name: {nodeid('test_thrown_error')}\n"
        "secrets:\n"
        "- COLLECTOR_PASSWORD_1\n"
        "steps:\n"
        f"  - goto: {pages_url}pay.html\n"
        "  - fill:\n"
        "      selector: '#email'\n"
        "      value: ana@example.com\n"
        "  - fill:\n"
        "      selector: '#password'\n"
        "      value: ${COLLECTOR_PASSWORD_1}\n"
        "  - expect_text:\n"
        "      text: waiting\n"
        "      selector: '#status'\n"
        "  # page.mouse.move() has no step equivalent\n"
        '  - click: internal:role=button[name="Pay now"i]\n'
    )
    for folder in (sync, asynchronous):
        for path in (folder / OUT).rglob("*"):
            if path.is_file() and path.suffix != ".png":
                assert PASSWORD.encode() not in path.read_bytes(), path
        report = json.loads(
            (folder / OUT / bundle_name(nodeid("test_thrown_error")) / "report.json").read_text()
        )
        assert (
            "not replayable: page.mouse.move() has no step equivalent"
            in (report["capture_problems"])
        )
        assert report["steps"][-1]["action"] == "click"
        assert report["errors"][0]["first_step"] == 5  # the click that threw

    # The failure text: collector's findings and the bundle beside the test's own failure.
    for output in (sync_output, async_output):
        failures = failure_sections(output)
        own = failures["test_own_assertion_and_errors"]
        assert "AssertionError" in own
        assert re.search(r"-+ collector -+", own), own
        assert "console on page 1 at " in own and "order 42 could not be saved" in own
        assert f"bundle: {OUT}/{bundle_name(nodeid('test_own_assertion_and_errors'))}" in own
        clean = failures["test_own_assertion_clean"]
        assert "AssertionError" in clean and "collector" not in clean
        assert (
            "expected a console error matching 'never happens'"
            in (failures["test_expected_missing"])
        )

    # A support agent replays the failing test's bundle: the bug reproduces. (In this
    # process, in the worker's browser: the replay command's own process is not on trial.)
    replay = invoke(
        "replay", sync / OUT / bundle_name(nodeid("test_thrown_error")),
        "--secret", "COLLECTOR_PASSWORD_1", "--out", tmp_path / "replays",
        cwd=tmp_path, env={"COLLECTOR_PASSWORD_1": "any password"},
    )  # fmt: skip
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert "Verdict: reproduced" in replay.stdout, replay.stdout


def test_xdist_on_failure_bundles_and_interrupt(tmp_path: Path, pages_url: str) -> None:
    sync = project(tmp_path, "sync", pages_url, asynchronous=False)
    output = run_pytest(
        sys.executable, sync, "-n", "2", "-k", "param or own_assertion",
        "--collector-bundles", "on-failure",
    )  # fmt: skip
    assert outcomes(output) == {
        **{f"test_param[{i}]": "FAILED" for i in IDS},
        "test_own_assertion_and_errors": "FAILED",
        "test_own_assertion_clean": "FAILED",
    }, output
    names = {p.name for p in (sync / OUT).iterdir()}
    # Two workers, four ids that differ only in punctuation: four bundles.
    assert names == {
        bundle_name(nodeid(n))
        for n in (*(f"test_param[{i}]" for i in IDS), "test_own_assertion_and_errors",
                  "test_own_assertion_clean")
    }  # fmt: skip
    for i in IDS:
        report = json.loads(
            (sync / OUT / bundle_name(nodeid(f"test_param[{i}]")) / "report.json").read_text()
        )
        assert report["title"] == nodeid(f"test_param[{i}]")
    # on-failure: a test failing its own assertion on a clean page has a bundle, and says so
    # (from the xdist worker, through the report section).
    clean = failure_sections(output)["test_own_assertion_clean"]
    assert f"bundle: {OUT}/{bundle_name(nodeid('test_own_assertion_clean'))}" in clean
    report = json.loads(
        (sync / OUT / bundle_name(nodeid("test_own_assertion_clean")) / "report.json").read_text()
    )
    assert report["outcome"]["status"] == "step_failed"
    assert report["steps"][-1]["error"].startswith("AssertionError")

    # Ctrl-C in a test whose page logged errors: no bundle unless on-failure asks.
    interrupted = tmp_path / "interrupted"
    interrupted.mkdir()
    (interrupted / "test_stop.py").write_text(
        f"BASE = {pages_url!r}\n\n"
        "def test_stop(page):\n"
        '    page.goto(BASE + "console.html")\n'
        '    page.click("#log")\n'
        "    raise KeyboardInterrupt\n"
    )
    output = run_pytest(sys.executable, interrupted)
    assert "KeyboardInterrupt" in output, output
    assert not (interrupted / OUT).exists(), output
    output = run_pytest(sys.executable, interrupted, "--collector-bundles", "on-failure")
    [bundle] = (interrupted / OUT).iterdir()
    assert bundle.name == bundle_name("test_stop.py::test_stop[chromium]")
    report = json.loads((bundle / "report.json").read_text())
    assert report["outcome"]["status"] == "interrupted"


CONFORMANCE = """
def test_conformance(page, new_context, tmp_path):
    page.goto("form.html")  # relative: resolved against --base-url, as Playwright does
    upload = tmp_path / "notes.txt"
    upload.write_text("hello")
    page.set_input_files("#file", str(upload))
    page.goto("conformance.html")
    page.locator("#btn").wait_for(timeout=5000)
    page.click("#btn")
    page.locator("#dbl").dblclick()
    page.get_by_label("Your name").fill("Ana")
    page.get_by_label("Your name").press("Tab")
    page.select_option("#plan", "pro")
    page.hover("#hover")
    page.keyboard.press("a")
    page.frame_locator("#frame").locator("#inner").click()
    page.frames[1].click("#inner")
    with page.expect_popup() as info:
        page.click("#open-popup")
    popup = info.value
    popup.wait_for_load_state()
    popup.click("#popup-btn")
    second_user = new_context().new_page()
    second_user.goto("clean.html")
    page.evaluate("x => x", 1)
    page.evaluate("console.error('the end')")
"""


def test_recorded_steps_replay_the_same_events(tmp_path: Path, pages_url: str) -> None:
    folder = tmp_path / "conformance"
    folder.mkdir()
    (folder / "test_conformance.py").write_text(CONFORMANCE)
    output = run_pytest(sys.executable, folder, "--base-url", pages_url)
    assert outcomes(output) == {"test_conformance": "FAILED"}, output
    [bundle] = (folder / OUT).iterdir()
    scenario = (bundle / "scenario.yaml").read_text(encoding="utf-8")
    # Frames by frame_locator (a selector chain) and by Frame object (an index path),
    # the popup by its URL; what a scenario cannot say is a comment at its place.
    # The base URL the test ran against: `collector replay --url` moves the steps from there.
    assert scenario.startswith("name: test_conformance.py::test_conformance[chromium]\n")
    assert f"\nurl: {pages_url}\nsteps:\n" in scenario
    assert scenario.split("steps:\n", 1)[1] == (
        f"  - goto: {pages_url}form.html\n"
        "  # page.set_input_files() uploads a file: replay refuses uploads from a received bundle\n"
        f"  - goto: {pages_url}conformance.html\n"
        "  - wait_for: '#btn'\n"
        "    timeout: 5000\n"
        "  - click: '#btn'\n"
        "  - dblclick: '#dbl'\n"
        "  - fill:\n"
        '      selector: internal:label="Your name"i\n'
        "      value: Ana\n"
        "  - press:\n"
        "      key: Tab\n"
        '      selector: internal:label="Your name"i\n'
        "  - select:\n"
        "      selector: '#plan'\n"
        "      value: pro\n"
        "  - hover: '#hover'\n"
        "  - press: a\n"
        "  - click: '#frame >> internal:control=enter-frame >> #inner'\n"
        "  - click: '#inner'\n"
        "    frame:\n"
        "    - 0\n"
        "  - click: '#open-popup'\n"
        "  # page.wait_for_load_state() has no step equivalent\n"
        "  - click: '#popup-btn'\n"
        f"    target: {pages_url}conformance-popup.html\n"
        "  # page.goto() acts in a second browser context: a scenario has one\n"
        "  # page.evaluate() with an argument has no step equivalent\n"
        "  - evaluate: console.error('the end')\n"
    )
    replays = tmp_path / "replays"
    replay = invoke("replay", bundle, "--out", replays, cwd=tmp_path)
    assert replay.returncode == 0, replay.stdout + replay.stderr

    def page_events(report_path: Path) -> list[str]:
        report = json.loads(report_path.read_text(encoding="utf-8"))
        return [e["text"] for e in report["events"] if e["text"].startswith("EVENT ")]

    [replayed] = replays.glob("*/report.json")
    # The page saw the same things happen, in the same order, in the test and in the replay.
    original = page_events(bundle / "report.json")
    assert original == page_events(replayed)
    assert original[0] == "EVENT click #btn" and original[-1] == "EVENT click #popup-btn (popup)"
    assert original.count("EVENT click #inner (frame)") == 2


def test_a_bundle_that_cannot_be_written_never_hides_the_tests_own_failure(
    tmp_path: Path, pages_url: str
) -> None:
    folder = tmp_path / "unwritable"
    folder.mkdir()
    (folder / "not-a-folder").write_text("a file where the output folder should be")
    (folder / "test_own.py").write_text(
        f"BASE = {pages_url!r}\n\n"
        "def test_own(page):\n"
        '    page.goto(BASE + "console.html")\n'
        '    page.click("#log")\n'
        '    assert page.title() == "Another title"\n'
    )
    output = run_pytest(sys.executable, folder, "--collector-output", "not-a-folder")
    assert outcomes(output) == {"test_own": "FAILED"}, output
    failure = failure_sections(output)["test_own"]
    assert "AssertionError" in failure and "Another title" in failure
    assert "collector: could not judge or bundle this test: OutputError: " in failure, failure
    assert "not-a-folder: cannot create the folder" in failure
