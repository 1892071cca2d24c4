"""Replay verdicts an agent can act on: `inconclusive` when the run never got to the bug,
`--expect fixed` only on a run that did every step and saw neither old nor new errors,
and a last line that says whether the expectation held.

The bundle is recorded with the real Chromium on a two-step checkout (Continue, then
Pay now, which fails); other "deployments" are edited copies of that page served on
127.0.0.1: the first button renamed, the bug fixed, or fixed with a new error instead.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from shared_browser import attached

from collector.replay import (
    INCONCLUSIVE,
    ReplayResult,
    RunVerdict,
    first_failure_step,
    progress_of,
    verdict_of,
)
from collector.report import ErrorGroup, Outcome, Report, StepRecord

PAGES = Path(__file__).parent / "pages"
FIXED_JS = """
document.getElementById('{next}').addEventListener('click', () => {{
  document.getElementById('payment').hidden = false;
}});
document.getElementById('pay').addEventListener('click', () => {{
  {pay}
  document.getElementById('result').textContent = 'paid';
}});
"""


def collector(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "collector", *attached(args)],
        cwd=cwd,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=180,
    )


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture(scope="module")
def deploy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str, str], str]]:
    """deploy(next_id, pay_code) -> base URL of a checkout-steps.html edited that way."""
    servers: list[ThreadingHTTPServer] = []

    def start(next_id: str, pay_code: str) -> str:
        root = tmp_path_factory.mktemp("site")
        html = (PAGES / "checkout-steps.html").read_text(encoding="utf-8")
        (root / "checkout-steps.html").write_text(html.replace('id="next"', f'id="{next_id}"'))
        (root / "checkout-steps.js").write_text(FIXED_JS.format(next=next_id, pay=pay_code))
        server = ThreadingHTTPServer(
            ("127.0.0.1", 0), partial(_QuietHandler, directory=str(root))
        )
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def bundle(pages_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`collector repro` of the buggy two-step checkout: its errors happen at step 3."""
    work = tmp_path_factory.mktemp("original")
    (work / "checkout.yaml").write_text(
        f"name: Pay now fails\nurl: {pages_url}\nsteps:\n"
        "  - goto: checkout-steps.html\n  - click: '#next'\n  - click: '#pay'\n",
        encoding="utf-8",
    )
    proc = collector("repro", "checkout.yaml", "--out", "out", "--linger", "0.5", "-q", cwd=work)
    assert proc.returncode == 1, proc.stderr
    path = (work / proc.stdout.strip()).parent  # the zip's folder
    report = json.loads((path / "report.json").read_text(encoding="utf-8"))
    assert {e["first_step"] for e in report["errors"] if e["fails"]} == {3}
    return path


def replay(bundle: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return collector(
        "replay", str(bundle), "--out", "out", "--linger", "0.5", "--timeout", "3000", *args,
        cwd=cwd,
    )  # fmt: skip


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends


@pytest.mark.browser
def test_a_site_that_is_down_is_inconclusive_not_fixed(bundle: Path, tmp_path: Path) -> None:
    down = f"http://127.0.0.1:{closed_port()}/"
    proc = replay(bundle, tmp_path, "--url", down, "--expect", "fixed")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("Verdict: inconclusive — step 1 (goto ")
    assert "could not reach the site" in lines[0] and "ERR_CONNECTION_REFUSED" in lines[0]
    assert "before step 3 where the original's first error happened" in lines[0]
    assert lines[-1].startswith(
        "NOT as expected (--expect fixed): inconclusive, the fix cannot be confirmed: step 1"
    )


@pytest.mark.browser
def test_a_renamed_selector_before_the_bug_is_inconclusive(
    bundle: Path, deploy: Callable[[str, str], str], tmp_path: Path
) -> None:
    renamed = deploy("continue", "")
    proc = replay(bundle, tmp_path, "--url", renamed, "--expect", "fixed", "--json")
    assert proc.returncode == 1, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["verdict"] == "inconclusive"
    assert summary["reason"].startswith("step 2 (click #next) failed: Timeout 3000ms exceeded")
    assert summary["as_expected"] is False
    # Without --expect fixed the agent wanted the bug: it was not shown either.
    proc = replay(bundle, tmp_path, "--url", renamed)
    assert proc.returncode == 1
    assert proc.stdout.splitlines()[-1].startswith(
        "NOT as expected (--expect reproduced): inconclusive: step 2 (click #next) failed"
    )


@pytest.mark.browser
def test_a_fix_that_brings_a_new_error_is_not_as_expected(
    bundle: Path, deploy: Callable[[str, str], str], tmp_path: Path
) -> None:
    site = deploy("next", "console.error('receipt service unavailable');")
    proc = replay(bundle, tmp_path, "--url", site, "--expect", "fixed")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "Verdict: not reproduced — never"
    assert "  receipt service unavailable" in lines
    assert lines[-1] == (
        "NOT as expected (--expect fixed): a new failing error appeared: "
        "receipt service unavailable"
    )


@pytest.mark.browser
def test_a_real_fix_is_as_expected(
    bundle: Path, deploy: Callable[[str, str], str], tmp_path: Path
) -> None:
    site = deploy("next", "")
    proc = replay(bundle, tmp_path, "--url", site, "--expect", "fixed")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1] == (
        "as expected (--expect fixed): not reproduced, every step ran and no new error appeared"
    )
    quiet = replay(bundle, tmp_path, "--url", site, "--expect", "fixed", "-q")
    assert quiet.returncode == 0
    assert quiet.stdout.splitlines() == [proc.stdout.splitlines()[-1]]


