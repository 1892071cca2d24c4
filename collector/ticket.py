"""The ticket draft: a documented context built from a report, rendered with Jinja2.

One Environment serves every template (ticket formats and report.html):
templates from ``--template-dir`` are searched before the built-ins, HTML
templates are autoescaped, and page-supplied text only ever enters a template
as a variable, never as template source.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2

from collector.labels import LABELS, phrase
from collector.report import FAILED_STATUSES, KIND_RANK, ErrorGroup, Report, StepRecord
from collector.text import has_control, one_line, printable

SUBJECT_MAX = 120
DEFAULT_REASON = "technical"
STACK_LINES = 12
# A failed response's body in the ticket (report.json and report.html keep 4 kB).
TICKET_BODY_LINES = 20
TICKET_BODY_CHARS = 1000


def _doc(text: str) -> Any:
    return field(metadata={"doc": text})


@dataclass
class StepLine:
    number: int = _doc("1-based step number.")
    text: str = _doc("The step in plain language, e.g. Click “Pay now” (#pay) on /checkout.html.")
    status: str = _doc("ok, failed or skipped.")
    error: str | None = _doc("Why the step failed, when it did.")
    duration_ms: int = _doc("How long the step took.")


@dataclass
class ErrorLine:
    message: str = _doc("The first message of the group, as the page produced it.")
    kind: str = _doc("console, page_error, request_failed, http_error, crash …")
    kind_label: str = _doc("The kind in the ticket's language.")
    count: int = _doc("How many times it happened.")
    first_step: str = _doc("The step it first happened in, in plain language.")
    location: str | None = _doc("url:line:column of its source, when known.")
    stack: str | None = _doc("The first stack, cut to a readable length.")
    fingerprint: str = _doc("Stable id of the group; equal errors in other runs share it.")


@dataclass
class ResponseLine:
    method: str = _doc("HTTP method of the failed request.")
    status: int | None = _doc("HTTP status it was answered with.")
    url: str = _doc("The request's URL.")
    duration_ms: int | None = _doc("Milliseconds from the request's start to its response's end.")
    content_type: str = _doc("The response's Content-Type ('' when it had none).")
    body: str | None = _doc("The start of the body (text types only), cut for the ticket.")
    shown: str = _doc("How much of the body is shown, e.g. 'first 600 of 1000000 bytes'.")
    note: str | None = _doc("Why the body is not shown, when it is not.")


@dataclass
class AttachmentLine:
    path: str = _doc("Path within the bundle.")
    size: str = _doc("Human-readable size.")
    bytes: int = _doc("Size in bytes.")
    in_zip: bool = _doc("Whether it is in the zip attached to the ticket.")
    note: str | None = _doc("Why it was left out of the zip or changed to fit.")


@dataclass
class TicketContext:
    """Everything a ticket template may use. Every field is documented (tested)."""

    lang: str = _doc("Language code of the labels: en or pt.")
    t: dict[str, str] = _doc("Labels in the ticket's language, by key.")
    reference: str = _doc("The unique reference number to quote (CR-YYYYMMDD-XXXXXX).")
    reason: str = _doc("Ticket reason, from the scenario, the config or the default.")
    subject: str = _doc("One line of at most 120 characters naming the first error and where.")
    title: str = _doc("The scenario's name.")
    what_happened: str = _doc("One paragraph saying what happened in this run.")
    expected: str | None = _doc("What the user expected, from the scenario.")
    actual: str = _doc("What actually happened, in one sentence.")
    outcome: str = _doc("Outcome status: clean, errors, step_failed, crashed, unreachable …")
    steps: list[StepLine] = _doc("The numbered steps to recreate the problem.")
    errors: list[ErrorLine] = _doc("Errors grouped by fingerprint, failing ones first.")
    failed_requests: list[str] = _doc("Failed requests and HTTP errors, one line each.")
    responses: list[ResponseLine] = _doc(
        "HTTP errors with the start of their response body, method, status and timing."
    )
    totals: str = _doc("Exact counts of everything captured, one line.")
    dropped: int = _doc("Events not kept in the report because of the caps.")
    environment: list[tuple[str, str]] = _doc("Label/value rows: browser, OS, viewport …")
    attachments: list[AttachmentLine] = _doc("Files of the bundle with their sizes.")
    left_out: list[AttachmentLine] = _doc("Files left out of the zip, and why.")
    zip_name: str = _doc("File name of the zip to attach.")
    created: str = _doc("When the run started (UTC, ISO 8601).")
    original_reference: str | None = _doc("For replays: the reference of the original bundle.")
    support_email: str | None = _doc("Where the .eml is addressed, from config support_email.")


def build_context(
    report: Report,
    *,
    lang: str = "en",
    reason: str | None = None,
    support_email: str | None = None,
) -> TicketContext:
    """Turn a report into the ticket context (pure: no files, no browser)."""
    t = LABELS[lang]
    step_lines = [
        StepLine(
            number=s.index,
            text=describe_step(s, lang),
            status=s.status,
            error=s.error,
            duration_ms=s.duration_ms,
        )
        for s in report.steps
        if s.status != "skipped" or s.error
    ]
    errors = [_error_line(g, report.steps, lang) for g in ranked_errors(report.errors)]
    failed_requests = [
        e.text for e in report.events if e.kind in ("http_error", "request_failed")
    ]
    attachments = [
        AttachmentLine(a.path, human_size(a.bytes), a.bytes, a.in_zip, a.note)
        for a in report.attachments
    ]
    return TicketContext(
        lang=lang,
        t=t,
        reference=report.reference,
        reason=reason or report.reason or DEFAULT_REASON,
        subject=make_subject(report, lang),
        title=report.title or report.scenario_name or report.reference,
        what_happened=_what_happened(report, lang),
        expected=report.expected,
        actual=_actual(report, lang),
        outcome=report.outcome.status,
        steps=step_lines,
        errors=errors,
        failed_requests=failed_requests,
        responses=response_lines(report, lang),
        totals=_totals_line(report.totals),
        dropped=report.dropped,
        environment=_environment_rows(report, t),
        attachments=attachments,
        left_out=[a for a in attachments if not a.in_zip],
        zip_name=f"{report.reference}.zip",
        created=report.created,
        original_reference=report.original_reference,
        support_email=support_email,
    )


def context_field_docs() -> dict[str, str]:
    """Field name -> description, for documentation and the test that all are described."""
    return {f.name: f.metadata.get("doc", "") for f in fields(TicketContext)}


# -- wording -------------------------------------------------------------------


def describe_step(step: StepRecord, lang: str = "en") -> str:
    """A step in plain language: Click “Pay now” (#pay) on /checkout.html."""
    target = step.target or ""
    if step.name and target and step.name != target:
        label = f"“{step.name}” ({target})"
    else:
        label = step.name or target
    page = _short_url(step.url) if step.url and not step.url.startswith("about:") else ""
    text = phrase(lang, step.action, target=label, value=step.value or "", url=target)
    if page and step.action not in ("goto", "wait", "wait_for_url", "expect_url"):
        text += " " + phrase(lang, "on_page", url=page)
    return text




def response_lines(report: Report, lang: str = "en") -> list[ResponseLine]:
    """The HTTP errors that answered with a response, their body cut to a ticket's length."""
    t = LABELS[lang]
    lines = []
    for e in report.events:
        response = e.response
        if e.kind != "http_error" or response is None:
            continue
        body, shown = response.text, ""
        if body is not None:
            size = response.bytes if response.bytes is not None else len(body.encode())
            body, shortened = _cut_body(body)
            if response.truncated or shortened:
                shown = t["body_shown"].format(shown=len(body.encode()), total=size)
        lines.append(
            ResponseLine(
                method=e.method or "",
                status=e.status,
                url=e.url or "",
                duration_ms=response.duration_ms,
                content_type=response.content_type or "",
                body=body,
                shown=shown,
                note=response.note,
            )
        )
    return lines


def _cut_body(text: str) -> tuple[str, bool]:
    """A body short enough for a ticket (TICKET_BODY_LINES lines, _CHARS chars), and
    whether that left part of it out (a final line break does not count)."""
    lines = text.rstrip("\r\n").splitlines()
    joined = "\n".join(lines[:TICKET_BODY_LINES])
    return joined[:TICKET_BODY_CHARS], len(lines) > TICKET_BODY_LINES or (
        len(joined) > TICKET_BODY_CHARS
    )


def ranked_errors(groups: list[ErrorGroup]) -> list[ErrorGroup]:
    """Failing groups first, then by kind (exceptions first), then by first step."""
    order = {id(g): i for i, g in enumerate(groups)}
    return sorted(
        groups,
        key=lambda g: (not g.fails, KIND_RANK.get(g.kind, 5), g.first_step or 0, order[id(g)]),
    )


def make_subject(report: Report, lang: str = "en") -> str:
    """≤ 120 chars: the first failing error and where it happened."""
    t = LABELS[lang]
    failing = [g for g in ranked_errors(report.errors) if g.fails]
    where = ""
    first: ErrorGroup | None = failing[0] if failing else None
    step_index = first.first_step if first else report.outcome.failed_step
    if step_index:
        step = next((s for s in report.steps if s.index == step_index), None)
        if step is not None:
            where = describe_step(step, lang)
            where = where[:1].lower() + where[1:]
    if first is not None:
        head = " ".join(first.message.split())
    elif report.outcome.status in (*FAILED_STATUSES, "interrupted"):
        head = t[f"outcome_{report.outcome.status}"]
        if report.outcome.message:
            head += f": {' '.join(report.outcome.message.split())}"
    else:
        head = t["subject_clean"]
        where = report.title or report.scenario_name or ""
    return _fit_subject(head, where)


def _fit_subject(head: str, where: str) -> str:
    # One line whatever a step's name or selector holds (a header cannot hold a newline).
    head, where = one_line(head), one_line(where)
    if not where:
        return _cut(head, SUBJECT_MAX)
    tail = f" — {where}"
    if len(head) + len(tail) <= SUBJECT_MAX:
        return head + tail
    room = SUBJECT_MAX - min(len(tail), 60)
    return _cut(head, room) + _cut(tail, SUBJECT_MAX - len(_cut(head, room)))


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"


def _what_happened(report: Report, lang: str) -> str:
    t = LABELS[lang]
    ran = sum(1 for s in report.steps if s.status != "skipped")
    failing = [g for g in report.errors if g.fails]
    parts = [t["ran_steps"].format(ran=ran, total=len(report.steps))]
    if report.outcome.failed_step:
        parts.append(t["step_failed_at"].format(step=report.outcome.failed_step))
    if failing:
        parts.append(t["errors_captured"].format(count=sum(g.count for g in failing)))
    else:
        parts.append(t["no_errors"])
    return " ".join(parts)


def _actual(report: Report, lang: str) -> str:
    t = LABELS[lang]
    failing = [g for g in ranked_errors(report.errors) if g.fails]
    if report.outcome.status in (*FAILED_STATUSES, "interrupted"):
        text = t[f"outcome_{report.outcome.status}"]
        return f"{text}: {report.outcome.message}" if report.outcome.message else text
    if failing:
        return failing[0].message
    return t["subject_clean"]


def _error_line(group: ErrorGroup, steps: list[StepRecord], lang: str) -> ErrorLine:
    t = LABELS[lang]
    step = next((s for s in steps if s.index == group.first_step), None)
    if step is not None:
        first_step = f"{group.first_step}. {describe_step(step, lang)}"
    else:
        first_step = t["before_first_step"]
    location = None
    if group.url:
        location = group.url + "".join(f":{n}" for n in (group.line, group.column) if n)
    stack = None
    if group.stack:
        stack = "\n".join(group.stack.splitlines()[:STACK_LINES])
    return ErrorLine(
        message=group.message,
        kind=group.kind,
        kind_label=t.get(f"kind_{group.kind}", group.kind),
        count=group.count,
        first_step=first_step,
        location=location,
        stack=stack,
        fingerprint=group.fingerprint,
    )


def _environment_rows(report: Report, t: dict[str, str]) -> list[tuple[str, str]]:
    env = report.environment
    viewport = f"{env.viewport['width']}×{env.viewport['height']}" if env.viewport else "-"
    rows = [
        (t["env_browser"], f"Chromium {env.browser_version}".strip()),
        (t["env_os"], env.os or "-"),
        (t["env_viewport"], viewport),
        (t["env_locale"], env.locale or t["default"]),
        (t["env_timezone"], env.timezone or t["default"]),
        (t["env_url"], env.url or "-"),
        (t["env_user_agent"], env.user_agent or "-"),
        (t["env_collector"], env.collector_version),
    ]
    return rows


def _totals_line(totals: dict[str, Any]) -> str:
    parts = []
    for kind, value in totals.items():
        if isinstance(value, dict):
            parts.append(f"{kind}: " + ", ".join(f"{lvl} {n}" for lvl, n in value.items()))
        else:
            parts.append(f"{kind}: {value}")
    return "; ".join(parts) or "-"


def _short_url(url: str) -> str:
    parts = urlsplit(url)
    return parts.path or url


def human_size(n: int) -> str:
    if n < 1000:
        return f"{n} B"
    if n < 1_000_000:
        return f"{n / 1000:.1f} kB"
    return f"{n / 1_000_000:.2f} MB"


# -- rendering -------------------------------------------------------------------


def builtin_template_dir() -> Path:
    """Templates ship inside the wheel as collector/templates; a checkout has ./templates."""
    here = Path(__file__).resolve().parent
    installed = here / "templates"
    return installed if installed.is_dir() else here.parent / "templates"


@lru_cache(maxsize=8)
def environment(template_dir: str | None = None) -> jinja2.Environment:
    """The one Jinja2 environment: user templates first, HTML autoescaped."""
    search = [template_dir] if template_dir else []
    search.append(str(builtin_template_dir()))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(search),
        autoescape=lambda name: name is not None and name.endswith((".html", ".html.j2")),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["md_code"] = md_code
    env.filters["md_text"] = md_text
    env.filters["human_size"] = human_size
    env.filters["printable"] = printable
    env.filters["md_fence"] = md_fence
    return env


def render(template: str, template_dir: str | None = None, **variables: Any) -> str:
    try:
        return environment(template_dir).get_template(template).render(**variables)
    except jinja2.TemplateError as exc:
        from collector.errors import BadInput

        where = f" in {template_dir}" if template_dir else ""
        line = getattr(exc, "lineno", None)
        name = getattr(exc, "name", None) or template
        at = f"{name}:{line}" if line else name
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise BadInput(f"template {at}{where}: {message}") from None


def render_ticket(
    context: TicketContext, fmt: str = "md", template_dir: str | None = None
) -> str:
    """Render the ticket in ``md``, ``txt`` or ``json`` (``eml`` is built by ``eml.py``)."""
    if fmt == "json":
        return json.dumps(ticket_json(context, template_dir), indent=2, ensure_ascii=False)
    return render(f"ticket.{fmt}.j2", template_dir, **asdict(context))


def ticket_json(context: TicketContext, template_dir: str | None = None) -> dict[str, Any]:
    """Fields for a helpdesk API: reference, reason, subject, details (text), attachments."""
    return {
        "reference": context.reference,
        "reason": context.reason,
        "subject": context.subject,
        "details": render("ticket.txt.j2", template_dir, **asdict(context)),
        "attachments": [
            {"path": a.path, "bytes": a.bytes, "in_zip": a.in_zip, "note": a.note}
            for a in context.attachments
        ],
        "zip": context.zip_name,
        "lang": context.lang,
        "outcome": context.outcome,
        "errors": [
            {"message": e.message, "kind": e.kind, "count": e.count, "fingerprint": e.fingerprint}
            for e in context.errors
        ],
    }


# -- filters: page text is data --------------------------------------------------


def md_code(text: object) -> str:
    """Inline code that no backtick inside ``text`` can close early."""
    value = " ".join(printable(text).split())
    fence = "`"
    while fence in value:
        fence += "`"
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def md_fence(text: object) -> str:
    """A fence of backticks longer than any run of backticks in ``text`` (at least three)."""
    longest = max((len(run) for run in re.findall(r"`+", str(text))), default=0)
    return "`" * max(3, longest + 1)


def md_text(text: object) -> str:
    """Plain Markdown text with HTML and Markdown syntax neutralised.

    Only what can start markup is escaped: HTML, emphasis, code, links, table
    pipes, and `_`/`#` where they could open emphasis or a heading.
    """
    # One line: a newline would end a table row or a heading.
    value = " ".join(printable(text).replace("\\u000d", " ").split("\n"))
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = re.sub(r"([\\`*\[\]|~])", r"\\\1", value)
    value = re.sub(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])", r"\\_", value)
    value = re.sub(r"^(\s*)([#>+-])(?=\s)", r"\1\\\2", value, flags=re.M)
    # "3. Click" would start a list; Markdown escapes the dot ("3\. Click"), not the digit.
    return re.sub(r"^(\s*)(\d+)\.(?=\s)", r"\1\2\\.", value, flags=re.M)


