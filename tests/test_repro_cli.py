"""`collector repro` and `collector demo` as a user runs them: real processes, real signals.

A run that is not about the browser's own process attaches to the worker's Chromium
(`attached`: the product's `--cdp`); the missing and the killed browser launch their own.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import wait_for_request
from shared_browser import attached

pytestmark = pytest.mark.browser


def collector(*args: str, cwd: Path, env: dict[str, str] | None = None, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "collector", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        **kwargs,
    )


def write_scenario(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def only_bundle(out: Path) -> Path:
    bundles = [p for p in out.iterdir() if p.is_dir()]
    assert len(bundles) == 1, bundles
    assert not list(out.glob(".*partial"))
    return bundles[0]


def assert_complete(bundle: Path) -> dict:
    for name in ("report.json", "ticket.md", "report.html", "console.log", "scenario.yaml"):
        assert (bundle / name).is_file(), name
    assert (bundle / f"{bundle.name}.zip").is_file()
    return json.loads((bundle / "report.json").read_text(encoding="utf-8"))


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def wait_for_line(proc: subprocess.Popen, needle: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    seen = ""
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        seen += line
        if needle in line:
            return seen
        if not line and proc.poll() is not None:
            break
    raise AssertionError(f"{needle!r} never printed; got:\n{seen}")


def test_repro_exit_codes_and_last_line(tmp_path, pages_url):
    clean = write_scenario(tmp_path, f"url: {pages_url}\nsteps:\n  - goto: clean.html\n")
    proc = collector(
        *attached(["repro", str(clean), "--out", "out", "--linger", "0.2"]), cwd=tmp_path
    )
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    # The last line is the file to attach, by its absolute path.
    bundle = only_bundle(tmp_path / "out")
    assert out.strip().splitlines()[-1] == str((bundle / f"{bundle.name}.zip").resolve())
    assert "Traceback" not in err

    failing = tmp_path / "f.yaml"
    failing.write_text(f"url: {pages_url}\nsteps:\n  - goto: errors.html\n  - click: '#boom'\n")
    proc = collector(*attached(["repro", str(failing), "--out", "out2", "--json"]), cwd=tmp_path)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    summary = json.loads(out)
    assert summary["outcome"]["status"] == "errors"
    assert Path(tmp_path / summary["bundle"]).is_dir()


def test_bad_scenario_is_exit_2_without_traceback(tmp_path):
    bad = write_scenario(tmp_path, "steps:\n  - clik: x\n")
    proc = collector("repro", str(bad), cwd=tmp_path)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert err.splitlines() == [
        f"Error: {bad}:2: steps.0.clik: unknown step kind 'clik' (did you mean 'click'?)"
    ]
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").iterdir())


def test_missing_browser_is_exit_3(tmp_path, pages_url):
    clean = write_scenario(tmp_path, f"url: {pages_url}\nsteps:\n  - goto: clean.html\n")
    proc = collector("repro", str(clean), "--browser-path", "/nonexistent/chrome", cwd=tmp_path)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 3
    assert err.splitlines() == ["Error: --browser-path /nonexistent/chrome: no such file"]


def test_ctrl_c_mid_run_writes_an_interrupted_bundle(tmp_path, pages_url):
    path = write_scenario(
        tmp_path,
        f"url: {pages_url}\nsteps:\n  - goto: errors.html\n  - click: '#boom'\n"
        "  - goto: {url: 'slow?ms=60000&run=ctrl-c', timeout: 90000}\n  - click: '#boom'\n",
    )
    proc = collector(*attached(["repro", str(path), "--out", "out"]), cwd=tmp_path)
    # Once the server has step 3's request, step 3 is running (no race with step 2's
    # screenshot on a busy machine).
    wait_for_request("/slow?ms=60000&run=ctrl-c")
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole group
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    report = assert_complete(only_bundle(tmp_path / "out"))
    assert report["outcome"]["status"] == "interrupted"
    assert [s["status"] for s in report["steps"]] == ["ok", "ok", "failed", "skipped"]
    assert any(e["text"] == "TypeError: kaboom" for e in report["events"])


def test_killed_chromium_mid_run_still_writes_a_bundle(tmp_path, pages_url):
    path = write_scenario(
        tmp_path,
        f"url: {pages_url}\nsteps:\n  - goto: clean.html\n  - wait_for: {{selector: '#never',"
        " timeout: 20000}\n",
    )
    proc = collector("repro", str(path), "--out", "out", cwd=tmp_path)
    wait_for_line(proc, "1/2")
    time.sleep(0.5)
    browsers = [p for p in descendants(proc.pid) if "--remote-debugging-pipe" in command_line(p)]
    assert browsers, "no Chromium found under the collector process"
    os.kill(browsers[0], signal.SIGKILL)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert "Traceback" not in err
    report = assert_complete(only_bundle(tmp_path / "out"))
    assert report["outcome"]["status"] == "crashed"
    assert report["steps"][1]["status"] == "failed"


def test_demo_reproduces_the_shop_bug(tmp_path):
    proc = collector(*attached(["demo", "--out", "out"]), cwd=tmp_path)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    bundle = Path(out.strip().splitlines()[-1]).parent  # the zip, in its bundle
    report = assert_complete(bundle)
    by_kind = {e["kind"]: e for e in report["errors"] if e["fails"]}
    click_pay = next(s["index"] for s in report["steps"] if s.get("name") == "Pay now")
    assert by_kind["page_error"]["message"].startswith("TypeError: Cannot read properties of undefined")
    # The shop is minified; its source map names the original TypeScript (issue 16).
    top = by_kind["page_error"]["frames"][0]["original"]
    assert (top["function"], top["file"], top["line"]) == ("showReceipt", "src/checkout/receipt.ts", 9)
    assert by_kind["http_error"]["message"].startswith("HTTP 500")
    assert by_kind["console"]["message"] == "Payment failed: 500"
    assert {g["first_step"] for g in by_kind.values()} == {click_pay}
    ticket = (bundle / "ticket.md").read_text(encoding="utf-8")
    assert "TypeError: Cannot read properties of undefined (reading 'card')" in ticket
    assert "at showReceipt (src/checkout/receipt.ts:9:29)" in ticket
    assert list((bundle / "screenshots").iterdir())
    assert "demo-shop-secret" not in (bundle / "report.json").read_text(encoding="utf-8")
