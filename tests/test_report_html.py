"""report.html opened from disk in the real Chromium: hostile page text stays inert text.

The bundle comes from hostile.html, whose console errors and exception carry HTML,
template syntax, control characters and lone surrogates.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from collector.bundle import BundleOptions
from collector.repro import Reproduction, reproduce
from collector.runner import RunOptions
from collector.scenario import scenario_from_document
from collector.yamlsource import SourceDocument

pytestmark = pytest.mark.browser

IMG = "<img src=x onerror=alert(1)>"


def reproduce_hostile(browser_loop: Any, pages_url: str, out: Path) -> Reproduction:
    data = {
        "name": "Hostile text {{ 7*7 }} <b>x</b>",
        "url": pages_url,
        "steps": [
            {"goto": "hostile.html"},
            # hostile.js throws from a 50 ms timer; then a log and a warning for the filters.
            {"wait_for": {"selector": "h1", "state": "visible"}},
            {"wait": 200},
            {"evaluate": "console.log('plain log line'); console.warn('a warning line')"},
        ],
    }
    scenario = scenario_from_document(SourceDocument("hostile.yaml", data), env={})
    return browser_loop.run(
        lambda browser: reproduce(
            scenario,
            browser_options=None,  # type: ignore[arg-type]
            run_options=RunOptions(linger_s=5, env={}),  # ends once quiet; the timer lands
            bundle_options=BundleOptions(out_dir=out),
            browser=browser,
        )
    )


@pytest.fixture(scope="module")
def hostile_bundle(browser_loop, pages_url, tmp_path_factory) -> Path:
    done = reproduce_hostile(browser_loop, pages_url, tmp_path_factory.mktemp("html"))
    report = json.loads((done.bundle / "report.json").read_text(encoding="utf-8"))
    texts = {e["text"] for e in report["events"]}
    assert IMG in texts and "{{ 7*7 }}" in texts and "plain log line" in texts
    assert any(e["kind"] == "page_error" and "<b>bold</b>" in e["text"] for e in report["events"])
    return done.bundle


async def open_report(browser: Any, bundle: Path, actions: Any) -> dict[str, Any]:
    """Open report.html from disk, run ``actions(page)``, and return what the page did."""
    seen: dict[str, Any] = {"dialogs": [], "page_errors": [], "console": []}
    context = await browser.new_context()
    try:
        page = await context.new_page()

        async def on_dialog(dialog: Any) -> None:
            seen["dialogs"].append(f"{dialog.type}: {dialog.message}")
            await dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on("pageerror", lambda exc: seen["page_errors"].append(str(exc)))
        page.on("console", lambda msg: seen["console"].append(f"{msg.type}: {msg.text}"))
        await page.goto((bundle / "report.html").as_uri(), wait_until="load")
        seen.update(await actions(page))
        # Anything the page would do on its own has had the time of the actions to happen.
        await page.evaluate(
            "() => new Promise(r => requestAnimationFrame(() => setTimeout(r, 50)))"
        )
    finally:
        await context.close()
    return seen


async def inspect(page: Any) -> dict[str, Any]:
    return {
        "body": await page.inner_text("body"),
        "bad_images": await page.locator('img[src="x"]').count(),
        "scripts": await page.locator("script").count(),
        "images": await page.evaluate(
            "() => Array.from(document.images).map(i => "
            "({src: i.getAttribute('src'), complete: i.complete, width: i.naturalWidth}))"
        ),
        "bold": await page.locator("b").count(),
    }


def test_hostile_text_is_shown_as_text_and_nothing_runs(browser_loop, hostile_bundle):
    seen = browser_loop.run(lambda browser: open_report(browser, hostile_bundle, inspect))
    assert seen["dialogs"] == []
    assert seen["page_errors"] == []
    # A blocked image or script would show up as a CSP error here.
    assert [m for m in seen["console"] if m.startswith("error")] == []
    body = seen["body"]
    assert IMG in body
    assert "<script>alert(1)</script>" in body
    assert "{{ 7*7 }}" in body and "{% raw %}" in body and "${7*7}" in body
    assert "<b>bold</b>" in body and "Hostile text {{ 7*7 }} <b>x</b>" in body
    # Not evaluated as a template (timings may well contain "49", so look where it would be).
    assert "Hostile text 49" not in body and "<b>bold</b> 49" not in body
    assert seen["bad_images"] == 0 and seen["scripts"] == 0 and seen["bold"] == 0


def test_every_image_of_the_report_loads(browser_loop, hostile_bundle):
    seen = browser_loop.run(lambda browser: open_report(browser, hostile_bundle, inspect))
    images = seen["images"]
    assert images, "the report shows the screenshots"
    for image in images:
        assert image["src"].startswith("screenshots/"), image
        assert (hostile_bundle / image["src"]).is_file(), image
        assert image["complete"] and image["width"] > 0, image


async def filter_errors(page: Any) -> dict[str, Any]:
    async def visible(selector: str) -> list[bool]:
        return [await row.is_visible() for row in await page.locator(selector).all()]

    before = {level: await visible(f".ev.lvl-{level}") for level in ("log", "warning", "error")}
    await page.click("label[for=f-error]")
    after = {level: await visible(f".ev.lvl-{level}") for level in ("log", "warning", "error")}
    checked = await page.is_checked("#f-error")
    await page.click("label[for=f-all]")
    back = await visible(".ev.lvl-log")
    return {"before": before, "after": after, "checked": checked, "back": back}


def test_css_filter_shows_only_errors(browser_loop, hostile_bundle):
    seen = browser_loop.run(lambda browser: open_report(browser, hostile_bundle, filter_errors))
    before, after = seen["before"], seen["after"]
    assert before["log"] == [True] and before["warning"] == [True]
    assert len(before["error"]) >= 10 and all(before["error"])
    assert seen["checked"]
    assert after["log"] == [False] and after["warning"] == [False]
    assert after["error"] == before["error"]
    assert seen["back"] == [True]
    assert seen["dialogs"] == [] and seen["page_errors"] == []
