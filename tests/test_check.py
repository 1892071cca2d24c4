"""`collector check`: the CI scan over tests/pages/check/, as CI runs it (real processes).

The pages are tiny and say what they do in their names:

- ``clean-*.html`` (14) and ``warn-only.html`` pass with the default rules;
- ``fail-*.html`` (15) fail, one kind of failure each (see FAILING_LINES);
- ``_*.html`` / ``_*.js`` are helpers (an iframe, a worker, a third-party script), not targets.

Three scenario files written at run time complete the set: a renderer crash
(``goto: chrome://crash``, which only a scenario can do), a page whose error is
declared in ``expect`` (passes) and an ``expect`` that never happens (fails).

Every browser run is a ``python -m collector check`` subprocess with a short
linger and timeout; the expensive full run happens once and several tests read it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
from shared_browser import attached

from collector.check import (
    CheckReport,
    PageResult,
    collect_targets,
    error_lines,
    parse_shard,
    read_sitemap,
    shard,
    summary_table,
    url_target,
)
from collector.config import load_config
from collector.errors import BadInput, CollectorError
from collector.github import annotation_lines
from collector.junit import junit_xml as junit_of_results
from collector.report import Event, Outcome
from collector.results import results_of


def junit_xml(report: CheckReport) -> bytes:
    return junit_of_results(results_of(report))


def github_annotations(report: CheckReport) -> list[str]:
    return annotation_lines(results_of(report))

CHECK_PAGES = Path(__file__).parent / "pages" / "check"
PAGES = sorted(p.name for p in CHECK_PAGES.glob("*.html") if not p.name.startswith("_"))
FAILING_PAGES = {name for name in PAGES if name.startswith("fail-")}
CLEAN_PAGES = set(PAGES) - FAILING_PAGES
HANG = "fail-hang.html"
# A generous linger: pages end their wait as soon as they are quiet, so it costs nothing,
# and a timer's error 300 ms after load still lands on a loaded machine (0.5 s did not).
# The full run (33 targets) is set up inside the first test that reads it.
pytestmark = pytest.mark.timeout(300)

# 10 s per step: pages that load must load on a loaded machine too; the one page that
# never loads (its image answers after 30 s) is first, so the others overlap its wait.
FAST_FLAGS = ("--linger", "5", "--timeout", "10000", "--quiet")

# What each failing page prints: `FAIL <page>: <this>`, one line per failing error,
# in order. `{base}` is the check/ folder's URL, `{root}` the server's, `{third}`
# the same folder under the "third-party" origin (localhost instead of 127.0.0.1).
# A string is the exact rest of the line, a compiled pattern must match it whole.
FAILING_LINES: dict[str, list[str | re.Pattern[str]]] = {
    "fail-console-error-on-load.html": [
        "console {base}fail-console-error-on-load.js:2:9 error on load"
    ],
    "fail-console-error-timer.html": [
        "console {base}fail-console-error-timer.html:6:72 error from a timer"
    ],
    "fail-console-assert.html": [
        "console {base}fail-console-assert.html:6:17 assertion went wrong"
    ],
    "fail-uncaught-exception.html": [
        "page_error {base}fail-uncaught-exception.js:3:9 TypeError: uncaught on load"
    ],
    "fail-unhandled-rejection.html": [
        "page_error {base}fail-unhandled-rejection.html:6:24 Unhandled rejection: Error: "
        "nobody handles me"
    ],
    # A script that does not parse has no stack; the location comes from DevTools' details.
    "fail-syntax-error.html": [
        re.compile(r"page_error \S+/fail-syntax-error\.js:2:\d+ SyntaxError: Unexpected token ';'")
    ],
    "fail-fetch-500.html": [
        "http_error HTTP 500 Internal Server Error GET {root}status/500"
    ],
    "fail-post-503.html": [
        "http_error HTTP 503 Service Unavailable POST {root}status/503"
    ],
    "fail-connection-refused.html": [
        "request_failed GET http://127.0.0.1:2/refused failed: "
        "net::ERR_CONNECTION_REFUSED"
    ],
    "fail-image-404.html": ["http_error HTTP 404 Not Found GET {root}status/404"],
    "fail-iframe-error.html": ["console {base}_frame-with-error.html:6:17 error inside the iframe"],
    # A worker's messages come relayed by its page (reliable), which gives no column.
    "fail-worker-error.html": ["console {base}_worker-error.js:2 error inside the worker"],
    "fail-third-party.html": [
        "console {third}_third-party.js:2:9 widget: tracking failed",
        # Chromium words errors of cross-origin scripts its own way ("Uncaught Error: …").
        re.compile(r"page_error {third}_third-party\.js:3:7 (Uncaught )?Error: widget exploded"),
    ],
    "fail-known-bug.html": ["console {base}fail-known-bug.html:6:17 known bug 1234"],
    # The page never loads (an image that answers after 30 s): the timeout is the
    # reason, and the error logged before it is still reported.
    HANG: [
        re.compile(r"The page did not load within 1\d(\.\d+)? s \(step 1: open .*\)"),
        "console {base}fail-hang.html:6:17 error before the hang",
    ],
    "crash.yaml": [
        re.compile(r"The page or browser crashed( \(step \d+: .+\))?"),
        re.compile(r"crash \S+ The page crashed"),
    ],
    "missing-expected.yaml": ["expected but not seen: never happens"],
}
REASON_LINES = {HANG: 1, "crash.yaml": 1, "missing-expected.yaml": 1}  # lines that are not errors


def test_the_page_set_is_the_designed_one() -> None:
    assert len(PAGES) == 30
    assert len(CLEAN_PAGES) == 15  # 14 clean-* + warn-only
    assert set(FAILING_LINES) - {"crash.yaml", "missing-expected.yaml"} == FAILING_PAGES


# ---------------------------------------------------------------- helpers


def run_check(*args: str, cwd: Path, timeout: float = 280) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLLECTOR")}
    env.update(LC_ALL="C.UTF-8", PYTHONIOENCODING="utf-8")
    try:
        return subprocess.run(
            [sys.executable, "-m", "collector", *attached(["check", *args])],
            cwd=cwd,
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        progress = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else ""
        pytest.fail(f"check ran over {timeout} s; its progress so far:\n{progress[-4000:]}")


def page_url(pages_url: str, name: str) -> str:
    return f"{pages_url}check/{name}"


def write_url_list(path: Path, urls: list[str]) -> Path:
    path.write_text("# pages to check\n\n" + "\n".join(urls) + "\n", encoding="utf-8")
    return path


def write_scenarios(folder: Path, pages_url: str) -> list[str]:
    """The crash, expected-error and expected-but-missing scenarios; returns their names."""
    (folder / "crash.yaml").write_text(
        "name: the renderer crashes\n"
        f"steps:\n  - goto: {page_url(pages_url, 'clean-plain.html')}\n  - goto: chrome://crash\n",
        encoding="utf-8",
    )
    (folder / "expected.yaml").write_text(
        "name: a known bug is expected\nexpect: ['known bug 1234']\n"
        f"steps:\n  - goto: {page_url(pages_url, 'fail-known-bug.html')}\n",
        encoding="utf-8",
    )
    (folder / "missing-expected.yaml").write_text(
        "name: an expected error never happens\nexpect: ['never happens']\n"
        f"steps:\n  - goto: {page_url(pages_url, 'clean-plain.html')}\n",
        encoding="utf-8",
    )
    return ["crash.yaml", "expected.yaml", "missing-expected.yaml"]


def failing_names(summary: dict[str, Any]) -> set[str]:
    return {p["name"] for p in summary["pages"] if p["failed"]}


def short(name: str) -> str:
    """A target's name as the tables of this file use it: the page file or scenario file."""
    return name.rsplit("/", 1)[-1]


