"""report.html on a phone and on a desktop, screenshots full size, failed responses' bodies.

One real bundle (bodies.html: a click whose request answers 503 with a JSON body
holding a token, an exception, a console error with a long URL, a screenshot step,
and HTTP errors whose bodies are an image, 1 MB of text, Latin-1 text and hostile
HTML) is opened from disk in the real Chromium at 1280, 390 and 360 px.
"""

from __future__ import annotations

import json
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from conftest import CARD_TOKEN, ERROR_BODIES

from collector.bundle import BundleOptions
from collector.capture.bodies import BODY_LIMIT
from collector.repro import Reproduction, reproduce
from collector.runner import RunOptions
from collector.scenario import scenario_from_document
from collector.yamlsource import SourceDocument

pytestmark = pytest.mark.browser

LONG_404 = "/status/404?q=" + "a" * 400


def fetch(path: str) -> dict[str, str]:
    # The page reads each body itself, as an app would; the step ends once it has.
    return {"evaluate": f"fetch({path!r}).then(r => r.arrayBuffer()).then(() => 1)"}


def reproduce_steps(
    browser_loop: Any, pages_url: str, out: Path, steps: list[Any], name: str = "Pay fails"
) -> Reproduction:
    data = {"name": name, "url": pages_url, "steps": steps}
    scenario = scenario_from_document(SourceDocument("bodies.yaml", data), env={})
    return browser_loop.run(
        lambda browser: reproduce(
            scenario,
            browser_options=None,  # type: ignore[arg-type]
            run_options=RunOptions(linger_s=5, env={}),
            bundle_options=BundleOptions(out_dir=out),
            browser=browser,
        )
    )


