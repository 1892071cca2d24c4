"""What resolving source maps costs a run (issue 16): the demo flow on the minified demo shop,
with its frames resolved through shop.js.map vs. the same run with resolving off.

Both sides run in one process and one browser, alternately (after a warm-up), through
the library's own run_scenario; the time is the whole run plus the report's assembly
(where the frames are resolved). The map is fetched while the steps go on, so the cost
is what the end of the run waits for it and the look-ups.
"""

import asyncio
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import emit, report

from collector.assemble import report_from_run
from collector.browser import BrowserOptions, get_browser, start_playwright
from collector.demo.server import DemoServer
from collector.runner import RunOptions, run_scenario
from collector.scenario import load_scenario

HERE = Path(__file__).parent


async def main(pairs: int = 7) -> None:
    os.environ["DEMO_SHOP_PASSWORD"] = "demo-shop-secret"
    scenario = load_scenario(HERE / "demo_flow.yaml")
    with DemoServer() as shop, tempfile.TemporaryDirectory() as scratch:
        base = RunOptions(base_url=shop.url, linger_s=0.5, final_screenshot="never",
                          env=dict(os.environ))
        async with start_playwright() as pw:
            browser, _ = await get_browser(pw, BrowserOptions())

            async def one(resolve: bool, n: int) -> float:
                options = replace(base, resolve_source_maps=resolve,
                                  work_dir=Path(scratch) / f"{resolve}-{n}")
                started = time.perf_counter()
                result = await run_scenario(scenario, browser, options)
                built = report_from_run(result, "CR-20261201-BENCH1")
                elapsed = time.perf_counter() - started
                resolved = [f for e in built.events for f in e.frames if f.original]
                assert bool(resolved) == resolve, "the demo's frames were not resolved"
                return elapsed

            await one(True, -1)
            await one(False, -1)
            ours, theirs = [], []
            for i in range(pairs):
                order = (True, False) if i % 2 == 0 else (False, True)
                for resolve in order:
                    (ours if resolve else theirs).append(await one(resolve, i))
            plain = report_from_run(await run_scenario(scenario, browser, replace(
                base, resolve_source_maps=False, work_dir=Path(scratch) / "plain")), "CR-20261201-BENCH2")
            await browser.close()
    print(f"whole-run difference: {1000 * (sorted(ours)[pairs // 2] - sorted(theirs)[pairs // 2]):+.0f} ms"
          " (median; below the noise of a busy machine)")
    # The resolving alone, without the browser's noise: parse shop.js.map and resolve the
    # run's frames (what the end of a run does once the map has arrived).
    from collector.demo.server import static_dir
    from collector.symbolicate import symbolicate_report

    with static_dir() as static:
        times = []
        for _ in range(21):
            started = time.perf_counter()
            resolved, _notes = await asyncio.to_thread(symbolicate_report, plain, static)
            times.append(time.perf_counter() - started)
    assert any(f.original for e in resolved.events for f in e.frames)
    print(f"parse + resolve of the demo's map and frames: {1000 * sorted(times)[10]:.1f} ms (median of 21)")
    emit(report("sourcemap_resolving", "s", ours, theirs))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 7))
