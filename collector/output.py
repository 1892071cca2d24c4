"""What `repro` prints: a line per step as it ends, and a short summary."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from collector.check import PageResult
    from collector.report import StepRecord
    from collector.repro import Reproduction

MARKS = {"ok": "✓", "failed": "✗", "skipped": "-"}


class StepPrinter:
    """``on_step`` callback: one line per finished step."""

    def __init__(self, err: bool = True, lang: str = "en") -> None:
        self.stream: TextIO = sys.stderr if err else sys.stdout
        self.lang = lang

    def __call__(self, record: StepRecord, total: int) -> None:
        from collector.text import printable
        from collector.ticket import describe_step

        mark = MARKS.get(record.status, "?")
        line = f"  {mark} {record.index}/{total} {describe_step(record, self.lang)}"
        if record.status != "skipped" or record.error:
            line += f" ({record.duration_ms} ms)"
        if record.error:
            line += f"\n      {record.error}"
        print(printable(line), file=self.stream, flush=True)


def print_summary(done: Reproduction, err: bool = True) -> None:
    """The outcome, cause first, then what to do next: which fields to fill, where.

    The last line (printed by the caller, on stdout) is the zip's absolute path.
    """
    from collector.labels import LABELS, kind_label
    from collector.redact import Redactor
    from collector.text import printable

    stream = sys.stderr if err else sys.stdout
    result = done.result
    redact = Redactor(secrets=result.secrets).text
    options = done.options
    lang = options.lang if options else "en"
    mark = MARKS["ok"] if result.outcome.status == "clean" else MARKS["failed"]
    lines = [f"{mark} {printable(headline_of(done))}"]
    failing = result.failing_events
    if failing:
        by_kind: dict[str, int] = {}
        for e in failing:
            by_kind[e.kind] = by_kind.get(e.kind, 0) + e.count
        counts = ", ".join(f"{kind_label(lang, kind)} {n}" for kind, n in by_kind.items())
        lines.append(f"{LABELS[lang]['errors']}: {counts}")
    lines.append("")
    lines.extend(next_steps(done))
    for line in lines:
        print(redact(line), file=stream)


def headline_of(done: Reproduction) -> str:
    from collector.ticket import headline

    return headline(done.report, done.options.lang if done.options else "en")


def next_steps(done: Reproduction) -> list[str]:
    """What the person does next, said once: where, the three fields, the file to attach."""
    from collector.labels import LABELS
    from collector.text import printable
    from collector.ticket import build_context, human_size

    options = done.options
    lang = options.lang if options else "en"
    t = LABELS[lang]
    context = build_context(
        done.report,
        lang=lang,
        reason=options.reason if options else None,
        support_address=options.support_address if options else None,
        support_url=options.support_url if options else None,
    )
    lines = [f"{t['next_title']} ({t['reference']} {done.reference}):"]
    url, email = context.support_url, context.support_address
    if url and email:
        lines.append("  " + t["next_where_both"].format(url=url, email=email))
    elif url:
        lines.append("  " + t["next_where_url"].format(url=url))
    elif email:
        lines.append("  " + t["next_where_email"].format(email=email))
    ticket_md = (done.bundle / "ticket.md").resolve()
    zip_path = done.zip_path
    size = human_size(zip_path.stat().st_size) if zip_path.exists() else "?"
    lines += [
        "  " + t["next_reason"].format(reason=printable(context.reason_label)),
        "  " + t["next_subject"].format(subject=printable(context.subject)),
        "  " + t["next_details"].format(path=ticket_md),
        "  " + t["next_attach"].format(path=zip_path, size=size),
    ]
    return lines


def summary_json(done: Reproduction) -> dict[str, Any]:
    from collector.redact import Redactor

    result = done.result
    summary = {
        "reference": done.reference,
        "bundle": str(done.bundle.resolve()),
        "zip": str(done.zip_path),
        "outcome": result.outcome.model_dump(),
        "errors": sum(e.count for e in result.failing_events),
        "steps": [{"index": s.index, "status": s.status, "error": s.error} for s in result.steps],
    }
    redacted: dict[str, Any] = Redactor(secrets=result.secrets).data(summary)
    return redacted


class CheckProgress:
    """Progress of `collector check` on stderr.

    On a terminal, a one-line bar redrawn in place. Anywhere else (a CI log, a
    file) a bar is invisible until the end, so finished pages are printed as
    lines, flushed at once: one per page on small runs, and on big runs one
    every ``every`` pages or ``every_s`` seconds, whichever comes first.
    """

    def __init__(
        self,
        total: int,
        enabled: bool,
        *,
        terminal: bool = True,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
        every: int = 10,
        every_s: float = 10.0,
        page_lines_up_to: int = 50,
    ) -> None:
        self.total = total
        self.enabled = enabled
        self.terminal = terminal
        self.stream = stream
        self.clock = clock
        self.every = every
        self.every_s = every_s
        self.page_lines_up_to = page_lines_up_to
        self.done = 0
        self.failed = 0
        self._started = clock()
        self._last_line_at = self._started
        self._last_line_done = 0

    def page_done(self, page: PageResult) -> None:
        self.done += 1
        self.failed += int(page.failed)
        if not self.enabled:
            return
        if self.terminal:
            self._bar()
        elif self.total <= self.page_lines_up_to:
            self._line(self._page_line(page))
        else:
            now = self.clock()
            due = self.done - self._last_line_done >= self.every or now - self._last_line_at >= self.every_s
            if due or self.done == self.total:
                self._line(self._count_line(now))

    def finish(self) -> None:
        if self.enabled and self.terminal and self.done:
            print(file=self._stream())

    def _page_line(self, page: PageResult) -> str:
        from collector.text import printable

        mark = "FAIL" if page.failed else "ok"
        seconds = page.duration_ms / 1000
        return f"check: {self.done}/{self.total} {mark} {printable(page.target.name)} ({seconds:.1f}s)"

    def _count_line(self, now: float) -> str:
        return (
            f"check: {self.done}/{self.total} pages, {self.failed} failed, "
            f"{now - self._started:.0f}s"
        )

    def _line(self, text: str) -> None:
        self._last_line_at = self.clock()
        self._last_line_done = self.done
        print(text, file=self._stream(), flush=True)

    def _bar(self) -> None:
        width = 30
        filled = int(width * self.done / max(self.total, 1))
        bar = "#" * filled + "-" * (width - filled)
        print(
            f"\r[{bar}] {self.done}/{self.total} pages, {self.failed} failed",
            end="",
            file=self._stream(),
            flush=True,
        )

    def _stream(self) -> TextIO:
        # Looked up late: click's test runner and pytest's capture swap sys.stderr.
        return self.stream or sys.stderr
