"""collector check over many generated local pages: do throughput and memory stay flat?

Generates N pages (default 2,000), runs `collector check` on all of them once as
one process (default concurrency, linger 2 s as check_throughput), and reports per
slice of pages (default 500): pages/s, the peak RSS of the Python process and the
peak PSS of the browser tree (every descendant of collector but the Node driver,
whose PSS is shown apart). The claim is flatness: last slice against first.

Times come from check's own progress lines (stderr is a pipe, so it prints a line
every 10 finished pages, or every 10 s): a slice runs from the first line at or past
its first page to the first line at or past its last, and its pages/s divides the
pages those lines count by the time between their arrivals. The first slice starts
at the first line, so the browser's start is not in it. Memory is sampled every
0.5 s and a sample belongs to the slice the last progress line was in.

Usage: check_scale.py [--pages N] [--slice S] [--no-raw]. With the raw floor (the
default), raw_check.py then loads the same pages for one overall pages/s ratio.
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.request import urlopen

sys.path.insert(0, str(Path(__file__).parent))
from common import PYTHON, emit, process_children, serve

from collector.check import default_concurrency

HERE = Path(__file__).parent
LINGER = "2"
SAMPLE_EVERY_S = 0.5
PROGRESS = re.compile(r"check: (\d+)/(\d+)")
# A 1x1 PNG: the images cost a request each, not decoding work.
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


# -- pages ------------------------------------------------------------------------


def write_pages(folder: Path, count: int) -> tuple[list[str], int]:
    """Write ``count`` pages and their shared files; return the names and how many must fail.

    By index, so every slice holds the same mix: one page in 20 logs a console error,
    one in 20 requests a missing file, one in 20 has an iframe, one in 5 loads three
    images and two scripts (shared, as a site's are); the rest are plain text pages.
    """
    (folder / "frame.html").write_text("<!doctype html><p>embedded frame</p>")
    for n in range(3):
        (folder / f"img-{n}.png").write_bytes(PIXEL)
    (folder / "app.js").write_text("window.appReady = [1, 2, 3].map((n) => n * 2);\n")
    (folder / "widgets.js").write_text(
        "document.querySelectorAll('p').forEach((p) => p.dataset.seen = '1');\n"
    )
    names, failing = [], 0
    for i in range(count):
        body = [f"<h1>Page {i}</h1>", f"<p>{'lorem ipsum dolor ' * 30}</p>"]
        if i % 20 == 3:
            body.append(f"<script>console.error('broken widget {i}')</script>")
            failing += 1
        elif i % 20 == 13:
            body.append(f"<script>fetch('missing-{i}.json')</script>")
            failing += 1
        else:
            body.append(f"<script>console.log('page {i} ready')</script>")
        if i % 20 == 8:
            body.append("<iframe src='frame.html'></iframe>")
        if i % 5 == 1:
            body += [f"<img src='img-{n}.png' alt=''>" for n in range(3)]
            body += ["<script src='app.js'></script>", "<script src='widgets.js'></script>"]
        name = f"page-{i:05d}.html"
        (folder / name).write_text(
            f"<!doctype html><title>Page {i}</title><link rel=icon href='data:,'>{''.join(body)}"
        )
        names.append(name)
    return names, failing


# -- server -----------------------------------------------------------------------


class _Counting(SimpleHTTPRequestHandler):
    """Counts requests and the time spent answering them, to show the server is not measured."""

    lock = threading.Lock()
    served = 0
    busy_s = 0.0

    def do_GET(self) -> None:
        # Not handle_one_request: that also waits for the next request on a kept-alive socket.
        started = time.perf_counter()
        super().do_GET()
        with _Counting.lock:
            _Counting.served += 1
            _Counting.busy_s += time.perf_counter() - started

    def log_message(self, format: str, *args: Any) -> None:
        return


def server_capacity(base: str, name: str, requests: int = 400, clients: int = 4) -> float:
    """Requests/s the server answers to ``clients`` threads fetching one page in a loop."""
    def fetch(times: int) -> None:
        for _ in range(times):
            with urlopen(base + name) as response:
                response.read()

    threads = [threading.Thread(target=fetch, args=(requests // clients,)) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return requests / (time.perf_counter() - started)


# -- /proc sampling ---------------------------------------------------------------


def _kb(text: str, key: str) -> int:
    for line in text.splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def descendants(root: int) -> tuple[list[int], int]:
    """Every process under ``root``, and how many processes ended while being listed."""
    children, ended = process_children()
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found, ended


@dataclass
class Sample:
    at: float
    done: int  # pages finished, as the last progress line said
    python_kb: int
    browser_kb: int  # PSS summed over the browser's processes
    driver_kb: int
    browser_processes: int
    ended: int  # processes that ended between the listing and the reading of their memory
    python_hwm_kb: int = 0


def sample(pid: int, at: float, done: int) -> Sample | None:
    """The memory of check ``pid`` and its processes; None once check itself has ended."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    python_kb, python_hwm_kb = _kb(status, "VmRSS"), _kb(status, "VmHWM")
    browser_kb = driver_kb = processes = 0
    found, ended = descendants(pid)
    for child in found:
        try:
            name = Path(f"/proc/{child}/comm").read_text().strip()
            pss = _kb(Path(f"/proc/{child}/smaps_rollup").read_text(), "Pss")
        except OSError:  # ended between the listing and the read
            ended += 1
            continue
        if name.startswith("node"):  # the driver names its main thread: node-MainThread
            driver_kb += pss
        else:
            browser_kb += pss
            processes += 1
    return Sample(at, done, python_kb, browser_kb, driver_kb, processes, ended, python_hwm_kb)


# -- the run ----------------------------------------------------------------------


@dataclass
class Run:
    seconds: float
    cpu_s: float  # the whole tree's, as the kernel counted it for waited-for children
    marks: list[tuple[float, int]]  # (arrival, pages done) per progress line
    samples: list[Sample]
    closing: str
    python_hwm_kb: int  # at the last sample
    missed: int  # samples not taken: check had ended (at most the last one or two)


def run_check(urls_file: Path, out_dir: Path) -> Run:
    argv = [PYTHON, "-m", "collector", "check", str(urls_file), "--linger", LINGER,
            "--out", str(out_dir)]
    marks: list[tuple[float, int]] = []
    samples: list[Sample] = []
    missed = [0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    stdout_file = out_dir.parent / "check-stdout.txt"
    with stdout_file.open("w") as stdout:
        proc = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.PIPE, text=True)
        stop = threading.Event()

        def sampler() -> None:
            while not stop.wait(SAMPLE_EVERY_S):
                found = sample(proc.pid, time.perf_counter(), marks[-1][1] if marks else 0)
                if found is None:
                    missed[0] += 1
                else:
                    samples.append(found)

        thread = threading.Thread(target=sampler, daemon=True)
        thread.start()
        assert proc.stderr is not None
        try:
            for line in proc.stderr:
                match = PROGRESS.match(line)
                if match:
                    marks.append((time.perf_counter(), int(match.group(1))))
            proc.wait()
        finally:
            stop.set()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        thread.join()
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"collector check failed ({proc.returncode}); see {stdout_file}")
    closing = stdout_file.read_text().strip().splitlines()[-1]
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    hwm = samples[-1].python_hwm_kb if samples else 0
    return Run(seconds, cpu, marks, samples, closing, hwm, missed[0])


