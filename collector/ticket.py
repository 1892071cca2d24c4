"""The ticket draft: a documented context built from a report, rendered with Jinja2.

One Environment serves every template (ticket formats and report.html):
templates from ``--template-dir`` are searched before the built-ins, HTML
templates are autoescaped, and page-supplied text only ever enters a template
as a variable, never as template source.
"""

from __future__ import annotations

import json
import re
from contextlib import suppress
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import jinja2

from collector.kinds import KIND_RANK
from collector.labels import (
    LABELS,
    format_date,
    kind_label,
    level_label,
    note_label,
    phrase,
    plural,
    reason_label,
    source_label,
)
from collector.stacks import CONTEXT_LINES, readable_stack
from collector.text import has_control, one_line, printable

if TYPE_CHECKING:
    from collector.report import ErrorGroup, Outcome, Report, StepRecord

SUBJECT_MAX = 120
DEFAULT_REASON = "technical"
STACK_LINES = 12
# A resolved stack also shows a few lines of original source (and a blank line each side).
SOURCE_LINES = 2 * CONTEXT_LINES + 3
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
    count_text: str = _doc("The count in words, plural form included: 3 times, 1 vez.")
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
    reason_label: str = _doc("The reason as shown: a built-in one in the ticket's language.")
    subject: str = _doc("One line of at most 120 characters naming the first error and where.")
    title: str = _doc("The scenario's name.")
    what_happened: str = _doc("One paragraph saying what happened in this run.")
    expected: str | None = _doc("What the user expected, from the scenario.")
    actual: str = _doc("What actually happened, in one sentence (the headline).")
    headline: str = _doc("The outcome, cause first: the first failing error, then the symptom.")
    outcome: str = _doc("Outcome status: clean, errors, step_failed, crashed, unreachable …")
    steps: list[StepLine] = _doc("The numbered steps to recreate the problem.")
    errors: list[ErrorLine] = _doc("Errors grouped by fingerprint, failing ones first.")
    failed_requests: list[str] = _doc("Failed requests and HTTP errors, one line each.")
    responses: list[ResponseLine] = _doc(
        "HTTP errors with the start of their response body, method, status and timing."
    )
    totals: str = _doc("Exact counts of everything captured, one line, in the ticket's language.")
    dropped: int = _doc("Events not kept in the report because of the caps.")
    dropped_text: str = _doc("The sentence saying how many events were not kept (empty if none).")
    environment: list[tuple[str, str]] = _doc("Label/value rows: browser, OS, viewport …")
    attachments: list[AttachmentLine] = _doc("Files of the bundle with their sizes.")
    left_out: list[AttachmentLine] = _doc("Files left out of the zip, and why.")
    zip_name: str = _doc("File name of the zip to attach.")
    created: str = _doc("When the run started (UTC, ISO 8601).")
    created_text: str = _doc("When the run started, as the language writes dates.")
    original_reference: str | None = _doc("For replays: the reference of the original bundle.")
    support_address: str | None = _doc("Where the .eml is addressed, from config support_address.")
    support_url: str | None = _doc("The support desk's page for new tickets, from config support_url.")


def build_context(
    report: Report,
    *,
    lang: str = "en",
    reason: str | None = None,
    support_address: str | None = None,
    support_url: str | None = None,
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
        AttachmentLine(
            a.path,
            human_size(a.bytes),
            a.bytes,
            a.in_zip,
            note_label(lang, a.note) if a.note else None,
        )
        for a in report.attachments
    ]
    chosen = reason or report.reason or DEFAULT_REASON
    said = headline(report, lang)
    return TicketContext(
        lang=lang,
        t=t,
        reference=report.reference,
        reason=chosen,
        reason_label=reason_label(lang, chosen),
        subject=make_subject(report, lang),
        title=report.title or report.scenario_name or report.reference,
        what_happened=_what_happened(report, lang),
        expected=report.expected,
        actual=said,
        headline=said,
        outcome=report.outcome.status,
        steps=step_lines,
        errors=errors,
        failed_requests=failed_requests,
        responses=response_lines(report, lang),
        totals=totals_line(report.totals, lang),
        dropped=report.dropped,
        dropped_text=plural(lang, "dropped", report.dropped) if report.dropped else "",
        environment=_environment_rows(report, t),
        attachments=attachments,
        left_out=[a for a in attachments if not a.in_zip],
        zip_name=f"{report.reference}.zip",
        created=report.created,
        created_text=format_date(lang, report.created),
        original_reference=report.original_reference,
        support_address=support_address,
        support_url=support_url,
    )


def context_field_docs() -> dict[str, str]:
    """Field name -> description, for documentation and the test that all are described."""
    return {f.name: f.metadata.get("doc", "") for f in fields(TicketContext)}


