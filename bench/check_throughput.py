"""collector check on 50 local pages vs. a minimal raw-Playwright script, in pages/s.

Both run as whole processes with the same concurrency and linger, alternately.
One page in five logs a console error and requests a missing file.
"""

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import PYTHON, alternate, emit, report, serve, timed_command

from collector.check import default_concurrency

PAGES = 50
LINGER = "2"


def write_pages(folder: Path) -> list[str]:
    names = []
    for i in range(PAGES):
        bad = i % 5 == 0
        script = (
            "console.error('broken widget " + str(i) + "'); fetch('missing-" + str(i) + ".json');"
            if bad
            else "console.log('page " + str(i) + " ready');"
        )
        html = (
            f"<!doctype html><title>Page {i}</title><link rel=icon href='data:,'>"
            f"<h1>Page {i}</h1><p>{'lorem ipsum ' * 40}</p><script>{script}</script>"
        )
        (folder / f"page-{i:02d}.html").write_text(html)
        names.append(f"page-{i:02d}.html")
    return names


def main(pairs: int = 5) -> None:
    concurrency = str(default_concurrency())
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        names = write_pages(folder)
        with serve(folder) as base:
            urls = [base + n for n in names]
            ours, theirs = alternate(
                lambda: timed_command(
                    [PYTHON, "-m", "collector", "check", *urls, "--concurrency", concurrency,
                     "--linger", LINGER, "--quiet"]
                ),
                lambda: timed_command(
                    [PYTHON, str(Path(__file__).parent / "raw_check.py"), concurrency, LINGER, *urls]
                ),
                pairs=pairs,
            )
    # Throughput: pages per second (higher is better).
    emit(report("check_throughput", "pages/s", [PAGES / t for t in ours],
                [PAGES / t for t in theirs], lower_is_better=False))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
