"""The raw-Playwright floor for check_throughput.py: load pages concurrently, collect errors.

One browser, a fresh context per page, the same listeners, the same concurrency
and the same quiet-or-linger wait after load. Usage: raw_check.py CONCURRENCY LINGER URL...
(RAW_TIMEOUT_MS in the environment: the navigation timeout, as check's --timeout).
"""

import asyncio
import json
import os
import sys
import time
from pathlib import Path

from playwright.async_api import async_playwright

sys.path.insert(0, str(Path(__file__).parent))
from common import RAW_ARGS, chromium_path

TIMEOUT_MS = int(os.environ.get("RAW_TIMEOUT_MS", "30000"))  # Playwright's default
ARTIFACTS = os.environ.get("RAW_ARTIFACTS")


async def check(browser, url: str, linger: float) -> dict:
    errors: list[str] = []
    pending: set = set()
    last = [time.monotonic()]

    def add(text: str) -> None:
        last[0] = time.monotonic()
        errors.append(text)

    context = await browser.new_context()
    context.on("console", lambda m: add(m.text) if m.type == "error" else None)
    context.on("weberror", lambda e: add(str(e.error)))
    context.on("requestfailed", lambda r: (pending.discard(r), add(r.url)))
    context.on("request", lambda r: pending.add(r))
    context.on("requestfinished", lambda r: pending.discard(r))

    def on_response(r):
        pending.discard(r.request)
        if r.status >= 400:
            add(f"{r.status} {r.url}")

    context.on("response", on_response)
    page = await context.new_page()
    try:
        await page.goto(url, timeout=TIMEOUT_MS)
    except Exception as exc:  # a server that never answers: the timeout is the page's error
        add(str(exc).splitlines()[0])
    deadline = time.monotonic() + linger
    while time.monotonic() < deadline:
        if not pending and time.monotonic() - last[0] > 0.025:
            break
        await asyncio.sleep(0.01)
    if ARTIFACTS and errors:
        folder = Path(ARTIFACTS) / f"page-{id(page)}"
        folder.mkdir(parents=True, exist_ok=True)
        try:
            await page.screenshot(path=str(folder / "final.png"))
        except Exception as exc:  # a page that never loaded has nothing to show
            errors.append(str(exc).splitlines()[0])
        (folder / "errors.json").write_text(json.dumps({"url": url, "errors": errors}, indent=2))
    await context.close()
    return {"url": url, "errors": errors}


async def main(concurrency: int, linger: float, urls: list[str]) -> None:
    gate = asyncio.Semaphore(concurrency)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path(), args=RAW_ARGS)

        async def one(url: str) -> dict:
            async with gate:
                return await check(browser, url, linger)

        results = await asyncio.gather(*(one(u) for u in urls))
        await browser.close()
    failed = [r for r in results if r["errors"]]
    print(json.dumps({"pages": len(results), "failed": len(failed)}))
    sys.exit(1 if failed else 0)


asyncio.run(main(int(sys.argv[1]), float(sys.argv[2]), sys.argv[3:]))
