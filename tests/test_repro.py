"""Reproduce scenarios against pages served on 127.0.0.1 with the real Chromium."""

from __future__ import annotations

import json
import socket
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from shared_browser import BrowserLoop

from collector.bundle import BundleOptions
from collector.capture import CaptureLimits
from collector.repro import Reproduction, reproduce
from collector.runner import RunOptions
from collector.scenario import Scenario, scenario_from_document
from collector.yamlsource import SourceDocument

pytestmark = pytest.mark.browser


def make_scenario(data: dict[str, Any], env: dict[str, str] | None = None) -> Scenario:
    return scenario_from_document(SourceDocument("test.yaml", data), env=env)


def run(
    browser_loop: Any,
    tmp_path: Path,
    data: dict[str, Any],
    *,
    env: dict[str, str] | None = None,
    linger: float = 5.0,  # generous: a run ends once quiet; late timers land under load
    limits: CaptureLimits | None = None,
    **run_kwargs: Any,
) -> Reproduction:
    scenario = make_scenario(data, env)
    options = RunOptions(
        linger_s=linger, env=env or {}, limits=limits or CaptureLimits(), **run_kwargs
    )
    bundle = BundleOptions(out_dir=tmp_path / "reports")
    return browser_loop.run(
        lambda browser: reproduce(
            scenario,
            browser_options=None,  # type: ignore[arg-type]
            run_options=options,
            bundle_options=bundle,
            browser=browser,
        )
    )


def report_of(done: Reproduction) -> dict[str, Any]:
    return json.loads((done.bundle / "report.json").read_text(encoding="utf-8"))


def events(report: dict[str, Any], kind: str | None = None) -> list[dict[str, Any]]:
    return [e for e in report["events"] if kind is None or e["kind"] == kind]


def test_click_errors_are_attributed_to_the_click(browser_loop, pages_url, tmp_path):
    done = run(
        browser_loop,
        tmp_path,
        {"url": pages_url, "steps": [{"goto": "errors.html"}, {"click": "#boom"}]},
    )
    report = report_of(done)
    assert report["outcome"]["status"] == "errors"
    console = [e for e in events(report, "console") if e["text"] == "boom clicked"]
    assert console and console[0]["step"] == 2 and console[0]["fails"]
    assert console[0]["url"].endswith("/errors.js") and console[0]["line"] == 3
    page_error = events(report, "page_error")[0]
    assert page_error["text"] == "TypeError: kaboom"
    assert page_error["step"] == 2
    assert (page_error["url"], page_error["line"], page_error["column"])[1:] == (5, 9)
    assert "onBoom" in page_error["stack"]
    http = events(report, "http_error")[0]
    assert http["status"] == 500 and http["step"] == 2 and http["url"].endswith("/status/500")
    native = [e for e in events(report, "console") if e["native"]]
    assert native and not any(e["fails"] for e in native)
    assert report["totals"]["page_error"] == 1
    assert report["totals"]["console"]["error"] >= 2


def test_error_from_a_timer_after_the_last_step_is_kept(browser_loop, pages_url, tmp_path):
    done = run(
        browser_loop,
        tmp_path,
        {"url": pages_url, "steps": [{"goto": "timer.html"}, {"click": "#late"}]},
    )
    page_errors = events(report_of(done), "page_error")
    assert [e["text"] for e in page_errors] == ["Error: late boom"]
    assert page_errors[0]["step"] == 2


def test_linger_zero_misses_the_late_error(browser_loop, pages_url, tmp_path):
    done = run(
        browser_loop,
        tmp_path,
        {"url": pages_url, "steps": [{"goto": "timer.html"}, {"click": "#late"}]},
        linger=0,
    )
    assert events(report_of(done), "page_error") == []


def test_unhandled_rejection(browser_loop, pages_url, tmp_path):
    done = run(
        browser_loop,
        tmp_path,
        {"url": pages_url, "steps": [{"goto": "rejection.html"}, {"click": "#reject"}]},
    )
    texts = [e["text"] for e in events(report_of(done), "page_error")]
    assert texts == ["Unhandled rejection: Error: rejected on purpose"]


