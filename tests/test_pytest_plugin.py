"""The pytest plugin, as a user's test suite meets it: pytester runs in a subprocess.

The plugin and pytest-playwright keep global state (the Playwright driver, one
browser per session), so each inner run is its own ``pytest`` process
(``runpytest_subprocess``). Every run passes ``--browser chromium`` and works
although this machine has no Playwright-downloaded Chromium: the plugin points
pytest-playwright at the system one.

Three inner runs keep this fast: the defaults (most cases), a long linger with
command-line ignores, and ``--collector-fail-on never``.
"""

from __future__ import annotations

import json
import re

import pytest

from collector.pytest_plugin import bundle_name

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.browser

COMMON = ("-p", "no:cacheprovider", "--browser", "chromium", "-v")
OUT = "collector-results"

CASES = """
from pathlib import Path

import pytest

BASE = {base!r}


def test_passes(page):
    page.goto(BASE + "clean.html")
    page.click("#go")


def test_boom(page):
    page.goto(BASE + "errors.html")
    page.click("#boom")  # console.error, an HTTP 500 and an uncaught TypeError at errors.js:5:9


def test_late_error(page):
    page.goto(BASE + "timer.html")
    page.click("#late")  # throws 1.2 s later: after the default linger of 0.5 s


@pytest.mark.allow_console("kaboom", "boom clicked", "status/500")
def test_boom_allowed(page):
    page.goto(BASE + "errors.html")
    page.click("#boom")


@pytest.mark.expect_console("kaboom", "boom clicked", "status/500")
def test_boom_expected(page):
    page.goto(BASE + "errors.html")
    page.click("#boom")


@pytest.mark.expect_console("never happens")
def test_expects_what_never_happens(page):
    page.goto(BASE + "clean.html")


def test_frozen(page):
    page.goto(BASE + "frozen.html")
    page.click("#freeze", timeout=2000)  # its handler never returns: the renderer hangs


def test_own_assertion(page):
    page.goto(BASE + "clean.html")
    assert page.title() == "Another title"


def test_no_browser():
    assert 1 + 1 == 2


def test_no_browser_fails():
    assert 1 + 1 == 3


def test_defaults(request, browser_type_launch_args, playwright):
    # The documented default linger: a timer error 1.2 s after the test body is missed.
    assert request.config.getoption("--collector-linger") == 0.5
    own = Path(playwright.chromium.executable_path)
    if own.is_file():
        assert "executable_path" not in browser_type_launch_args
    else:  # no `playwright install` here: the plugin found the system Chromium
        from collector.browser import find_chromium

        assert browser_type_launch_args["executable_path"] == str(find_chromium(headless=True))
"""


