"""Never hang, never lose the bundle: hung pages, signals, dead browsers and bad disks.

Each case runs `collector` as a user does (a process, pages on 127.0.0.1, the real
Chromium) and checks the same things: a complete bundle (or, for a disk that cannot
hold one, nothing at all), the right exit code, no traceback, no `.partial` left.
Time bounds are generous (the machine may have every core busy): they tell
"ends after its timeout" from "hangs", never "fast" from "a bit slower".
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import wait_for_request
from shared_browser import attached
from test_repro_cli import (
    assert_complete,
    collector,
    command_line,
    descendants,
    only_bundle,
    wait_for_line,
    write_scenario,
)

from collector.workspace import partial_name, remove_orphans

pytestmark = pytest.mark.browser

# On top of a run's own timeouts: starting Chromium and writing the bundle on a
# machine whose cores are all busy.
SLACK_S = 40


def finish(proc: subprocess.Popen, timeout: float) -> tuple[str, str]:
    """Wait for ``proc`` and return its output (stdout, stderr).

    A run still going after ``timeout`` is a hang: its process group is killed
    (nothing left behind) and the test fails.
    """
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise AssertionError(f"still running after {timeout:g} s: it hangs") from None
    assert "Traceback" not in err, err
    return out, err


# -- a page whose script never stops ------------------------------------------------
# The first case runs in a Chromium of its own, which collector launches and must close
# with a renderer spinning; the others attach to the worker's browser (as a CI job with a
# browser service does), where collector closes only its context, and the spinning
# renderer must go with it: a Chromium start less each.


def test_a_hung_renderer_ends_its_step_and_the_run(tmp_path, pages_url):
    path = write_scenario(
        tmp_path,
        f"url: {pages_url}\nsteps:\n  - goto: frozen.html\n"
        "  - click: {selector: '#freeze', timeout: 3000}\n  - click: '#throw'\n",
    )
    started = time.monotonic()
    proc = collector("repro", str(path), "--out", "out", "--linger", "1", cwd=tmp_path)
    _out, err = finish(proc, timeout=3 + 1 + SLACK_S)
    elapsed = time.monotonic() - started
    assert proc.returncode == 1, err
    report = assert_complete(only_bundle(tmp_path / "out"))
    outcome = report["outcome"]
    assert outcome["status"] == "step_failed"
    assert outcome["message"].startswith("The page stopped responding (its script is busy): ")
    assert outcome["failed_step"] == 2
    assert [s["status"] for s in report["steps"]] == ["ok", "failed", "skipped"]
    hung = [e for e in report["events"] if e["kind"] == "crash"]
    assert [(e["text"], e["step"], e["fails"]) for e in hung] == [
        ("The page stopped responding (its script is busy)", 2, True)
    ]
    assert "stopped responding" in err
    print(f"hung renderer: collector repro took {elapsed:.1f} s (step timeout 3 s, linger 1 s)")


def test_a_page_that_hangs_after_the_last_step_is_found_during_the_linger(tmp_path, pages_url):
    # The click returns; 200 ms later a timer spins forever (the linger's timer check hangs).
    path = write_scenario(
        tmp_path, f"url: {pages_url}\nsteps:\n  - goto: frozen.html\n  - click: '#freeze-later'\n"
    )
    proc = collector(*attached(["repro", str(path), "--out", "out", "--linger", "2"]), cwd=tmp_path)
    _out, err = finish(proc, timeout=2 + SLACK_S)
    assert proc.returncode == 1, err
    report = assert_complete(only_bundle(tmp_path / "out"))
    assert report["outcome"]["status"] == "errors"
    assert "The page stopped responding" in report["outcome"]["message"]
    assert [s["status"] for s in report["steps"]] == ["ok", "ok"]
    assert [e["step"] for e in report["events"] if e["kind"] == "crash"] == [2]


def test_an_evaluate_that_never_returns_ends_at_the_step_timeout(tmp_path, pages_url):
    # page.evaluate has no timeout of its own: the runner's bound ends the step.
    path = write_scenario(
        tmp_path,
        f"url: {pages_url}\nsteps:\n  - goto: clean.html\n"
        "  - evaluate: {expression: 'for (;;) {}', timeout: 1000}\n",
    )
    proc = collector(
        *attached(["repro", str(path), "--out", "out", "--linger", "0.5"]), cwd=tmp_path
    )
    _out, err = finish(proc, timeout=1 + SLACK_S)
    assert proc.returncode == 1, err
    report = assert_complete(only_bundle(tmp_path / "out"))
    assert report["outcome"]["status"] == "step_failed"
    assert report["steps"][1]["error"] == (
        "The page stopped responding (its script is busy): "
        "the step did not finish within 2000 ms"
    )


def test_replay_and_check_of_a_hung_page_end(tmp_path, pages_url):
    path = write_scenario(
        tmp_path,
        f"url: {pages_url}\nsteps:\n  - goto: frozen.html\n"
        "  - click: {selector: '#freeze', timeout: 2000}\n",
    )
    proc = collector(
        *attached(["repro", str(path), "--out", "out", "--linger", "0.5"]), cwd=tmp_path
    )
    finish(proc, timeout=2 + SLACK_S)
    original = only_bundle(tmp_path / "out")

    proc = collector(
        *attached(["replay", str(original), "--times", "2", "--out", "replays", "--linger", "0.5"]),
        cwd=tmp_path,
    )
    out, err = finish(proc, timeout=2 * (2 + SLACK_S))
    assert proc.returncode == 0, err
    assert out.splitlines()[0] == "Verdict: reproduced — always"
    assert len([p for p in (tmp_path / "replays").iterdir() if p.is_dir()]) == 2
    assert not list((tmp_path / "replays").glob(".*partial"))

    proc = collector(
        *attached(["check", str(path), "--linger", "0.5", "--out", "bundles"]), cwd=tmp_path
    )
    out, err = finish(proc, timeout=2 + SLACK_S)
    assert proc.returncode == 1, err
    assert "The page stopped responding (its script is busy)" in out
    report = assert_complete(only_bundle(tmp_path / "bundles"))
    assert report["outcome"]["failed_step"] == 2


# -- signals, time limits and runs that died -----------------------------------------

# Step 3 is a page the server holds for a minute: once the server has its request, step 3
# is running, whatever the machine's load (a fixed sleep after step 2 raced the screenshot
# that step 2's error takes).
HELD = "slow?ms=60000&run={tag}"
LONG_RUN = (
    "url: {base}\nsteps:\n  - goto: errors.html\n  - click: '#boom'\n"
    "  - goto: {{url: '{held}', timeout: 90000}}\n  - click: '#boom'\n"
)


@pytest.mark.parametrize(
    ("signum", "code", "message"),
    [
        (signal.SIGTERM, 143, "Interrupted: terminated (SIGTERM)"),
        (signal.SIGHUP, 129, "Interrupted: hung up (SIGHUP)"),
    ],
    ids=["SIGTERM", "SIGHUP"],
)
def test_sigterm_and_sighup_write_an_interrupted_bundle(tmp_path, pages_url, signum, code, message):
    held = HELD.format(tag=signum)
    path = write_scenario(tmp_path, LONG_RUN.format(base=pages_url, held=held))
    proc = collector(*attached(["repro", str(path), "--out", "out"]), cwd=tmp_path)
    wait_for_request("/" + held, timeout=SLACK_S)
    # What CI runners, systemd and `docker stop` do: the whole process group.
    os.killpg(proc.pid, signum)
    _out, err = finish(proc, timeout=SLACK_S)
    assert proc.returncode == code, err
    report = assert_complete(only_bundle(tmp_path / "out"))
    assert report["outcome"] == {"status": "interrupted", "message": message, "failed_step": None}
    assert [s["status"] for s in report["steps"]] == ["ok", "ok", "failed", "skipped"]
    assert report["steps"][2]["error"] == message
    assert any(e["text"] == "TypeError: kaboom" for e in report["events"])
    # The driver outlived the signal: the context was closed in order, nothing went amiss.
    assert report["capture_problems"] == []


def test_max_run_time_ends_the_run_with_a_bundle(tmp_path, pages_url):
    held = HELD.format(tag="max-run-time")
    path = write_scenario(tmp_path, LONG_RUN.format(base=pages_url, held=held))
    proc = collector(
        *attached(["repro", str(path), "--out", "out", "--max-run-time", "8"]), cwd=tmp_path
    )
    _out, err = finish(proc, timeout=8 + SLACK_S)
    assert proc.returncode == 1, err
    report = assert_complete(only_bundle(tmp_path / "out"))
    assert report["outcome"]["status"] == "interrupted"
    assert report["outcome"]["message"] == "Stopped: the run reached --max-run-time 8 s"
    assert report["steps"][-1]["status"] == "skipped"
    assert "--max-run-time 8 s" in err


def test_a_killed_run_leaves_a_partial_folder_the_next_run_removes(tmp_path, pages_url):
    held = HELD.format(tag="killed")
    path = write_scenario(tmp_path, LONG_RUN.format(base=pages_url, held=held))
    proc = collector(*attached(["repro", str(path), "--out", "out"]), cwd=tmp_path)
    wait_for_line(proc, "2/4", timeout=SLACK_S)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=SLACK_S)
    partials = list((tmp_path / "out").glob(".*.partial"))
    assert [p.name.split(".pid-")[1] for p in partials] == [
        f"{proc.pid}@{socket.gethostname()}.partial"
    ]
    # A partial folder of a live process (this one) is another run at work: kept.
    alive = tmp_path / "out" / partial_name("CR-20990101-AAAAAA")
    alive.mkdir()

    clean = write_scenario(tmp_path, f"url: {pages_url}\nsteps:\n  - goto: clean.html\n")
    proc = collector(
        *attached(["repro", str(clean), "--out", "out", "--linger", "0.2"]), cwd=tmp_path
    )
    _out, err = finish(proc, timeout=SLACK_S)
    assert proc.returncode == 0, err
    assert not partials[0].exists()
    assert alive.is_dir()


def test_remove_orphans_judges_only_this_machines_folders_by_their_owner(tmp_path):
    dead, live = 4_000_001, 4_000_002
    mine_dead = tmp_path / partial_name("CR-1", pid=dead, host="here")
    mine_live = tmp_path / partial_name("CR-2", pid=live, host="here")
    other_host = tmp_path / partial_name("CR-3", pid=dead, host="elsewhere")
    legacy = tmp_path / ".CR-4.partial"  # no owner in its name: not ours to judge
    bundle = tmp_path / "CR-5"
    for folder in (mine_dead, mine_live, other_host, legacy, bundle):
        folder.mkdir()
    removed = remove_orphans(tmp_path, host="here", alive=lambda pid: pid == live)
    assert removed == [mine_dead]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in (mine_live, other_host, legacy, bundle)
    )


# -- the browser dies ----------------------------------------------------------------


def test_a_killed_browser_ends_the_running_wait_at_once(tmp_path, pages_url):
    path = write_scenario(
        tmp_path, f"url: {pages_url}\nsteps:\n  - goto: clean.html\n  - wait: 120000\n"
    )
    proc = collector("repro", str(path), "--out", "out", cwd=tmp_path)
    wait_for_line(proc, "1/2", timeout=SLACK_S)
    time.sleep(0.5)
    browsers = [p for p in descendants(proc.pid) if "--remote-debugging-pipe" in command_line(p)]
    assert browsers, "no Chromium found under the collector process"
    os.kill(browsers[0], signal.SIGKILL)
    # Within SLACK_S: far less than the 120 s the wait step asks for.
    _out, err = finish(proc, timeout=SLACK_S)
    assert proc.returncode == 1, err
    report = assert_complete(only_bundle(tmp_path / "out"))
    assert report["outcome"] == {
        "status": "crashed",
        "message": "The browser went away (closed or killed) during this step",
        "failed_step": 2,
    }
    assert report["steps"][1]["status"] == "failed"
    assert report["steps"][1]["duration_ms"] < 60_000
    assert [e["step"] for e in report["events"] if e["kind"] == "disconnect"] == [2]


# -- disks that cannot hold a bundle -------------------------------------------------


def test_out_that_cannot_be_created_is_one_line_and_exit_3(tmp_path, pages_url):
    (tmp_path / "a-file").write_text("not a folder")
    clean = write_scenario(tmp_path, f"url: {pages_url}\nsteps:\n  - goto: clean.html\n")
    proc = collector("repro", str(clean), "--out", "a-file/sub", cwd=tmp_path)
    _out, err = finish(proc, timeout=SLACK_S)
    assert proc.returncode == 3
    assert err.splitlines() == ["Error: --out a-file/sub: cannot create the folder: Not a directory"]


@contextlib.contextmanager
def tmpfs(where: Path, options: str):
    """A small tmpfs at ``where`` (needs root and mount rights; else the test is skipped)."""
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ("ro,size=1m", "Error: --out disk: cannot write there: Read-only file system"),
        # Room for the folder, not for the bundle: the disk fills while it is written.
        ("size=24k", "Error: cannot write the bundle in disk: No space left on device"),
    ],
    ids=["read-only", "full"],
)
def test_a_read_only_or_full_disk_is_one_line_exit_3_and_nothing_left(
    tmp_path, pages_url, options, error
):
    if os.geteuid() != 0 or sys.platform != "linux":
        pytest.skip("mounting a tmpfs needs root on Linux")
    clean = write_scenario(
        tmp_path, f"url: {pages_url}\nsteps:\n  - goto: errors.html\n  - click: '#boom'\n"
    )
    with tmpfs(tmp_path / "disk", options) as disk:
        proc = collector(
            *attached(["repro", str(clean), "--out", "disk", "--linger", "0.2"]), cwd=tmp_path
        )
        _out, err = finish(proc, timeout=SLACK_S)
        assert proc.returncode == 3, err
        assert err.splitlines()[-1] == error
        assert "Traceback" not in err
        assert list(disk.iterdir()) == []


# -- screenshots name their own step ---------------------------------------------------


def test_screenshots_are_labelled_with_the_step_they_show(browser_loop, pages_url, tmp_path):
    from test_repro import report_of, run

    # Step 2 throws (the page when the first error fired), step 3 fails: two pictures
    # that look the same, each kept under its own step.
    done = run(
        browser_loop,
        tmp_path,
        {
            "url": pages_url,
            "steps": [
                {"goto": "errors.html"},
                {"click": "#boom"},
                {"click": {"selector": "#missing", "timeout": 1000}},
            ],
        },
        linger=0.2,
    )
    report = report_of(done)
    shots = {s["index"]: s["screenshot"] for s in report["steps"]}
    assert shots == {
        1: None,
        2: "screenshots/step-02-error.png",
        3: "screenshots/step-03-failed.png",
    }
    assert all((done.bundle / path).is_file() for path in shots.values() if path)

    # A run that ends well: the first error's picture and the final state, each its own.
    done = run(
        browser_loop,
        tmp_path,
        {"url": pages_url, "steps": [{"goto": "errors.html"}, {"click": "#boom"}, {"wait": 10}]},
        linger=0.2,
    )
    shots = {s["index"]: s["screenshot"] for s in report_of(done)["steps"]}
    assert shots == {1: None, 2: "screenshots/step-02-error.png", 3: "screenshots/final.png"}


def test_a_server_that_never_answers_is_not_a_hung_page(browser_loop, pages_url, tmp_path):
    # DevTools holds messages to a page until its navigation commits: such a page does
    # not answer the probe either, yet its script is fine. The step's own error stands.
    from test_repro import report_of, run

    done = run(
        browser_loop,
        tmp_path,
        {
            "url": pages_url,
            "steps": [{"goto": "clean.html"}, {"goto": {"url": "hang", "timeout": 1500}}],
        },
        linger=0.2,
    )
    report = report_of(done)
    assert report["outcome"]["status"] == "step_failed"
    assert report["outcome"]["message"] == "Timeout 1500ms exceeded."
    assert not [e for e in report["events"] if e["kind"] == "crash"]
    # The page is stopped before its picture: a picture of a page still waiting for its
    # document would wait out its whole 10 s timeout (1.5 s + 10 s and more).
    assert report["duration_ms"] < 11_000
    assert report["capture_problems"] == []