def test_iframe_popup_and_worker_are_covered(browser_loop, pages_url, tmp_path):
    done = run(
        browser_loop,
        tmp_path,
        {
            "url": pages_url,
            "steps": [
                {"goto": "iframe.html"},
                # Until the frame's timer has thrown: the next goto would drop it unfired.
                {"wait_for": {"selector": "html[data-frame=threw]", "state": "attached"}},
                {"goto": "worker.html"},
                # Until the worker has thrown (a fixed wait was a race on a busy machine).
                {"wait_for": {"selector": "html[data-worker=threw]", "state": "attached"}},
                {"goto": "popup.html"},
                {"click": "#open"},
            ],
        },
    )
    report = report_of(done)
    texts = {(e["kind"], e["text"]): e for e in report["events"]}
    assert texts[("console", "error from iframe")]["step"] == 1
    assert texts[("page_error", "Error: iframe exception")]["step"] == 1
    assert texts[("console", "error from worker")]["source"].startswith("worker ")
    # The page also hears about its worker's messages; each must be kept once.
    for text in ("error from worker", "error from iframe", "popup first message"):
        assert sum(e["count"] for e in report["events"] if e["text"] == text) == 1, text
    assert ("page_error", "Error: worker exception") in texts
    popup_first = texts[("console", "popup first message")]
    assert popup_first["step"] == 6 and "popup" in popup_first["source"]
    assert ("page_error", "Error: popup exception") in texts


def test_a_timer_held_up_by_a_busy_renderer_still_lands(browser_loop, pages_url, tmp_path):
    # The timer is due 600 ms before a busy task lets it run: quiet must wait for it.
    done = run(
        browser_loop,
        tmp_path,
        {"url": pages_url, "steps": [{"goto": "busy-timer.html"}, {"click": "#go"}]},
    )
    report = report_of(done)
    late = [e for e in events(report, "page_error") if "timer behind a busy task" in e["text"]]
    assert late and late[0]["step"] == 2, report["events"]


def test_network_failures(browser_loop, pages_url, tmp_path):
    done = run(
        browser_loop,
        tmp_path,
        {"url": pages_url, "steps": [{"goto": "network.html"}, {"click": "#load"}]},
    )
    report = report_of(done)
    statuses = sorted(e["status"] for e in events(report, "http_error"))
    assert statuses == [404, 500] or statuses == [404, 404, 500]
    assert sum(e["count"] for e in events(report, "http_error")) == 3
    failed = events(report, "request_failed")
    assert any("ERR_CONNECTION_REFUSED" in e["text"] for e in failed)
    assert all(e["step"] == 2 for e in events(report, "http_error") + failed)


def test_missing_favicon_does_not_fail(pages_url, tmp_path):
    # The headless shell asks for no favicon; Chromium itself (--headed, --browser-path)
    # does, and remembers a missing one per origin for its lifetime: a browser of its own.
    chromium = BrowserLoop(headless_shell=False)
    try:
        done = run(chromium, tmp_path, {"url": pages_url, "steps": [{"goto": "favicon-missing.html"}]})
    finally:
        chromium.close()
    report = report_of(done)
    assert report["outcome"]["status"] == "clean"
    favicon = [e for e in report["events"] if "favicon.ico" in (e["url"] or "")]
    assert favicon and not any(e["fails"] for e in favicon)


def test_dialogs_are_dismissed_and_recorded(browser_loop, pages_url, tmp_path):
    done = run(
        browser_loop,
        tmp_path,
        {"url": pages_url, "steps": [{"goto": "dialog.html"}, {"click": "#alert"}]},
    )
    report = report_of(done)
    assert [e["text"] for e in events(report, "dialog")] == ["alert: hello from alert"]
    assert any(e["text"] == "after alert" for e in events(report, "console"))
    assert report["outcome"]["status"] == "clean"


def test_clean_run_has_every_bundle_file(browser_loop, pages_url, tmp_path):
    done = run(
        browser_loop,
        tmp_path,
        {"url": pages_url, "steps": [{"goto": "clean.html"}, {"click": "#go"}]},
    )
    report = report_of(done)
    assert report["outcome"]["status"] == "clean"
    assert report["schema"] == "collector/report@1"
    assert report["reference"] == done.bundle.name == done.reference
    for name in ("report.json", "ticket.md", "report.html", "console.log", "scenario.yaml"):
        assert (done.bundle / name).is_file(), name
    assert [s["status"] for s in report["steps"]] == ["ok", "ok"]
    assert report["steps"][-1]["screenshot"].startswith("screenshots/")
    with zipfile.ZipFile(done.bundle / f"{done.reference}.zip") as zf:
        names = zf.namelist()
    assert names[:3] == ["ticket.md", "report.json", "console.log"]
    assert not list((tmp_path / "reports").glob(".*partial"))