@pytest.mark.browser
def test_the_bug_itself_is_as_expected_when_reproduced(bundle: Path, tmp_path: Path) -> None:
    proc = replay(bundle, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[0] == "Verdict: reproduced — always"
    assert proc.stdout.splitlines()[-1] == "as expected (--expect reproduced): reproduced (always)"


# --- the pure verdict rules (no browser) ----------------------------------------------


def report(errors: dict[str, int], outcome: Outcome | None = None) -> Report:
    return Report(
        reference="CR-20260101-AAAAAA",
        created="2026-01-01T00:00:00Z",
        outcome=outcome or Outcome(status="errors"),
        errors=[
            ErrorGroup(fingerprint=fp, kind="console", message=fp, count=1, first_step=step)
            for fp, step in errors.items()
        ],
    )


def steps(n: int, failed: int | None = None) -> list[StepRecord]:
    return [
        StepRecord(
            index=i,
            action="click",
            target=f"#s{i}",
            status="ok" if failed is None or i < failed else "failed" if i == failed else "skipped",
        )
        for i in range(1, n + 1)
    ]


def test_first_failure_step_is_the_earliest_error_or_failed_step() -> None:
    assert first_failure_step(report({"a": 3, "b": 2})) == 2
    assert first_failure_step(report({})) is None
    failed = Outcome(status="step_failed", message="x", failed_step=1)
    assert first_failure_step(report({"a": 3}, failed)) == 1


@pytest.mark.parametrize(
    ("stop", "reached", "every_step_ran"),
    [(None, True, True), (2, False, False), (3, False, False), (4, True, False)],
)
def test_progress_is_measured_against_the_first_failing_step(
    stop: int | None, reached: bool, every_step_ran: bool
) -> None:
    outcome = (
        Outcome(status="clean")
        if stop is None
        else Outcome(status="step_failed", message="Timeout 3000ms exceeded.", failed_step=stop)
    )
    got = progress_of(report({"a": 3}), steps(5, stop), outcome, {})
    assert (got.reached, got.every_step_ran) == (reached, every_step_ran)
    if stop is not None:
        assert got.reason.startswith(f"step {stop} (click #s{stop}) failed: Timeout 3000ms")


def test_failing_at_the_step_where_the_original_failed_the_same_way_is_the_bug() -> None:
    failed = Outcome(status="step_failed", message="Timeout", failed_step=2)
    got = progress_of(report({}, failed), steps(3, 2), failed, {"outcome:step_failed:2": "x"})
    assert got.reached and not got.every_step_ran


def test_verdict_of_a_run_that_did_not_get_there() -> None:
    assert verdict_of({"a"}, set(), reached=False) == INCONCLUSIVE
    assert verdict_of({"a"}, {"a"}, reached=False) == "reproduced"
    assert verdict_of({"a"}, set()) == "not reproduced"
    assert verdict_of(set(), set(), reached=False) == "nothing to reproduce"


def run(verdict: str, *, every: bool = True, reason: str = "", new: bool = False) -> RunVerdict:
    return RunVerdict(
        "CR-1", Path("x"), set(), verdict, reason=reason, every_step_ran=every,
        new_errors={"n": "TypeError: new"} if new else {},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("runs", "new", "fixed", "reproduced", "verdict"),
    [
        ([run("not reproduced")], False, True, False, "not reproduced"),
        ([run("not reproduced")], True, False, False, "not reproduced"),
        ([run("not reproduced", every=False, reason="step 4 failed")], False, False, False,
         "not reproduced"),
        ([run("inconclusive", every=False, reason="step 1 failed")], False, False, False,
         "inconclusive"),
        ([run("not reproduced"), run("inconclusive", every=False, reason="r")], False, False,
         False, "inconclusive"),
        ([run("partly reproduced")], False, False, True, "partly reproduced"),
        ([run("reproduced"), run("inconclusive", reason="r")], False, False, True, "reproduced"),
    ],
)  # fmt: skip
def test_expectations(
    runs: list[RunVerdict], new: bool, fixed: bool, reproduced: bool, verdict: str
) -> None:
    result = ReplayResult(report({"a": 1}), runs, {"a": "a"})
    if new:
        result.new_errors = {"n": "TypeError: new"}
    assert result.verdict == verdict
    assert result.as_expected("fixed") is fixed
    assert result.as_expected("reproduced") is reproduced


def test_a_clean_original_is_never_fixed_nor_reproduced() -> None:
    result = ReplayResult(report({}, Outcome(status="clean")), [run("nothing to reproduce")], {})
    assert result.expectation("fixed") == (
        False, "the original run captured no failing error: there is nothing to fix"
    )  # fmt: skip
    assert result.as_expected("reproduced") is False
