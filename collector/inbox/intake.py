"""Receive one bundle zip as hostile input: read it, then store it, or write nothing.

The bytes go to a private temporary file beside the bundles (never under a name the
upload chose), are read with ``bundle_reader.open_bundle`` (limits, no links, no
traversal, the reference checked before it names anything), and only then moved to
``BUNDLES/<REF>/<REF>.zip`` and filed in the store. A refused upload leaves no file
and no row. Files are never extracted: the pages read members out of the stored zip.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from collector.assemble import failing_fingerprints
from collector.bundle_reader import MAX_MEMBER_BYTES, open_bundle
from collector.errors import BundleError
from collector.inbox.store import NewReport, Store, Stored
from collector.report import Report
from collector.text import utc_stamp

# A bundle's zip is under the attachment budget; a large margin still bounds the server.
MAX_UPLOAD_BYTES = 20_000_000
# The answer to an upload whose reference another upload is storing: try again later.
BUSY = 503


class Refused(BundleError):
    """An upload that is not stored; ``status`` is the HTTP answer it gets."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Received:
    report: Report
    stored: Stored



def receive(
    data: bytes,
    bundles: Path,
    store: Store,
    *,
    label: str = "upload",
    reference: str | None = None,
    received_at: str | None = None,
) -> Received:
    """Store the zip ``data`` (or refuse it: ``Refused``, nothing written)."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise Refused(f"{label}: larger than any bundle ({MAX_UPLOAD_BYTES:,} bytes)", 413)
    if not data.startswith(b"PK"):
        raise Refused(f"{label}: not a bundle zip", 400)
    bundles.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".upload-", suffix=".zip", dir=bundles)
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        try:
            opened = open_bundle(temp)
        except BundleError as exc:
            raise Refused(str(exc).replace(str(temp), label)) from None
        report = opened.report
        if reference is not None and reference != report.reference:
            raise Refused(
                f"{label}: the reference {reference[:40]!r} is not the bundle's "
                f"({report.reference})",
                400,
            )
        known = store.has_report(report.reference)
        if known is not None:
            return Received(report, Stored(report.reference, known, already=True))
        folder = bundles / report.reference
        folder.mkdir(exist_ok=True)
        target = folder / f"{report.reference}.zip"
        try:
            # Never over another upload's file: two uploads of one reference at once (a
            # retried submit, two servers on one store) would otherwise both write it, and
            # the one whose row came second would delete the file the first row names.
            os.link(temp, target)
        except FileExistsError:
            known = store.has_report(report.reference)
            if known is not None:
                return Received(report, Stored(report.reference, known, already=True))
            raise Refused(
                f"{label}: {report.reference} is being stored by another upload; "
                "send it again in a moment",
                BUSY,
            ) from None
        try:
            stored = store.add_report(describe(report, received_at or utc_stamp()))
        except BaseException:
            target.unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # another upload's file may be there by now
                folder.rmdir()
            raise
        return Received(report, stored)
    finally:
        temp.unlink(missing_ok=True)


def describe(report: Report, received: str) -> NewReport:
    """What the store keeps of a report: its issue key and what a search reads."""
    env = report.environment
    browser = " ".join(p for p in (env.browser, env.browser_version.split(".")[0]) if p)
    url = env.url or next((s.url for s in report.steps if s.url), None) or ""
    fingerprints = issue_order(report, failing_fingerprints(report))
    text = " ".join(
        [report.reference, report.title, report.outcome.message]
        + [g.message for g in report.errors]
        + [e.text[:500] for e in report.events[:200]]
    )
    return NewReport(
        reference=report.reference,
        title=_db_text(report.title),
        created=_db_text(report.created),
        received=received,
        url=_db_text(url),
        browser=_db_text(browser),
        outcome=report.outcome.status,
        fingerprints={_db_text(fp): _db_text(msg) for fp, msg in fingerprints.items()},
        search_text=_db_text(text.lower()[:100_000]),
    )


def _db_text(text: str) -> str:
    """Page text as a database keeps it: PostgreSQL's text holds no NUL."""
    return text.replace("\x00", "\ufffd")


def issue_order(report: Report, fingerprints: dict[str, str]) -> dict[str, str]:
    """``fingerprints`` with the one the ticket's subject names first (it decides the
    issue): the report's failing groups ranked as the ticket ranks them (an exception
    before the HTTP error it caused), then the rest in the report's order."""
    from collector.ticket import ranked_errors

    first = [g.fingerprint for g in ranked_errors([g for g in report.errors if g.fails])]
    order = [fp for fp in first if fp in fingerprints]
    order += [fp for fp in fingerprints if fp not in order]
    return {fp: fingerprints[fp] for fp in order}


# -- reading members of a stored zip ------------------------------------------------------


def zip_path(bundles: Path, reference: str) -> Path:
    """The stored zip of ``reference`` (a reference the store knows, so a safe name)."""
    return bundles / reference / f"{reference}.zip"


def members(bundles: Path, reference: str) -> dict[str, str]:
    """Member name within the bundle (``report.html``, ``screenshots/x.png``) -> zip entry."""
    found: dict[str, str] = {}
    with zipfile.ZipFile(zip_path(bundles, reference)) as zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            parts = PurePosixPath(info.filename).parts
            inside = parts[1:] if parts and parts[0] == reference else parts
            if inside:
                found.setdefault("/".join(inside), info.filename)
    return found


def read_member(bundles: Path, reference: str, name: str) -> bytes | None:
    """A file of the bundle, by its name in the bundle; None when the bundle has no such file."""
    entry = members(bundles, reference).get(name)
    if entry is None:
        return None
    with zipfile.ZipFile(zip_path(bundles, reference)) as zf, zf.open(entry) as member:
        return member.read(MAX_MEMBER_BYTES)
