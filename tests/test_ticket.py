"""The ticket draft: context, wording, formats, languages, page text as data, `collector ticket`.

No browser: reports are built by hand from the report models.
"""

from __future__ import annotations

import dataclasses
import email
import email.policy
import json
import re
import string
import zipfile
from pathlib import Path
from typing import Any

import pytest
from run_collector import Ran, invoke

from collector.bundle_text import events_by_step
from collector.labels import LABELS
from collector.report import (
    Attachment,
    Environment,
    ErrorGroup,
    Event,
    Outcome,
    Report,
    StepRecord,
)
from collector.ticket import (
    SUBJECT_MAX,
    AttachmentLine,
    ErrorLine,
    StepLine,
    TicketContext,
    build_context,
    context_field_docs,
    render,
    render_eml,
    render_ticket,
)

REF = "CR-20261125-7K3QF9"
SHOP = "http://127.0.0.1:8000"
TYPE_ERROR = "TypeError: Cannot read properties of undefined (reading 'card')"
WHERE = "Pay now (click #pay on /checkout.html)"
LEFT_OUT_NOTE = "left out: 2,500,000 bytes is over the 2,000,000-byte attachment limit"


def make_report(**changes: Any) -> Report:
    """A payment that fails: an exception, a console error three times, an HTTP 500."""
    checkout = f"{SHOP}/checkout.html"
    data: dict[str, Any] = dict(
        reference=REF,
        title="Payment fails after entering e-mail",
        created="2026-11-25T10:00:00Z",
        outcome=Outcome(status="errors", message="5 error(s) captured"),
        steps=[
            StepRecord(index=1, action="goto", target=checkout, status="ok", url="about:blank"),
            StepRecord(
                index=2, action="fill", target="#email", status="ok", value="ana@example.com",
                url=checkout,
            ),
            StepRecord(
                index=3, action="click", target="#pay", name="Pay now", status="ok", url=checkout,
                screenshot="screenshots/step-03-error.png",
            ),
        ],
        events=[
            Event(kind="console", level="log", text="shop ready", step=1),
            Event(
                kind="page_error", level="error", text=TYPE_ERROR, url=f"{SHOP}/shop.js",
                line=42, column=7, step=3, fails=True, name="TypeError",
                stack=f"{TYPE_ERROR}\n    at pay ({SHOP}/shop.js:42:7)",
            ),
            Event(kind="console", level="error", text="payment failed", step=3, count=3, fails=True),
            Event(
                kind="http_error", level="error", status=500, method="POST", step=3, fails=True,
                text=f"HTTP 500 Internal Server Error POST {SHOP}/api/pay", url=f"{SHOP}/api/pay",
            ),
        ],
        totals={"console": {"log": 1, "error": 3}, "page_error": 1, "http_error": 1},
        # Report order is not ticket order: the exception names the broken code.
        errors=[
            ErrorGroup(
                fingerprint="aaaa00000001", kind="console", message="payment failed", count=3,
                first_step=3,
            ),
            ErrorGroup(
                fingerprint="aaaa00000002", kind="page_error", message=TYPE_ERROR, count=1,
                first_step=3, url=f"{SHOP}/shop.js", line=42, column=7,
                stack=f"{TYPE_ERROR}\n    at pay ({SHOP}/shop.js:42:7)",
            ),
            ErrorGroup(
                fingerprint="aaaa00000003", kind="http_error", count=1, first_step=3,
                message=f"HTTP 500 Internal Server Error POST {SHOP}/api/pay",
            ),
        ],
        environment=Environment(
            browser_version="131.0.6778.85", os="Linux-6.1-x86_64", user_agent="Mozilla/5.0 Test",
            viewport={"width": 1280, "height": 800}, locale="pt-PT", timezone="Europe/Lisbon",
            url=f"{SHOP}/", collector_version="0.1.0",
        ),
        attachments=[
            Attachment(path="console.log", bytes=1234, sha256="0" * 64, in_zip=True),
            Attachment(
                path="screenshots/step-03-error.png", bytes=81_000, sha256="1" * 64, in_zip=True,
            ),
            Attachment(
                path="screenshots/step-04-full.jpg", bytes=2_500_000, sha256="2" * 64,
                in_zip=False, note=LEFT_OUT_NOTE,
            ),
        ],
        reason="billing",
        expected="The order is paid and a receipt is shown",
    )  # fmt: skip
    data.update(changes)
    return Report(**data)