def expand(expected: str | re.Pattern[str], pages_url: str) -> str | re.Pattern[str]:
    port = urlsplit(pages_url).port
    values = {
        "base": f"{pages_url}check/",
        "root": pages_url,
        "third": f"http://localhost:{port}/check/",
    }
    if isinstance(expected, str):
        return expected.format(**values)
    escaped = {k: re.escape(v) for k, v in values.items()}
    return re.compile(expected.pattern.format(**escaped))


def line_matches(expected: str | re.Pattern[str], actual: str) -> bool:
    if isinstance(expected, str):
        return actual == expected
    return expected.fullmatch(actual) is not None


# ---------------------------------------------------------------- the full run


@dataclass
class FullRun:
    cwd: Path
    pages_url: str
    proc: subprocess.CompletedProcess[str]
    summary: dict[str, Any]
    names: list[str]

    @property
    def expected_failing(self) -> set[str]:
        return {n for n in self.names if short(n) in FAILING_LINES}


@pytest.fixture(scope="module")
def full_run(pages_url: str, tmp_path_factory: pytest.TempPathFactory) -> FullRun:
    """All 30 pages plus the three scenarios, with every output switched on."""
    cwd = tmp_path_factory.mktemp("check-full")
    # The slow ones (a crash, a timeout) first, so that the rest overlaps them.
    urls = [page_url(pages_url, n) for n in sorted(PAGES, key=lambda n: (n != HANG, n))]
    write_url_list(cwd / "pages.txt", urls)
    scenarios = write_scenarios(cwd, pages_url)
    # Not quiet: the progress lines on stderr say which page a run that overran was on.
    proc = run_check(
        *scenarios,
        "pages.txt",
        *(f for f in FAST_FLAGS if f != "--quiet"),
        "--json-file", "summary.json",
        "--junit", "junit.xml",
        "--github",
        "--out", "bundles",
        cwd=cwd,
    )  # fmt: skip
    assert "Traceback" not in proc.stderr, proc.stderr
    summary = json.loads((cwd / "summary.json").read_text(encoding="utf-8"))
    return FullRun(cwd, pages_url, proc, summary, scenarios + urls)


