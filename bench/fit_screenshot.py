"""Fit a full-page screenshot of a 1280x12000 px page into the 2 MB attachment budget.

collector: capture as JPEG q80 (what the runner does for full pages) and fit with
images.fit_image. Raw floor: the obvious way, a full-page PNG re-saved by Pillow
as JPEG at decreasing quality until it fits. Both in one browser, alternately;
prints the time of each and the bytes collector ends with.
"""

import asyncio
import io
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import PAGES, RAW_ARGS, chromium_path, emit, report, serve

from collector.images import fit_image

BUDGET = 2_000_000


def naive_fit(png: bytes) -> bytes:
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    for quality in (90, 80, 70, 60, 50, 40, 30):
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality)
        if buffer.tell() <= BUDGET:
            return buffer.getvalue()
    return buffer.getvalue()


async def main(pairs: int) -> None:
    from playwright.async_api import async_playwright

    ours, theirs, sizes = [], [], []
    with serve(PAGES) as base:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=chromium_path(), args=RAW_ARGS)
            page = await browser.new_page(viewport={"width": 1280, "height": 800})
            await page.goto(base + "tall.html")

            async def collector_way() -> float:
                started = time.perf_counter()
                data = await page.screenshot(full_page=True, type="jpeg", quality=80)
                fitted = fit_image(data, BUDGET)
                elapsed = time.perf_counter() - started
                sizes.append((len(fitted.data), fitted.width, fitted.height))
                return elapsed

            async def raw_way() -> float:
                started = time.perf_counter()
                naive_fit(await page.screenshot(full_page=True))
                return time.perf_counter() - started

            await collector_way()
            await raw_way()
            for _ in range(pairs):
                ours.append(await collector_way())
                theirs.append(await raw_way())
            await browser.close()
    row = report("fit_tall_screenshot", "s", ours, theirs)
    size, width, height = sizes[-1]
    print(f"fit_tall_screenshot: {size:,} bytes, {width}x{height} px (budget {BUDGET:,})")
    row["bytes"] = size
    emit(row)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5))