# -- wording -------------------------------------------------------------------


def describe_step(step: StepRecord, lang: str = "en") -> str:
    """A step in plain language: Click #pay on /checkout.html.

    A step's ``name`` is the step's own label, not the element's: it leads, and
    the action follows in brackets (``Pay now (click #pay on /checkout.html)``).
    """
    target = step.target or ""
    page = _short_url(step.url) if step.url and not step.url.startswith("about:") else ""
    action = step.action
    values = {"target": target, "value": step.value or "", "url": target}
    if action == "scroll":
        action, values = _scroll_phrase(step)
    text = phrase(lang, action, **values)
    if page and step.action not in ("goto", "wait", "wait_for_url", "expect_url"):
        text += " " + phrase(lang, "on_page", url=page)
    if step.name and step.name != target:
        return f"{step.name} ({_lower_first(text)})"
    return text


_SCROLL_VALUE = re.compile(r"(by|to) (-?\d+), (-?\d+)")


def _scroll_phrase(step: StepRecord) -> tuple[str, dict[str, str]]:
    """scroll's record keeps its move as ``by X, Y`` or ``to X, Y`` in ``value``."""
    target = step.target or ""
    move = _SCROLL_VALUE.fullmatch(step.value or "")
    if move is None:
        return "scroll", {"target": target}
    how, x, y = move.groups()
    key = f"scroll_{'element_' if target else ''}{how}"
    return key, {"target": target, "x": x, "y": y}


def _mid_sentence(step: StepRecord, lang: str) -> str:
    """describe_step for the middle of a sentence: lower case unless it is the step's name."""
    text = describe_step(step, lang)
    return text if step.name and step.name != (step.target or "") else _lower_first(text)




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
                note=note_label(lang, response.note) if response.note else None,
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


def first_failing(report: Report) -> ErrorGroup | None:
    """The error a developer should look at first: the cause, when there is one.

    An unreachable site's failed request is the symptom itself, not a cause.
    """
    first = next((g for g in ranked_errors(report.errors) if g.fails), None)
    unreachable = report.outcome.status == "unreachable"
    if first is not None and unreachable and first.kind == "request_failed":
        return None
    return first


def cause(group: ErrorGroup, lang: str = "en") -> str:
    """The error in one line, with the script line that threw it: TypeError: … at shop.js:42."""
    text = " ".join(group.message.split())
    if group.kind in ("page_error", "console") and group.url and group.line:
        name = urlsplit(group.url).path.rsplit("/", 1)[-1] or group.url
        text += f" {LABELS[lang]['at']} {name}:{group.line}"
    return text


# Playwright's timeout, or the runner's hard bound when Playwright itself was late.
_TIMEOUT_MS = re.compile(r"Timeout (\d+)\s*ms exceeded|did not finish within (\d+) ms")
LOAD_ACTIONS = ("goto", "reload", "back")


def load_timeout_s(step: StepRecord | None, message: str = "") -> str | None:
    """Seconds a page was given to load, when ``step`` failed because it did not load."""
    if step is None or step.action not in LOAD_ACTIONS:
        return None
    found = _TIMEOUT_MS.search(step.error or message)
    if found is None:
        return None
    return f"{int(found.group(1) or found.group(2)) / 1000:g}"


class Ran(Protocol):
    """What the wording of an outcome needs: a report, or a run not yet assembled."""

    @property
    def outcome(self) -> Outcome: ...

    @property
    def steps(self) -> list[StepRecord]: ...


def _failed_step(report: Ran) -> StepRecord | None:
    index = report.outcome.failed_step
    return next((s for s in report.steps if s.index == index), None) if index else None


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _step_said(step: StepRecord, lang: str) -> str:
    """“step 4: check that #msg shows “Sent”” (lower case, for the middle of a sentence)."""
    return f"{_lower_first(LABELS[lang]['step'])} {step.index}: {_mid_sentence(step, lang)}"


def _symptom_parts(report: Ran, lang: str) -> tuple[str, StepRecord | None] | None:
    """What went wrong (lower case) and the step it went wrong in, or None when nothing did."""
    t = LABELS[lang]
    status = report.outcome.status
    step = _failed_step(report)
    seconds = load_timeout_s(step, report.outcome.message)
    if step is not None and seconds is not None:
        return t["page_not_loaded"].format(seconds=seconds), step
    if status == "unreachable":
        code = re.search(r"net::ERR_[A-Z_]+", report.outcome.message)
        return _lower_first(t["outcome_unreachable"]) + (f": {code.group(0)}" if code else ""), step
    if status == "crashed":
        return _lower_first(t["outcome_crashed"]), step
    if step is not None:
        return t["step_failed_n"].format(step=step.index), step
    if status == "step_failed":
        return _lower_first(t["outcome_step_failed"]), None
    if status == "interrupted":
        return _lower_first(t["outcome_interrupted"]), None
    return None