@pytest.mark.browser
def test_full_run_fails_exactly_the_failing_pages(full_run: FullRun) -> None:
    assert full_run.proc.returncode == 1, full_run.proc.stderr
    summary = full_run.summary
    assert [p["name"] for p in summary["pages"]] == full_run.names  # input order
    assert failing_names(summary) == full_run.expected_failing
    assert len(full_run.expected_failing) == 17
    assert summary["summary"] == {
        "pages": 33,
        "failed": 17,
        "passed": 16,
        "duration_ms": summary["summary"]["duration_ms"],
        "shard": None,
    }
    by_name = {short(p["name"]): p for p in summary["pages"]}
    assert by_name[HANG]["outcome"] == "step_failed"
    assert by_name["crash.yaml"]["outcome"] == "crashed"
    assert by_name["missing-expected.yaml"]["missing_expected"] == ["never happens"]
    # Declared in `expect`, the known bug happens: that page passes; as a plain URL it fails.
    assert by_name["expected.yaml"]["failed"] is False
    assert by_name["expected.yaml"]["missing_expected"] == []
    assert by_name["fail-known-bug.html"]["failed"] is True
    # The warning-only page passes with the default fail_on=error.
    assert by_name["warn-only.html"]["failed"] is False
    for page in summary["pages"]:
        assert (page["reason"] is None) == (not page["failed"]), page


@pytest.mark.browser
def test_full_run_prints_one_line_per_error_with_its_location(full_run: FullRun) -> None:
    lines = full_run.proc.stdout.splitlines()
    fail_lines: dict[str, list[str]] = {}
    for line in lines:
        if line.startswith("FAIL "):
            name, rest = line[5:].split(": ", 1)
            fail_lines.setdefault(name, []).append(rest)
    assert set(fail_lines) == full_run.expected_failing
    for name, actual in fail_lines.items():
        expected = [expand(e, full_run.pages_url) for e in FAILING_LINES[short(name)]]
        assert len(actual) == len(expected), (name, actual)
        for want, got in zip(expected, actual, strict=True):
            assert line_matches(want, got), (name, want, got)
    # One line per failing error (plus a reason line for pages that did not run through).
    for page in full_run.summary["pages"]:
        if page["failed"]:
            extra = REASON_LINES.get(short(page["name"]), 0)
            assert len(fail_lines[page["name"]]) == len(page["errors"]) + extra, page["name"]


@pytest.mark.browser
def test_full_run_prints_a_summary_table(full_run: FullRun) -> None:
    lines = full_run.proc.stdout.splitlines()
    header = next(
        i for i, line in enumerate(lines) if re.fullmatch(r"page\s+result\s+errors\s+time", line)
    )
    rows = lines[header + 1 : header + 1 + len(full_run.names)]
    errors = {p["name"]: sum(e["count"] for e in p["errors"]) for p in full_run.summary["pages"]}
    for name, row in zip(full_run.names, rows, strict=True):
        match = re.fullmatch(rf"{re.escape(name)}\s+(FAIL|ok)\s+(\d+)\s+\d+\.\ds", row)
        assert match, row
        assert match.group(1) == ("FAIL" if name in full_run.expected_failing else "ok")
        assert int(match.group(2)) == errors[name]
    assert re.fullmatch(r"33 pages, 16 passed, 17 failed in \d+\.\ds", lines[header + 34])
    assert lines[header + 34] == lines[-1]


# The JUnit type of each failing target: named by the kind of error that broke it;
# a page that could not be checked (a crash) is an <error>, the others <failure>s.
JUNIT_TYPES = {
    "fail-console-error-on-load.html": "console",
    "fail-console-error-timer.html": "console",
    "fail-console-assert.html": "console",
    "fail-uncaught-exception.html": "exception",
    "fail-unhandled-rejection.html": "exception",
    "fail-syntax-error.html": "exception",
    "fail-fetch-500.html": "http",
    "fail-post-503.html": "http",
    "fail-connection-refused.html": "request_failed",
    "fail-image-404.html": "http",
    "fail-iframe-error.html": "console",
    "fail-worker-error.html": "console",
    "fail-third-party.html": "exception",  # a console error too: the exception names it
    "fail-known-bug.html": "console",
    HANG: "timeout",
    "crash.yaml": "crash",
    "missing-expected.yaml": "missing_expected",
}
JUNIT_ERRORS = {"crash.yaml"}


def test_every_failing_target_has_a_junit_type() -> None:
    assert set(JUNIT_TYPES) == set(FAILING_LINES)