def render_eml(
    context: TicketContext,
    zip_data: bytes | None,
    template_dir: str | None = None,
    sender: str = "collector@localhost",
) -> bytes:
    """An RFC 5322 message: the plain-text ticket as body, the bundle zip attached."""
    from email.message import EmailMessage
    from email.policy import SMTP
    from email.utils import formatdate, make_msgid

    from collector.errors import BadInput

    headers = {
        "Subject": context.subject,
        "From": sender,
        "To": context.support_email,
        "X-Collector-Reference": context.reference,
    }
    for name, value in headers.items():
        # A CR or LF in a header value would let a bundle or a config add headers (Bcc:).
        if value is not None and has_control(value):
            field_name = {"To": "support_email", "X-Collector-Reference": "reference"}.get(name, name)
            raise BadInput(f"{field_name}: control characters (CR/LF) are not allowed in a header")
    # Headers up to RFC 5322's 998-character limit stay on one line: Python's folding of
    # encoded words loses the spaces between them ("“Pay now”" read back as "“Paynow”").
    # 7bit keeps the body quoted-printable, so the message stays plain ASCII.
    message = EmailMessage(policy=SMTP.clone(max_line_length=998, cte_type="7bit"))
    message["Subject"] = headers["Subject"]
    message["From"] = sender
    if context.support_email:
        message["To"] = context.support_email
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(idstring=context.reference)
    message["X-Collector-Reference"] = context.reference
    message.set_content(render("ticket.txt.j2", template_dir, **asdict(context)))
    if zip_data is not None:
        message.add_attachment(
            zip_data, maintype="application", subtype="zip", filename=context.zip_name
        )
    return message.as_bytes()
