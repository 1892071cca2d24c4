"""Peak memory for a page that logs 100,000 console errors (plus one 5 MB message).

collector repro vs. a raw script with a plain Playwright context console
listener; the peak RSS (VmHWM) of the Python process and of the Node driver
of each, sampled from /proc while they run.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import PAGES, PYTHON, emit, process_children, serve

HERE = Path(__file__).parent


def peak_rss(argv: list[str]) -> tuple[float, float, float]:
    """(seconds, python peak MB, driver peak MB) of a command."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peaks: dict[int, int] = {}
    names: dict[int, str] = {}
    while proc.poll() is None:
        for pid in [proc.pid, *process_children()[0].get(proc.pid, [])]:
            try:
                status = Path(f"/proc/{pid}/status").read_text().splitlines()
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in status if ":" in line)
            if "VmHWM" in fields:
                peaks[pid] = max(peaks.get(pid, 0), int(fields["VmHWM"].split()[0]))
                names[pid] = fields["Name"].strip()
        time.sleep(0.1)
    elapsed = time.perf_counter() - started
    python = peaks.get(proc.pid, 0) / 1024
    driver = max((kb for pid, kb in peaks.items() if "node" in names[pid]), default=0) / 1024
    return elapsed, python, driver


def main() -> None:
    with serve(PAGES) as base, tempfile.TemporaryDirectory() as scratch:
        scenario = Path(scratch) / "flood.yaml"
        scenario.write_text(
            f"url: {base}\nsteps:\n  - goto: flood.html?n=100000&big=5\n"
            "  - wait_for: {selector: \"#status:has-text('done')\", timeout: 120000}\n"
        )
        ours = peak_rss([PYTHON, "-m", "collector", "repro", str(scenario), "--out",
                         str(Path(scratch) / "out"), "--quiet"])
        raw = peak_rss([PYTHON, str(HERE / "raw_flood.py"), base + "flood.html?n=100000&big=5"])
    print(f"flood_memory: collector {ours[0]:.1f} s, Python {ours[1]:.0f} MB, driver {ours[2]:.0f} MB")
    print(f"flood_memory: raw       {raw[0]:.1f} s, Python {raw[1]:.0f} MB, driver {raw[2]:.0f} MB")
    emit({
        "benchmark": "flood_memory_python", "unit": "MB", "collector": ours[1], "raw": raw[1],
        "ratio": ours[1] / raw[1] if raw[1] else float("nan"), "lower_is_better": True,
        "samples": 1, "seconds": ours[0], "driver_mb": ours[2], "raw_driver_mb": raw[2],
        "raw_seconds": raw[0],
    })


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
