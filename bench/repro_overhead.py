"""collector repro on the demo flow vs. the same work in a minimal raw-Playwright script.

Both run as whole processes (interpreter start, imports, driver and browser
launch, steps, capture, linger, one screenshot, files written), alternately: once
with the default linger (2 s at most, both end when the page is quiet), once with
no linger at all (pure overhead, no quiet wait on either side).
"""

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import PYTHON, alternate, emit, report, timed_command

from collector.demo.server import DemoServer

HERE = Path(__file__).parent


def main(pairs: int = 9) -> None:
    env = {"DEMO_SHOP_PASSWORD": "demo-shop-secret"}
    with DemoServer() as shop, tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch)
        for name, linger in (("repro_overhead", "2"), ("repro_overhead linger 0", "0")):
            ours, theirs = alternate(
                lambda linger=linger: timed_command(
                    [PYTHON, "-m", "collector", "repro", str(HERE / "demo_flow.yaml"), "--url",
                     shop.url, "--out", str(out / "collector"), "--quiet", "--linger", linger],
                    env,
                ),
                # The raw floor: the same flow once in a fresh browser (raw_replay.py, 1 run).
                lambda linger=linger: timed_command(
                    [PYTHON, str(HERE / "raw_replay.py"), shop.url, "1", str(out / "raw"), linger]
                ),
                pairs=pairs,
            )
            emit(report(name, "s", ours, theirs))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 9)