def lines(text: str) -> list[str]:
    return text.splitlines()


# -- the context and the Markdown ticket ---------------------------------------------


def test_subject_names_the_first_error_and_the_step():
    context = build_context(make_report())
    assert context.subject == f"{TYPE_ERROR} — {WHERE}"
    assert len(context.subject) <= SUBJECT_MAX


def test_long_subject_is_cut_but_keeps_where():
    message = "RangeError: " + "very long message " * 20
    report = make_report(
        errors=[
            ErrorGroup(fingerprint="f1", kind="page_error", message=message, count=1, first_step=3)
        ]
    )
    subject = build_context(report).subject
    assert len(subject) <= SUBJECT_MAX
    assert subject.startswith("RangeError: very long message")
    assert subject.endswith(f"… — {WHERE}")


def test_subject_of_a_failed_step_without_errors():
    failed = StepRecord(
        index=3, action="click", target="#pay", name="Pay now", status="failed",
        url=f"{SHOP}/checkout.html", error="Timeout 500ms exceeded.",
    )  # fmt: skip
    steps = [*make_report().steps[:2], failed]
    report = make_report(
        steps=steps,
        errors=[],
        outcome=Outcome(status="step_failed", message="Timeout 500ms exceeded.", failed_step=3),
    )
    # The symptom in the tool's words first, Playwright's after.
    assert build_context(report).subject == f"Step 3 failed: Timeout 500ms exceeded. — {WHERE}"


def test_clean_subject():
    report = make_report(errors=[], outcome=Outcome(status="clean"))
    assert (
        build_context(report).subject
        == "No errors reproduced — Payment fails after entering e-mail"
    )


def test_markdown_ticket_reads_like_a_ticket():
    md = render_ticket(build_context(make_report()), "md")
    text = lines(md)
    assert text[0] == f"# Support ticket draft: {TYPE_ERROR} — {WHERE}"
    for row in (
        f"| **Reference** | {REF} |",
        "| **Reason** | Billing |",
        f"| **Subject** | {TYPE_ERROR} — {WHERE} |",
        # Steps in plain language, numbered.
        f"1. Open {SHOP}/checkout.html",
        "2. Fill #email with “ana@example.com” on /checkout.html",
        "3. Pay now (click #pay on /checkout.html)",
        "- **Expected:** The order is paid and a receipt is shown",
        f"- **Actual:** {TYPE_ERROR} at shop.js:42 — {WHERE}",
        "Steps run: 3 of 3. 5 errors were captured.",
        "| **Recorded** | 25 November 2026, 10:00 UTC |",
        # Errors grouped by fingerprint with counts, the exception first.
        f"**1. Uncaught exception** (1 time): `{TYPE_ERROR}`",
        "**2. Console** (3 times): `payment failed`",
        f"**3. HTTP error** (1 time): `HTTP 500 Internal Server Error POST {SHOP}/api/pay`",
        "- First seen at step: 3\\. Pay now (click #pay on /checkout.html)",
        f"- Location: `{SHOP}/shop.js:42:7`",
        f"    at pay ({SHOP}/shop.js:42:7)",
        f"- `HTTP 500 Internal Server Error POST {SHOP}/api/pay`",
        # The environment table.
        "| Browser | Chromium 131.0.6778.85 |",
        "| Operating system | Linux-6.1-x86_64 |",
        "| Viewport | 1280×800 |",
        "| Locale | pt-PT |",
        "| Time zone | Europe/Lisbon |",
        f"| URL | {SHOP}/ |",
        "| collector version | 0.1.0 |",
        # Attachments with their sizes.
        f"Attach {REF}.zip (everything marked “in zip” below).",
        "- `console.log` — 1.2 kB (in zip)",
        "- `screenshots/step-03-error.png` — 81.0 kB (in zip)",
    ):
        assert row in text, row
    left_out = md.split("**Left out of the zip:**", 1)[1]
    assert lines(left_out.strip()) == [
        f"- `screenshots/step-04-full.jpg` (2.50 MB): {LEFT_OUT_NOTE}"
    ]
    assert "```text" in text and "(3 times)" in md


