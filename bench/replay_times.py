"""collector replay --times 10 of a demo bundle vs. ten raw runs in one browser."""

import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import PYTHON, alternate, emit, report, timed_command

from collector.demo.server import DemoServer

HERE = Path(__file__).parent
TIMES = "10"


def main(pairs: int = 5) -> None:
    env = {"DEMO_SHOP_PASSWORD": "demo-shop-secret"}
    with DemoServer() as shop, tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch)
        made = subprocess.run(
            [PYTHON, "-m", "collector", "repro", str(HERE / "demo_flow.yaml"), "--url", shop.url,
             "--out", str(out / "original"), "--quiet"],
            capture_output=True, text=True, env={**__import__("os").environ, **env},
        )
        bundle = made.stdout.strip().splitlines()[-1]
        ours, theirs = alternate(
            lambda: timed_command(
                [PYTHON, "-m", "collector", "replay", bundle, "--times", TIMES, "--out",
                 str(out / "replays"), "--quiet", "--secret", "DEMO_SHOP_PASSWORD"],
                env,
            ),
            lambda: timed_command(
                [PYTHON, str(HERE / "raw_replay.py"), shop.url, TIMES, str(out / "raw")]
            ),
            pairs=pairs,
        )
    emit(report("replay_times_10", "s", ours, theirs))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
