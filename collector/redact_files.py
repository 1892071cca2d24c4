"""Redaction of the binary-ish files a run recorded: the HAR and the Playwright trace.

Texts the bundle writer renders itself go through the redactor as they are
written; these two files were written by Playwright and are cleaned in place.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from collector.redact import Redactor

TEXT_MEMBER_SUFFIXES = (".trace", ".network", ".json", ".html", ".txt", ".stacks", ".har", ".xml")


def redact_har(har: Path, redactor: Redactor) -> None:
    """Redact ``network.har`` in place (as bytes when it is not valid JSON)."""
    if not har.exists():
        return
    try:
        data = json.loads(har.read_text(encoding="utf-8", errors="replace"))
    except json.JSONDecodeError:
        har.write_bytes(redactor.bytes(har.read_bytes()))
        return
    har.write_text(json.dumps(redactor.data(data), indent=1), encoding="utf-8")


def redact_trace(trace: Path, redactor: Redactor, *, drop_screencast: bool) -> int:
    """Redact ``trace.zip`` in place; return how many screencast frames were removed.

    Screencast frames are pictures of the page that nothing masked: when the run
    typed a secret (a password field learned mid-run) the caller drops them.
    """
    if not trace.exists():
        return 0
    frames = screencast_frames(trace) if drop_screencast else set()
    cleaned = trace.with_suffix(".clean")
    with zipfile.ZipFile(trace) as src, zipfile.ZipFile(cleaned, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename in frames:
                continue
            data = src.read(info)
            if frames and info.filename.endswith(".trace"):
                data = _without_screencast_events(data)
            if info.filename.endswith(TEXT_MEMBER_SUFFIXES) or "." not in info.filename:
                data = redactor.bytes(data)
            dst.writestr(info.filename, data)
    cleaned.replace(trace)
    return len(frames)


def screencast_frames(trace: Path) -> set[str]:
    """Members of a Playwright trace.zip that are screencast pictures."""
    names: set[str] = set()
    with zipfile.ZipFile(trace) as zf:
        members = set(zf.namelist())
        for name in members:
            if not name.endswith(".trace"):
                continue
            for line in zf.read(name).splitlines():
                if b'"screencast-frame"' not in line:
                    continue
                event = json.loads(line)
                for key, prefix in (("file", ""), ("sha1", "resources/")):
                    if isinstance(event.get(key), str) and prefix + event[key] in members:
                        names.add(prefix + event[key])
    return names


def _without_screencast_events(data: bytes) -> bytes:
    lines = data.splitlines(keepends=True)
    return b"".join(line for line in lines if b'"type":"screencast-frame"' not in line)