def test_skipped_steps_are_not_steps_to_recreate():
    steps = [
        *make_report().steps,
        StepRecord(index=4, action="click", target="#x", status="skipped"),
    ]
    context = build_context(make_report(steps=steps))
    assert [s.number for s in context.steps] == [1, 2, 3]
    assert all(isinstance(s, StepLine) for s in context.steps)


def test_plain_text_ticket():
    txt = render_ticket(build_context(make_report()), "txt")
    text = lines(txt)
    for row in (
        f"Reference: {REF}",
        f"Subject: {TYPE_ERROR} — {WHERE}",
        "STEPS TO RECREATE",
        "Reason: Billing",
        "3. Pay now (click #pay on /checkout.html)",
        "2. Console (3 times): payment failed",
        "Viewport: 1280×800",
        "- console.log (1.2 kB, in zip)",
        f"- screenshots/step-04-full.jpg (2.50 MB, not in zip): {LEFT_OUT_NOTE}",
    ):
        assert row in text, row
    assert "**" not in txt and "`" not in txt


def test_json_ticket_has_the_helpdesk_fields():
    context = build_context(make_report())
    data = json.loads(render_ticket(context, "json"))
    assert {"reference", "reason", "subject", "details", "attachments"} <= set(data)
    assert (data["reference"], data["reason"], data["subject"]) == (REF, "billing", context.subject)
    assert data["details"] == render_ticket(context, "txt")
    assert data["attachments"][2] == {
        "path": "screenshots/step-04-full.jpg", "bytes": 2_500_000, "in_zip": False,
        "note": LEFT_OUT_NOTE,
    }  # fmt: skip


def small_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("ticket.md", "# ticket\n")
    return path


def test_eml_is_a_sendable_message_with_the_zip(tmp_path):
    zip_path = small_zip(tmp_path / f"{REF}.zip")
    context = build_context(make_report(), support_address="support@shop.example")
    raw = render_eml(context, zip_path.read_bytes())
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Subject"] == context.subject
    assert message["To"] == "support@shop.example"
    assert message["From"] and message["Date"] and message["Message-ID"]
    body = message.get_body(("plain",))
    assert body is not None
    assert body.get_content().replace("\r\n", "\n") == render_ticket(context, "txt")
    attachments = list(message.iter_attachments())
    assert [(a.get_filename(), a.get_content_type()) for a in attachments] == [
        (f"{REF}.zip", "application/zip")
    ]
    assert attachments[0].get_content() == zip_path.read_bytes()
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    assert raw.isascii()


@pytest.mark.parametrize("lang", ["en", "pt"])
def test_eml_subject_reads_back_exactly(lang):
    """Spaces between non-ASCII words survive (Python's header folding used to drop them)."""
    context = build_context(make_report(), lang=lang)
    assert " — " in context.subject  # non-ASCII between spaces
    raw = render_eml(context, None)
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Subject"] == context.subject


def test_eml_without_support_address_or_zip(tmp_path):
    context = build_context(make_report())
    message = email.message_from_bytes(
        render_eml(context, None), policy=email.policy.default
    )
    assert message["To"] is None
    assert message["Subject"] == context.subject
    assert list(message.iter_attachments()) == []


def test_portuguese_ticket():
    context = build_context(make_report(), lang="pt")
    assert context.subject == f"{TYPE_ERROR} — Pay now (clicar em #pay em /checkout.html)"
    md = render_ticket(context, "md")
    text = lines(md)
    for row in (
        "# Rascunho de pedido de suporte: " + context.subject,
        "| **Referência** | " + REF + " |",
        "### Passos para reproduzir",
        "3. Pay now (clicar em #pay em /checkout.html)",
        "| **Motivo** | Faturação |",
        "| **Registado** | 25 de novembro de 2026, 10:00 UTC |",
        "Passos executados: 3 de 3. Foram capturados 5 erros.",
        f"**1. Exceção não tratada** (1 vez): `{TYPE_ERROR}`",
        "**2. Consola** (3 vezes): `payment failed`",
        "| Área visível | 1280×800 |",
        "- `console.log` — 1.2 kB (no zip)",
        "**Deixados fora do zip:**",
    ):
        assert row in text, row
    for english in ("Steps to recreate", "Environment", "Attachments", "Uncaught exception"):
        assert english not in md
    assert "PASSOS PARA REPRODUZIR" in render_ticket(context, "txt")


# -- labels and the documented context ---------------------------------------------


