"""The desk's words: cause-first headlines, next steps, Portuguese everywhere, the .eml.

Pure tests build reports by hand (no browser); the last ones run `collector repro`
and `collector check` on tests/pages with the real Chromium.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import socket
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from run_collector import invoke

from collector.bundle_text import console_log, events_by_step
from collector.config import load_config
from collector.errors import ConfigError
from collector.labels import LABELS, format_date, plural
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
    build_context,
    describe_step,
    headline,
    render,
    render_eml,
    render_ticket,
)

REF = "CR-20261201-7K3QF9"
SHOP = "http://127.0.0.1:8000/loja"
TYPE_ERROR = "TypeError: Cannot read properties of undefined (reading 'card')"


def report(**changes: Any) -> Report:
    """An exception at step 2 (checkout.js:12), then step 3's expectation fails."""
    data: dict[str, Any] = dict(
        reference=REF,
        title="Pagamento",
        created="2026-12-01T14:05:09Z",
        outcome=Outcome(status="step_failed", message="Locator expected to contain text 'Sent'",
                        failed_step=3),
        steps=[
            StepRecord(index=1, action="goto", target=f"{SHOP}/pagar.html", status="ok"),
            StepRecord(index=2, action="click", target="#pagar", status="ok",
                       url=f"{SHOP}/pagar.html"),
            StepRecord(index=3, action="expect_text", target="#msg", value="Sent",
                       status="failed", url=f"{SHOP}/pagar.html",
                       error="Locator expected to contain text 'Sent'"),
        ],
        errors=[
            ErrorGroup(fingerprint="f1", kind="page_error", message=TYPE_ERROR, count=1,
                       first_step=2, url=f"{SHOP}/checkout.js", line=12, column=5),
        ],
        environment=Environment(browser_version="131.0", os="Linux", collector_version="0.1.0"),
    )  # fmt: skip
    data.update(changes)
    return Report(**data)


# -- lead with the cause ---------------------------------------------------------------


def test_headline_names_the_error_first_then_the_failed_step():
    assert headline(report()) == (
        f"{TYPE_ERROR} at checkout.js:12 — then step 3 failed "
        "(check that #msg shows “Sent” on /loja/pagar.html)"
    )
    context = build_context(report())
    assert context.actual == context.headline == headline(report())
    assert context.subject.startswith(TYPE_ERROR + " — click #pagar")
    assert headline(report(), "pt").startswith(f"{TYPE_ERROR} em checkout.js:12 — depois o passo 3")


def test_a_page_load_timeout_says_the_page_did_not_load():
    goto = StepRecord(
        index=1, action="goto", target=f"{SHOP}/lenta.html", status="failed",
        error="Page.goto: Timeout 30000ms exceeded.",
    )  # fmt: skip
    slow = report(
        steps=[goto], errors=[],
        outcome=Outcome(status="step_failed", message="Page.goto: Timeout 30000ms exceeded.",
                        failed_step=1),
    )  # fmt: skip
    assert headline(slow) == f"The page did not load within 30 s (step 1: open {SHOP}/lenta.html)"
    assert build_context(slow).subject == (
        f"The page did not load within 30 s — open {SHOP}/lenta.html"
    )
    assert headline(slow, "pt") == (
        f"A página não carregou em 30 s (passo 1: abrir {SHOP}/lenta.html)"
    )
    assert "Timeout" not in headline(slow)


def test_a_step_name_is_the_step_s_name_not_the_element_s_label():
    step = StepRecord(index=2, action="click", target="#go", name="Send the form", status="ok")
    assert describe_step(step) == "Send the form (click #go)"
    assert describe_step(step, "pt") == "Send the form (clicar em #go)"


@pytest.mark.parametrize(
    ("value", "en", "pt"),
    [
        ("by 0, 600", "Scroll by x 0, y 600", "Deslocar x 0, y 600"),
        ("to 0, 600", "Scroll to x 0, y 600", "Deslocar para x 0, y 600"),
        (None, "Scroll #list into view", "Deslocar até #list ficar visível"),
    ],
)
def test_scroll_describes_itself(value, en, pt):
    target = None if value else "#list"
    step = StepRecord(index=1, action="scroll", target=target, value=value, status="ok")
    assert (describe_step(step), describe_step(step, "pt")) == (en, pt)