def test_failing_step_stops_the_run_and_is_screenshotted(browser_loop, pages_url, tmp_path):
    done = run(
        browser_loop,
        tmp_path,
        {
            "url": pages_url,
            "steps": [
                {"goto": "clean.html"},
                {"click": {"selector": "#does-not-exist", "timeout": 500}},
                {"click": "#go"},
            ],
        },
    )
    report = report_of(done)
    assert report["outcome"]["status"] == "step_failed"
    assert report["outcome"]["failed_step"] == 2
    assert [s["status"] for s in report["steps"]] == ["ok", "failed", "skipped"]
    assert "500ms" in report["steps"][1]["error"] or "Timeout" in report["steps"][1]["error"]
    shot = report["steps"][1]["screenshot"]
    assert shot and (done.bundle / shot).is_file()


def test_optional_step_failure_does_not_stop(browser_loop, pages_url, tmp_path):
    done = run(
        browser_loop,
        tmp_path,
        {
            "url": pages_url,
            "steps": [
                {"goto": "clean.html"},
                {"click": {"selector": "#nope", "timeout": 300, "optional": True}},
                {"click": "#go"},
                {"expect_text": {"selector": "#out", "text": "done"}},
            ],
        },
    )
    report = report_of(done)
    assert [s["status"] for s in report["steps"]] == ["ok", "skipped", "ok", "ok"]
    assert report["outcome"]["status"] == "clean"


def test_failed_expectation(browser_loop, pages_url, tmp_path):
    done = run(
        browser_loop,
        tmp_path,
        {
            "url": pages_url,
            "steps": [
                {"goto": "clean.html"},
                # Long enough for #out to be found on a loaded machine: the text is what fails.
                {"expect_text": {"selector": "#out", "text": "never", "timeout": 1500}},
            ],
        },
    )
    report = report_of(done)
    assert report["outcome"]["status"] == "step_failed"
    assert "never" in report["steps"][1]["error"]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_host(browser_loop, tmp_path):
    url = f"http://127.0.0.1:{closed_port()}/"
    done = run(browser_loop, tmp_path, {"steps": [{"goto": url}]}, linger=0)
    report = report_of(done)
    assert report["outcome"]["status"] == "unreachable"
    assert "ERR_CONNECTION_REFUSED" in report["outcome"]["message"]
    assert (done.bundle / "ticket.md").is_file()


def test_navigation_timeout(browser_loop, pages_url, tmp_path):
    done = run(
        browser_loop,
        tmp_path,
        {"url": pages_url, "steps": [{"goto": {"url": "slow-load.html", "timeout": 800}}]},
        linger=0,
    )
    report = report_of(done)
    assert report["outcome"]["status"] == "step_failed"
    assert "Timeout" in report["steps"][0]["error"]


def test_page_crash(browser_loop, pages_url, tmp_path):
    done = run(
        browser_loop,
        tmp_path,
        {
            "url": pages_url,
            "steps": [{"goto": "clean.html"}, {"goto": "chrome://crash"}, {"click": "#go"}],
        },
        linger=0,
    )
    report = report_of(done)
    assert report["outcome"]["status"] == "crashed"
    assert events(report, "crash")


def test_flood_is_bounded_and_counts_are_exact(browser_loop, pages_url, tmp_path):
    limits = CaptureLimits(max_console_entries=200, max_text_chars=1000)
    done = run(
        browser_loop,
        tmp_path,
        {
            "url": pages_url,
            "steps": [
                {"goto": "flood.html?n=3000&big=1"},
                {"wait_for": {"selector": "#status:has-text('done')", "timeout": 60000}},
            ],
        },
        limits=limits,
    )
    report = report_of(done)
    console = events(report, "console")
    assert len(console) == 200
    assert report["totals"]["console"]["error"] == 3001
    assert report["dropped"] == 3001 - 200
    big = [e for e in console if e["text"].startswith("yyyy")]
    assert not big  # the big message came last and was dropped by the cap
    assert (done.bundle / "report.json").stat().st_size < 1_000_000


