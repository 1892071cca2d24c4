"""A long `collector check` keeps per page what its outputs read, not the page's whole run.

bench/check_scale.py runs thousands of pages in one process; a structure kept per
page grows with the run. Here a few pages run in-process on the shared browser and
the objects a page's run leaves are counted (not timed): once check_targets has
returned, no RunResult and no Workspace of theirs may be alive, while the failing
pages still have their bundles and their FAIL lines.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest

from collector.bundle import BundleOptions
from collector.check import check_targets, error_lines, url_target
from collector.runner import RunOptions, RunResult
from collector.workspace import Workspace

CLEAN = ["clean-plain.html", "clean-console-log.html", "clean-iframe.html", "clean-fetch-ok.html"]
FAILING = ["fail-console-error-on-load.html", "fail-image-404.html"]
# Nothing listens on port 2: the page stops at its first step, whose wording the
# FAIL line quotes (what the kept outcome and step must still give).
UNREACHABLE = "http://127.0.0.1:2/"


def alive(kind: type) -> int:
    gc.collect()
    return sum(1 for thing in gc.get_objects() if isinstance(thing, kind))


@pytest.mark.browser
def test_a_check_keeps_no_run_result_or_workspace_per_page(
    browser_loop: Any, pages_url: str, tmp_path: Path
) -> None:
    urls = [f"{pages_url}check/{name}" for name in CLEAN + FAILING] + [UNREACHABLE]
    targets = [url_target(url) for url in urls]
    before = alive(RunResult), alive(Workspace)
    pages = browser_loop.run(
        lambda browser: check_targets(
            targets,
            browser,
            # Quiet pages end their wait at once; the linger is for a loaded machine.
            run_options=RunOptions(linger_s=5, timeout_ms=10_000, env={}),
            work_dir=tmp_path,
            concurrency=4,
            bundle_options=BundleOptions(out_dir=tmp_path),
        )
    )
    assert (alive(RunResult), alive(Workspace)) == before

    failed = {page.target.name: page for page in pages if page.failed}
    assert sorted(failed) == sorted(urls[len(CLEAN) :])
    assert all(page.bundle is not None and page.bundle.is_dir() for page in failed.values())
    assert error_lines(failed[urls[len(CLEAN)]])[-1].endswith(
        "fail-console-error-on-load.js:2:9 error on load"
    )
    assert error_lines(failed[UNREACHABLE])[0] == (
        f"FAIL {UNREACHABLE}: The site could not be reached: net::ERR_CONNECTION_REFUSED "
        f"(step 1: open {UNREACHABLE})"
    )
