"""Write a bundle from a ``Report`` and the files its run left in a workspace.

The writer only writes: the report comes assembled (``collector.assemble``);
screenshots are fitted by ``collector.shots``, the HAR and trace cleaned by
``collector.redact_files``, the texts rendered by ``collector.bundle_text``,
the zip planned under the budget by ``collector.zipplan``, and the finished
workspace renamed into place by ``collector.workspace``, so a bundle is either
complete or absent.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from collector.bundle_text import console_log, report_html, ticket_context, ticket_md
from collector.errors import OutputError
from collector.redact import Redactor
from collector.redact_files import redact_har, redact_trace
from collector.report import Attachment, Event, Report
from collector.runner import RunResult, Shot
from collector.shots import FittedShots, fit_screenshots, steps_with_shots
from collector.workspace import Workspace, discard_workspace, move_into_place
from collector.zipplan import ZipEntry, ZipPlan, pack_within_budget, packed_size

if TYPE_CHECKING:
    from collector.ticket import TicketContext

DEFAULT_MAX_ATTACHMENT_BYTES = 2_000_000
# Files that list the attachments, and so cannot hold their own size or checksum.
SELF_DESCRIBING = ("ticket.md", "report.json")


@dataclass(frozen=True)
class BundleOptions:
    """How to write the bundle: where, under which budget, in which language."""

    out_dir: Path = Path("reports")
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES
    lang: str = "en"
    reason: str | None = None
    template_dir: str | None = None
    redact_patterns: tuple[str, ...] = ()
    support_address: str | None = None
    support_url: str | None = None
    original_reference: str | None = None


@dataclass(frozen=True)
class Contents:
    """What a bundle holds besides the files already in its workspace."""

    report: Report
    scenario_yaml: str
    screenshots: list[Shot] = field(default_factory=list)  # files in the workspace
    secrets: list[str] = field(default_factory=list)  # values no file may contain


@dataclass(frozen=True)
class Written:
    """A bundle on disk, and the report it was written from (before redaction)."""

    path: Path
    report: Report


@dataclass
class _File:
    path: str  # relative to the bundle root
    role: str
    note: str | None = None


def write_run_bundle(result: RunResult, workspace: Workspace, options: BundleOptions) -> Written:
    """Assemble the report of ``result`` and write its bundle (what every front door does)."""
    from collector.assemble import report_from_run
    from collector.scenario import scenario_to_yaml

    report = report_from_run(
        result,
        workspace.reference,
        reason=options.reason,
        original_reference=options.original_reference,
    )
    contents = Contents(
        report=report,
        scenario_yaml=scenario_to_yaml(result.scenario, result.scenario_comments),
        screenshots=result.screenshots,
        secrets=result.secrets,
    )
    return Written(write_bundle(contents, workspace, options), report)


def write_bundle(contents: Contents, workspace: Workspace, options: BundleOptions) -> Path:
    """Redact, fit and package ``contents`` and the workspace's files; return the bundle folder.

    Nothing is left half-written: on any failure the workspace is removed. A disk
    that is full or read-only is an OutputError.
    """
    try:
        return _Writer(contents, workspace, options).write()
    except OSError as exc:
        discard_workspace(workspace)
        reason = exc.strerror or str(exc)
        raise OutputError(f"cannot write the bundle in {workspace.out_dir}: {reason}") from None
    except BaseException:
        discard_workspace(workspace)
        raise


class _Writer:
    def __init__(self, contents: Contents, workspace: Workspace, options: BundleOptions) -> None:
        self.contents = contents
        self.ws = workspace
        self.root = workspace.path
        self.options = options
        self.redactor = Redactor(secrets=contents.secrets, patterns=options.redact_patterns)

    def write(self) -> Path:
        report = self.contents.report
        fitted = fit_screenshots(self.contents.screenshots, self.root, self.options.max_attachment_bytes)
        report = report.model_copy(
            update={"steps": steps_with_shots(report.steps, fitted, self.root)}
        )
        # Bodies are redacted before any template sees them: once HTML-escaped, a
        # {"token": "…"} no longer looks like a JSON key to the redactor.
        report = report.model_copy(update={"events": self._redacted_bodies(report.events)})
        redact_har(self.root / "network.har", self.redactor)
        note = None
        try:
            dropped = redact_trace(
                self.root / "trace.zip", self.redactor, drop_screencast=bool(self.contents.secrets)
            )
        except (zipfile.BadZipFile, EOFError) as exc:
            # A browser that went away while writing its trace leaves part of a zip: it
            # cannot be redacted, so it is not sent (and the bundle is still written).
            (self.root / "trace.zip").unlink(missing_ok=True)
            note = f"trace.zip left out: not a whole zip ({exc}; the browser ended while writing it)"
        else:
            if dropped:
                note = f"trace: {dropped} screencast frames removed (a secret was typed)"
        if note:
            report = report.model_copy(update={"capture_problems": [*report.capture_problems, note]})
        self._write_text("console.log", console_log(report.events, report.steps, self.options.lang))
        self._write_text("scenario.yaml", self.contents.scenario_yaml)

        files = self._candidate_files(fitted)
        # A first listing with everything in: the plan then starts from real sizes.
        self._describe(report, files, ZipPlan(tuple(f.path for f in files)))
        pack_within_budget(
            self.root / f"{self.ws.reference}.zip",
            self.root,
            lambda: self._measure(files, report),
            self.options.max_attachment_bytes,
            lambda plan: self._describe(report, files, plan),
        )
        return move_into_place(self.ws)

    def _redacted_bodies(self, events: list[Event]) -> list[Event]:
        result = []
        for e in events:
            if e.response is not None and e.response.text:
                body = e.response.model_copy(update={"text": self.redactor.text(e.response.text)})
                e = e.model_copy(update={"response": body})
            result.append(e)
        return result

    def _write_text(self, name: str, text: str) -> None:
        (self.root / name).write_text(self.redactor.text(text), encoding="utf-8")

    def _write_report(self, report: Report) -> None:
        data = report.model_dump(mode="json", by_alias=True)
        data = self.redactor.data(data)
        data["redactions"] = dict(self.redactor.counts)
        text = json.dumps(data, indent=2, ensure_ascii=False)
        (self.root / "report.json").write_text(text, encoding="utf-8")

    def _candidate_files(self, fitted: FittedShots) -> list[_File]:
        """Every file the zip may hold, most important first."""
        failing = fitted.failing()
        files = [
            _File("ticket.md", "ticket"),
            _File("report.json", "report"),
            _File("console.log", "log"),
        ]
        if failing:
            files.append(_File(failing, "failing_screenshot"))
        files += [_File("scenario.yaml", "scenario"), _File("report.html", "html")]
        others = dict.fromkeys(rel for _shot, rel in fitted.kept if rel != failing)
        files += [_File(rel, "screenshot") for rel in others]
        for name, role in (("network.har", "har"), ("trace.zip", "trace")):
            if (self.root / name).exists():
                files.append(_File(name, role))
        for f in files:
            f.note = f.note or fitted.notes.get(f.path)
        return files

    def _measure(self, files: list[_File], report: Report) -> list[ZipEntry]:
        """Each candidate's size, and what it takes in the zip (estimated until written)."""
        entries = []
        for f in files:
            path = self.root / f.path
            if path.exists():
                entries.append(ZipEntry(f.path, path.stat().st_size, packed_size(path)))
            else:
                size = _estimate(report, f)
                entries.append(ZipEntry(f.path, size, size // 3))
        return entries

    def _describe(self, report: Report, files: list[_File], plan: ZipPlan) -> Report:
        """Write report.html, ticket.md and report.json for ``plan``; return the report."""
        options = self.options
        report = report.model_copy(update={"attachments": self._attachments(files, plan)})
        context = self._context(report)
        self._write_text("report.html", report_html(report, context, options.template_dir))
        # report.html exists now: the ticket and report.json list it with its real size.
        report = report.model_copy(update={"attachments": self._attachments(files, plan)})
        context = self._context(report)
        self._write_text("ticket.md", ticket_md(context, options.template_dir))
        report = report.model_copy(update={"attachments": self._attachments(files, plan)})
        self._write_report(report)
        return report

    def _context(self, report: Report) -> TicketContext:
        options = self.options
        return ticket_context(
            report,
            lang=options.lang,
            reason=options.reason,
            support_address=options.support_address,
            support_url=options.support_url,
        )

    def _attachments(self, files: list[_File], plan: ZipPlan) -> list[Attachment]:
        attachments = []
        members = set(plan.members)
        for f in files:
            path = self.root / f.path
            if not path.exists():
                continue
            note = plan.left_out.get(f.path) or f.note
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            if f.path in SELF_DESCRIBING:
                if f.path in members:
                    continue  # in the zip: its own size is known only once written
                # Left out: listed with its size as last written; it describes itself,
                # so no checksum of it can be inside it.
                digest = ""
            attachments.append(
                Attachment(
                    path=f.path,
                    bytes=len(data),
                    sha256=digest,
                    in_zip=f.path in members,
                    note=note,
                )
            )
        return attachments


def _estimate(report: Report, f: _File) -> int:
    if f.path == "report.json":
        return len(report.model_dump_json(by_alias=True, indent=2).encode())
    return 20_000