def test_huge_message_is_truncated_with_a_marker(browser_loop, pages_url, tmp_path):
    done = run(
        browser_loop,
        tmp_path,
        {
            "url": pages_url,
            "steps": [
                {"goto": "flood.html?n=10&big=5"},
                {"wait_for": {"selector": "#status:has-text('done')", "timeout": 60000}},
            ],
        },
    )
    report = report_of(done)
    big = [e for e in events(report, "console") if e["text"].startswith("yyyy")]
    assert len(big) == 1
    assert big[0]["text"].endswith(f"[truncated {5 * 1024 * 1024 - 8000} bytes]")
    assert report["totals"]["console"]["error"] == 11


def test_hostile_text_round_trips_as_valid_utf8(browser_loop, pages_url, tmp_path):
    done = run(browser_loop, tmp_path, {"url": pages_url, "steps": [{"goto": "hostile.html"}]})
    raw = (done.bundle / "report.json").read_bytes()
    raw.decode("utf-8")  # strict: no lone surrogates made it to disk
    report = json.loads(raw)
    texts = [e["text"] for e in events(report, "console")]
    assert "<script>alert(1)</script>" in texts
    assert "{{ 7*7 }}" in texts
    assert "a\x00b\x07c\x1b[31m" in texts
    assert "\ufffd lone" in texts
    assert any(e["text"] == "Error: <b>bold</b> {{ 7*7 }}" for e in events(report, "page_error"))
    log = (done.bundle / "console.log").read_text(encoding="utf-8")
    assert "\x1b" not in log and "\\u001b[31m" in log
    ticket = (done.bundle / "ticket.md").read_text(encoding="utf-8")
    assert "{{ 7*7 }}" in ticket or "{{ 7\\*7 }}" in ticket


def test_scenario_copy_in_the_bundle_keeps_secret_references(browser_loop, pages_url, tmp_path):
    done = run(
        browser_loop,
        tmp_path,
        {
            "url": pages_url,
            "secrets": ["TEST_PW"],
            "steps": [
                {"goto": "secrets.html"},
                {"fill": {"selector": "#password", "value": "${TEST_PW}"}},
            ],
        },
        env={"TEST_PW": "hunter2-secret"},
    )
    saved = yaml.safe_load((done.bundle / "scenario.yaml").read_text(encoding="utf-8"))
    assert saved["steps"][1] == {"fill": {"selector": "#password", "value": "${TEST_PW}"}}
    for path in done.bundle.rglob("*"):
        if path.is_file():
            assert b"hunter2-secret" not in path.read_bytes(), path


def test_a_fetch_started_by_a_click_counts_in_the_page_until_it_settles(browser_loop, pages_url):
    """The page itself says a request is in flight: collector does not wait for Playwright's
    request event to learn it (late under load, and the run looked quiet meanwhile)."""
    from collector.capture.quiet import PENDING_TIMERS, TIMER_TRACKER

    async def look(browser: Any) -> tuple[int, int]:
        context = await browser.new_context()
        try:
            await context.add_init_script(TIMER_TRACKER)
            page = await context.new_page()
            await page.goto(pages_url + "fetch-on-click.html")
            await page.click("#go")
            started = await page.evaluate(PENDING_TIMERS)  # both answers are still on their way
            await page.wait_for_function(f"({PENDING_TIMERS}) === 0")
            return started, await page.evaluate(PENDING_TIMERS)
        finally:
            await context.close()

    assert browser_loop.run(look) == (2, 0)


def test_a_fetch_the_page_leaves_unhandled_is_still_an_uncaught_rejection(
    browser_loop, pages_url, tmp_path
):
    done = run(
        browser_loop,
        tmp_path,
        {
            "url": pages_url,
            "steps": [{"goto": "fetch-on-click.html"}, {"click": "#refused"}, {"click": "#go"}],
        },
    )
    texts = [e["text"] for e in events(report_of(done), "page_error")]
    assert any("Failed to fetch" in t for t in texts), texts
    assert any("after the slow answer" in t for t in texts), texts


def test_an_error_thrown_once_a_late_body_is_read_is_caught(browser_loop, pages_url, tmp_path):
    """Playwright settles a request at its headers, the page's fetch promise too; reading
    the body still counts in the page, so the run does not end before what follows it."""
    done = run(
        browser_loop,
        tmp_path,
        {
            "url": pages_url,
            "steps": [{"goto": "body-after-headers.html"}, {"click": "#go"}],
        },
    )
    errors = [(e["text"], e["step"]) for e in events(report_of(done), "page_error")]
    assert errors == [("Unhandled rejection: Error: read the body", 2)]