@pytest.mark.browser
def test_full_run_junit(full_run: FullRun) -> None:
    root = ET.parse(full_run.cwd / "junit.xml").getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("33", "16", "1")
    suites = root.findall("testsuite")
    assert len(suites) == 1
    suite = suites[0]
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("33", "16", "1")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == full_run.names
    verdicts = {}
    for case in cases:
        found = [child for child in case if child.tag in ("failure", "error")]
        assert len(found) <= 1
        if found:
            verdicts[short(case.get("name") or "")] = (found[0].tag, found[0].get("type"))
    assert verdicts == {
        name: ("error" if name in JUNIT_ERRORS else "failure", kind)
        for name, kind in JUNIT_TYPES.items()
    }
    for case in cases:
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is None:
            assert case.find("system-out") is None
            continue
        assert problem.get("message")
        # The text: the reason when the page did not run through, then a line per error.
        page = next(p for p in full_run.summary["pages"] if p["name"] == case.get("name"))
        lines = problem.text.splitlines()
        assert len(lines) == len(page["errors"]) + REASON_LINES.get(short(page["name"]), 0)
        for error, line in zip(reversed(page["errors"]), reversed(lines), strict=False):
            assert line.startswith(error["kind"] + " ") and error["text"][:40] in line, line
        out = case.find("system-out").text.splitlines()
        assert out[0].startswith("bundle: ")
        bundle = out[0][len("bundle: ") :]
        zip_path = f"{bundle}/{bundle.rsplit('/', 1)[-1]}.zip"
        assert out[1:] == [f"[[ATTACHMENT|{zip_path}]]"]
        assert (full_run.cwd / zip_path).is_file()


@pytest.mark.browser
def test_full_run_github_annotations(full_run: FullRun) -> None:
    lines = [line for line in full_run.proc.stdout.splitlines() if line.startswith("::")]
    fails = [line for line in full_run.proc.stdout.splitlines() if line.startswith("FAIL ")]
    assert len(lines) == len(fails)
    # No --source-root: no file= (a URL's basename is no file of the repository).
    # One annotation per FAIL line, for the same page, in the same order (the FAIL line
    # says it in people's words, the annotation keeps the report's reason).
    for fail, line in zip(fails, lines, strict=True):
        name = fail[5:].split(": ", 1)[0]
        title = f"collector check: {name}".replace(":", "%3A")
        assert line.startswith(f"::error title={title}::"), (fail, line)
        assert len(line) > len(f"::error title={title}::")


@pytest.mark.browser
def test_full_run_writes_one_bundle_per_failing_page(full_run: FullRun) -> None:
    bundles = full_run.cwd / "bundles"
    folders = sorted(p for p in bundles.iterdir())
    assert not [p for p in folders if p.name.startswith(".")], "temporary folders left behind"
    assert len(folders) == 17
    pages = {p["name"]: p for p in full_run.summary["pages"]}
    seen = set()
    for name, page in pages.items():
        if not page["failed"]:
            assert page["bundle"] is None, name
            continue
        bundle = full_run.cwd / page["bundle"]
        assert bundle.parent == bundles
        seen.add(bundle)
        for member in ("report.json", "ticket.md", f"{bundle.name}.zip"):
            assert (bundle / member).is_file(), (name, member)
        report = json.loads((bundle / "report.json").read_text(encoding="utf-8"))
        assert report["reference"] == bundle.name
        assert report["outcome"]["status"] == page["outcome"]
        failing_texts = {e["text"] for e in report["events"] if e["fails"]}
        assert {e["text"] for e in page["errors"]} <= failing_texts, name
    assert seen == set(folders)


# ---------------------------------------------------------------- rules: ignore, fail_on

IGNORE_TOML = r"""
# Third-party origin: nothing its scripts throw or log counts.
[[ignore]]
pattern = "."
source = "exception"
url = '^http://localhost:\d+/'

[[ignore]]
pattern = "widget"
source = "console"
url = "//localhost:"

[[ignore]]
pattern = "ERR_CONNECTION_REFUSED"
source = "network"
url = '^http://127\.0\.0\.1:2/'
"""
CLI_IGNORES = (
    "error on load", "error from a timer", "assertion went wrong", "uncaught on load",
    "nobody handles me", "Unexpected token", "/status/500", "/status/503", "/status/404",
    "error inside the iframe", "error inside the worker", "known bug 1234",
)  # fmt: skip


@pytest.mark.browser
def test_ignore_rules_from_flags_and_config_pass_every_page(pages_url: str, tmp_path: Path) -> None:
    (tmp_path / "collector.toml").write_text(IGNORE_TOML, encoding="utf-8")
    # Every failing page but the hang (a timeout is not an error one can ignore).
    urls = [page_url(pages_url, n) for n in sorted(FAILING_PAGES - {HANG})]
    write_url_list(tmp_path / "pages.txt", urls)
    ignores = [arg for pattern in CLI_IGNORES for arg in ("--ignore", pattern)]
    proc = run_check("pages.txt", *FAST_FLAGS, *ignores, "--json-file", "s.json", cwd=tmp_path)
    assert not proc.stderr, proc.stderr
    summary = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert failing_names(summary) == set(), [p["errors"] for p in summary["pages"] if p["failed"]]
    assert proc.returncode == 0, proc.stdout
    assert not [line for line in proc.stdout.splitlines() if line.startswith("FAIL")]
    assert proc.stdout.splitlines()[-1].startswith("14 pages, 14 passed, 0 failed in ")