def run_raw(urls: list[str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(
        [PYTHON, str(HERE / "raw_check.py"), str(default_concurrency()), LINGER, *urls],
        capture_output=True, text=True,
    )
    if proc.returncode not in (0, 1):
        raise SystemExit(f"raw_check.py failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return time.perf_counter() - started


# -- slices -----------------------------------------------------------------------


@dataclass
class Slice:
    first: int  # 1-based page numbers
    last: int
    pages_per_s: float
    python_mb: float
    browser_mb: float
    driver_mb: float
    browser_processes: int


def slices(run: Run, total: int, size: int) -> list[Slice]:
    found = []
    for start in range(0, total, size):
        end = min(start + size, total)
        # Slice 1 starts at the first line, not at 0 pages: no browser start in it.
        begin = next((m for m in run.marks if m[1] >= start), None) if start else run.marks[0]
        finish = next((m for m in run.marks if m[1] >= end), None)
        if begin is None or finish is None or finish[1] <= begin[1]:
            raise SystemExit(f"no progress lines around pages {start}-{end}: {run.marks[-3:]}")
        inside = [s for s in run.samples if start <= s.done < end] or [Sample(0, 0, 0, 0, 0, 0, 0)]
        found.append(Slice(
            start + 1, end, (finish[1] - begin[1]) / (finish[0] - begin[0]),
            max(s.python_kb for s in inside) / 1024, max(s.browser_kb for s in inside) / 1024,
            max(s.driver_kb for s in inside) / 1024, max(s.browser_processes for s in inside),
        ))  # fmt: skip
    return found


def flat_row(name: str, unit: str, last: float, first: float, lower: bool) -> dict[str, Any]:
    return {"benchmark": name, "unit": unit, "collector": last, "raw": first,
            "ratio": last / first if first else float("nan"), "lower_is_better": lower,
            "samples": 1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--slice", type=int, default=500)
    parser.add_argument("--no-raw", action="store_true", help="skip the raw-Playwright floor")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        site = Path(scratch) / "site"
        site.mkdir()
        names, failing = write_pages(site, args.pages)
        with serve(site, _Counting) as base:
            capacity = server_capacity(base, names[1])
            _Counting.served, _Counting.busy_s = 0, 0.0
            urls = [base + n for n in names]
            urls_file = Path(scratch) / "urls.txt"
            urls_file.write_text("\n".join(urls) + "\n")
            run = run_check(urls_file, Path(scratch) / "reports")
            served, busy = _Counting.served, _Counting.busy_s
            raw_s = None if args.no_raw else run_raw(urls)
    table = slices(run, args.pages, args.slice)
    print(f"check_scale: {args.pages} pages ({failing} must fail), concurrency "
          f"{default_concurrency()}, linger {LINGER} s: {run.closing}")
    print(f"check_scale: {run.seconds:.1f} s wall, {run.cpu_s:.1f} CPU-s for the whole tree, "
          f"{args.pages / run.seconds:.2f} pages/s overall; Python VmHWM "
          f"{run.python_hwm_kb / 1024:.0f} MB; {len(run.samples)} samples, "
          f"{sum(s.ended for s in run.samples)} process reads lost to processes that ended, "
          f"{run.missed} samples missed because check had ended")
    print(f"check_scale: server answered {served} requests ({served / run.seconds:.0f}/s, "
          f"{busy / run.seconds:.1%} of the wall time busy); it can answer {capacity:.0f}/s")
    print("| pages | pages/s | peak Python RSS MB | peak browser PSS MB | peak driver PSS MB "
          "| browser processes |")
    print("|---|---|---|---|---|---|")
    for s in table:
        print(f"| {s.first}-{s.last} | {s.pages_per_s:.2f} | {s.python_mb:.0f} | "
              f"{s.browser_mb:.0f} | {s.driver_mb:.0f} | {s.browser_processes} |")
    first, last = table[0], table[-1]
    rows = [
        flat_row("check_scale pages/s last slice (raw: first)", "pages/s",
                 last.pages_per_s, first.pages_per_s, lower=False),
        flat_row("check_scale Python RSS last slice (raw: first)", "MB",
                 last.python_mb, first.python_mb, lower=True),
        flat_row("check_scale browser PSS last slice (raw: first)", "MB",
                 last.browser_mb, first.browser_mb, lower=True),
    ]
    if raw_s is not None:
        print(f"check_scale: raw_check.py {raw_s:.1f} s, {args.pages / raw_s:.2f} pages/s")
        rows.append(flat_row(f"check_scale pages/s, {args.pages} pages", "pages/s",
                                args.pages / run.seconds, args.pages / raw_s, lower=False))
    for row in rows:
        emit(row)


if __name__ == "__main__":
    main()