@pytest.fixture(scope="module")
def bundle(browser_loop: Any, pages_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    steps = [
        {"goto": "bodies.html"},
        {"click": "#pay"},
        {"wait_for": {"selector": "#pay", "state": "visible"}},
        {"screenshot": "after-pay"},
        fetch("/body/image"),
        fetch("/body/big"),
        fetch("/body/latin1"),
        fetch("/body/hostile"),
        fetch(LONG_404),
    ]
    done = reproduce_steps(browser_loop, pages_url, tmp_path_factory.mktemp("bodies"), steps)
    return done.bundle


def report_of(bundle: Path) -> dict[str, Any]:
    return json.loads((bundle / "report.json").read_text(encoding="utf-8"))


def http_error(report: dict[str, Any], path: str) -> dict[str, Any]:
    found = [
        e for e in report["events"] if e["kind"] == "http_error" and e["url"].endswith(path)
    ]
    assert len(found) == 1, [e["text"] for e in report["events"]]
    return found[0]


# -- report.html at three widths -----------------------------------------------------

LAYOUT_JS = """() => {
  const shots = Array.from(document.querySelectorAll('img')).map(img => {
    const link = img.closest('a');
    return {src: img.getAttribute('src'), href: link ? link.getAttribute('href') : null,
            width: img.getBoundingClientRect().width, natural: img.naturalWidth,
            loaded: img.complete && img.naturalWidth > 0};
  });
  const messages = Array.from(document.querySelectorAll('.ev .msg'))
    .map(m => m.getBoundingClientRect().width);
  const overflowing = Array.from(document.querySelectorAll('body *'))
    .filter(el => el.getBoundingClientRect().right > window.innerWidth + 0.5)
    .map(el => el.tagName + '.' + el.className).slice(0, 5);
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
          shots, messages, overflowing, scripts: document.scripts.length};
}"""


async def layout_at(browser: Any, bundle: Path, width: int, picture: Path) -> dict[str, Any]:
    context = await browser.new_context(viewport={"width": width, "height": 800})
    try:
        page = await context.new_page()
        await page.goto((bundle / "report.html").as_uri(), wait_until="load")
        seen: dict[str, Any] = await page.evaluate(LAYOUT_JS)
        await page.screenshot(path=str(picture), full_page=True)
    finally:
        await context.close()
    return seen


@pytest.mark.parametrize("width", [1280, 390, 360])
def test_report_html_has_no_horizontal_overflow(
    browser_loop: Any, bundle: Path, tmp_path: Path, width: int
) -> None:
    picture = tmp_path / f"report-{width}.png"
    seen = browser_loop.run(lambda browser: layout_at(browser, bundle, width, picture))
    assert seen["innerWidth"] == width
    assert seen["scrollWidth"] <= seen["innerWidth"], seen["overflowing"]
    assert seen["overflowing"] == []
    # The timeline's message column gets the width of the screen, not one character of it.
    assert seen["messages"] and min(seen["messages"]) >= min(width * 0.6, 600), seen["messages"]
    assert picture.stat().st_size > 10_000  # the picture the issue asks for, in tmp_path
    assert seen["scripts"] == 0


@pytest.mark.parametrize("width", [1280, 390])
def test_every_screenshot_is_a_link_to_its_file_in_the_bundle(
    browser_loop: Any, bundle: Path, tmp_path: Path, width: int
) -> None:
    picture = tmp_path / f"report-{width}.png"
    seen = browser_loop.run(lambda browser: layout_at(browser, bundle, width, picture))
    shots = seen["shots"]
    assert len(shots) >= 2, shots  # the screenshot step and the final state at least
    for shot in shots:
        assert shot["loaded"], shot
        assert shot["href"] == shot["src"], shot
        assert not shot["href"].startswith(("/", "file:", "http")), shot  # relative
        assert (bundle / shot["href"]).is_file(), shot
        if width == 1280:
            # Readable: shown at the picture's own width, or the card's (~1100 px).
            assert shot["width"] >= min(shot["natural"], 1000), shot


async def open_link(browser: Any, bundle: Path) -> str:
    context = await browser.new_context()
    try:
        page = await context.new_page()
        await page.goto((bundle / "report.html").as_uri(), wait_until="load")
        await page.locator("a.shot").first.click()
        await page.wait_for_url("**/screenshots/**")
        return str(page.url)
    finally:
        await context.close()


def test_clicking_a_thumbnail_opens_the_picture(browser_loop: Any, bundle: Path) -> None:
    url = browser_loop.run(lambda browser: open_link(browser, bundle))
    assert url.startswith((bundle / "screenshots").as_uri())


# -- response bodies -------------------------------------------------------------------


def test_json_body_is_kept_with_method_status_timing_and_token_redacted(bundle: Path) -> None:
    report = report_of(bundle)
    event = http_error(report, "/body/card")
    assert (event["method"], event["status"], event["step"]) == ("GET", 503, 2)
    response = event["response"]
    assert response["content_type"] == "application/json"
    assert response["text"] == '{"error":"card processor unavailable","token":"[REDACTED]"}'
    assert response["truncated"] is False and response["note"] is None
    assert response["bytes"] == len(ERROR_BODIES["card"][2])
    assert isinstance(response["duration_ms"], int) and response["duration_ms"] >= 0


def test_the_token_is_in_no_file_of_the_bundle(bundle: Path) -> None:
    files = [p for p in bundle.rglob("*") if p.is_file()]
    for path in files:
        assert CARD_TOKEN.encode() not in path.read_bytes(), path
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as zf:
                for name in zf.namelist():
                    assert CARD_TOKEN.encode() not in zf.read(name), name


def test_ticket_shows_the_body_in_a_fenced_block(bundle: Path) -> None:
    ticket = (bundle / "ticket.md").read_text(encoding="utf-8")
    assert "### Responses of failed requests" in ticket
    block = '```text\n{"error":"card processor unavailable","token":"[REDACTED]"}\n```'
    assert block in ticket
    assert "`GET " in ticket and "/body/card` → 503" in ticket
    # The hostile body's backticks cannot close its fence early.
    assert "````text\n</pre><script>" in ticket


def test_binary_body_is_not_kept(bundle: Path) -> None:
    response = http_error(report_of(bundle), "/body/image")["response"]
    assert response["text"] is None
    assert response["note"] == "not kept: image/png is not text"
    assert response["content_type"] == "image/png"


def test_a_1mb_body_is_cut_to_4kb_of_valid_utf8(bundle: Path) -> None:
    response = http_error(report_of(bundle), "/body/big")["response"]
    text = response["text"]
    assert text.startswith("BIG-START: éé")
    # The cut falls inside a 2-byte character: it is left out, not turned into U+FFFD.
    assert len(text.encode("utf-8")) == BODY_LIMIT - 1
    assert "\ufffd" not in text
    assert response["truncated"] is True
    assert response["bytes"] == len(ERROR_BODIES["big"][2])
    ticket = (bundle / "ticket.md").read_text(encoding="utf-8")
    assert f"of {len(ERROR_BODIES['big'][2])} bytes" in ticket


def test_declared_charset_is_decoded_and_control_bytes_kept_as_data(bundle: Path) -> None:
    response = http_error(report_of(bundle), "/body/latin1")["response"]
    assert response["text"] == "café fermé\x00ÿ"
    ticket = (bundle / "ticket.md").read_text(encoding="utf-8")
    assert "café fermé\\u0000ÿ" in ticket


async def report_text(browser: Any, bundle: Path) -> dict[str, Any]:
    context = await browser.new_context()
    dialogs: list[str] = []
    try:
        page = await context.new_page()
        page.on("dialog", lambda d: dialogs.append(d.message))
        await page.goto((bundle / "report.html").as_uri(), wait_until="load")
        bodies = await page.locator("pre.body").all_inner_texts()
        return {
            "bodies": bodies,
            "text": await page.inner_text("body"),
            "scripts": await page.locator("script").count(),
            "bad_images": await page.locator('img[src="x"]').count(),
            "dialogs": dialogs,
        }
    finally:
        await context.close()


def test_report_html_shows_bodies_escaped(browser_loop: Any, bundle: Path) -> None:
    seen = browser_loop.run(lambda browser: report_text(browser, bundle))
    bodies = seen["bodies"]
    assert '{"error":"card processor unavailable","token":"[REDACTED]"}' in bodies
    assert any(b.startswith("</pre><script>alert(1)</script>") for b in bodies), bodies
    assert seen["scripts"] == 0 and seen["bad_images"] == 0 and seen["dialogs"] == []
    assert "GET · 503 · " in seen["text"]


def test_a_body_that_never_ends_does_not_hold_the_run(
    browser_loop: Any, pages_url: str, tmp_path: Path
) -> None:
    steps = [
        {"goto": "bodies.html"},
        # The page does not wait for the body; the headers (502) arrive at once.
        {"evaluate": "fetch('/body/stall'); 1"},
        {"wait": 300},
    ]
    started = time.monotonic()
    done = reproduce_steps(browser_loop, pages_url, tmp_path, steps, "Stalled body")
    elapsed = time.monotonic() - started
    # The server holds the body for 30 s; the run waits at most a few seconds for it.
    assert elapsed < 25, elapsed
    response = http_error(report_of(done.bundle), "/body/stall")["response"]
    assert response["text"] is None
    assert response["note"].startswith("not read: "), response


# -- the other front doors: check and replay write the same bodies -----------------------


def test_check_bundle_keeps_the_body(browser_loop: Any, pages_url: str, tmp_path: Path) -> None:
    from collector.check import check_targets, url_target

    # bodies.html fails on its own only when clicked: a check of the endpoint itself.
    target = url_target(pages_url + "body/card")
    pages = browser_loop.run(
        lambda browser: check_targets(
            [target],
            browser,
            run_options=RunOptions(linger_s=2, env={}),
            work_dir=tmp_path,
            concurrency=1,
            bundle_options=BundleOptions(out_dir=tmp_path),
        )
    )
    [page] = pages
    assert page.bundle is not None, page
    response = http_error(report_of(page.bundle), "/body/card")["response"]
    assert response["text"] == '{"error":"card processor unavailable","token":"[REDACTED]"}'
    assert CARD_TOKEN not in (page.bundle / "report.html").read_text(encoding="utf-8")


def test_replay_bundle_keeps_the_body(bundle: Path, tmp_path: Path) -> None:
    from run_collector import invoke

    ran = invoke("replay", bundle, "--out", "out", "--linger", "2", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    [replayed] = [p for p in (tmp_path / "out").iterdir() if p.is_dir()]
    response = http_error(report_of(replayed), "/body/card")["response"]
    assert response["text"] == '{"error":"card processor unavailable","token":"[REDACTED]"}'
    assert response["duration_ms"] is not None


def test_only_the_first_bodies_of_a_run_are_kept(
    browser_loop: Any, pages_url: str, tmp_path: Path
) -> None:
    from collector.capture.listeners import MAX_BODIES

    many = MAX_BODIES + 3
    steps = [
        {"goto": "bodies.html"},
        # One after the other, so which ones come first is certain.
        {
            "evaluate": f"(async () => {{ for (let i = 1; i <= {many}; i++) "
            "await (await fetch('/body/card?n=' + i)).text(); return 1; })()"
        },
    ]
    done = reproduce_steps(browser_loop, pages_url, tmp_path, steps, "Many bodies")
    report = report_of(done.bundle)
    responses = {
        int(e["url"].rsplit("=", 1)[1]): e["response"]
        for e in report["events"]
        if e["kind"] == "http_error"
    }
    assert sorted(responses) == list(range(1, many + 1))
    kept = [n for n, r in responses.items() if r["text"] is not None]
    assert kept == list(range(1, MAX_BODIES + 1)), {n: r["note"] for n, r in responses.items()}
    for n in range(MAX_BODIES + 1, many + 1):
        assert responses[n]["note"] == f"not kept: only the first {MAX_BODIES} bodies of a run are kept"


def test_ticket_command_rerenders_the_bodies_in_portuguese(bundle: Path, tmp_path: Path) -> None:
    from run_collector import invoke

    ran = invoke("ticket", bundle, "--lang", "pt", "--format", "txt", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "RESPOSTAS DOS PEDIDOS FALHADOS" in ran.stdout
    assert '    {"error":"card processor unavailable","token":"[REDACTED]"}' in ran.stdout
    assert f"de {len(ERROR_BODIES['big'][2])} bytes" in ran.stdout