def test_both_languages_have_the_same_labels():
    assert set(LABELS) == {"en", "pt"}
    assert set(LABELS["en"]) == set(LABELS["pt"])
    for lang, labels in LABELS.items():
        assert all(isinstance(v, str) and v.strip() for v in labels.values()), lang


def test_translations_keep_their_placeholders():
    def placeholders(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    for key, english in LABELS["en"].items():
        assert placeholders(LABELS["pt"][key]) == placeholders(english), key


def undocumented(cls: type) -> list[str]:
    return [
        f.name
        for f in dataclasses.fields(cls)
        if not (isinstance(f.metadata.get("doc"), str) and f.metadata["doc"].strip())
    ]


@pytest.mark.parametrize("cls", [TicketContext, StepLine, ErrorLine, AttachmentLine])
def test_every_context_field_is_documented(cls):
    assert dataclasses.fields(cls)
    assert undocumented(cls) == []


def test_context_field_docs_cover_every_field():
    docs = context_field_docs()
    assert list(docs) == [f.name for f in dataclasses.fields(TicketContext)]
    assert all(doc.strip() for doc in docs.values())


def test_the_documentation_check_catches_a_new_field():
    @dataclasses.dataclass
    class Grown(TicketContext):
        shiny: str = ""

    assert undocumented(Grown) == ["shiny"]


# -- page text is data ------------------------------------------------------------------

IMG = "<img src=x onerror=alert(1)>"
HOSTILE = (
    f"Error: {IMG} {{{{ 7*7 }}}} {{% raw %}} `tick` ``double`` a|b\n"
    "<script>alert(1)</script> ${7*7}"
)


def hostile_report() -> Report:
    checkout = f"{SHOP}/checkout.html"
    return make_report(
        title="{{ 7*7 }} | <b>title</b>",
        expected="{% raw %} <img src=x onerror=alert(1)> |",
        steps=[
            StepRecord(index=1, action="goto", target=checkout, status="ok"),
            StepRecord(
                index=2, action="click", target="#pay", name=f"{IMG} | {{{{ 7*7 }}}}\nnext",
                status="ok", url=checkout,
            ),
        ],
        events=[
            Event(kind="console", level="error", text=HOSTILE, step=2, fails=True),
            Event(
                kind="page_error", level="error", text="Error: <b>bold</b> {{ 7*7 }}", step=2,
                fails=True, stack="Error: <b>bold</b> {{ 7*7 }}\n```\n# not a heading\n```",
            ),
            Event(kind="console", level="log", text="{{ 7*7 }} log <i>x</i>", step=2),
        ],
        errors=[
            ErrorGroup(fingerprint="bad000000001", kind="console", message=HOSTILE, count=2,
                       first_step=2),
            ErrorGroup(fingerprint="bad000000002", kind="page_error", count=1, first_step=2,
                       message="Error: <b>bold</b> {{ 7*7 }}",
                       stack="Error: <b>bold</b> {{ 7*7 }}\n```\n# not a heading\n```"),
        ],
        totals={"console": {"error": 2, "log": 1}, "page_error": 1},
    )  # fmt: skip


def code_spans(md: str) -> tuple[list[str], str]:
    """CommonMark code spans and fenced blocks: (their contents, the text without them)."""
    fence = re.compile(r"^```[^\n]*\n.*?^```$", re.M | re.S)
    blocks = fence.findall(md)
    rest = fence.sub("", md)
    spans, outside, i = [], [], 0
    while i < len(rest):
        if rest[i] != "`":
            outside.append(rest[i])
            i += 1
            continue
        run = re.match(r"`+", rest[i:]).group()
        close = re.search(rf"(?<!`){run}(?!`)", rest[i + len(run) :])
        if close is None:
            outside.append(run)
            i += len(run)
            continue
        content = rest[i + len(run) : i + len(run) + close.start()]
        if content.startswith(" ") and content.endswith(" ") and content.strip():
            content = content[1:-1]
        spans.append(content)
        i += len(run) + close.end()
    return blocks + spans, "".join(outside)


def test_markdown_shows_page_text_literally():
    md = render_ticket(build_context(hostile_report()), "md")
    assert "{{ 7*7 }}" in md and "{% raw %}" in md and "${7*7}" in md
    assert "49" not in md
    inside, outside = code_spans(md)
    # The error list shows the message whole, in one code span that its backticks cannot close.
    assert " ".join(HOSTILE.split()) in inside
    error_line = next(line for line in lines(md) if line.startswith("**2. Console**"))
    assert error_line.startswith("**2. Console** (2 times): ```Error: ")
    # Outside code, nothing can become HTML or break the tables.
    assert "<img" not in outside and "<script" not in outside and "<b>" not in outside
    assert "&lt;img src=x onerror=alert(1)&gt;" in outside
    for row in lines(outside):
        if row.startswith("|"):
            assert len(re.findall(r"(?<!\\)\|", row)) == 3, row
    # A stack cannot close its fence early: ``` only ever opens or closes a fence.
    for row in lines(md):
        assert "```" not in row or row in ("```text", "```") or row.startswith("**"), row


def test_subject_stays_one_line_whatever_the_step_name_holds(tmp_path):
    context = build_context(hostile_report())
    assert "\n" not in context.subject and len(context.subject) <= SUBJECT_MAX
    assert context.subject.startswith("Error: <b>bold</b> {{ 7*7 }} — <img src=x")
    message = email.message_from_bytes(
        render_eml(context, small_zip(tmp_path / "x.zip").read_bytes()), policy=email.policy.default
    )
    assert message["Subject"] == context.subject


def test_plain_text_shows_page_text_literally():
    context = build_context(hostile_report())
    txt = render_ticket(context, "txt")
    assert IMG in txt and "{{ 7*7 }}" in txt and "{% raw %}" in txt
    assert "49" not in txt
    details = json.loads(render_ticket(context, "json"))["details"]
    assert details == txt


def render_html(report: Report, lang: str = "en") -> str:
    context = build_context(report, lang=lang)
    return render(
        "report.html.j2",
        report=report,
        ticket=context,
        t=context.t,
        events_by_step=events_by_step(report.events, report.steps),
    )


def test_html_report_escapes_page_text():
    html = render_html(hostile_report())
    assert "<img src=x" not in html and '<img src="x"' not in html
    assert "<script" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "{{ 7*7 }}" in html and "{% raw %}" in html
    assert "49" not in re.sub(r"<style>.*?</style>", "", html, flags=re.S)


def test_html_report_in_portuguese():
    html = render_html(make_report(), lang="pt")
    assert '<html lang="pt">' in html
    assert "<h2>Cronologia</h2>" in html and "<h2>Ambiente</h2>" in html
    assert "Timeline" not in html and "Environment" not in html


# -- `collector ticket` ---------------------------------------------------------------


def write_bundle(folder: Path, report: Report | None = None) -> Path:
    """A bundle as `repro` leaves it, as far as `collector ticket` needs: report.json + zip."""
    report = report or make_report()
    folder.mkdir(parents=True, exist_ok=True)
    data = report.model_dump(mode="json", by_alias=True)
    data["redactions"] = {"secret": 2}
    (folder / "report.json").write_text(json.dumps(data, indent=2), encoding="utf-8")
    small_zip(folder / f"{report.reference}.zip")
    return folder


def collector(*args: str | Path, cwd: Path) -> Ran:
    return invoke(*args, cwd=cwd)


def one_error_line(result: Ran) -> str:
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    stderr = result.stderr
    assert "Traceback" not in stderr
    assert len(stderr.splitlines()) == 1, stderr
    return stderr.rstrip("\n")


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    return write_bundle(tmp_path / REF)


@pytest.mark.parametrize("fmt", ["md", "txt", "json"])
def test_cli_ticket_formats_to_a_file(bundle, tmp_path, fmt):
    out = tmp_path / f"ticket.{fmt}"
    result = collector("ticket", bundle, "--format", fmt, "-o", out, cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.strip() == str(out)
    expected = render_ticket(build_context(make_report()), fmt)
    assert out.read_text(encoding="utf-8") == expected


def test_cli_ticket_to_stdout_in_portuguese(bundle, tmp_path):
    result = collector("ticket", bundle, "--lang", "pt", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == render_ticket(build_context(make_report(), lang="pt"), "md")


def test_cli_ticket_eml(bundle, tmp_path):
    (tmp_path / "collector.toml").write_text('support_email = "help@shop.example"\n')
    out = tmp_path / "ticket.eml"
    result = collector("ticket", bundle, "--format", "eml", "-o", out, cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    message = email.message_from_bytes(out.read_bytes(), policy=email.policy.default)
    assert message["Subject"] == f"{TYPE_ERROR} — {WHERE}"
    assert message["To"] == "help@shop.example"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == f"{REF}.zip"
    assert attachment.get_content() == (bundle / f"{REF}.zip").read_bytes()


def test_cli_ticket_user_template_comes_first(bundle, tmp_path):
    templates = tmp_path / "my-templates"
    templates.mkdir()
    (templates / "ticket.md.j2").write_text(
        "OUR DESK {{ reference }} | {{ subject }} | {{ steps|length }} {{ t.steps_to_recreate }}\n",
        encoding="utf-8",
    )
    result = collector("ticket", bundle, "--template-dir", templates, cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    assert (
        result.stdout == f"OUR DESK {REF} | {TYPE_ERROR} — {WHERE} | 3 Steps to recreate\n"
    )
    # Formats the folder does not override still use the built-in templates.
    result = collector(
        "ticket", bundle, "--format", "txt", "--template-dir", templates, cwd=tmp_path
    )
    assert result.stdout == render_ticket(build_context(make_report()), "txt")


@pytest.mark.parametrize(
    ("source", "where", "problem"),
    [
        pytest.param("{% if %}\n", "ticket.md.j2:1",
                     "Expected an expression, got 'end of statement block'", id="syntax"),
        pytest.param("{{ nope.x }}\n", "ticket.md.j2", "'nope' is undefined", id="undefined"),
    ],
)  # fmt: skip
def test_cli_ticket_broken_user_template_exits_2(bundle, tmp_path, source, where, problem):
    templates = tmp_path / "broken"
    templates.mkdir()
    (templates / "ticket.md.j2").write_text(source, encoding="utf-8")
    result = collector("ticket", bundle, "--template-dir", templates, cwd=tmp_path)
    assert one_error_line(result) == f"Error: template {where} in {templates}: {problem}"


def test_cli_ticket_missing_template_dir_exits_2(bundle, tmp_path):
    result = collector("ticket", bundle, "--template-dir", tmp_path / "nope", cwd=tmp_path)
    assert one_error_line(result) == f"Error: --template-dir {tmp_path / 'nope'}: no such folder"


def test_cli_ticket_missing_bundle_exits_2(tmp_path):
    missing = tmp_path / "CR-20990101-NOPE00"
    result = collector("ticket", missing, cwd=tmp_path)
    assert one_error_line(result) == f"Error: {missing}: no such file or folder"


def test_cli_ticket_folder_without_report_exits_2(tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "ticket.md").write_text("# hello\n")
    result = collector("ticket", folder, cwd=tmp_path)
    assert one_error_line(result) == f"Error: {folder}: not a bundle (no report.json)"


def test_cli_ticket_other_schema_exits_2(tmp_path):
    folder = write_bundle(tmp_path / "other")
    data = json.loads((folder / "report.json").read_text())
    data["schema"] = "collector/report@2"
    (folder / "report.json").write_text(json.dumps(data))
    result = collector("ticket", folder, cwd=tmp_path)
    assert one_error_line(result) == (
        f"Error: {folder}: report.json has schema 'collector/report@2'; "
        "this collector reads collector/report@1"
    )


def test_cli_ticket_report_that_is_not_json_exits_2(tmp_path):
    folder = tmp_path / "garbled"
    folder.mkdir()
    (folder / "report.json").write_text("{not json")
    result = collector("ticket", folder, cwd=tmp_path)
    assert one_error_line(result).startswith(f"Error: {folder}: report.json is not valid JSON")


# -- compiled templates in the user's cache folder ----------------------------------


def every_rendering(template_dir: str | None = None) -> list[str]:
    """The ticket in each format and the HTML report, of a report with hostile text."""
    from collector.ticket import environment

    environment.cache_clear()  # a new environment, as in a new process
    report = hostile_report()
    context = build_context(report, lang="pt")
    texts = [render_ticket(context, fmt, template_dir) for fmt in ("md", "txt", "json")]
    texts.append(render("ticket.html.j2", template_dir, **dataclasses.asdict(context)))
    return [*texts, render_html(report)]


def test_cached_templates_render_byte_for_byte_as_compiled_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jinja2

    (tmp_path / "not-a-folder").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "not-a-folder"))
    compiled = every_rendering()  # no cache folder can be made: compiled every time
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    missed = every_rendering()
    entries = sorted((tmp_path / "cache" / "collector").glob("templates-*/*"))
    assert len(entries) == 5  # ticket.md/txt/html, report.html and the event it includes

    def no_compiling(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a cached template was compiled again")

    monkeypatch.setattr(jinja2.Environment, "compile", no_compiling)
    hit = every_rendering()
    assert hit == missed == compiled
    assert sorted((tmp_path / "cache" / "collector").glob("templates-*/*")) == entries


def test_an_edited_template_is_compiled_again_and_the_users_win(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from collector.ticket import environment

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    built_in = every_rendering()[0]
    mine = tmp_path / "mine"
    mine.mkdir()
    template = mine / "ticket.md.j2"
    context = build_context(make_report())
    for text in ("first {{ reference }}\n", "again {{ reference }}\n"):
        template.write_text(text, encoding="utf-8")
        environment.cache_clear()
        assert render_ticket(context, "md", str(mine)) == text.replace("{{ reference }}", REF)
    environment.cache_clear()
    assert render_ticket(build_context(hostile_report(), lang="pt"), "md") == built_in


# -- `collector ticket` reads report.json without the models ------------------------


def resolved_report() -> Report:
    """make_report's exception with its stack resolved through a source map."""
    from collector.report import Frame, OriginalLocation, SourceLine

    original = OriginalLocation(
        file="src/pay.ts", line=12, column=3, function="pay",
        context=[SourceLine(line=n, text=f"line {n} of pay.ts") for n in range(10, 15)],
    )  # fmt: skip
    frames = [Frame(function="a", url=f"{SHOP}/shop.js", line=42, column=7, original=original)]
    report = make_report()
    errors = [g.model_copy(update={"frames": frames}) for g in report.errors]
    return report.model_copy(update={"errors": errors, "outcome": Outcome(status="step_failed",
                             message="Timeout 300ms exceeded.", failed_step=3)})  # fmt: skip


def every_ticket(report: Report, lang: str) -> list[bytes]:
    context = build_context(report, lang=lang, support_address="desk@shop.example")
    texts = [render_ticket(context, fmt).encode() for fmt in ("md", "txt", "json")]
    eml = render_eml(context, b"PK zip", sender="me@shop.example")
    # The message's date, id and part boundaries are new each time; nothing else may differ.
    eml = re.sub(rb"^(Date|Message-ID): .*$", b"", eml, flags=re.M)
    eml = re.sub(rb"===============\d+==", b"=====", eml)
    return [*texts, eml, repr(context).encode()]


def sparse_report() -> Report:
    """What an older collector wrote: only the required fields, every default left out."""
    return make_report()


@pytest.mark.parametrize("lang", ["en", "pt"])
@pytest.mark.parametrize("report", [make_report, hostile_report, resolved_report, sparse_report])
def test_a_plain_report_makes_the_same_ticket_as_the_model(report: Any, lang: str) -> None:
    from collector.bundle_reader import parse_report

    text = report().to_json()
    if report is sparse_report:
        required = ("schema", "reference", "created", "outcome")
        text = json.dumps({k: v for k, v in json.loads(text).items() if k in required})
    plain = parse_report(text, "b", plain=True)
    assert not isinstance(plain, Report)  # pydantic-core's objects, not the models
    assert every_ticket(plain, lang) == every_ticket(parse_report(text, "b"), lang)


def test_a_plain_report_is_refused_as_the_model_is() -> None:
    from collector.bundle_reader import parse_report
    from collector.errors import BundleError

    good = json.loads(make_report().to_json())
    bad = [
        {**good, "steps": [{"index": 0, "action": "goto", "status": "ok"}]},
        {**good, "events": [{"kind": "nope", "level": "error", "text": "x"}]},
        {**good, "environment": {"browser": 3}},
        {**good, "surprise": 1},
        {**good, "errors": [{**json.loads(make_report().to_json())["errors"][0], "frames": "x"}]},
    ]
    for data in bad:
        refusals = []
        for plain in (True, False):
            with pytest.raises(BundleError) as refused:
                parse_report(json.dumps(data), "b", plain=plain)
            refusals.append(str(refused.value))
        assert refusals[0] == refusals[1]