def symptom(report: Ran, lang: str = "en") -> str | None:
    """What the user saw go wrong, in the tool's words (never Playwright's first)."""
    parts = _symptom_parts(report, lang)
    if parts is None:
        return None
    text, step = parts
    if step is None:
        return text
    if text.startswith(LABELS[lang]["step_failed_n"].format(step=step.index)):
        return f"{text} ({_mid_sentence(step, lang)})"
    return f"{text} ({_step_said(step, lang)})"


def headline(report: Report, lang: str = "en") -> str:
    """The outcome in one line, cause first: the first failing error, then the symptom.

    ``TypeError: … at checkout.js:12 — then step 4 failed (check that #msg shows “Sent”)``;
    with no error to blame, the symptom leads, and Playwright's words come last.
    """
    t = LABELS[lang]
    first = first_failing(report)
    seen = symptom(report, lang)
    if first is not None:
        if seen is not None:
            return f"{cause(first, lang)} — {t['then']} {seen}"
        where = _where(report, first, lang)
        return cause(first, lang) + (f" — {where}" if where else "")
    return symptom_line(report, lang) or t["subject_clean"]


def symptom_line(report: Ran, lang: str = "en") -> str | None:
    """The symptom as a sentence, with Playwright's words after it when they say more:
    ``Step 3 failed (click #pay): Timeout 500ms exceeded``; None when nothing failed."""
    seen = symptom(report, lang)
    if seen is None:
        return None
    detail = " ".join(report.outcome.message.split())
    step = _failed_step(report)
    said_why = load_timeout_s(step, detail) is not None or report.outcome.status in (
        "unreachable",
        "crashed",
    )
    return _upper_first(seen) + (f": {detail}" if detail and not said_why else "")


def _where(report: Report, group: ErrorGroup, lang: str) -> str:
    step = next((s for s in report.steps if s.index == group.first_step), None)
    return _mid_sentence(step, lang) if step is not None else ""


def make_subject(report: Report, lang: str = "en") -> str:
    """≤ 120 chars: the first failing error and where it happened (then what failed)."""
    t = LABELS[lang]
    first = first_failing(report)
    parts = _symptom_parts(report, lang)
    if first is not None:
        where = _where(report, first, lang)
        head = " ".join(first.message.split())
        if parts is not None and parts[1] is not None and parts[1].index != first.first_step:
            # What failed later, when it fits whole: the error and where come first.
            later = f"{t['then']} {parts[0]}"
            told = f"{head} — {where}, {later}" if where else f"{head} — {later}"
            if len(one_line(told)) <= SUBJECT_MAX:
                return one_line(told)
        return _fit_subject(head, where)
    if parts is None:
        return _fit_subject(t["subject_clean"], report.title or report.scenario_name or "")
    text, step = parts
    head = _upper_first(text)
    detail = " ".join(report.outcome.message.split())
    said_why = load_timeout_s(step, detail) is not None or report.outcome.status in (
        "unreachable",
        "crashed",
    )
    if detail and not said_why:
        head += f": {detail}"
    where = _mid_sentence(step, lang) if step is not None else ""
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
        parts.append(plural(lang, "errors_captured", sum(g.count for g in failing)))
    else:
        parts.append(t["no_errors"])
    return " ".join(parts)


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
    top = group.frames[0].original if group.frames else None
    if top is not None:
        # Where the developer edits, then where the browser ran it.
        generated = f" ({location})" if location else ""
        location = f"{top.file}:{top.line}:{top.column}{generated}"
    stack = None
    # Original frames (through source maps) first, with the source lines of the top one.
    shown = readable_stack(group.stack, group.frames, t["stack_generated"])
    if shown:
        limit = STACK_LINES if shown == group.stack else STACK_LINES + SOURCE_LINES
        stack = "\n".join(shown.splitlines()[:limit])
    return ErrorLine(
        message=group.message,
        kind=group.kind,
        kind_label=kind_label(lang, group.kind),
        count=group.count,
        count_text=plural(lang, "times", group.count),
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


def totals_line(totals: dict[str, Any], lang: str = "en") -> str:
    """Console: 3 errors, 1 log message; Uncaught exception: 1 (in ``lang``)."""
    parts = []
    for kind, value in totals.items():
        label = kind_label(lang, kind)
        if isinstance(value, dict):
            counts = ", ".join(_level_count(lang, lvl, n) for lvl, n in value.items())
            parts.append(f"{label}: {counts}")
        else:
            parts.append(f"{label}: {value}")
    return "; ".join(parts) or "-"


def _level_count(lang: str, level: str, count: int) -> str:
    if f"levels_{level}_other" in LABELS[lang]:
        return plural(lang, f"levels_{level}", count)
    return f"{count} {level}"


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


# How the environment compiles templates: the compiled code depends on these, so the
# cache folder of compiled templates is named after them too.
ENV_OPTIONS: dict[str, Any] = {
    "keep_trailing_newline": True,
    "trim_blocks": True,
    "lstrip_blocks": True,
}
AUTOESCAPED = (".html", ".html.j2")


@lru_cache(maxsize=8)
def environment(template_dir: str | None = None) -> jinja2.Environment:
    """The one Jinja2 environment: user templates first, HTML autoescaped."""
    search = [template_dir] if template_dir else []
    search.append(str(builtin_template_dir()))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(search),
        autoescape=lambda name: name is not None and name.endswith(AUTOESCAPED),
        undefined=jinja2.StrictUndefined,
        bytecode_cache=bytecode_cache(),
        **ENV_OPTIONS,
    )
    env.filters["md_code"] = md_code
    env.filters["md_text"] = md_text
    env.filters["human_size"] = human_size
    env.filters["printable"] = printable
    env.filters["md_fence"] = md_fence
    env.filters["describe_step"] = lambda step, lang: describe_step(step, lang)
    env.filters["level_label"] = lambda level, lang: level_label(lang, level)
    env.filters["kind_label"] = lambda kind, lang: kind_label(lang, kind)
    env.filters["source_label"] = lambda source, lang: source_label(lang, source)
    env.filters["note_label"] = lambda note, lang: note_label(lang, note)
    return env


