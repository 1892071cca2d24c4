"""The raw-Playwright floor of repro_overhead.py (1 run) and replay_times.py (N runs).

The demo shop's failing checkout by hand: the same browser and flags, the same
steps, the same capture listeners (console, page errors, failed requests, HTTP
errors), the same "quiet" wait after the last step, one screenshot of the
failing step and a JSON of the events, per run, all runs in one browser with a
fresh context each. Usage: raw_replay.py BASE_URL TIMES OUT_DIR [LINGER_S] (default 2,
collector's default linger; 0: no quiet wait, as `collector repro --linger 0`).
"""

import asyncio
import json
import sys
import time
from pathlib import Path

from playwright.async_api import async_playwright

sys.path.insert(0, str(Path(__file__).parent))
from common import RAW_ARGS, chromium_path


async def one_run(browser, base: str, out: Path, linger: float) -> list[dict]:
    events: list[dict] = []
    pending: set = set()
    last = [time.monotonic()]

    def add(**event: object) -> None:
        last[0] = time.monotonic()
        events.append(event)

    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    context.on("console", lambda m: add(kind="console", level=m.type, text=m.text))
    context.on("weberror", lambda e: add(kind="page_error", text=str(e.error), stack=e.error.stack))
    context.on("requestfailed", lambda r: (pending.discard(r), add(kind="request_failed", url=r.url)))
    context.on("request", lambda r: pending.add(r))
    context.on("requestfinished", lambda r: pending.discard(r))

    def on_response(r):
        pending.discard(r.request)
        if r.status >= 400:
            add(kind="http_error", url=r.url, status=r.status)

    context.on("response", on_response)
    page = await context.new_page()
    await page.goto(base + "index.html")
    await page.click("text=Go to checkout")
    await page.fill("#email", "ana@example.com")
    await page.fill("#password", "demo-shop-secret")
    await page.select_option("#card", "visa")
    await page.click("#pay")
    deadline = time.monotonic() + linger
    while time.monotonic() < deadline:
        if not pending and time.monotonic() - last[0] > 0.025:
            break
        await asyncio.sleep(0.01)
    out.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(out / "failing-step.png"))
    (out / "events.json").write_text(json.dumps(events, indent=2, default=str))
    await context.close()
    return events


async def main(base: str, times: int, out: Path, linger: float) -> None:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path(), args=RAW_ARGS)
        for n in range(times):
            await one_run(browser, base, out / f"run-{n + 1}", linger)
        await browser.close()


asyncio.run(main(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), float(sys.argv[4]) if len(sys.argv) > 4 else 2.0))