def test_config_ignore_rules_are_scoped_by_source_and_url(tmp_path: Path) -> None:
    (tmp_path / "collector.toml").write_text(IGNORE_TOML, encoding="utf-8")
    rules = load_config(tmp_path).rules()

    def fails(kind: str, text: str, url: str) -> bool:
        return rules.fails(Event(kind=kind, level="error", text=text, url=url))

    third, first = "http://localhost:8000/w.js", "http://127.0.0.1:8000/w.js"
    assert not fails("page_error", "Error: anything at all", third)
    assert fails("page_error", "Error: anything at all", first)
    assert not fails("console", "widget: tracking failed", third)
    assert fails("console", "widget: tracking failed", first)
    assert fails("console", "something else", third)  # "." only for exceptions
    refused = "GET http://127.0.0.1:2/x failed: net::ERR_CONNECTION_REFUSED"
    assert not fails("request_failed", refused, "http://127.0.0.1:2/x")
    assert fails("request_failed", refused.replace(":2/", ":3/"), "http://127.0.0.1:3/x")
    assert fails("console", "net::ERR_CONNECTION_REFUSED", "http://127.0.0.1:2/x")  # not network


@pytest.mark.browser
def test_fail_on_warning_fails_the_warning_page(pages_url: str, tmp_path: Path) -> None:
    names = ["warn-only.html", "clean-console-log.html", "clean-console-info.html"]
    urls = [page_url(pages_url, n) for n in names]
    # Not quiet: -q leaves only the summary line, and this test reads the FAIL lines.
    loud = (f for f in FAST_FLAGS if f != "--quiet")
    proc = run_check(*urls, *loud, "--fail-on", "warning", "--json-file", "s.json", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    summary = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert failing_names(summary) == {urls[0]}
    assert (
        f"FAIL {urls[0]}: console {urls[0]}:6:17 deprecated thing used" in proc.stdout.splitlines()
    )


@pytest.mark.browser
def test_fail_on_never_passes_pages_with_errors(pages_url: str, tmp_path: Path) -> None:
    names = [
        "fail-console-error-on-load.html", "fail-uncaught-exception.html",
        "fail-fetch-500.html", "fail-connection-refused.html",
    ]  # fmt: skip
    urls = [page_url(pages_url, n) for n in names]
    proc = run_check(
        *urls, *FAST_FLAGS, "--fail-on", "never", "--json-file", "s.json", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert failing_names(summary) == set()
    assert all(p["outcome"] == "clean" for p in summary["pages"])
    assert not [line for line in proc.stdout.splitlines() if line.startswith("FAIL")]


# ---------------------------------------------------------------- sharding

TARGETS = [url_target(f"https://shop.example/page-{i}.html") for i in range(60)]


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5])
def test_shards_are_disjoint_and_cover_every_target(count: int) -> None:
    shards = [shard(TARGETS, i, count) for i in range(1, count + 1)]
    names = [t.name for part in shards for t in part]
    assert len(names) == len(set(names))  # disjoint
    assert set(names) == {t.name for t in TARGETS}  # covering
    for part in shards:  # each keeps the input order
        assert part == [t for t in TARGETS if t in part]
    if count > 1:
        assert all(shards), "60 targets should land in every shard"


def test_adding_a_page_moves_no_other_page() -> None:
    grown = [*TARGETS, url_target("https://shop.example/new.html")]
    for i in (1, 2, 3):
        before = {t.name for t in shard(TARGETS, i, 3)}
        after = {t.name for t in shard(grown, i, 3)} - {"https://shop.example/new.html"}
        assert before == after


@pytest.mark.parametrize(
    ("text", "expected"), [("1/1", (1, 1)), ("2/4", (2, 4)), (" 3 / 3 ", (3, 3))]
)
def test_parse_shard(text: str, expected: tuple[int, int]) -> None:
    assert parse_shard(text) == expected


@pytest.mark.parametrize("text", ["0/2", "3/2", "x", "1/0", "", "1/2/3", "-1/2", "1.5/2"])
def test_parse_shard_rejects(text: str) -> None:
    with pytest.raises(BadInput, match=r"^--shard "):
        parse_shard(text)


@pytest.mark.parametrize(("index", "count"), [(0, 2), (3, 2), (1, 0)])
def test_shard_rejects(index: int, count: int) -> None:
    with pytest.raises(BadInput):
        shard(TARGETS, index, count)


