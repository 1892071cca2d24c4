"""``collector symbolicate``: re-resolve a received bundle's stacks through local source maps.

For maps the support agent has but the page did not serve: the bundle is read
with the hostile-input reader (``collector.bundle_reader``), every frame of its
exceptions and console errors is looked up in ``--source-maps DIR`` (no network:
a stranger's bundle names URLs the agent's machine should not be sent to), and a
new report folder is written next to the others — report.json, ticket.md,
report.html, console.log — with the fingerprints recomputed from the original
frames. The bundle itself is never written to.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from collector.assemble import error_groups
from collector.bundle_reader import open_bundle
from collector.capture.maps import MapLimits, SourceMaps
from collector.errors import OutputError
from collector.redact import Redactor
from collector.report import Report
from collector.sourcemaps import symbolicate
from collector.stacks import event_frames, script_urls


@dataclass(frozen=True)
class Symbolicated:
    path: Path
    report: Report
    frames: int
    resolved: int
    notes: list[str]


def symbolicate_report(report: Report, maps_dir: Path) -> tuple[Report, list[str]]:
    """``report`` with its frames resolved through the maps in ``maps_dir``; the notes."""
    maps = SourceMaps(None, maps_dir, MapLimits())

    async def load() -> None:
        maps.want(script_urls(f for e in report.events for f in event_frames(e)))
        await maps.finish()

    asyncio.run(load())
    events = symbolicate(report.events, maps.loaded())
    notes = list(maps.notes)
    problems = [*report.capture_problems, *(n for n in notes if n not in report.capture_problems)]
    return (
        report.model_copy(
            update={"events": events, "errors": error_groups(events), "capture_problems": problems}
        ),
        notes,
    )


def symbolicate_bundle(
    bundle: Path,
    maps_dir: Path,
    out_dir: Path,
    *,
    lang: str,
    reason: str | None,
    support_address: str | None,
    support_url: str | None,
    template_dir: str | None,
    redact_patterns: tuple[str, ...] = (),
) -> Symbolicated:
    """Write ``out_dir/<REF>-symbolicated`` (``-2``, ``-3`` … when taken); return it."""
    from collector.bundle_text import console_log, report_html, ticket_context, ticket_md

    received = open_bundle(bundle)
    report, notes = symbolicate_report(received.report, maps_dir)
    frames = [f for e in report.events for f in e.frames]
    redactor = Redactor(patterns=redact_patterns)
    context = ticket_context(
        report,
        lang=lang,
        reason=reason or report.reason,
        support_address=support_address,
        support_url=support_url,
    )
    texts = {
        "report.json": json.dumps(
            redactor.data(report.model_dump(mode="json", by_alias=True)),
            indent=2,
            ensure_ascii=False,
        ),
        "ticket.md": ticket_md(context, template_dir),
        "report.html": report_html(report, context, template_dir),
        "console.log": console_log(report.events, report.steps, lang),
    }
    # The pictures report.html links to, as the bundle has them (already masked there).
    pictures = received.screenshots()
    path = _write_folder(
        out_dir, f"{report.reference}-symbolicated", texts, redactor, pictures
    )
    return Symbolicated(
        path, report, len(frames), sum(f.original is not None for f in frames), notes
    )


def _write_folder(
    out_dir: Path,
    name: str,
    texts: dict[str, str],
    redactor: Redactor,
    pictures: dict[str, bytes],
) -> Path:
    """Write ``texts`` into a new folder, whole or not at all (a hidden one, then renamed)."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for n in range(1, 1000):
            final = out_dir / (name if n == 1 else f"{name}-{n}")
            if not final.exists():
                break
        partial = out_dir / f".{final.name}.pid-{os.getpid()}.partial"
        partial.mkdir()
        try:
            for file, text in texts.items():
                (partial / file).write_text(redactor.text(text), encoding="utf-8")
            for picture, data in pictures.items():  # names checked by the bundle reader
                (partial / picture).parent.mkdir(exist_ok=True)
                (partial / picture).write_bytes(data)
            partial.rename(final)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
    except OSError as exc:
        raise OutputError(f"--out {out_dir}: cannot write there: {exc.strerror or exc}") from None
    return final
