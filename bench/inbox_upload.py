"""Upload latency of `collector inbox serve`: 1,000 uploads in a row, then 20 at once.

Not a timed test: it prints p50/p95/max per phase and checks that every upload was
stored (none lost, none twice). The server runs in this process on 127.0.0.1 with a
throwaway SQLite database; each bundle is a small real bundle zip (report.json +
scenario.yaml, ~2 kB) under its own reference, spread over three bugs so that the
grouping query runs as it does in use. Run: `.venv/bin/python bench/inbox_upload.py
[--sequential N] [--concurrent N]`.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sequential", type=int, default=1000)
    parser.add_argument("--concurrent", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, running(
        ServeOptions(bundles=Path(tmp) / "bundles", port=0, token=TOKEN)
    ) as inbox:
        made = [bundle(n) for n in range(args.sequential + args.concurrent)]
        sequential = [upload(inbox.url, ref, data) for ref, data in made[: args.sequential]]
        with ThreadPoolExecutor(args.concurrent) as pool:
            concurrent = list(pool.map(lambda m: upload(inbox.url, *m), made[args.sequential :]))
        statuses = {s for _, s in sequential + concurrent}
        counts = inbox.inbox.store.counts()
        rows = [summary("sequential", [t for t, _ in sequential]),
                summary("concurrent", [t for t, _ in concurrent])]  # fmt: skip
        for row in rows:
            print(f"{row['phase']:>10}: {row['uploads']} uploads, p50 {row['p50_ms']:.1f} ms, "
                  f"p95 {row['p95_ms']:.1f} ms, max {row['max_ms']:.1f} ms")  # fmt: skip
        print(f"stored: {counts['reports']} reports in {counts['issues']} issues; "
              f"answers: {sorted(statuses)}")
        print("INBOX " + json.dumps({"rows": rows, "stored": counts}))
        if statuses != {201} or counts["reports"] != len(made):
            sys.exit("uploads were lost or refused")


if __name__ == "__main__":
    main()
