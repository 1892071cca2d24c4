"""The raw floor of flood_memory.py: a context console listener on the flood page."""

import asyncio
import sys
from pathlib import Path

from playwright.async_api import async_playwright

sys.path.insert(0, str(Path(__file__).parent))
from common import RAW_ARGS, chromium_path


async def main(url: str) -> None:
    count = 0

    def on_console(message) -> None:
        nonlocal count
        count += 1

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path(), args=RAW_ARGS)
        context = await browser.new_context()
        context.on("console", on_console)
        page = await context.new_page()
        await page.goto(url)
        await page.wait_for_selector("#status:has-text('done')", timeout=120_000)
        await browser.close()
    print(count)


asyncio.run(main(sys.argv[1]))
