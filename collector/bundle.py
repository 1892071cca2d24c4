"""Write a bundle: report.json, ticket, report.html, console.log, scenario, screenshots, zip.

The run writes into a hidden ``.<REF>.partial`` folder next to the final one;
this module redacts and fits everything there, builds the zip under the
attachment budget in priority order, and renames the folder into place, so a
bundle is either complete or absent.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from collector.errors import OutputError
from collector.fingerprint import group_errors
from collector.redact import Redactor
from collector.reference import new_reference
from collector.report import Attachment, Event, Report, StepRecord
from collector.runner import RunResult, Shot
from collector.scenario import scenario_to_yaml

if TYPE_CHECKING:
    from collector.ticket import TicketContext

DEFAULT_MAX_ATTACHMENT_BYTES = 2_000_000
# Per entry: local header + central directory entry + room for extra fields (names apart).
ZIP_ENTRY_OVERHEAD = 140
ZIP_END_BYTES = 22  # the end-of-central-directory record
ZIP_FULL_NOTE = "left out: the zip would exceed the attachment limit"
# Files that list the attachments, and so cannot hold their own size or checksum.
SELF_DESCRIBING = ("ticket.md", "report.json")
# Which of several identical screenshots keeps its file: the user's own first.
SHOT_PRIORITY = {"step": 0, "failed_step": 1, "first_error": 2, "final": 3}
TEXT_MEMBER_SUFFIXES = (".trace", ".network", ".json", ".html", ".txt", ".stacks", ".har", ".xml")
# `.<REF>.pid-<PID>@<HOST>.partial`: the owner is in the name, so the folder and
# its owner appear together (no window where a folder has no owner yet).
PARTIAL_NAME = re.compile(r"^\.(?P<ref>[^/]+)\.pid-(?P<pid>\d+)@(?P<host>[^/@]*)\.partial$")


@dataclass(frozen=True)
class BundleOptions:
    """How to write the bundle: where, under which budget, in which language."""

    out_dir: Path = Path("reports")
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES
    lang: str = "en"
    reason: str | None = None
    template_dir: str | None = None
    redact_patterns: tuple[str, ...] = ()
    support_email: str | None = None
    original_reference: str | None = None


@dataclass
class Workspace:
    """A reference number and the hidden folder the run writes into."""

    reference: str
    path: Path
    out_dir: Path
    name: str | None = None  # the bundle folder's name when not the reference

    @property
    def final_path(self) -> Path:
        return self.out_dir / (self.name or self.reference)


@dataclass
class _File:
    path: str  # relative to the bundle root
    role: str
    note: str | None = None


def new_workspace(out_dir: Path, name: str | None = None) -> Workspace:
    """Create ``out_dir/.<REF>.pid-<PID>@<HOST>.partial`` for a run to write into.

    ``name`` names the final folder instead of the reference (the pytest plugin
    uses the test id). Partial folders of runs that died (killed, power cut) are
    removed first. Raises OutputError when the folder cannot be made or written.
    """
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"--out {out_dir}: cannot create the folder: {exc.strerror}") from None
    if not out_dir.is_dir():
        raise OutputError(f"--out {out_dir}: not a folder")
    remove_orphans(out_dir)
    # Two processes (pytest-xdist workers) may draw the same reference in the same
    # tick, and each names its own partial folder: whoever sees a rival draws again.
    for _attempt in range(20):
        reference = new_reference(
            exists=lambda ref: (out_dir / ref).exists() or any(out_dir.glob(f".{ref}.*partial"))
        )
        path = out_dir / partial_name(reference)
        try:
            path.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputError(f"--out {out_dir}: cannot write there: {exc.strerror}") from None
        rivals = [p for p in out_dir.glob(f".{reference}.*partial") if p != path]
        if rivals or (out_dir / reference).exists():
            path.rmdir()
            continue
        return Workspace(reference, path, out_dir, name)
    raise OutputError(f"--out {out_dir}: could not create a unique bundle folder")


def partial_name(reference: str, pid: int | None = None, host: str | None = None) -> str:
    """The hidden name of a run's workspace, naming the process that owns it."""
    pid = os.getpid() if pid is None else pid
    host = socket.gethostname() if host is None else host
    return f".{reference}.pid-{pid}@{host.replace('/', '_').replace('@', '_')}.partial"


