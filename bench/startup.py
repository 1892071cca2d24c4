"""Start-up of the commands that must not load Playwright or Pillow.

collector --help, validate, schema and ticket, each as a whole process, against
`python -c pass` as the floor (the interpreter itself).
"""

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import PYTHON, emit


def wall(argv: list[str], runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def sample_report(reference: str) -> str:
    from collector.report import Outcome, Report, StepRecord

    return Report(
        reference=reference,
        created="2026-11-26T00:00:00Z",
        outcome=Outcome(status="clean"),
        steps=[StepRecord(index=1, action="goto", target="http://127.0.0.1/", status="ok")],
    ).to_json()


def main() -> None:
    floor = wall([PYTHON, "-c", "pass"])
    with tempfile.TemporaryDirectory() as scratch:
        scenario = Path(scratch) / "s.yaml"
        scenario.write_text("url: http://127.0.0.1:1/\nsteps:\n  - goto: /\n  - click: '#pay'\n")
        commands = {
            "--help": ["--help"],
            "validate": ["validate", str(scenario)],
            "schema": ["schema", "scenario"],
        }
        bundle = Path(scratch) / "CR-20261126-000000"
        bundle.mkdir()
        (bundle / "report.json").write_text(sample_report(bundle.name))
        commands["ticket"] = ["ticket", str(bundle)]
        for name, args in commands.items():
            seconds = wall([str(Path(PYTHON).parent / "collector"), *args])
            print(f"startup {name}: {seconds:.3f} s (python -c pass: {floor:.3f} s)")
            emit({"benchmark": f"startup {name}", "unit": "s", "collector": seconds, "raw": floor,
                  "ratio": seconds / floor, "lower_is_better": True, "samples": 7})


if __name__ == "__main__":
    main()
