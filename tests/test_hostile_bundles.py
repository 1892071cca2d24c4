"""A received bundle cannot harm the agent who opens it.

Every command that reads a bundle (`ticket` in each format, `replay`) is run, as
click runs it, on hostile bundles: it either refuses with exit 2 and one `Error:` line,
or gives a safe result. No traceback, no file outside the bundle read, and no
request that carries a variable the agent did not name: the spy server below
logs every request the browser makes.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from run_collector import Ran, invoke

from collector.report import Attachment, ErrorGroup, Outcome, Report, StepRecord

AGENT_TOKEN = "agent-token-9f3Kq7"  # what the agent's shell holds, never to leave it
REFERENCE = "CR-20261130-7K3QF9"
FORMATS = ("md", "txt", "json", "eml")
RAW_CONTROL = ("\x1b", "\x00", "\r", "\x07", "\x9b")

FORM_PAGE = b"""<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>Form</title></head><body>
<input id="name" type="text"> <button id="go" type="button">Go</button>
<script>document.getElementById('go').addEventListener('click', () => {
  throw new TypeError('checkout exploded');
});</script></body></html>"""


class SpyHandler(BaseHTTPRequestHandler):
    """Logs every request (line and headers) the browser sends; serves one form page."""

    log: ClassVar[list[str]] = []

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self.log.append(f"{self.requestline}\n{self.headers}")
        body = FORM_PAGE if self.path.startswith("/form.html") else b"ok"
        kind = "text/html" if body is FORM_PAGE else "text/plain"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET


@pytest.fixture(scope="module")
def spy() -> Iterator[tuple[str, list[str]]]:
    log: ClassVar[list[str]] = []
    handler = type("Spy", (SpyHandler,), {"log": log})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", log
    server.shutdown()
    server.server_close()


def collector(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> Ran:
    return invoke(*args, cwd=cwd, env={"AGENT_TOKEN": AGENT_TOKEN, **(env or {})})


def refused(proc: Ran) -> str:
    """The one `Error:` line of an exit-2 refusal."""
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), proc.stderr
    assert not any(c in lines[0] for c in RAW_CONTROL), lines[0]
    return lines[0]


def report(**changes: Any) -> Report:
    base = Report(
        reference=REFERENCE,
        title="Checkout explodes",
        created="2026-11-30T10:00:00+00:00",
        outcome=Outcome(status="errors", message="1 error(s) captured: TypeError"),
        steps=[
            StepRecord(index=1, action="goto", target="form.html", status="ok"),
            StepRecord(index=2, action="click", target="#go", status="ok"),
        ],
        errors=[
            ErrorGroup(
                fingerprint="page_error:abc", kind="page_error", message="TypeError: boom",
                count=1, first_step=2,
            )
        ],
    )  # fmt: skip
    return base.model_copy(update=changes)


def make_bundle(folder: Path, report_text: str, scenario_text: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "report.json").write_text(report_text, encoding="utf-8")
    (folder / "scenario.yaml").write_text(scenario_text, encoding="utf-8")
    return folder


def as_zip(folder: Path) -> Path:
    path = folder.with_suffix(".zip")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for member in sorted(folder.iterdir()):
            zf.write(member, member.name)
    return path


def no_token_sent(log: list[str]) -> None:
    leaked = [entry.splitlines()[0] for entry in log if AGENT_TOKEN in entry]
    assert leaked == []


# --- the agent's environment stays the agent's -----------------------------------------

EXFILTRATION = [
    pytest.param(
        "secrets: [AGENT_TOKEN]\nsteps:\n  - goto: /echo?stolen=${AGENT_TOKEN}\n",
        "step 1 (goto) uses ${AGENT_TOKEN} in its url",
        id="goto-query",
    ),
    pytest.param(
        "secrets: [AGENT_TOKEN]\nsteps:\n  - goto: form.html\n  - click: '#x-${AGENT_TOKEN}'\n",
        "step 2 (click) uses ${AGENT_TOKEN} in its selector",
        id="selector",
    ),
    pytest.param(
        "secrets: [AGENT_TOKEN]\nsteps:\n  - goto: form.html\n"
        "  - evaluate: \"fetch('/x?' + '${AGENT_TOKEN}')\"\n",
        "step 2 (evaluate) uses ${AGENT_TOKEN} in its expression",
        id="evaluate",
    ),
    pytest.param(
        "secrets: [AGENT_TOKEN]\nsteps:\n  - goto: form.html\n"
        "  - wait_for_url: '**/${AGENT_TOKEN}'\n",
        "step 2 (wait_for_url) uses ${AGENT_TOKEN} in its url",
        id="wait-for-url",
    ),
    pytest.param(
        "secrets: [AGENT_TOKEN]\nsteps:\n  - goto: form.html\n"
        "  - press: {key: Enter, name: '${AGENT_TOKEN}'}\n",
        "step 2 (press) uses ${AGENT_TOKEN} in its name",
        id="step-name",
    ),
    pytest.param(
        "secrets: [AGENT_TOKEN]\nname: 'steal ${AGENT_TOKEN}'\nsteps:\n  - goto: form.html\n",
        "the scenario's name uses ${AGENT_TOKEN}",
        id="scenario-name",
    ),
    pytest.param(
        "secrets: [AGENT_TOKEN]\nsteps:\n  - goto: form.html\n"
        "  - select: {selector: '#name', value: '${AGENT_TOKEN}'}\n",
        "step 2 (select) uses ${AGENT_TOKEN} in its value",
        id="select-value",
    ),
]


@pytest.mark.parametrize(("steps", "named"), EXFILTRATION)
def test_a_secret_outside_a_typed_value_is_refused_even_when_named(
    steps: str, named: str, spy: tuple[str, list[str]], tmp_path: Path
) -> None:
    base, log = spy
    folder = make_bundle(tmp_path / REFERENCE, report().to_json(), f"url: {base}\n{steps}")
    for bundle in (folder, as_zip(folder)):
        line = refused(collector("replay", bundle, "--secret", "AGENT_TOKEN", cwd=tmp_path))
        assert named in line and "refused" in line
        assert AGENT_TOKEN not in line
    assert not (tmp_path / "reports").exists()
    no_token_sent(log)


def test_un_named_secrets_are_listed_before_any_browser_starts(
    spy: tuple[str, list[str]], tmp_path: Path
) -> None:
    base, log = spy
    steps = (
        f"url: {base}\nsecrets: [AGENT_TOKEN, HOME, PATH]\nsteps:\n  - goto: form.html\n"
        "  - fill: {selector: '#name', value: '${AGENT_TOKEN}${HOME}${PATH}'}\n"
    )
    folder = make_bundle(tmp_path / REFERENCE, report().to_json(), steps)
    before = len(log)
    line = refused(collector("replay", folder, cwd=tmp_path))
    assert line == (
        f"Error: {folder}: the steps ask for secrets you have not given: AGENT_TOKEN, HOME, "
        "PATH (a bundle's secrets are yours to choose: pass --secret AGENT_TOKEN --secret HOME "
        "--secret PATH or --secrets-file FILE)"
    )
    # Naming some is not naming all.
    line = refused(collector("replay", folder, "--secret", "HOME", cwd=tmp_path))
    assert "not given: AGENT_TOKEN, PATH (" in line
    assert len(log) == before  # no browser ever opened a page
    assert not (tmp_path / "reports").exists()


def test_an_undeclared_variable_is_refused(spy: tuple[str, list[str]], tmp_path: Path) -> None:
    base, log = spy
    steps = f"url: {base}\nsteps:\n  - goto: /echo?stolen=${{AGENT_TOKEN}}\n"
    folder = make_bundle(tmp_path / REFERENCE, report().to_json(), steps)
    line = refused(collector("replay", folder, "--secret", "AGENT_TOKEN", cwd=tmp_path))
    assert "${AGENT_TOKEN} is not declared in `secrets:`" in line
    no_token_sent(log)


def test_a_header_field_is_not_part_of_a_scenario(
    spy: tuple[str, list[str]], tmp_path: Path
) -> None:
    base, log = spy
    steps = (
        f"url: {base}\nsecrets: [AGENT_TOKEN]\nheaders: {{X-Token: '${{AGENT_TOKEN}}'}}\n"
        "steps:\n  - goto: form.html\n"
    )
    folder = make_bundle(tmp_path / REFERENCE, report().to_json(), steps)
    line = refused(collector("replay", folder, "--secret", "AGENT_TOKEN", cwd=tmp_path))
    assert "headers: unknown key" in line
    no_token_sent(log)


@pytest.mark.browser
@pytest.mark.parametrize("how", ["--secret", "--secrets-file"])
def test_a_named_secret_is_typed_and_nothing_else_is_sent(
    how: str, spy: tuple[str, list[str]], tmp_path: Path
) -> None:
    base, log = spy
    steps = (
        f"url: {base}\nsecrets: [AGENT_TOKEN]\nsteps:\n  - goto: form.html\n"
        "  - fill: {selector: '#name', value: '${AGENT_TOKEN}'}\n  - click: '#go'\n"
    )
    folder = make_bundle(tmp_path / REFERENCE, report().to_json(), steps)
    if how == "--secret":
        given = ["--secret", "AGENT_TOKEN"]
        env = None
    else:
        secrets_file = tmp_path / "agent.env"
        secrets_file.write_text(f"# for the replay\nexport AGENT_TOKEN='{AGENT_TOKEN}'\n")
        given = ["--secrets-file", str(secrets_file)]
        env = {"AGENT_TOKEN": "not-this-one"}
    proc = collector(
        "replay", folder, *given, "--linger", "0.3", "--out", tmp_path / "out",
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert "Traceback" not in proc.stderr
    # The hand-made report's fingerprint is not the page's: "not reproduced", exit 1.
    assert proc.returncode == 1, proc.stderr
    assert "The bundle asks for secrets: AGENT_TOKEN (given)" in proc.stderr
    [replayed] = [p for p in (tmp_path / "out").iterdir() if p.is_dir()]
    steps_run = json.loads((replayed / "report.json").read_text())["steps"]
    assert [s["status"] for s in steps_run] == ["ok", "ok", "ok"]
    for path in replayed.rglob("*"):
        if path.is_file():
            assert AGENT_TOKEN.encode() not in path.read_bytes(), path
    no_token_sent(log)


@pytest.mark.browser
def test_a_pattern_that_backtracks_for_ever_ends_the_replay_and_hides_nothing(
    pages_url: str, tmp_path: Path
) -> None:
    """A bundle's ignore pattern that Python's `re` never finishes on what the page logs
    (40 x's): the replay ends, the error still counts, and the report says why."""
    pattern = r"(x|xx)+y"
    steps = f"url: {pages_url}\nignore: ['{pattern}']\nsteps:\n  - goto: backtrack.html\n"
    folder = make_bundle(tmp_path / REFERENCE, report().to_json(), steps)
    proc = collector("replay", folder, "--linger", "0.3", "--out", tmp_path / "out", cwd=tmp_path)
    assert "Traceback" not in proc.stderr
    [replayed] = [p for p in (tmp_path / "out").iterdir() if p.is_dir()]
    replayed_report = json.loads((replayed / "report.json").read_text())
    assert [e["message"] for e in replayed_report["errors"]] == ["x" * 40]
    assert any(
        pattern in note and "did not finish" in note for note in replayed_report["capture_problems"]
    ), replayed_report["capture_problems"]


def test_a_secret_named_but_not_set_is_one_line(tmp_path: Path) -> None:
    folder = make_bundle(
        tmp_path / REFERENCE, report().to_json(),
        "url: http://127.0.0.1:9/\nsecrets: [NOPE_X]\nsteps:\n  - fill: {selector: '#a', "
        "value: '${NOPE_X}'}\n",
    )  # fmt: skip
    line = refused(collector("replay", folder, "--secret", "NOPE_X", cwd=tmp_path))
    assert line == "Error: --secret NOPE_X: environment variable NOPE_X is not set"
    bad = tmp_path / "bad.env"
    bad.write_text(f"NOPE_X={AGENT_TOKEN}\nthis line has {AGENT_TOKEN} and no equals\n")
    line = refused(collector("replay", folder, "--secrets-file", bad, cwd=tmp_path))
    assert line == f"Error: --secrets-file {bad}:2: expected NAME=value"


# --- only the bundle's own files --------------------------------------------------------


def _private_file(tmp_path: Path) -> Path:
    private = tmp_path / "private"
    private.mkdir(exist_ok=True)
    secret = private / "shadow"
    secret.write_text(f"root:{AGENT_TOKEN}:19000:0:99999:7:::\n")
    return secret


def symlinked_report(tmp_path: Path) -> Path:
    folder = make_bundle(tmp_path / REFERENCE, "{}", "steps: []\n")
    (folder / "report.json").unlink()
    (folder / "report.json").symlink_to(_private_file(tmp_path))
    return folder


def hardlinked_report(tmp_path: Path) -> Path:
    folder = make_bundle(tmp_path / REFERENCE, "{}", "steps: []\n")
    (folder / "report.json").unlink()
    os.link(_private_file(tmp_path), folder / "report.json")
    return folder


def symlinked_scenario(tmp_path: Path) -> Path:
    folder = make_bundle(tmp_path / REFERENCE, report().to_json(), "")
    (folder / "scenario.yaml").unlink()
    (folder / "scenario.yaml").symlink_to(_private_file(tmp_path))
    return folder


def symlinked_zip(tmp_path: Path) -> Path:
    folder = make_bundle(tmp_path / REFERENCE, report().to_json(), "steps:\n  - reload\n")
    (folder / f"{REFERENCE}.zip").symlink_to(_private_file(tmp_path))
    return folder


def traversal_reference(tmp_path: Path) -> Path:
    private = _private_file(tmp_path)
    (private.parent / "x.zip").write_bytes(private.read_bytes())
    hostile = report().model_dump(mode="json", by_alias=True)
    hostile["reference"] = "../" * 12 + str(private.parent / "x")
    return make_bundle(tmp_path / REFERENCE, json.dumps(hostile), "steps:\n  - reload\n")


def crlf_reference(tmp_path: Path) -> Path:
    hostile = report().model_dump(mode="json", by_alias=True)
    hostile["reference"] = "CR-20261130-7K3QF9\r\nBcc: thief@example.com"
    return make_bundle(tmp_path / REFERENCE, json.dumps(hostile), "steps:\n  - reload\n")


def deep_report(tmp_path: Path) -> Path:
    depth = 100_000
    text = report().to_json()[:-2] + ', "totals": ' + "[" * depth + "]" * depth + "}"
    return make_bundle(tmp_path / REFERENCE, text, "steps:\n  - reload\n")


def deep_but_decodable_report(tmp_path: Path) -> Path:
    depth = 500  # below Python's recursion limit: decoded, then refused
    text = report().to_json()[:-2] + ', "totals": {"x": ' + "[" * depth + "]" * depth + "}}"
    return make_bundle(tmp_path / REFERENCE, text, "steps:\n  - reload\n")


def huge_string_report(tmp_path: Path) -> Path:
    hostile = report().model_dump(mode="json", by_alias=True)
    hostile["title"] = "A" * 50_000_000
    return make_bundle(tmp_path / REFERENCE, json.dumps(hostile), "steps:\n  - reload\n")


def huge_number_report(tmp_path: Path) -> Path:
    text = report().to_json()[:-2] + ', "dropped": ' + "9" * 100_000 + "}"
    return make_bundle(tmp_path / REFERENCE, text, "steps:\n  - reload\n")


def binary_report(tmp_path: Path) -> Path:
    folder = make_bundle(tmp_path / REFERENCE, "", "steps:\n  - reload\n")
    (folder / "report.json").write_bytes(b"PK\x85\x00\xff" * 100)
    return folder


def fifo_report(tmp_path: Path) -> Path:
    folder = make_bundle(tmp_path / REFERENCE, "", "steps:\n  - reload\n")
    (folder / "report.json").unlink()
    os.mkfifo(folder / "report.json")  # reading it would block forever
    return folder


READERS: list[tuple[str, ...]] = [("ticket", "--format", fmt) for fmt in FORMATS] + [("replay",)]

HOSTILE_FOLDERS = [
    pytest.param(symlinked_report, "report.json is a link; bundles hold plain files", READERS, id="symlinked-report"),
    pytest.param(hardlinked_report, "report.json is a hard link; bundles hold plain files", READERS, id="hardlinked-report"),
    pytest.param(symlinked_scenario, "scenario.yaml is a link; bundles hold plain files", READERS, id="symlinked-scenario"),
    pytest.param(symlinked_zip, f"{REFERENCE}.zip is a link; bundles hold plain files", [("ticket", "--format", "eml")], id="symlinked-zip"),
    pytest.param(traversal_reference, "is not a reference number (CR-YYYYMMDD-XXXXXX)", READERS, id="traversal-reference"),
    pytest.param(crlf_reference, "is not a reference number (CR-YYYYMMDD-XXXXXX)", READERS, id="crlf-reference"),
    pytest.param(deep_report, "report.json is nested deeper than 32 levels", READERS, id="deep-json-100000"),
    pytest.param(deep_but_decodable_report, "report.json is nested deeper than 32 levels", READERS, id="deep-json-500"),
    pytest.param(huge_string_report, "report.json is too large", READERS, id="50MB-string"),
    pytest.param(huge_number_report, "report.json is not valid JSON", READERS, id="100000-digit-number"),
    pytest.param(binary_report, "report.json is not UTF-8 text", READERS, id="binary-report"),
    pytest.param(fifo_report, "report.json is not a plain file", READERS, id="fifo-report"),
]  # fmt: skip


@pytest.mark.parametrize(("make", "message", "commands"), HOSTILE_FOLDERS)
def test_hostile_folder_is_refused_by_every_reader(
    make: Callable[[Path], Path], message: str, commands: list[tuple[str, ...]], tmp_path: Path
) -> None:
    bundle = make(tmp_path)
    for command in commands:
        started = time.monotonic()
        proc = collector(*command[:1], bundle, *command[1:], cwd=tmp_path)
        line = refused(proc)
        assert message in line, (command, line)
        assert AGENT_TOKEN not in proc.stdout + proc.stderr, command
        assert time.monotonic() - started < 100, command  # bounded, whatever the nesting
    assert not (tmp_path / "reports").exists()


@pytest.mark.parametrize(
    "make", [crlf_reference, deep_report, deep_but_decodable_report, binary_report]
)
def test_the_same_hostile_report_in_a_zip_is_refused(
    make: Callable[[Path], Path], tmp_path: Path
) -> None:
    bundle = as_zip(make(tmp_path))
    for command in READERS:
        refused(collector(*command[:1], bundle, *command[1:], cwd=tmp_path))


def test_crlf_in_the_support_address_is_a_config_error(tmp_path: Path) -> None:
    folder = make_bundle(tmp_path / REFERENCE, report().to_json(), "steps:\n  - reload\n")
    (tmp_path / "collector.toml").write_text('support_email = "a@b\\r\\nBcc: x@y"\n')
    for fmt in FORMATS:
        line = refused(collector("ticket", folder, "--format", fmt, cwd=tmp_path))
        assert line.startswith(f"Error: {tmp_path / 'collector.toml'}:1: support_email: ")
        assert "without spaces or CR/LF" in line


# --- page and bundle text is neutral in every format -------------------------------------

IMG = "<img src=http://evil.example/pixel.png>"
MD_IMAGE = "![x](http://evil.example/track.png)"
SCRIPT = "<script>alert(1)</script>"
HOSTILE_TEXT = f"{SCRIPT} {IMG} {MD_IMAGE} \x1b[2J\x1b]0;pwned\x07 nul\x00 cr\r lf\n {{{{ 7*7 }}}}"


def hostile_text_report() -> Report:
    base = report()
    return base.model_copy(
        update={
            "title": HOSTILE_TEXT,
            "expected": HOSTILE_TEXT,
            "reason": HOSTILE_TEXT,
            "created": HOSTILE_TEXT,
            "steps": [
                StepRecord(
                    index=1, action="click", target=HOSTILE_TEXT, name=HOSTILE_TEXT,
                    status="failed", error=HOSTILE_TEXT, url="http://x/" + HOSTILE_TEXT,
                    value=HOSTILE_TEXT,
                )
            ],
            "errors": [
                ErrorGroup(
                    fingerprint=HOSTILE_TEXT, kind="console", message=HOSTILE_TEXT, count=1,
                    first_step=1, url=HOSTILE_TEXT, line=1, column=2, stack=HOSTILE_TEXT,
                )
            ],
            "totals": {HOSTILE_TEXT: {HOSTILE_TEXT: 1}},
            "attachments": [
                Attachment(path=HOSTILE_TEXT, bytes=1, sha256=HOSTILE_TEXT, in_zip=False,
                           note=HOSTILE_TEXT),
            ],
            "environment": base.environment.model_copy(
                update={"os": HOSTILE_TEXT, "user_agent": HOSTILE_TEXT, "url": HOSTILE_TEXT}
            ),
        }
    )  # fmt: skip


def outside_code(markdown: str) -> str:
    """The Markdown without fenced blocks and code spans (whose text renders literally)."""
    markdown = re.sub(r"^```text\n.*?^```$", "", markdown, flags=re.S | re.M)
    return re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", markdown)


def test_page_text_is_neutral_in_markdown_and_text(tmp_path: Path) -> None:
    folder = make_bundle(
        tmp_path / REFERENCE, hostile_text_report().to_json(), "steps:\n  - reload\n"
    )
    for fmt in ("md", "txt"):
        proc = collector("ticket", folder, "--format", fmt, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        out = proc.stdout
        assert not any(c in out for c in RAW_CONTROL), (fmt, [c for c in RAW_CONTROL if c in out])
        assert "49" not in out  # never evaluated as a template
        if fmt == "md":
            prose = outside_code(out)
            assert "<img" not in prose and "<script" not in prose and "![x](" not in prose
            assert "&lt;img src=http://evil.example/pixel.png&gt;" in prose
        else:
            assert IMG in out  # plain text shows it literally, as text
    data = json.loads(collector("ticket", folder, "--format", "json", cwd=tmp_path).stdout)
    assert data["reference"] == REFERENCE and "\x1b" not in data["details"]


def test_eml_subject_from_a_hostile_page_is_one_header(tmp_path: Path) -> None:
    folder = make_bundle(
        tmp_path / REFERENCE, hostile_text_report().to_json(), "steps:\n  - reload\n"
    )
    proc = collector("ticket", folder, "--format", "eml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    message = email.message_from_string(proc.stdout, policy=email.policy.default)
    assert message["Bcc"] is None
    assert "\n" not in message["Subject"] and "\x1b" not in message["Subject"]
    assert set(message.keys()) == {
        "Subject", "From", "Date", "Message-ID", "X-Collector-Reference", "MIME-Version",
        "Content-Type",
    }  # fmt: skip
    assert message.get_content_type() == "multipart/mixed"


# --- the zip the agent receives reads like its folder -------------------------------------


@pytest.fixture(scope="module")
def real_bundle(spy: tuple[str, list[str]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    base, _log = spy
    work = tmp_path_factory.mktemp("real")
    (work / "steps.yaml").write_text(
        f"name: Go explodes\nurl: {base}\nsteps:\n  - goto: form.html\n  - click: '#go'\n"
    )
    proc = collector("repro", "steps.yaml", "--out", "out", "--linger", "0.3", "-q", cwd=work)
    assert proc.returncode == 1, proc.stderr
    return (work / proc.stdout.strip()).parent  # the last line is the zip, in the bundle


@pytest.mark.browser
@pytest.mark.parametrize("fmt", FORMATS)
def test_ticket_reads_the_zip_as_it_reads_the_folder(
    fmt: str, real_bundle: Path, tmp_path: Path
) -> None:
    zip_path = real_bundle / f"{real_bundle.name}.zip"
    received = tmp_path / "Downloads" / zip_path.name
    received.parent.mkdir()
    received.write_bytes(zip_path.read_bytes())
    from_folder = collector("ticket", real_bundle, "--format", fmt, cwd=tmp_path)
    from_zip = collector("ticket", received, "--format", fmt, cwd=tmp_path)
    assert from_zip.returncode == 0, from_zip.stderr
    if fmt != "eml":
        assert from_zip.stdout == from_folder.stdout
        assert "checkout exploded" in from_zip.stdout
        return
    messages = [
        email.message_from_string(p.stdout, policy=email.policy.default)
        for p in (from_folder, from_zip)
    ]
    for message in messages:
        [attachment] = list(message.iter_attachments())
        assert attachment.get_filename() == zip_path.name
        assert attachment.get_content() == zip_path.read_bytes()
        assert message["Subject"] == messages[0]["Subject"]


@pytest.mark.browser
def test_replay_output_shows_bundle_text_neutrally(
    spy: tuple[str, list[str]], tmp_path: Path
) -> None:
    base, _log = spy
    hostile = report(
        title=HOSTILE_TEXT,
        errors=[
            ErrorGroup(
                fingerprint="console:x", kind="console", message=HOSTILE_TEXT, count=1,
                first_step=1,
            )
        ],
    )  # fmt: skip
    folder = make_bundle(
        tmp_path / REFERENCE, hostile.to_json(), f"url: {base}\nsteps:\n  - goto: form.html\n"
    )
    proc = collector("replay", folder, "--linger", "0", "--out", tmp_path / "out", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr  # not reproduced
    shown = proc.stdout + proc.stderr
    assert "Replaying CR-20261130-7K3QF9 (<script>" in shown and "\\u001b[2J" in shown
    assert not any(c in shown for c in RAW_CONTROL), [c for c in RAW_CONTROL if c in shown]