@pytest.mark.browser
def test_shard_runs_split_the_pages(pages_url: str, tmp_path: Path) -> None:
    candidates = [page_url(pages_url, n) for n in sorted(CLEAN_PAGES)]
    # The names carry the server's port, so pick pages that land in both shards.
    urls: list[str] = []
    for url in candidates:
        urls.append(url)
        parts = [shard([url_target(u) for u in urls], i, 2) for i in (1, 2)]
        if all(parts):
            break
    write_url_list(tmp_path / "pages.txt", urls)
    seen = []
    for i in (1, 2):
        proc = run_check(
            "pages.txt", *FAST_FLAGS, "--shard", f"{i}/2", "--json-file", f"{i}.json", cwd=tmp_path
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        summary = json.loads((tmp_path / f"{i}.json").read_text(encoding="utf-8"))
        assert summary["summary"]["shard"] == [i, 2]
        names = [p["name"] for p in summary["pages"]]
        assert names == [t.name for t in shard([url_target(u) for u in urls], i, 2)]
        assert names
        seen.append(set(names))
    assert not seen[0] & seen[1]
    assert seen[0] | seen[1] == set(urls)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["https://a.example/", "--shard", "3/2"],
            "Error: --shard 3/2: expected I/N with 1 <= I <= N",
        ),
        (["."], "Error: .: is a directory, expected a URL, a URL list or a scenario"),
        ([], "Error: nothing to check: give URLs, a URL list, a scenario or --sitemap"),
    ],
)
def test_bad_input_is_exit_2_with_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    proc = run_check(*args, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [message]
    assert proc.stdout == ""


# ---------------------------------------------------------------- sitemaps

NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


def urlset(*urls: str) -> bytes:
    entries = "".join(f"<url><loc> {u} </loc><lastmod>2024-01-01</lastmod></url>" for u in urls)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset {NS}>{entries}</urlset>'.encode()


def sitemap_index(*urls: str) -> bytes:
    entries = "".join(f"<sitemap><loc>{u}</loc></sitemap>" for u in urls)
    return f"<sitemapindex {NS}>{entries}</sitemapindex>".encode()


def fetcher(documents: dict[str, bytes]) -> Any:
    asked: list[str] = []

    def fetch(url: str) -> bytes:
        asked.append(url)
        if url not in documents:
            raise OSError(f"HTTP Error 404: {url}")
        return documents[url]

    fetch.asked = asked  # type: ignore[attr-defined]
    return fetch


def test_read_sitemap_urlset() -> None:
    fetch = fetcher(
        {"https://s.example/sitemap.xml": urlset("https://s.example/", "https://s.example/a")}
    )
    assert read_sitemap("https://s.example/sitemap.xml", fetch=fetch) == [
        "https://s.example/",
        "https://s.example/a",
    ]


def test_read_sitemap_without_namespace_and_other_schemes() -> None:
    doc = b"<urlset><url><loc>https://s.example/x</loc></url><url><loc>mailto:a@b.c</loc></url>" \
          b"<url><loc>file:///etc/passwd</loc></url></urlset>"  # fmt: skip
    assert read_sitemap("https://s.example/", fetch=fetcher({"https://s.example/": doc})) == [
        "https://s.example/x"
    ]


def test_read_sitemap_index_follows_each_sitemap() -> None:
    fetch = fetcher(
        {
            "https://s.example/index.xml": sitemap_index(
                "https://s.example/one.xml", "https://s.example/two.xml"
            ),
            "https://s.example/one.xml": urlset("https://s.example/1"),
            "https://s.example/two.xml": urlset("https://s.example/2", "https://s.example/3"),
        }
    )
    assert read_sitemap("https://s.example/index.xml", fetch=fetch) == [
        "https://s.example/1",
        "https://s.example/2",
        "https://s.example/3",
    ]


def test_read_sitemap_ignores_image_locations() -> None:
    doc = (
        f'<urlset {NS} xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">'
        "<url><loc>https://s.example/p</loc>"
        "<image:image><image:loc>https://s.example/p.png</image:loc></image:image></url></urlset>"
    ).encode()
    assert read_sitemap("https://s.example/", fetch=fetcher({"https://s.example/": doc})) == [
        "https://s.example/p"
    ]


def test_read_sitemap_index_cycle_ends() -> None:
    fetch = fetcher(
        {
            "https://s.example/a.xml": sitemap_index(
                "https://s.example/b.xml", "https://s.example/a.xml"
            ),
            "https://s.example/b.xml": sitemap_index("https://s.example/a.xml"),
        }
    )
    assert read_sitemap("https://s.example/a.xml", fetch=fetch) == []
    assert fetch.asked == ["https://s.example/a.xml", "https://s.example/b.xml"]


def test_read_sitemap_index_never_fetches_other_schemes() -> None:
    fetch = fetcher({"https://s.example/i.xml": sitemap_index("file:///etc/passwd")})
    assert read_sitemap("https://s.example/i.xml", fetch=fetch) == []
    assert fetch.asked == ["https://s.example/i.xml"]


@pytest.mark.parametrize(
    "document", [b"<urlset><url><loc>x</url></urlset>", b"", b"\xff\xfe not xml"]
)
def test_read_sitemap_malformed_is_bad_input(document: bytes) -> None:
    with pytest.raises(BadInput, match=r"^--sitemap https://s\.example/: not valid XML: "):
        read_sitemap("https://s.example/", fetch=fetcher({"https://s.example/": document}))


def test_read_sitemap_unreachable() -> None:
    with pytest.raises(CollectorError, match=r"^--sitemap https://s\.example/: cannot fetch: "):
        read_sitemap("https://s.example/", fetch=fetcher({}))


@contextlib.contextmanager
def serve(documents: dict[str, bytes]) -> Iterator[str]:
    """A tiny HTTP server on a free port answering ``documents`` by path; yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = documents.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.browser
def test_sitemap_option_checks_the_listed_pages(pages_url: str, tmp_path: Path) -> None:
    names = ["clean-plain.html", "fail-console-error-on-load.html", "warn-only.html"]
    urls = [page_url(pages_url, n) for n in names]
    documents = {"/pages.xml": urlset(*urls, urls[0])}  # a repeat is checked once
    with serve(documents) as base:
        documents["/index.xml"] = sitemap_index(f"{base}/pages.xml")
        proc = run_check(
            "--sitemap", f"{base}/index.xml", *FAST_FLAGS, "--json-file", "s.json", cwd=tmp_path
        )
    assert proc.returncode == 1, proc.stderr
    summary = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert [p["name"] for p in summary["pages"]] == urls
    assert failing_names(summary) == {urls[1]}


# ---------------------------------------------------------------- collect_targets


def test_collect_targets_url() -> None:
    [target] = collect_targets(["https://a.example/x?q=1"])
    assert target.name == "https://a.example/x?q=1"
    assert [s.action for s in target.scenario.steps] == ["goto"]
    assert target.scenario.steps[0].url == "https://a.example/x?q=1"


def test_collect_targets_url_list_with_comments(tmp_path: Path) -> None:
    listing = tmp_path / "urls.txt"
    listing.write_text(
        "\ufeff# staging pages\n\n  https://a.example/one  \n# https://a.example/skipped\n"
        "http://a.example/two\n\n",
        encoding="utf-8",
    )
    assert [t.name for t in collect_targets([str(listing)])] == [
        "https://a.example/one",
        "http://a.example/two",
    ]
    assert [t.name for t in collect_targets([], urls_file=str(listing))] == [
        "https://a.example/one",
        "http://a.example/two",
    ]


def test_collect_targets_url_list_with_a_bad_line(tmp_path: Path) -> None:
    listing = tmp_path / "urls.txt"
    listing.write_text("https://a.example/\n# fine\nftp://a.example/file\n", encoding="utf-8")
    with pytest.raises(BadInput) as info:
        collect_targets([str(listing)])
    assert str(info.value) == f"{listing}:3: not an http(s) URL: 'ftp://a.example/file'"


def test_collect_targets_scenario_file(tmp_path: Path) -> None:
    folder = tmp_path / "flows"
    folder.mkdir()
    path = folder / "pay.yaml"
    path.write_text(
        "url: https://shop.example/\nsteps:\n  - goto: /cart\n  - click: '#pay'\n", encoding="utf-8"
    )
    [target] = collect_targets([str(path)])
    assert target.name == str(path)
    assert target.scenario_dir == folder.resolve()
    assert [s.action for s in target.scenario.steps] == ["goto", "click"]


def test_collect_targets_directory_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInput) as info:
        collect_targets([str(tmp_path)])
    assert (
        str(info.value) == f"{tmp_path}: is a directory, expected a URL, a URL list or a scenario"
    )


def test_collect_targets_missing_file_is_bad_input(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.txt")
    with pytest.raises(BadInput) as info:
        collect_targets([missing])
    assert str(info.value) == f"{missing}: neither a URL (http://…) nor an existing file"
    with pytest.raises(BadInput, match="file not found"):
        collect_targets(["https://a.example/"], urls_file=missing)


def test_collect_targets_removes_duplicates_keeping_the_first(tmp_path: Path) -> None:
    listing = tmp_path / "urls.txt"
    listing.write_text("https://a.example/2\nhttps://a.example/1\nhttps://a.example/3\n")
    fetch = fetcher(
        {"https://a.example/sitemap.xml": urlset("https://a.example/3", "https://a.example/4")}
    )
    targets = collect_targets(
        ["https://a.example/1", str(listing), "https://a.example/2"],
        sitemap_urls=["https://a.example/sitemap.xml"],
        fetch=fetch,
    )
    assert [t.name for t in targets] == [f"https://a.example/{i}" for i in (1, 2, 3, 4)]


def test_collect_targets_nothing_is_bad_input() -> None:
    with pytest.raises(BadInput, match=r"^nothing to check"):
        collect_targets([])


# ---------------------------------------------------------------- outputs with hostile text

HOSTILE = "nul\x00 bell\x07 esc\x1b end]]> <script>alert('x')</script> & \ufffe \ud800 done"


def failing_page(name: str, *events: Event, problem: str | None = None) -> PageResult:
    return PageResult(url_target(name), None, failing=list(events), problem=problem)


def passing_page(name: str) -> PageResult:
    # Only ``outcome.status`` of the run is read for a page without failures.
    return PageResult(url_target(name), SimpleNamespace(outcome=Outcome(status="clean")))  # type: ignore[arg-type]


def report_of(*pages: PageResult) -> CheckReport:
    return CheckReport(list(pages), duration_ms=1234)


def test_junit_xml_survives_hostile_text() -> None:
    event = Event(
        kind="console", level="error", text=HOSTILE, url="https://a.example/x.js", line=3, column=7
    )
    report = report_of(
        failing_page("https://a.example/<&]]>?q=\x01", event),
        failing_page("https://a.example/p", problem=f"step_failed: {HOSTILE}"),
        passing_page("https://a.example/ok"),
    )
    data = junit_xml(report)
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    data.decode("utf-8")  # valid UTF-8, lone surrogate included
    root = ET.fromstring(data)
    assert root.tag == "testsuites"
    [suite] = root.findall("testsuite")
    # No run result (the browser gave none): the pages could not be checked, <error>s.
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "0", "2")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [
        "https://a.example/<&]]>?q=\ufffd",
        "https://a.example/p",
        "https://a.example/ok",
    ]
    text = cases[0].find("error").text
    assert "end]]> <script>alert('x')</script> &" in text
    assert "https://a.example/x.js:3:7" in text
    assert "\x00" not in text and "\x07" not in text and "\x1b" not in text
    assert "nul\ufffd bell\ufffd esc\ufffd" in text
    assert cases[1].find("error").get("message").startswith("step_failed: nul\ufffd")
    assert cases[2].find("error") is None and cases[2].find("failure") is None


def test_github_annotations_escaping() -> None:
    event = Event(
        kind="page_error",
        level="error",
        text="100% broken\r\nsecond line, with: colons",
        url="https://a.example/static/app,v2:min.js?x=1",
        line=12,
        column=5,
    )
    no_location = Event(kind="page_error", level="error", text="SyntaxError: bad")
    report = report_of(
        failing_page("https://a.example/a,b:c", event, no_location),
        failing_page("https://a.example/p", problem="unreachable: 50% of\nit"),
        passing_page("https://a.example/ok"),
    )
    title = "title=collector check%3A https%3A//a.example/"
    assert github_annotations(report) == [
        f"::error {title}a%2Cb%3Ac::2 errors",
        f"::error {title}a%2Cb%3Ac::page_error https://a.example/static/app,v2:min.js?x=1:12:5 "
        "100%25 broken second line, with: colons",
        f"::error {title}a%2Cb%3Ac::page_error SyntaxError: bad",
        f"::error {title}p::unreachable: 50%25 of%0Ait",
    ]
    assert all("\n" not in line and "\r" not in line for line in github_annotations(report))


def test_error_lines() -> None:
    located = Event(
        kind="console", level="error", text="  boom\n\n  again ", url="https://a.example/app.js",
        line=4, column=2, count=3,
    )  # fmt: skip
    line_only = Event(kind="console", level="error", text="x", url="https://a.example/", line=9)
    nowhere = Event(kind="page_error", level="error", text="Error: " + "y" * 400)
    page = failing_page("https://a.example/", located, line_only, nowhere)
    assert error_lines(page) == [
        "FAIL https://a.example/: console https://a.example/app.js:4:2 boom again (×3)",
        "FAIL https://a.example/: console https://a.example/:9 x",
        "FAIL https://a.example/: page_error Error: " + "y" * 293,
    ]
    assert error_lines(failing_page("https://b.example/", problem="cannot open a context")) == [
        "FAIL https://b.example/: cannot open a context"
    ]


def test_error_lines_keep_the_reason_when_a_page_also_has_errors() -> None:
    event = Event(kind="console", level="error", text="early", url="https://a.example/", line=1)
    stopped = PageResult(
        url_target("https://a.example/"),
        SimpleNamespace(
            outcome=Outcome(status="step_failed", message="Timeout 3000ms exceeded."), steps=[]
        ),  # type: ignore[arg-type]
        failing=[event],
    )
    assert error_lines(stopped) == [
        "FAIL https://a.example/: A step failed: Timeout 3000ms exceeded.",
        "FAIL https://a.example/: console https://a.example/:1 early",
    ]
    missing = PageResult(
        url_target("https://a.example/"),
        SimpleNamespace(outcome=Outcome(status="errors")),  # type: ignore[arg-type]
        failing=[event],
        missing_expected=["known bug"],
    )
    assert error_lines(missing)[0] == (
        "FAIL https://a.example/: 1 error; expected but not seen: known bug"
    )


# ---------------------------------------------------------------- a remote browser (--connect)




@pytest.mark.browser
def test_check_through_a_remote_playwright_server(
    playwright_server: str, pages_url: str, tmp_path: Path
) -> None:
    urls = [page_url(pages_url, n) for n in ("clean-plain.html", "fail-uncaught-exception.html")]
    proc = run_check(
        *urls, *(f for f in FAST_FLAGS if f != "--quiet"), "--connect", playwright_server,
        "--json-file", "s.json", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    summary = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert failing_names(summary) == {urls[1]}
    expected = expand(FAILING_LINES["fail-uncaught-exception.html"][0], pages_url)
    assert f"FAIL {urls[1]}: {expected}" in proc.stdout.splitlines()


def test_the_summary_table_has_no_trailing_spaces_when_a_page_takes_10_s() -> None:
    slow = PageResult(url_target("http://a.test/"), None, duration_ms=12_000)
    fast = PageResult(url_target("http://b.test/"), None, duration_ms=1_000)
    lines = summary_table(CheckReport([slow, fast], 13_000)).splitlines()
    assert lines[0] == "page            result  errors  time"
    assert [line for line in lines if line != line.rstrip()] == []