def remove_orphans(
    out_dir: Path,
    *,
    host: str | None = None,
    alive: Callable[[int], bool] | None = None,
) -> list[Path]:
    """Remove the partial folders whose owner process is gone; return them.

    Only folders of this machine are judged (a shared folder's other writers have
    their own process ids), and only ours by name: nothing else is ever removed.
    """
    host = socket.gethostname() if host is None else host
    alive = alive or _process_alive
    removed = []
    for entry in out_dir.iterdir():
        match = PARTIAL_NAME.match(entry.name)
        if match is None or match["host"] != host.replace("/", "_").replace("@", "_"):
            continue
        if entry.is_symlink() or not entry.is_dir() or alive(int(match["pid"])):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def discard_workspace(workspace: Workspace) -> None:
    """Remove our own temporary folder (never the user's output folder)."""
    if workspace.path.name.endswith(".partial"):
        shutil.rmtree(workspace.path, ignore_errors=True)


def warm_up_writer(template_dir: str | None = None) -> None:
    """Import and compile what writing a bundle needs (run in a thread while a run goes on)."""
    from collector import images  # noqa: F401 - Pillow is the slow part of this import
    from collector.ticket import environment

    env = environment(template_dir)
    for name in ("report.html.j2", "report_event.html.j2", "ticket.md.j2", "ticket.txt.j2"):
        env.get_template(name)


def write_bundle(result: RunResult, workspace: Workspace, options: BundleOptions) -> Path:
    """Redact, fit and package what the run left in ``workspace``; return the bundle folder.

    Nothing is left half-written: on any failure the workspace is removed. A disk
    that is full or read-only is an OutputError.
    """
    try:
        return _Writer(result, workspace, options).write()
    except OSError as exc:
        discard_workspace(workspace)
        reason = exc.strerror or str(exc)
        raise OutputError(f"cannot write the bundle in {workspace.out_dir}: {reason}") from None
    except BaseException:
        discard_workspace(workspace)
        raise


