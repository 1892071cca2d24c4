"""collector check on 200 URLs of which half never answer, vs. raw Playwright, in seconds.

The hanging half comes from a server that accepts every connection and never sends
a byte. With --timeout 3000 and the default linger, each hanging page must cost at
most timeout + linger; the raw floor pays the timeout and closes the context.
"""

import socket
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import PYTHON, alternate, emit, report, serve, timed_command

PAGES = 200
TIMEOUT_MS = "3000"
LINGER = "2"
CONCURRENCY = "8"


def hold_forever() -> str:
    """A server that accepts connections and never answers; returns its base URL."""
    sock = socket.create_server(("127.0.0.1", 0), backlog=512)
    held = []

    def accept() -> None:
        while True:
            conn, _ = sock.accept()
            held.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    return f"http://127.0.0.1:{sock.getsockname()[1]}/"


def main(pairs: int = 2) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "ok.html").write_text(
            "<!doctype html><title>ok</title><link rel=icon href='data:,'><h1>ok</h1>"
        )
        hanging = hold_forever()
        with serve(folder) as base:
            urls = [f"{hanging}page-{i}" if i % 2 else f"{base}ok.html?n={i}" for i in range(PAGES)]
            (folder / "urls.txt").write_text("\n".join(urls) + "\n")
            ours, theirs = alternate(
                lambda: timed_command(
                    [PYTHON, "-m", "collector", "check", "--urls-file", str(folder / "urls.txt"),
                     "--timeout", TIMEOUT_MS, "--linger", LINGER, "--concurrency", CONCURRENCY,
                     "--quiet"]
                ),
                lambda: timed_command(
                    [PYTHON, str(Path(__file__).parent / "raw_check.py"), CONCURRENCY, LINGER, *urls],
                    env={"RAW_TIMEOUT_MS": TIMEOUT_MS},
                ),
                pairs=pairs,
                warmup=0,
            )
    emit(report("check_hanging", "s", ours, theirs))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