def outcomes(result: pytest.RunResult) -> dict[str, str]:
    """Test name (without the module and the [chromium] parameter) -> PASSED/FAILED/ERROR."""
    found = {}
    for line in result.outlines:
        match = re.match(r"^\S+::(\w+)(?:\[chromium\])? (PASSED|FAILED|ERROR)\b", line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def sections(result: pytest.RunResult) -> dict[str, str]:
    """The FAILURES section of each failing test, by test name."""
    found: dict[str, list[str]] = {}
    current = None
    for line in result.outlines:
        header = re.match(r"^_{3,} (\w+)(?:\[chromium\])? _{3,}$", line)
        if header:
            current = header.group(1)
            found[current] = []
        elif re.match(r"^={3,} ", line):
            current = None
        elif current is not None:
            found[current].append(line)
    return {name: "\n".join(lines) for name, lines in found.items()}


def write_cases(pytester: pytest.Pytester, pages_url: str) -> None:
    pytester.makepyfile(test_cases=CASES.format(base=pages_url))


def test_default_run(pytester: pytest.Pytester, pages_url: str) -> None:
    write_cases(pytester, pages_url)
    out = pytester.path / OUT
    out.mkdir()
    (out / "keep-me.txt").write_text("the user's own file")
    # A folder of the user's that happens to have the name of a test's bundle.
    users = out / bundle_name("test_cases.py::test_boom[chromium]")
    users.mkdir()
    (users / "notes.txt").write_text("not a bundle")

    result = pytester.runpytest_subprocess(*COMMON, timeout=180)

    assert outcomes(result) == {
        "test_passes": "PASSED",
        "test_boom": "FAILED",
        "test_late_error": "PASSED",  # its error comes after the default linger (0.5 s)
        "test_boom_allowed": "PASSED",
        "test_boom_expected": "PASSED",  # expected errors must occur, and then do not fail
        "test_expects_what_never_happens": "FAILED",
        "test_frozen": "FAILED",
        "test_own_assertion": "FAILED",
        "test_no_browser": "PASSED",
        "test_no_browser_fails": "FAILED",
        "test_defaults": "PASSED",
    }, result.stdout.str()
    failures = sections(result)

    # An error in the page fails the test, with the error, its location and the bundle
    # (next to the user's folder of the same name, not in it).
    boom = failures["test_boom"]
    assert "collector: 3 browser problem(s):" in boom
    assert "errors.js:5:9: TypeError: kaboom" in boom
    assert "errors.js:3:11: boom clicked" in boom
    assert "HTTP 500" in boom
    bundle = out / f"{users.name}-2"
    assert f"bundle: {OUT}/{bundle.name}" in boom
    report = json.loads((bundle / "report.json").read_text(encoding="utf-8"))
    assert (bundle / "ticket.md").is_file()
    assert [p.suffix for p in (bundle / "screenshots").iterdir()] == [".png"]
    assert report["outcome"]["status"] == "errors"
    kaboom = next(e for e in report["events"] if e["text"] == "TypeError: kaboom")
    location = (kaboom["url"].rsplit("/", 1)[1], kaboom["line"], kaboom["column"])
    assert location == ("errors.js", 5, 9)
    assert kaboom["fails"] is True
    assert kaboom["step"] == 2  # the click: events belong to the recorded step
    assert [(s["action"], s["target"]) for s in report["steps"]] == [
        ("goto", f"{pages_url}errors.html"),
        ("click", "#boom"),
    ]
    assert "TypeError: kaboom" in (bundle / "ticket.md").read_text(encoding="utf-8")

    # A hung page ends the test's linger (it would wait on it forever) and is named.
    frozen = out / bundle_name("test_cases.py::test_frozen[chromium]")
    report = json.loads((frozen / "report.json").read_text(encoding="utf-8"))
    hung = [e["text"] for e in report["events"] if e["kind"] == "crash"]
    assert hung == ["The page stopped responding (its script is busy)"]
    assert "Timeout 2000ms exceeded" in failures["test_frozen"]

    never = failures["test_expects_what_never_happens"]
    assert "expected a console error matching 'never happens', none occurred" in never

    # A test failing its own assertion, with a clean page: no bundle by default (on-error).
    assert "collector" not in failures["test_own_assertion"]

    # Tests without a browser are untouched: no capture, no message, no bundle.
    assert "collector" not in failures["test_no_browser_fails"]
    assert "assert (1 + 1) == 3" in failures["test_no_browser_fails"]

    # Nothing of the user's was deleted; bundles only for the tests collector failed.
    assert (out / "keep-me.txt").read_text() == "the user's own file"
    assert (users / "notes.txt").read_text() == "not a bundle"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [
            "keep-me.txt",
            users.name,
            bundle.name,
            bundle_name("test_cases.py::test_expects_what_never_happens[chromium]"),
            frozen.name,
        ]
    )


def test_long_linger_and_command_line_ignores(pytester: pytest.Pytester, pages_url: str) -> None:
    write_cases(pytester, pages_url)
    result = pytester.runpytest_subprocess(
        *COMMON,
        "-k", "test_boom or test_late_error",
        "--collector-linger", "5",  # generous: the 1.2 s timer must land on a busy machine
        "--collector-ignore", "kaboom",
        "--collector-ignore", "boom clicked",
        "--collector-ignore", "status/500",
        "--collector-output", "out",
        timeout=180,
    )  # fmt: skip
    assert outcomes(result) == {
        "test_boom": "PASSED",
        "test_late_error": "FAILED",
        "test_boom_allowed": "PASSED",
        "test_boom_expected": "PASSED",
    }, result.stdout.str()
    late = sections(result)["test_late_error"]
    assert re.search(r"page_error on page 1 at \S+/timer\.js:4:\d+: Error: late boom", late), late
    assert [p.name for p in (pytester.path / "out").iterdir()] == [
        bundle_name("test_cases.py::test_late_error[chromium]")
    ]
    assert not (pytester.path / OUT).exists()


def test_fail_on_never(pytester: pytest.Pytester, pages_url: str) -> None:
    write_cases(pytester, pages_url)
    result = pytester.runpytest_subprocess(
        *COMMON, "-k", "test_boom and not allowed and not expected", "--collector-fail-on", "never",
        timeout=180,
    )  # fmt: skip
    assert outcomes(result) == {"test_boom": "PASSED"}, result.stdout.str()
    assert not (pytester.path / OUT).exists()


def test_help_documents_the_prefixed_options(pytester: pytest.Pytester) -> None:
    # In this process: help starts no browser, and a pytest process for it cost seconds.
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--help")
    text = result.stdout.str()
    group = text[text.index("collector: fail tests on browser console errors:") :]
    group = group[: group.index("\n\n")]
    options = re.findall(r"^  (--[\w-]+)", group, re.MULTILINE)
    assert all(o.startswith("--collector-") for o in options), options
    assert {"--collector-fail-on", "--collector-output", "--collector-ignore"} <= set(options)
    assert "--collector-linger" in options
    assert re.search(r"late errors after each test\s+\(default\s+0\.5\)", group), group