# -- plurals and dates ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "en", "pt"),
    [
        (0, "0 errors were captured.", "Foram capturados 0 erros."),
        (1, "1 error was captured.", "Foi capturado 1 erro."),
        (2, "2 errors were captured.", "Foram capturados 2 erros."),
    ],
)
def test_plural_forms(count, en, pt):
    assert plural("en", "errors_captured", count) == en
    assert plural("pt", "errors_captured", count) == pt


def test_plural_labels_come_in_pairs():
    for labels in LABELS.values():
        for key in labels:
            if key.endswith("_one"):
                assert key[: -len("one")] + "other" in labels, key
        assert not any("(s)" in v for v in labels.values())


def test_dates_in_the_language_s_format():
    assert format_date("pt", "2026-12-01T14:05:09Z") == "1 de dezembro de 2026, 14:05 UTC"
    assert format_date("en", "2026-12-01T14:05:09Z") == "1 December 2026, 14:05 UTC"


# -- Portuguese: no English label left in any pt output ----------------------------------

LEVELS = ("error", "warning", "info", "log", "debug")
OVER_LIMIT = "left out: 3,000,000 bytes is over the 2,000,000-byte attachment limit"
DOWNSCALED = (
    "downscaled from 2560x1600 to 1280x800 and re-encoded as JPEG quality 70 to fit "
    "2,000,000 bytes (3,000,000 -> 900,000 bytes)"
)


def every_kind_report() -> Report:
    """Errors of every kind, every console level, a popup, a worker, caps, a left-out file."""
    page = f"{SHOP}/pagar.html"
    events = [
        Event(kind="console", level=level, text=f"mensagem {level[:1]}", step=2,
              source="page 1", fails=level == "error", url=f"{SHOP}/app.js", line=3)
        for level in LEVELS
    ] + [
        Event(kind="page_error", level="error", text=TYPE_ERROR, step=2, fails=True,
              source="page 2 (popup)", url=f"{SHOP}/checkout.js", line=12,
              stack=f"{TYPE_ERROR}\n    at pagar ({SHOP}/checkout.js:12:5)"),
        Event(kind="request_failed", level="error", text=f"GET {SHOP}/api failed: net::ERR_FAILED",
              step=2, fails=True, source="page 1"),
        Event(kind="http_error", level="error", text=f"HTTP 500 POST {SHOP}/api/pagar", step=2,
              fails=True, status=500, method="POST", source="worker https://x/w.js"),
        Event(kind="crash", level="error", text="Aw, Snap", step=2, fails=True, source="page 1"),
        Event(kind="dialog", level="info", text="alert: Olá", step=2, source="page 1"),
        Event(kind="download", level="info", text="fatura.pdf", step=2, source="page 1"),
        Event(kind="disconnect", level="error", text="Chromium", step=None, count=2),
    ]  # fmt: skip
    groups = [
        ErrorGroup(fingerprint=f"g{i}", kind=e.kind, message=e.text, count=e.count,
                   first_step=e.step, url=e.url, line=e.line, stack=e.stack)
        for i, e in enumerate(events) if e.fails or e.kind == "disconnect"
    ]  # fmt: skip
    totals: dict[str, Any] = {"console": {level: 1 for level in LEVELS}}
    totals.update({e.kind: e.count for e in events if e.kind != "console"})
    return report(
        outcome=Outcome(status="errors", message="6 error(s) captured"),
        steps=[
            StepRecord(index=1, action="goto", target=page, status="ok"),
            StepRecord(index=2, action="click", target="#pagar", name="Pagar", status="ok",
                       url=page, screenshot="capturas/passo-02.png"),
            StepRecord(index=3, action="scroll", value="by 0, 600", status="ok", url=page),
            StepRecord(index=4, action="fill", target="#nome", value="Ana", status="skipped",
                       error="—"),
        ],
        events=events,
        errors=groups,
        totals=totals,
        dropped=3,
        reason="technical",
        expected=None,
        attachments=[
            Attachment(path="registo.txt", bytes=1, sha256="0" * 64, in_zip=True,
                       note="trace: 3 screencast frames removed (a secret was typed)"),
            Attachment(path="capturas/grande.png", bytes=3_000_000, sha256="1" * 64,
                       in_zip=False, note=OVER_LIMIT),
            Attachment(path="capturas/passo-02.png", bytes=900_000, sha256="2" * 64, in_zip=True,
                       note=DOWNSCALED),
            Attachment(path="capturas/fim.png", bytes=900, sha256="3" * 64, in_zip=False,
                       note="left out: the zip would exceed the attachment limit"),
        ],
    )  # fmt: skip


