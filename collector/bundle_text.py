"""The texts a bundle renders from its report: report.html, ticket.md and console.log.

One place that knows which templates make a bundle and what they are given;
the writer only redacts and writes what comes out.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from collector.report import Event, Report, StepRecord
from collector.stacks import readable_stack

if TYPE_CHECKING:
    from collector.ticket import TicketContext

BUNDLE_TEMPLATES = ("report.html.j2", "report_event.html.j2", "ticket.md.j2", "ticket.txt.j2")


def ticket_context(
    report: Report,
    *,
    lang: str,
    reason: str | None,
    support_address: str | None,
    support_url: str | None = None,
) -> TicketContext:
    from collector.ticket import build_context

    return build_context(
        report,
        lang=lang,
        reason=reason,
        support_address=support_address,
        support_url=support_url,
    )


def report_html(report: Report, context: TicketContext, template_dir: str | None) -> str:
    from collector.ticket import render

    return render(
        "report.html.j2",
        template_dir,
        report=report,
        ticket=context,
        t=context.t,
        events_by_step=events_by_step(report.events, report.steps),
    )


def ticket_md(context: TicketContext, template_dir: str | None) -> str:
    from collector.ticket import render_ticket

    return render_ticket(context, "md", template_dir)


def import_writer() -> None:
    """Import what writing a bundle needs (run in a thread while a browser starts): the
    report's assembly (its fingerprint patterns), Pillow and its image formats, Jinja2.
    Nothing here reads the user's files, so nothing here can fail on them."""
    from PIL import Image

    import collector.assemble
    import collector.ticket  # noqa: F401

    Image.preinit()  # the PNG and JPEG plugins, which the first Image.open would import


def warm_up(template_dir: str | None = None) -> None:
    """``import_writer``, and compile the bundle's templates (``template_dir``'s first)."""
    from collector.ticket import environment

    import_writer()
    env = environment(template_dir)
    for name in BUNDLE_TEMPLATES:
        env.get_template(name)


def console_log(events: Iterable[Event], steps: list[StepRecord], lang: str = "en") -> str:
    """One event a line: time, step, level, kind, source, location, text (escaped).

    Every word (headers, step, level, kind, source) is in ``lang``.
    """
    from collector.labels import LABELS, kind_label, level_label, plural, source_label
    from collector.text import printable

    t = LABELS[lang]
    lines = []
    for e in events:
        step = t["log_step"].format(step=e.step) if e.step is not None else t["log_before"]
        where = e.url or ""
        if where and e.line:
            where += f":{e.line}" + (f":{e.column}" if e.column else "")
        count = f" (×{e.count})" if e.count > 1 else ""
        flag = f" [{t['fails']}]" if e.fails else ""
        text = printable(e.text).replace("\n", "\n    ")
        level = level_label(lang, e.level).upper()
        source = source_label(lang, e.source) if e.source else "-"
        head = f"+{e.time_ms / 1000:7.3f}s  {step:<12} {level:<7} {kind_label(lang, e.kind):<19}"
        lines.append(f"{head} {source:<16} {where or '-'}{count}{flag}\n    {text}")
        shown = (
            readable_stack(e.stack, e.frames, t["stack_generated"])
            if e.kind in ("page_error", "console")
            else None
        )
        if shown and shown != e.stack:
            # Through source maps: the original frames and source lines, then the generated.
            body = shown.splitlines()[1:] if e.stack else shown.splitlines()
            lines.extend(("      " + printable(s)).rstrip() for s in body)
        elif e.stack and e.kind == "page_error":
            lines.extend("      " + printable(s.strip()) for s in e.stack.splitlines()[1:13])
    if not lines:
        lines.append(t["log_none"])
    header = plural(lang, "log_header", len(steps)) + "\n"
    return header + "\n".join(lines) + "\n"


def events_by_step(events: list[Event], steps: list[StepRecord]) -> dict[int | None, list[Event]]:
    """The events under the step they happened in (None: before the first step)."""
    grouped: dict[int | None, list[Event]] = {None: []}
    for s in steps:
        grouped[s.index] = []
    for e in events:
        grouped.setdefault(e.step, []).append(e)
    return grouped