class _Writer:
    def __init__(self, result: RunResult, workspace: Workspace, options: BundleOptions) -> None:
        self.result = result
        self.ws = workspace
        self.root = workspace.path
        self.options = options
        self.budget = options.max_attachment_bytes
        self.redactor = Redactor(secrets=result.secrets, patterns=options.redact_patterns)
        self.notes: dict[str, str] = {}

    def _context(self, report: Report) -> TicketContext:
        from collector.ticket import build_context

        return build_context(
            report,
            lang=self.options.lang,
            reason=self.options.reason,
            support_email=self.options.support_email,
        )

    def write(self) -> Path:
        shots = self._fit_screenshots()
        steps = self._steps_with_shots(shots)
        events = self.result.events
        self._redact_har()
        self._redact_trace()
        self._write_text("console.log", console_log(events, steps))
        self._write_text("scenario.yaml", scenario_to_yaml(self.result.scenario, self.result.scenario_comments))
        report = self._report(steps, events)

        failing_shot = self._failing_shot(shots)
        files = self._candidate_files(shots, failing_shot)
        # A first listing with everything in: the plan then starts from real sizes.
        self._describe(report, files, ZipPlan(tuple(f.path for f in files)))
        pack_within_budget(
            self.root / f"{self.ws.reference}.zip",
            self.root,
            lambda: self._measure(files, report),
            self.budget,
            lambda plan: self._describe(report, files, plan),
        )
        final = self.ws.final_path
        if final.exists() and (final / "report.json").is_file():
            # An earlier bundle of the same test: ours to replace (never other folders).
            shutil.rmtree(final)
        self.root.rename(final)
        return final

    # -- pieces ------------------------------------------------------------------

    def _write_text(self, name: str, text: str) -> None:
        (self.root / name).write_text(self.redactor.text(text), encoding="utf-8")

    def _write_report(self, report: Report) -> None:
        data = report.model_dump(mode="json", by_alias=True)
        data = self.redactor.data(data)
        data["redactions"] = dict(self.redactor.counts)
        text = json.dumps(data, indent=2, ensure_ascii=False)
        (self.root / "report.json").write_text(text, encoding="utf-8")

    def _report(self, steps: list[StepRecord], events: list[Event]) -> Report:
        result = self.result
        scenario = result.scenario
        # The browser's own "Failed to load resource" repeats a network event: not an error twice.
        errors = group_errors(
            [e for e in events if e.fails or (e.level == "error" and not e.native)]
        )
        return Report(
            reference=self.ws.reference,
            title=scenario.name or "",
            scenario_name=scenario.name,
            created=result.started.isoformat(timespec="seconds").replace("+00:00", "Z"),
            duration_ms=result.duration_ms,
            outcome=result.outcome,
            steps=steps,
            events=events,
            totals=result.totals,
            dropped=result.dropped,
            errors=errors,
            environment=result.environment,
            capture_problems=result.problems,
            reason=self.options.reason or scenario.reason,
            expected=scenario.expected,
            original_reference=self.options.original_reference,
        )

    def _fit_screenshots(self) -> list[tuple[Shot, str]]:
        """Fit every screenshot into the budget; return (shot, path in bundle).

        Identical screenshots of one step (its error, its screenshot step and the
        final state are often the same picture) are kept once; the user's own
        screenshot steps keep their names. A picture is never shared across steps:
        a file named for step 6 must not be shown as what step 5 looked like.
        """
        from collector.images import fit_image

        keep_first = sorted(self.result.screenshots, key=lambda s: SHOT_PRIORITY.get(s.role, 9))
        by_digest: dict[tuple[str, int | None], str] = {}
        kept: dict[int, str] = {}
        for shot in keep_first:
            if not shot.path.exists():
                continue
            data = shot.path.read_bytes()
            digest = (hashlib.sha256(data).hexdigest(), shot.step)
            if digest in by_digest:
                shot.path.unlink()
                kept[id(shot)] = by_digest[digest]
                continue
            try:
                image = fit_image(data, self.budget)
            except ValueError as exc:
                # An unreadable screenshot must not cost the bundle; keep the file as it is.
                self.notes[_rel(shot.path, self.root)] = f"could not be fitted: {exc}"
                by_digest[digest] = kept[id(shot)] = _rel(shot.path, self.root)
                continue
            path = shot.path
            if image.data != data:
                suffix = "jpg" if image.format == "jpeg" else image.format
                path = shot.path.with_suffix(f".{suffix}")
                if path != shot.path:
                    shot.path.unlink()
                path.write_bytes(image.data)
                self.notes[_rel(path, self.root)] = image.note
            by_digest[digest] = kept[id(shot)] = _rel(path, self.root)
        return [(s, kept[id(s)]) for s in self.result.screenshots if id(s) in kept]

    def _steps_with_shots(self, shots: list[tuple[Shot, str]]) -> list[StepRecord]:
        renamed = {f"screenshots/{shot.path.name}": rel for shot, rel in shots}
        steps = []
        for step in self.result.steps:
            if step.screenshot and step.screenshot in renamed:
                step = step.model_copy(update={"screenshot": renamed[step.screenshot]})
            elif step.screenshot and not (self.root / step.screenshot).exists():
                step = step.model_copy(update={"screenshot": None})
            steps.append(step)
        # The final screenshot belongs to the last step that ran, when it has none.
        for shot, rel in shots:
            if shot.role == "final" and shot.step:
                for i, step in enumerate(steps):
                    if step.index == shot.step and not step.screenshot:
                        steps[i] = step.model_copy(update={"screenshot": rel})
        return steps

    def _failing_shot(self, shots: list[tuple[Shot, str]]) -> str | None:
        for role in ("failed_step", "first_error", "final"):
            for shot, rel in shots:
                if shot.role == role:
                    return rel
        return shots[0][1] if shots else None

    def _redact_har(self) -> None:
        har = self.root / "network.har"
        if not har.exists():
            return
        try:
            data = json.loads(har.read_text(encoding="utf-8", errors="replace"))
        except json.JSONDecodeError:
            har.write_bytes(self.redactor.bytes(har.read_bytes()))
            return
        har.write_text(json.dumps(self.redactor.data(data), indent=1), encoding="utf-8")

    def _redact_trace(self) -> None:
        trace = self.root / "trace.zip"
        if not trace.exists():
            return
        # Screencast frames are pictures of the page that nothing masked: when the run
        # typed a secret (a password field learned mid-run), they go.
        frames = screencast_frames(trace) if self.result.secrets else set()
        cleaned = trace.with_suffix(".clean")
        with zipfile.ZipFile(trace) as src, zipfile.ZipFile(
            cleaned, "w", zipfile.ZIP_DEFLATED
        ) as dst:
            for info in src.infolist():
                if info.filename in frames:
                    continue
                data = src.read(info)
                if frames and info.filename.endswith(".trace"):
                    data = _without_screencast_events(data)
                if info.filename.endswith(TEXT_MEMBER_SUFFIXES) or "." not in info.filename:
                    data = self.redactor.bytes(data)
                dst.writestr(info.filename, data)
        cleaned.replace(trace)
        if frames:
            self.result.problems.append(
                f"trace: {len(frames)} screencast frames removed (a secret was typed)"
            )

    def _candidate_files(self, shots: list[tuple[Shot, str]], failing: str | None) -> list[_File]:
        files = [
            _File("ticket.md", "ticket"),
            _File("report.json", "report"),
            _File("console.log", "log"),
        ]
        if failing:
            files.append(_File(failing, "failing_screenshot"))
        files += [_File("scenario.yaml", "scenario"), _File("report.html", "html")]
        others = dict.fromkeys(rel for _shot, rel in shots if rel != failing)
        files += [_File(rel, "screenshot") for rel in others]
        for name, role in (("network.har", "har"), ("trace.zip", "trace")):
            if (self.root / name).exists():
                files.append(_File(name, role))
        for f in files:
            f.note = f.note or self.notes.get(f.path)
        return files

    def _measure(self, files: list[_File], report: Report) -> list[ZipEntry]:
        """Each candidate's size, and what it takes in the zip (estimated until written)."""
        entries = []
        for f in files:
            path = self.root / f.path
            if path.exists():
                entries.append(ZipEntry(f.path, path.stat().st_size, _packed_size(path)))
            else:
                size = _estimate(report, f)
                entries.append(ZipEntry(f.path, size, size // 3))
        return entries

    def _describe(self, report: Report, files: list[_File], plan: ZipPlan) -> Report:
        """Write report.html, ticket.md and report.json for ``plan``; return the report."""
        from collector.ticket import render, render_ticket

        report = report.model_copy(update={"attachments": self._attachments(files, plan)})
        context = self._context(report)
        html = render(
            "report.html.j2",
            self.options.template_dir,
            report=report,
            ticket=context,
            t=context.t,
            events_by_step=_events_by_step(report.events, report.steps),
        )
        self._write_text("report.html", html)
        # report.html exists now: the ticket and report.json list it with its real size.
        report = report.model_copy(update={"attachments": self._attachments(files, plan)})
        ticket = render_ticket(self._context(report), "md", self.options.template_dir)
        self._write_text("ticket.md", ticket)
        report = report.model_copy(update={"attachments": self._attachments(files, plan)})
        self._write_report(report)
        return report

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


@dataclass(frozen=True)
class ZipEntry:
    """A file that may go into the zip: its size, and the bytes it takes compressed."""

    path: str
    size: int
    packed: int


@dataclass(frozen=True)
class ZipPlan:
    """What goes into the zip (in priority order), and why each other file stays out."""

    members: tuple[str, ...]
    left_out: dict[str, str] = field(default_factory=dict)


def pack_within_budget(
    zip_path: Path,
    root: Path,
    measure: Callable[[], list[ZipEntry]],
    budget: int,
    describe: Callable[[ZipPlan], object] = lambda _plan: None,
) -> ZipPlan:
    """Write ``zip_path`` from files of ``root`` so that it and each member fit ``budget``.

    ``measure`` gives the candidates, most important first; ``describe(plan)``
    writes the files that list the attachments (their sizes depend on the plan).
    Plan, describe, write, then check what was written: whatever is still over
    (an estimate was off, a listing grew) is left out and the round repeats. Each
    round leaves out one more file, so this ends, at worst with an empty zip:
    never an oversize one, never an error.
    """
    leave_out: dict[str, str] = {}
    while True:
        plan = plan_zip(measure(), budget, leave_out=leave_out)
        describe(plan)
        _write_zip(zip_path, root, plan.members)
        written = {path: (root / path).stat().st_size for path in plan.members}
        over = next_to_leave_out(plan, zip_path.stat().st_size, written, budget)
        if over is None:
            return plan
        leave_out[over[0]] = over[1]


def plan_zip(
    entries: Iterable[ZipEntry], budget: int, *, leave_out: dict[str, str] | None = None
) -> ZipPlan:
    """Greedy in priority order: a file goes in when it and the zip so far fit the budget.

    ``entries`` come most important first. ``leave_out`` maps files that must stay
    out (a written zip showed they do not fit) to the reason given for them.
    """
    leave_out = leave_out or {}
    members: list[str] = []
    left: dict[str, str] = {}
    used = ZIP_END_BYTES
    for entry in entries:
        if entry.path in leave_out:
            left[entry.path] = leave_out[entry.path]
            continue
        if entry.size > budget:
            left[entry.path] = over_limit_note(entry.size, budget)
            continue
        cost = entry.packed + zip_entry_overhead(entry.path)
        if used + cost <= budget:
            members.append(entry.path)
            used += cost
        else:
            left[entry.path] = ZIP_FULL_NOTE
    return ZipPlan(tuple(members), left)


def next_to_leave_out(
    plan: ZipPlan, zip_bytes: int, member_bytes: dict[str, int], budget: int
) -> tuple[str, str] | None:
    """Check a written zip: None when it and every member fit, else what to leave out next.

    A member over the limit by itself goes first; else, when only the zip is over,
    the least important member.
    """
    for path in plan.members:
        if member_bytes[path] > budget:
            return path, over_limit_note(member_bytes[path], budget)
    if zip_bytes > budget and plan.members:
        return plan.members[-1], ZIP_FULL_NOTE
    return None


def over_limit_note(size: int, budget: int) -> str:
    return f"left out: {size:,} bytes is over the {budget:,}-byte attachment limit"


def zip_entry_overhead(path: str) -> int:
    # Local header (30) and central directory entry (46) both repeat the name; the
    # rest is room for extra fields (zip64, timestamps).
    return ZIP_ENTRY_OVERHEAD + 2 * len(path.encode("utf-8"))


def console_log(events: Iterable[Event], steps: list[StepRecord]) -> str:
    """One event a line: time, step, level, kind, source, location, text (escaped)."""
    from collector.text import printable

    lines = []
    for e in events:
        step = f"step {e.step}" if e.step is not None else "before steps"
        where = e.url or ""
        if where and e.line:
            where += f":{e.line}" + (f":{e.column}" if e.column else "")
        count = f" (×{e.count})" if e.count > 1 else ""
        flag = " [fails]" if e.fails else ""
        text = printable(e.text).replace("\n", "\n    ")
        head = f"+{e.time_ms / 1000:7.3f}s  {step:<12} {e.level.upper():<7} {e.kind:<14}"
        lines.append(f"{head} {e.source or '-':<16} {where or '-'}{count}{flag}\n    {text}")
        if e.stack and e.kind == "page_error":
            lines.extend("      " + printable(s.strip()) for s in e.stack.splitlines()[1:13])
    if not lines:
        lines.append("(no events captured)")
    header = f"# {len(steps)} steps; times are seconds since the run started\n"
    return header + "\n".join(lines) + "\n"


def _events_by_step(events: list[Event], steps: list[StepRecord]) -> dict[Any, list[Event]]:
    grouped: dict[Any, list[Event]] = {None: []}
    for s in steps:
        grouped[s.index] = []
    for e in events:
        grouped.setdefault(e.step, []).append(e)
    return grouped


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


def _estimate(report: Report, f: _File) -> int:
    if f.path == "report.json":
        return len(report.model_dump_json(by_alias=True, indent=2).encode())
    return 20_000


def _packed_size(path: Path) -> int:
    data = path.read_bytes()
    if path.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp", ".zip"):
        return len(data)
    return len(zlib.compress(data, 6))


def _write_zip(zip_path: Path, root: Path, members: Iterable[str]) -> None:
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in members:
            path = root / name
            if not path.exists():
                continue
            stored = path.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp", ".zip")
            zf.write(path, name, zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()