class _Text(HTMLParser):
    """The text a reader sees in an HTML page (not its CSS, not its attributes)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = False

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self._skip = tag in ("style", "script")

    def handle_endtag(self, tag: str) -> None:
        self._skip = False

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return "\n".join(parser.parts)


ENGLISH_WORDS = (
    "error", "errors", "warning", "warnings", "fails", "step", "steps", "page", "times",
    "time", "technical", "captured", "before", "ok", "info", "debug", "console", "uncaught",
    "request", "failed", "recorded", "attach", "popup", "worker", "december", "message",
    "messages", "more", "events", "then", "at", "the", "of", "and", "in",
)  # fmt: skip


def english_left(text: str) -> list[str]:
    """English words and English label phrases found in ``text``."""
    found = [w for w in ENGLISH_WORDS if re.search(rf"(?<![\w/.#-]){w}(?![\w/.-])", text, re.I)]
    for key, value in LABELS["en"].items():
        if value == LABELS["pt"][key]:
            continue  # the same in both languages (URL)
        for fragment in re.split(r"\{[^}]*\}", value):
            fragment = fragment.strip(" .,:;()“”")
            if len(fragment) >= 5 and fragment in text and fragment not in LABELS["pt"][key]:
                found.append(f"{key}: {fragment}")
    return found


def pt_outputs() -> dict[str, str]:
    rep = every_kind_report()
    context = build_context(rep, lang="pt")
    data = json.loads(render_ticket(context, "json"))
    message = email.message_from_bytes(render_eml(context, b"PK\x05\x06" + bytes(18)),
                                       policy=email.policy.default)  # fmt: skip
    plain = message.get_body(("plain",))
    rich = message.get_body(("html",))
    assert plain is not None and rich is not None
    html = render("report.html.j2", report=rep, ticket=context, t=context.t,
                  events_by_step=events_by_step(rep.events, rep.steps))  # fmt: skip
    return {
        "ticket.md": render_ticket(context, "md"),
        "ticket.txt": render_ticket(context, "txt"),
        "ticket.json": "\n".join([data["subject"], data["details"], data["reason_label"]]),
        "eml subject": str(message["Subject"]),
        "eml text": plain.get_content(),
        "eml html": html_text(rich.get_content()),
        "report.html": html_text(html),
        "console.log": console_log(rep.events, rep.steps, "pt"),
    }


@pytest.mark.parametrize("name", list(pt_outputs()))
def test_no_english_left_in_portuguese_outputs(name):
    text = pt_outputs()[name]
    # What the page and the browser said (messages, stacks) and file names are data;
    # what is left must be Portuguese.
    rep = every_kind_report()
    data = [line.strip() for e in rep.events for line in (e.text + "\n" + (e.stack or "")).splitlines()]
    for item in sorted({*data, "checkout.js", "app.js", "w.js", "Chromium", "Linux", REF}, key=len,
                       reverse=True):  # fmt: skip
        if item:
            text = text.replace(item, "")
    assert english_left(text) == [], name


def test_the_english_detector_sees_english():
    """The check above is not vacuous: the English outputs trip it."""
    rep = every_kind_report()
    en = build_context(rep, lang="en")
    for text in (render_ticket(en, "md"), console_log(rep.events, rep.steps, "en")):
        found = english_left(text)
        assert "error" in found and "step" in found


def test_attachment_notes_in_the_ticket_s_language():
    md = render_ticket(build_context(every_kind_report(), lang="pt"), "md")
    assert "deixado de fora: 3 000 000 bytes excede o limite de 2 000 000 bytes por anexo" in md
    assert "reduzido de 2560x1600 para 1280x800 e recodificado como JPEG qualidade 70" in md
    en = render_ticket(build_context(every_kind_report(), lang="en"), "txt")
    assert OVER_LIMIT in en and DOWNSCALED in en


def test_portuguese_labels_of_the_statuses_and_reasons():
    pt = LABELS["pt"]
    assert pt["status_ok"] != "ok" and pt["reason_technical"] == "Problema técnico"
    md = render_ticket(build_context(every_kind_report(), lang="pt"), "md")
    assert "| **Motivo** | Problema técnico |" in md
    assert "Consola: 1 erro, 1 aviso, 1 mensagem informativa" in md
    assert "Exceção não tratada (1 vez)" in md.replace("**", "").replace("1. ", "")


# -- .eml ----------------------------------------------------------------------------------


@pytest.mark.parametrize("with_zip", [True, False])
def test_eml_is_always_multipart_mixed_with_text_and_html(with_zip):
    context = build_context(report(), lang="pt", support_address="apoio@loja.example")
    zip_data = b"PK\x05\x06" + bytes(18)
    raw = render_eml(context, zip_data if with_zip else None)
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message.get_content_type() == "multipart/mixed"
    assert message["To"] == "apoio@loja.example"
    plain, rich = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and rich is not None
    assert plain.get_content().replace("\r\n", "\n") == render_ticket(context, "txt")
    assert "<h2" in rich.get_content() and "Passos para reproduzir" in rich.get_content()
    attachments = list(message.iter_attachments())
    if with_zip:
        [attached] = attachments
        assert attached.get_filename() == f"{REF}.zip"
        assert attached.get_content() == zip_data
    else:
        assert attachments == []


def test_eml_html_part_escapes_page_text():
    hostile = report(errors=[ErrorGroup(fingerprint="h", kind="page_error", count=1,
                                        first_step=2, message="<img src=x onerror=alert(1)>")])  # fmt: skip
    message = email.message_from_bytes(
        render_eml(build_context(hostile), None), policy=email.policy.default
    )
    rich = message.get_body(("html",))
    assert rich is not None
    assert "<img src=x" not in rich.get_content()
    assert "&lt;img src=x onerror=alert(1)&gt;" in rich.get_content()


# -- config: where the desk is ----------------------------------------------------------------


def test_support_address_and_url_are_read_and_validated(tmp_path):
    (tmp_path / "collector.toml").write_text(
        'support_address = "apoio@loja.example"\nsupport_url = "https://loja.example/apoio"\n'
    )
    config = load_config(tmp_path)
    assert (config.support_address, config.support_url) == (
        "apoio@loja.example", "https://loja.example/apoio",
    )  # fmt: skip
    (tmp_path / "collector.toml").write_text('support_email = "old@loja.example"\n')
    assert load_config(tmp_path).support_address == "old@loja.example"


@pytest.mark.parametrize(
    ("line", "key", "why"),
    [
        ('support_url = "javascript:alert(1)"', "support_url", "an http:// or https:// address"),
        ('support_url = "https://a.example/\\nx"', "support_url", "an http:// or https:// address"),
        ('support_address = "two words@x"', "support_address", "one e-mail address"),
    ],
)
def test_bad_support_settings_are_config_errors(tmp_path, line, key, why):
    (tmp_path / "collector.toml").write_text(line + "\n")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert str(caught.value).startswith(f"{tmp_path / 'collector.toml'}:1: {key}: ")
    assert why in str(caught.value)


# -- the real thing: repro's next steps, check's lines ------------------------------------------


def write(folder: Path, text: str, name: str = "steps.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.browser
def test_repro_ends_with_the_next_steps_and_the_zip_s_absolute_path(tmp_path, pages_url):
    write(tmp_path, 'support_address = "help@shop.example"\nsupport_url = "https://shop.example/help"\n',
          "collector.toml")  # fmt: skip
    write(tmp_path, (
        f"name: Pay fails\nurl: {pages_url}\nsteps:\n  - goto: checkout-buggy.html\n"
        "  - scroll: {x: 0, y: 600}\n  - click: {selector: '#pay', name: Pay now}\n"
        "  - expect_text: {selector: '#result', text: Paid, timeout: 3000}\n"
    ))  # fmt: skip
    ran = invoke("repro", "steps.yaml", "--out", "out", "--linger", "0.3", cwd=tmp_path)
    assert ran.returncode == 1, ran.stderr
    zip_path = Path(ran.stdout.strip())
    assert ran.stdout == f"{zip_path}\n" and zip_path.is_absolute() and zip_path.is_file()
    bundle = zip_path.parent
    err = ran.stderr.splitlines()
    assert "  ✓ 2/4 Scroll by x 0, y 600 on /checkout-buggy.html" in "\n".join(err)
    assert any(line.startswith("  ✓ 3/4 Pay now (click #pay on /checkout-buggy.html)") for line in err)
    headline_line = next(line for line in err if line.startswith("✗ "))
    assert headline_line.startswith(
        "✗ TypeError: Cannot read properties of undefined (reading 'card') at checkout-buggy.js:6"
        " — then step 4 failed"
    )
    report_data = json.loads((bundle / "report.json").read_text(encoding="utf-8"))
    subject = build_context(Report.model_validate(report_data)).subject
    tail = err[err.index(next(line for line in err if line.startswith("Next: "))) :]
    assert tail == [
        f"Next: open a ticket with the support desk (Reference {bundle.name}):",
        "  Support page: https://shop.example/help (or e-mail help@shop.example)",
        "  Reason:  Technical problem",
        f"  Subject: {subject}",
        f"  Details: paste {bundle / 'ticket.md'}",
        f"  Attach:  {zip_path} ({tail[-1].rsplit('(', 1)[1]}",
    ]
    assert report_data["steps"][1]["value"] == "by 0, 600"
    quiet = invoke("repro", "steps.yaml", "--out", "out", "--linger", "0.3", "-q", cwd=tmp_path)
    assert quiet.stderr == "" and len(quiet.stdout.splitlines()) == 1
    assert Path(quiet.stdout.strip()).is_absolute() and quiet.stdout.strip().endswith(".zip")
    eml = invoke("ticket", str(bundle), "--format", "eml", "-o", "t.eml", cwd=tmp_path)
    assert eml.returncode == 0, eml.stderr
    message = email.message_from_bytes((tmp_path / "t.eml").read_bytes(),
                                       policy=email.policy.default)  # fmt: skip
    assert message["To"] == "help@shop.example"
    [attached] = list(message.iter_attachments())
    assert attached.get_content() == zip_path.read_bytes()


@pytest.mark.browser
def test_check_says_each_failure_once(tmp_path, pages_url):
    with socket.socket() as sock:  # a port nothing listens on: the connection is refused
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    missing = f"{pages_url}no-such-page.html"
    ran = invoke("check", missing, closed, "--linger", "0.3", cwd=tmp_path)
    assert ran.returncode == 1
    fails = [line for line in ran.stdout.splitlines() if line.startswith("FAIL ")]
    unreachable = [line for line in fails if closed in line]
    assert len(unreachable) == 1, fails
    assert unreachable[0].startswith(f"FAIL {closed}: The site could not be reached: net::ERR_")
    [http] = [line for line in fails if line.startswith(f"FAIL {missing}")]
    assert http.count(missing) <= 2, http