class _BytecodeCache(jinja2.FileSystemBytecodeCache):
    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        # The cache only saves compiling again: a full disk or a read-only home must not
        # cost the ticket.
        with suppress(OSError):
            super().dump_bytecode(bucket)


def bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates in the user's cache folder, so a ticket does not compile its
    templates each time (most of a template's first render).

    Jinja2 keys each entry by the template file's path and checks the checksum of its
    source, so an edited template, built-in or from --template-dir, is compiled again,
    and a user's template never shares an entry with a built-in one. The folder's name
    holds what else the compiled code depends on: the versions of collector and Jinja2
    and the environment's options. None (compile every time) when there is no folder.
    """
    import hashlib

    from collector import __version__
    from collector.cache import cache_folder

    compiled_by = repr((__version__, jinja2.__version__, sorted(ENV_OPTIONS.items()), AUTOESCAPED))
    key = hashlib.sha256(compiled_by.encode()).hexdigest()[:16]
    folder = cache_folder(f"templates-{key}")
    return None if folder is None else _BytecodeCache(str(folder))


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
        "reason_label": context.reason_label,
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
    reply_to: str | None = None,
) -> bytes:
    """An RFC 5322 message, always multipart/mixed: the ticket as plain text and as HTML
    (multipart/alternative), and the bundle zip attached when there is one. ``reply_to``:
    where the desk's answer goes (the reporter), when not the sender."""
    from email.message import EmailMessage
    from email.policy import SMTP
    from email.utils import formatdate, make_msgid

    from collector.errors import BadInput

    headers = {
        "Subject": context.subject,
        "From": sender,
        "To": context.support_address,
        "X-Collector-Reference": context.reference,
        "Reply-To": reply_to,
    }
    for name, value in headers.items():
        # A CR or LF in a header value would let a bundle or a config add headers (Bcc:).
        if value is not None and has_control(value):
            field_name = {
                "To": "support_address",
                "X-Collector-Reference": "reference",
                "Reply-To": "reply_to",
            }.get(name, name)
            raise BadInput(f"{field_name}: control characters (CR/LF) are not allowed in a header")
    # Headers up to RFC 5322's 998-character limit stay on one line: Python's folding of
    # encoded words loses the spaces between them ("“Pay now”" read back as "“Paynow”").
    # 7bit keeps the body quoted-printable, so the message stays plain ASCII.
    message = EmailMessage(policy=SMTP.clone(max_line_length=998, cte_type="7bit"))
    message["Subject"] = headers["Subject"]
    message["From"] = sender
    if context.support_address:
        message["To"] = context.support_address
    if reply_to:
        message["Reply-To"] = reply_to
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(idstring=context.reference)
    message["X-Collector-Reference"] = context.reference
    variables = asdict(context)
    message.set_content(render("ticket.txt.j2", template_dir, **variables))
    message.add_alternative(render("ticket.html.j2", template_dir, **variables), subtype="html")
    if zip_data is not None:
        message.add_attachment(
            zip_data, maintype="application", subtype="zip", filename=context.zip_name
        )
    else:
        message.make_mixed()  # always multipart/mixed: a desk's parser finds the body one way
    return message.as_bytes()
