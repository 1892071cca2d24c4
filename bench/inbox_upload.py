"""Upload latency of `collector inbox serve`: 1,000 uploads in a row, then 20 at once.

Not a timed test: it prints p50/p95/max per phase and checks that every upload was
stored (none lost, none twice). The floor is a bare HTTP server of the standard
library that writes each upload's body to a file and answers 201, with no checks,
no database and no grouping: what receiving a file costs at all. The server runs in this process on 127.0.0.1 with a
throwaway SQLite database; each bundle is a small real bundle zip (report.json +
scenario.yaml, ~2 kB) under its own reference, spread over three bugs so that the
grouping query runs as it does in use. Run: `.venv/bin/python bench/inbox_upload.py
[--sequential N] [--concurrent N]`.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

sys.path.insert(0, str(Path(__file__).parent))
from common import emit

from collector.inbox.serve import ServeOptions, running
from collector.report import ErrorGroup, Outcome, Report, StepRecord
from collector.transports import multipart

TOKEN = "bench-token"


def bundle(n: int) -> tuple[str, bytes]:
    reference = f"CR-20261201-B{n:05d}"
    bug = n % 3
    report = Report(
        reference=reference,
        title=f"Bench bundle {n}",
        created=f"2026-12-01T10:{n % 60:02d}:{n % 60:02d}Z",
        outcome=Outcome(status="errors", message="1 error captured"),
        steps=[StepRecord(index=1, action="goto", target="/", status="ok")],
        errors=[ErrorGroup(fingerprint=f"bench-bug-{bug}", kind="page_error",
                           message=f"TypeError: bug {bug}", count=1, first_step=1)],
    )  # fmt: skip
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("report.json", report.to_json())
        zf.writestr("scenario.yaml", "steps:\n  - goto: /\n")
    return reference, out.getvalue()


def upload(url: str, reference: str, data: bytes) -> tuple[float, int]:
    body, kind = multipart({"reference": reference}, f"{reference}.zip", data)
    request = urllib.request.Request(
        f"{url}/api/bundles", body, method="POST",
        headers={"Content-Type": kind, "Authorization": f"Bearer {TOKEN}",
                 "X-Collector-Reference": reference},
    )  # fmt: skip
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            status = answer.status
            answer.read()
    except urllib.error.HTTPError as exc:
        status = exc.code
    return time.perf_counter() - started, status


def summary(name: str, times: list[float]) -> dict[str, float | str | int]:
    ordered = sorted(times)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return {"phase": name, "uploads": len(times), "p50_ms": statistics.median(ordered) * 1000,
            "p95_ms": p95 * 1000, "max_ms": ordered[-1] * 1000}  # fmt: skip


class _Store(BaseHTTPRequestHandler):
    """The floor: take the body, write it to a file, answer 201."""

    folder: Path

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        (self.folder / f"{self.headers['X-Collector-Reference']}.upload").write_bytes(body)
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


@contextmanager
def bare_server(folder: Path) -> Iterator[str]:
    handler = type("Store", (_Store,), {"folder": folder})
    # The standard backlog of 5 makes the 20 concurrent connections wait a second for a
    # SYN retry: the floor would measure that, not receiving a file.
    server_class = type("Server", (ThreadingHTTPServer,), {"request_queue_size": 128})
    server = server_class(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def phases(url: str, made: list[tuple[str, bytes]], sequential: int, concurrent: int) -> tuple[
    list[tuple[float, int]], list[tuple[float, int]]
]:
    first = [upload(url, ref, data) for ref, data in made[:sequential]]
    with ThreadPoolExecutor(concurrent) as pool:
        second = list(pool.map(lambda m: upload(url, *m), made[sequential:]))
    return first, second


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sequential", type=int, default=1000)
    parser.add_argument("--concurrent", type=int, default=20)
    args = parser.parse_args()
    made = [bundle(n) for n in range(args.sequential + args.concurrent)]
    with tempfile.TemporaryDirectory() as tmp:
        with bare_server(Path(tmp)) as url:
            bare = phases(url, made, args.sequential, args.concurrent)
        with running(ServeOptions(bundles=Path(tmp) / "bundles", port=0, token=TOKEN)) as inbox:
            sequential, concurrent = phases(inbox.url, made, args.sequential, args.concurrent)
            counts = inbox.inbox.store.counts()
    statuses = {s for _, s in sequential + concurrent}
    rows = [summary("sequential", [t for t, _ in sequential]),
            summary("concurrent", [t for t, _ in concurrent])]  # fmt: skip
    floors = [summary("sequential", [t for t, _ in bare[0]]),
              summary("concurrent", [t for t, _ in bare[1]])]  # fmt: skip
    for row, floor in zip(rows, floors, strict=True):
        print(f"{row['phase']:>10}: {row['uploads']} uploads, p50 {row['p50_ms']:.1f} ms, "
              f"p95 {row['p95_ms']:.1f} ms, max {row['max_ms']:.1f} ms "
              f"(bare server: p50 {floor['p50_ms']:.1f} ms, p95 {floor['p95_ms']:.1f} ms)")  # fmt: skip
        for stat in ("p50_ms", "p95_ms"):
            emit({"benchmark": f"inbox upload {row['phase']} {stat[:3]}", "unit": "ms",
                  "collector": row[stat], "raw": floor[stat], "ratio": row[stat] / floor[stat],
                  "lower_is_better": True, "samples": row["uploads"]})  # fmt: skip
    print(f"stored: {counts['reports']} reports in {counts['issues']} issues; "
          f"answers: {sorted(statuses)}")
    if statuses != {201} or counts["reports"] != len(made):
        sys.exit("uploads were lost or refused")


if __name__ == "__main__":
    main()
