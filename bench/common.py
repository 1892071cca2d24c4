"""Shared helpers of the benchmarks: alternate runs, medians, local servers, raw launch.

Every benchmark runs the same work through collector and through a minimal
raw-Playwright script, alternately, after a warm-up, and prints the medians
and the ratio collector/raw. Nothing here is a test: there are no thresholds.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "tests" / "pages"
PYTHON = sys.executable
# The flags collector launches with, written out: the raw scripts import nothing of collector.
RAW_ARGS = [
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    # Since 2026-12-01; the benchmarks' pages have no cross-site frame, where it acts.
    "--site-per-process",
]


def chromium_path() -> str:
    from collector.browser import find_chromium

    return str(find_chromium(headless=True))


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def serve(directory: Path, handler_class: type[SimpleHTTPRequestHandler] = _Quiet) -> Iterator[str]:
    """Serve a folder on 127.0.0.1 (free port); yields the base URL with a trailing slash."""
    handler = partial(handler_class, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def timed_command(argv: list[str], env: dict[str, str] | None = None) -> float:
    """Wall time of a command, which must succeed (exit 0 or 1: 1 means errors found)."""
    started = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, **(env or {})})
    elapsed = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{argv[:4]} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return elapsed


def alternate(
    collector: Callable[[], float], raw: Callable[[], float], pairs: int = 5, warmup: int = 1
) -> tuple[list[float], list[float]]:
    """Run collector and raw alternately (after warm-up runs of each); return both lists."""
    for _ in range(warmup):
        collector()
        raw()
    ours, theirs = [], []
    for i in range(pairs):
        # Alternate who goes first, so drift on the machine hits both sides alike.
        if i % 2 == 0:
            ours.append(collector())
            theirs.append(raw())
        else:
            theirs.append(raw())
            ours.append(collector())
    return ours, theirs


def report(name: str, unit: str, ours: list[float], theirs: list[float], lower_is_better: bool = True) -> dict[str, Any]:
    m_ours, m_theirs = statistics.median(ours), statistics.median(theirs)
    ratio = m_ours / m_theirs if m_theirs else float("nan")
    row = {
        "benchmark": name,
        "unit": unit,
        "collector": m_ours,
        "raw": m_theirs,
        "ratio": ratio,
        "lower_is_better": lower_is_better,
        "samples": len(ours),
    }
    print(
        f"{name}: collector {m_ours:.3f} {unit}, raw {m_theirs:.3f} {unit}, "
        f"ratio collector/raw {ratio:.3f} (median of {len(ours)})"
    )
    return row


def emit(row: dict[str, Any]) -> None:
    """Print the row as JSON on the last line, for run_all.py."""
    import json

    print("BENCH " + json.dumps(row))


def process_children() -> tuple[dict[int, list[int]], int]:
    """Each process's children, read from /proc once, and how many processes ended
    between the listing and the read of their stat (there is nothing of them to count)."""
    children: dict[int, list[int]] = {}
    ended = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                ended += 1
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    return children, ended
