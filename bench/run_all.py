"""Run every benchmark and print one table (what `make bench` shows)."""

import json
import platform
import subprocess
import sys
from datetime import date
from pathlib import Path

HERE = Path(__file__).parent
SCRIPTS = ["repro_overhead.py", "check_throughput.py", "check_hanging.py", "replay_times.py",
           "fit_screenshot.py", "flood_memory.py", "startup.py", "sourcemaps.py",
           "minimize_forty.py", "inbox_upload.py", "check_scale.py"]


def main() -> None:
    # Measured as installed from a wheel: with bytecode (an editable install under
    # PYTHONDONTWRITEBYTECODE would compile collector from source on every start).
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(HERE.parent / "collector")], check=True)
    rows = []
    # `run_all.py SCRIPT...` runs only those (e.g. after one failed), in the table's order.
    chosen = [s for s in SCRIPTS if s in sys.argv[1:]] or SCRIPTS
    for script in chosen:
        print(f"== {script}", flush=True)
        proc = subprocess.run([sys.executable, str(HERE / script)], capture_output=True, text=True)
        sys.stdout.write(proc.stdout)
        if proc.returncode:
            sys.stdout.write(proc.stderr[-3000:])
            raise SystemExit(f"{script} failed")
        rows += [json.loads(line[6:]) for line in proc.stdout.splitlines() if line.startswith("BENCH ")]
    cpu = platform.processor() or platform.machine()
    print(f"\nMeasured {date.today()} on {platform.node()} ({cpu}, {__import__('os').cpu_count()} cores),"
          f" Python {platform.python_version()}")
    print("| benchmark | unit | collector | raw floor | collector/raw |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['benchmark']} | {row['unit']} | {row['collector']:.3f} | "
              f"{row['raw']:.3f} | {row['ratio']:.3f} |")


if __name__ == "__main__":
    main()
