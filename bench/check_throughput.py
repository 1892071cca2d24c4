"""collector check on 50 local pages vs. a minimal raw-Playwright script, in pages/s.

Both run as whole processes with the same concurrency and linger, alternately.
One page in five logs a console error and requests a missing file. Two floors: the
bare scanner (errors only), and the scanner that also keeps a screenshot and a JSON
of each failing page (the least a bundle could be; collector writes a whole bundle).
"""

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import PYTHON, emit, report, serve, timed_command

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
            raw = [PYTHON, str(Path(__file__).parent / "raw_check.py"), concurrency, LINGER, *urls]
            artifacts = {"RAW_ARTIFACTS": str(folder / "raw-artifacts")}
            ours, bare, keeping = alternate_three(
                lambda: timed_command(
                    [PYTHON, "-m", "collector", "check", *urls, "--concurrency", concurrency,
                     "--linger", LINGER, "--quiet", "--out", str(folder / "reports")]
                ),
                lambda: timed_command(raw),
                lambda: timed_command(raw, artifacts),
                pairs=pairs,
            )
    # Throughput: pages per second (higher is better).
    rate = [PAGES / t for t in ours]
    emit(report("check_throughput", "pages/s", rate, [PAGES / t for t in bare], lower_is_better=False))
    emit(report("check_throughput (raw keeps pictures)", "pages/s", rate,
                [PAGES / t for t in keeping], lower_is_better=False))


def alternate_three(
    ours: Callable[[], float], bare: Callable[[], float], keeping: Callable[[], float], pairs: int
) -> tuple[list[float], list[float], list[float]]:
    """Like common.alternate, for one command against two floors: each round in a rotated
    order, so that drift on the machine hits all three alike."""
    runs: tuple[list[float], list[float], list[float]] = ([], [], [])
    commands = (ours, bare, keeping)
    for command in commands:  # warm-up
        command()
    for i in range(pairs):
        for k in range(3):
            which = (i + k) % 3
            runs[which].append(commands[which]())
    return runs


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
