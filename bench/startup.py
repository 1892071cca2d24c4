"""Start-up of the commands that must not load Playwright or Pillow.

collector --help, validate, schema, convert and ticket, each as a whole process,
against `python -c pass` as the floor (the interpreter itself). Each command runs
once before it is timed, with bytecode caching on, so that the figures are those
of an installed collector (whose modules are compiled once), not of compiling it.
The CPU time of the process (user + sys) is printed beside the wall time: on a
machine whose cores are busy it is the steadier of the two.
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import PYTHON, ROOT, emit

ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(argv: list[str], runs: int = 7) -> tuple[float, float]:
    """Median wall and CPU seconds of ``argv`` as a process, after one untimed run."""
    subprocess.run(argv, capture_output=True, env=ENV)
    walls, cpus = [], []
    for _ in range(runs):
        started = time.perf_counter()
        child = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV
        )
        _, _, usage = os.wait4(child.pid, 0)
        walls.append(time.perf_counter() - started)
        cpus.append(usage.ru_utime + usage.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def sample_report(reference: str) -> str:
    from collector.report import Outcome, Report, StepRecord

    return Report(
        reference=reference,
        created="2026-11-26T00:00:00Z",
        outcome=Outcome(status="clean"),
        steps=[StepRecord(index=1, action="goto", target="http://127.0.0.1/", status="ok")],
    ).to_json()


def main() -> None:
    floor, floor_cpu = timed([PYTHON, "-c", "pass"])
    with tempfile.TemporaryDirectory() as scratch:
        scenario = Path(scratch) / "s.yaml"
        scenario.write_text("url: http://127.0.0.1:1/\nsteps:\n  - goto: /\n  - click: '#pay'\n")
        commands = {
            "--help": ["--help"],
            "validate": ["validate", str(scenario)],
            "schema": ["schema", "scenario"],
            "convert": ["convert", str(ROOT / "tests" / "recordings" / "reference" / "click.json")],
        }
        bundle = Path(scratch) / "CR-20261126-000000"
        bundle.mkdir()
        (bundle / "report.json").write_text(sample_report(bundle.name))
        commands["ticket"] = ["ticket", str(bundle)]
        for name, args in commands.items():
            seconds, cpu = timed([str(Path(PYTHON).parent / "collector"), *args])
            print(f"startup {name}: {seconds:.3f} s, CPU {cpu:.3f} s "
                  f"(python -c pass: {floor:.3f} s, CPU {floor_cpu:.3f} s)")
            emit({"benchmark": f"startup {name}", "unit": "s", "collector": seconds, "raw": floor,
                  "ratio": seconds / floor, "lower_is_better": True, "samples": 7,
                  "cpu": cpu, "raw_cpu": floor_cpu})


if __name__ == "__main__":
    main()
