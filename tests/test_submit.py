"""collector submit: a real SMTP server (aiosmtpd, STARTTLS + AUTH, a throwaway certificate
trusted with --cafile) and a stdlib HTTP server that speaks the inbox's upload API.

One demo bundle is built per module (shared browser); every send is an in-process
`invoke` with its own state folder (XDG_STATE_HOME), so the sent record of one test
never refuses another's. Retries wait 0 s: `[submit] retry_delays` in collector.toml.
"""

from __future__ import annotations

import datetime
import email
import email.policy
import ipaddress
import json
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from run_collector import Ran, invoke, process_env
from shared_browser import free_port

from collector.bundle_reader import open_bundle
from collector.config import Config, SubmitConfig
from collector.errors import BadInput, SendError
from collector.labels import SUBMIT_LABELS
from collector.submit import (
    RECORD_NAME,
    SentRecord,
    SubmitFlags,
    deliver,
    make_plan,
    state_dir,
)
from collector.ticket import build_context, ticket_json
from collector.transports import Permanent, Temporary, parse_smtp_url

PASSWORD = "pa55-Word!only-in-env"
INBOX_TOKEN = "inbox-token-7f3a9c"
HOOK_TOKEN = "hook-token-51b2e0"
NO_WAIT = "[submit]\nretry_delays = [0, 0]\n"


# -- the bundle ---------------------------------------------------------------------------


@dataclass
class Bundle:
    folder: Path
    zip_path: Path
    reference: str
    subject: str


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    """The demo shop's bug, as `collector demo` writes it (shared browser)."""
    work = tmp_path_factory.mktemp("demo")
    ran = invoke("demo", "--out", work / "reports", "-q", cwd=work)
    assert ran.returncode == 0, ran.stderr
    zip_path = Path(ran.stdout.strip().splitlines()[-1])
    received = open_bundle(zip_path.parent)
    subject = build_context(received.report).subject
    return Bundle(zip_path.parent, zip_path, received.report.reference, subject)


# -- a throwaway CA-less certificate for 127.0.0.1 ------------------------------------------


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "collector test desk")])
    now = datetime.datetime.now(datetime.UTC)
    public = key.public_key()
    built = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "desk.pem", folder / "desk.key"
    cert_path.write_bytes(built.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


# -- the SMTP server ----------------------------------------------------------------------


@dataclass
class Desk:
    """aiosmtpd handler: stores what it accepts; ``replies`` answer the next DATA first."""

    messages: list[Any] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)
    port: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.replies:
            return self.replies.pop(0)
        self.messages.append(envelope)
        return "250 2.0.0 Queued"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                     auth_data: Any) -> Any:  # fmt: skip
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = isinstance(auth_data, LoginPassword)
        if ok:
            self.logins.append((auth_data.login, auth_data.password))
            ok = auth_data.login == b"desk" and auth_data.password == PASSWORD.encode()
        return AuthResult(success=ok, handled=False)


@pytest.fixture(scope="module")
def desk(cert: tuple[Path, Path]) -> Iterator[Desk]:
    from aiosmtpd.controller import Controller

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*cert)
    handler = Desk(port=free_port())
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=handler.port,
        tls_context=context,
        require_starttls=True,
        auth_required=True,
        authenticator=handler.authenticate,
    )
    controller.start()
    yield handler
    controller.stop()


@pytest.fixture
def fresh(desk: Desk) -> Desk:
    desk.messages.clear()
    desk.replies.clear()
    desk.logins.clear()
    return desk


# -- the HTTP server: a webhook at /hook, the inbox's upload API at /api/bundles -----------


@dataclass
class Posted:
    path: str
    headers: dict[str, str]
    parts: dict[str, tuple[str | None, str, bytes]]  # name -> (filename, type, bytes)


@dataclass
class Web:
    url: str
    posts: list[Posted] = field(default_factory=list)
    script: list[tuple[int, dict[str, str], bytes]] = field(default_factory=list)
    received: dict[str, int] = field(default_factory=dict)  # inbox: reference -> issue


class WebHandler(BaseHTTPRequestHandler):
    server: Any

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        web: Web = self.server.web
        body = self.rfile.read(int(self.headers["Content-Length"]))
        parsed = email.message_from_bytes(
            b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + body,
            policy=email.policy.HTTP,
        )
        parts = {
            str(part.get_param("name", header="content-disposition")): (
                part.get_filename(),
                part.get_content_type(),
                part.get_payload(decode=True),
            )
            for part in parsed.iter_parts()
        }
        web.posts.append(Posted(self.path, dict(self.headers), parts))
        if web.script:
            self._answer(*web.script.pop(0))
        elif self.path == "/api/bundles":
            self._inbox(web, parts)
        else:
            self._answer(200, {}, b"ok")

    def _inbox(self, web: Web, parts: dict[str, tuple[str | None, str, bytes]]) -> None:
        """The contract `collector inbox serve` is to implement."""
        if self.headers.get("Authorization") != f"Bearer {INBOX_TOKEN}":
            self._json(401, {"error": "missing or wrong upload token"})
            return
        reference = json.loads(parts["ticket"][2])["reference"]
        known = reference in web.received
        issue = web.received.setdefault(reference, len(web.received) + 1)
        answer = {"reference": reference, "issue_url": f"{web.url}/issues/{issue}"}
        self._json(409 if known else 201, answer)

    def _json(self, status: int, data: dict[str, Any]) -> None:
        self._answer(status, {"Content-Type": "application/json"}, json.dumps(data).encode())

    def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def web() -> Iterator[Web]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), WebHandler)
    server.web = Web(f"http://127.0.0.1:{server.server_address[1]}")  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.web  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def secure_web(cert: tuple[Path, Path]) -> Iterator[Web]:
    """The same server over HTTPS, with the throwaway certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*cert)
    server = ThreadingHTTPServer(("127.0.0.1", 0), WebHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.web = Web(f"https://127.0.0.1:{server.server_address[1]}")  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.web  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


@pytest.fixture
def fresh_web(web: Web) -> Web:
    web.posts.clear()
    web.script.clear()
    web.received.clear()
    return web


# -- helpers ------------------------------------------------------------------------------


def submit(*args: str | Path, cwd: Path, env: dict[str, str | None] | None = None) -> Ran:
    """`collector submit ARGS` with its own state folder under ``cwd``."""
    base: dict[str, str | None] = {"XDG_STATE_HOME": str(cwd / "state")}
    return invoke("submit", *args, cwd=cwd, env={**base, **(env or {})})


def email_args(desk: Desk, cert: tuple[Path, Path], *extra: str) -> list[str]:
    return [
        "--smtp", f"smtp://desk@127.0.0.1:{desk.port}",
        "--to", "support@shop.example",
        "--from", "ana@shop.example",
        "--cafile", str(cert[0]),
        *extra,
    ]  # fmt: skip


PASSWORD_ENV = {"COLLECTOR_SMTP_PASSWORD": PASSWORD}


def record_lines(cwd: Path) -> list[dict[str, Any]]:
    path = cwd / "state" / "collector" / "sent.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def everything_written(cwd: Path, ran: Ran) -> str:
    """stdout, stderr and every file the command left under ``cwd`` (the sent record)."""
    texts = [ran.stdout, ran.stderr]
    texts += [p.read_text(errors="replace") for p in cwd.rglob("*") if p.is_file()]
    return "\n".join(texts)


# -- e-mail -------------------------------------------------------------------------------


def test_the_email_arrives_whole_with_the_tickets_headers_and_the_zip_byte_identical(
    bundle: Bundle, fresh: Desk, cert: tuple[Path, Path], tmp_path: Path
) -> None:
    ran = submit(bundle.folder, *email_args(fresh, cert, "--reply-to", "ana@home.example"),
                 cwd=tmp_path, env=PASSWORD_ENV)  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == f"{bundle.reference}: sent to 1 destination\n"
    assert len(fresh.messages) == 1
    envelope = fresh.messages[0]
    assert envelope.mail_from == "ana@shop.example"
    assert envelope.rcpt_tos == ["support@shop.example"]
    # The server saw the login (over TLS: require_starttls refuses AUTH before it).
    assert fresh.logins == [(b"desk", PASSWORD.encode())]
    message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    assert message["Subject"] == bundle.subject
    assert message["From"] == "ana@shop.example"
    assert message["To"] == "support@shop.example"
    assert message["Reply-To"] == "ana@home.example"
    assert message["X-Collector-Reference"] == bundle.reference
    assert message.get_content_type() == "multipart/mixed"
    attachments = list(message.iter_attachments())
    assert [a.get_filename() for a in attachments] == [f"{bundle.reference}.zip"]
    assert attachments[0].get_payload(decode=True) == bundle.zip_path.read_bytes()
    text = message.get_body(("plain",))
    assert text is not None and bundle.reference in text.get_content()
    assert len(envelope.original_content) < 2 * 2_000_000
    # Said on stderr, recorded in the state folder; the password nowhere.
    assert f"Sent by e-mail to support@shop.example via smtp://desk@127.0.0.1:{fresh.port}" in (
        ran.stderr
    )
    (line,) = record_lines(tmp_path)
    assert line["reference"] == bundle.reference
    assert line["channel"] == "email"
    assert line["destination"] == f"support@shop.example via smtp://desk@127.0.0.1:{fresh.port}"
    assert line["message_id"] == message["Message-ID"]
    assert line["sent_at"].endswith("Z")
    assert PASSWORD not in everything_written(tmp_path, ran)


def test_the_same_bundle_to_the_same_address_is_refused_until_force(
    bundle: Bundle, fresh: Desk, cert: tuple[Path, Path], tmp_path: Path
) -> None:
    args = email_args(fresh, cert)
    assert submit(bundle.zip_path, *args, cwd=tmp_path, env=PASSWORD_ENV).returncode == 0
    sent_at = record_lines(tmp_path)[0]["sent_at"]
    # The folder or its zip: the same bundle; another server, the same address.
    again = submit(bundle.folder, *args, cwd=tmp_path, env=PASSWORD_ENV)
    assert (again.returncode, again.stdout) == (2, "")
    assert again.stderr == (
        f"Error: {bundle.reference} was already sent to support@shop.example via "
        f"smtp://desk@127.0.0.1:{fresh.port} on {sent_at}; --force sends it again\n"
    )
    assert len(fresh.messages) == 1
    forced = submit(bundle.folder, *args, "--force", cwd=tmp_path, env=PASSWORD_ENV)
    assert forced.returncode == 0, forced.stderr
    assert len(fresh.messages) == 2
    assert len(record_lines(tmp_path)) == 2


def test_a_4xx_answer_is_tried_again_and_the_second_attempt_delivers(
    bundle: Bundle, fresh: Desk, cert: tuple[Path, Path], tmp_path: Path
) -> None:
    (tmp_path / "collector.toml").write_text(NO_WAIT)
    fresh.replies.append("451 4.3.0 Mailbox busy, try later")
    ran = submit(bundle.folder, *email_args(fresh, cert), cwd=tmp_path, env=PASSWORD_ENV)
    assert ran.returncode == 0, ran.stderr
    assert len(fresh.messages) == 1
    assert (
        f"support@shop.example via smtp://desk@127.0.0.1:{fresh.port}: 127.0.0.1:{fresh.port} "
        "said: 451 4.3.0 Mailbox busy, try later; trying again in 0 s (attempt 2 of 3)"
    ) in ran.stderr.splitlines()
    assert record_lines(tmp_path)[0]["reference"] == bundle.reference


def test_a_5xx_answer_is_one_line_exit_3_and_nothing_is_recorded(
    bundle: Bundle, fresh: Desk, cert: tuple[Path, Path], tmp_path: Path
) -> None:
    (tmp_path / "collector.toml").write_text(NO_WAIT)
    fresh.replies.append("554 5.7.1 Message refused by policy")
    ran = submit(bundle.folder, *email_args(fresh, cert), "-q", cwd=tmp_path, env=PASSWORD_ENV)
    assert (ran.returncode, ran.stdout) == (3, "")
    assert ran.stderr == (
        f"Error: 127.0.0.1:{fresh.port} said: 554 5.7.1 Message refused by policy\n"
    )
    assert fresh.replies == [] and fresh.messages == []  # one attempt only
    assert record_lines(tmp_path) == []


def test_temporary_failures_give_up_after_the_configured_attempts(
    bundle: Bundle, fresh: Desk, cert: tuple[Path, Path], tmp_path: Path
) -> None:
    (tmp_path / "collector.toml").write_text(NO_WAIT)
    fresh.replies.extend(["421 4.7.0 Try again later"] * 3 + ["250 never reached"])
    ran = submit(bundle.folder, *email_args(fresh, cert), "-q", cwd=tmp_path, env=PASSWORD_ENV)
    assert ran.returncode == 3
    assert ran.stderr.splitlines()[-1] == (
        f"Error: 127.0.0.1:{fresh.port} said: 421 4.7.0 Try again later (tried 3 times)"
    )
    assert fresh.replies == ["250 never reached"]


def test_a_wrong_password_is_refused_in_one_line_without_the_password(
    bundle: Bundle, fresh: Desk, cert: tuple[Path, Path], tmp_path: Path
) -> None:
    ran = submit(bundle.folder, *email_args(fresh, cert), cwd=tmp_path,
                 env={"COLLECTOR_SMTP_PASSWORD": "not-the-password"})  # fmt: skip
    assert ran.returncode == 3
    assert ran.stderr.splitlines()[-1].startswith(
        f"Error: 127.0.0.1:{fresh.port} refused the login: 535 "
    )
    assert "not-the-password" not in everything_written(tmp_path, ran)
    assert fresh.messages == []


def test_a_certificate_nobody_vouched_for_is_refused_verification_stays_on(
    bundle: Bundle, fresh: Desk, tmp_path: Path
) -> None:
    ran = submit(bundle.folder, "--smtp", f"smtp://desk@127.0.0.1:{fresh.port}",
                 "--to", "support@shop.example", "--from", "ana@shop.example",
                 cwd=tmp_path, env=PASSWORD_ENV)  # fmt: skip
    assert ran.returncode == 3
    (line,) = ran.stderr.splitlines()[-1:]
    assert line.startswith(f"Error: 127.0.0.1:{fresh.port}: its TLS certificate is not trusted (")
    assert line.endswith("); trust its CA with --cafile FILE or [submit] cafile")
    assert fresh.logins == [] and fresh.messages == []  # the password never left


def test_the_config_names_the_server_sender_reply_to_and_ca(
    bundle: Bundle, fresh: Desk, cert: tuple[Path, Path], tmp_path: Path
) -> None:
    (tmp_path / "collector.toml").write_text(
        'support_address = "desk@shop.example"\n'
        "[submit]\n"
        f'smtp = "smtp://desk@127.0.0.1:{fresh.port}"\n'
        'from = "noreply@shop.example"\n'
        'reply_to = "ana@home.example"\n'
        f'cafile = "{cert[0]}"\n'
    )
    ran = submit(bundle.folder, "--lang", "pt", cwd=tmp_path, env=PASSWORD_ENV)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == f"{bundle.reference}: enviado para 1 destino\n"
    assert "Enviado por e-mail para desk@shop.example via" in ran.stderr
    message = email.message_from_bytes(
        fresh.messages[0].original_content, policy=email.policy.default
    )
    assert (message["From"], message["To"], message["Reply-To"]) == (
        "noreply@shop.example", "desk@shop.example", "ana@home.example",
    )  # fmt: skip
    received = open_bundle(bundle.folder).report
    assert message["Subject"] == build_context(received, lang="pt").subject


# -- webhook and inbox ----------------------------------------------------------------------


def test_the_webhook_gets_the_zip_and_the_ticket_json_after_a_503(
    bundle: Bundle, fresh_web: Web, tmp_path: Path
) -> None:
    (tmp_path / "collector.toml").write_text(NO_WAIT)
    fresh_web.script.append((503, {}, b'{"error": "warming up"}'))
    ran = submit(bundle.zip_path, "--webhook", f"{fresh_web.url}/hook", "--json", cwd=tmp_path,
                 env={"COLLECTOR_WEBHOOK_TOKEN": HOOK_TOKEN})  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert len(fresh_web.posts) == 2
    posted = fresh_web.posts[-1]
    assert posted.path == "/hook"
    assert posted.headers["Authorization"] == f"Bearer {HOOK_TOKEN}"
    assert posted.headers["X-Collector-Reference"] == bundle.reference
    assert posted.parts["bundle"] == (
        f"{bundle.reference}.zip", "application/zip", bundle.zip_path.read_bytes()
    )
    filename, kind, data = posted.parts["ticket"]
    assert (filename, kind) == ("ticket.json", "application/json")
    received = open_bundle(bundle.folder)
    reason = received.report.reason or "technical"
    assert json.loads(data) == ticket_json(build_context(received.report, reason=reason))
    summary = json.loads(ran.stdout)
    assert summary["reference"] == bundle.reference
    assert summary["sent"] == [
        {
            "channel": "webhook",
            "destination": f"{fresh_web.url}/hook",
            "status": "sent",
            "attempts": 2,
            "sent_at": summary["sent"][0]["sent_at"],
            "http_status": 200,
        }
    ]
    assert HOOK_TOKEN not in everything_written(tmp_path, ran)


def test_a_second_submit_started_meanwhile_waits_then_finds_the_bundle_sent(
    bundle: Bundle, fresh_web: Web, tmp_path: Path
) -> None:
    """Two submits of one bundle at once send it once: the test holds the lock as a first
    submit does while sending, a second (a process) must wait for it, then refuse."""
    hook = f"{fresh_web.url}/hook"
    record = SentRecord(state_dir({"XDG_STATE_HOME": str(tmp_path / "state")}) / RECORD_NAME)
    with record.sending(bundle.reference):
        second = subprocess.Popen(
            [sys.executable, "-m", "collector", "submit", str(bundle.zip_path), "--webhook", hook],
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=process_env({"XDG_STATE_HOME": str(tmp_path / "state"),
                             "COLLECTOR_WEBHOOK_TOKEN": HOOK_TOKEN}),
        )  # fmt: skip
        try:
            while not _waits_for_a_lock(second.pid):
                assert second.poll() is None and not fresh_web.posts, "it did not wait"
                time.sleep(0.05)
            record.add({"reference": bundle.reference, "key": f"webhook {hook}",
                        "destination": hook, "sent_at": "2026-12-01T12:00:00Z"})  # fmt: skip
        except BaseException:
            second.kill()
            raise
    _, stderr = second.communicate(timeout=120)
    assert second.returncode == 2, stderr
    assert f"{bundle.reference} was already sent to {hook}" in stderr
    assert fresh_web.posts == []


def _waits_for_a_lock(pid: int) -> bool:
    """Whether process ``pid`` is blocked waiting for a file lock (``->`` in /proc/locks)."""
    return any(
        "->" in line and line.split()[-4:-3] == [str(pid)]
        for line in Path("/proc/locks").read_text().splitlines()
    )


def test_a_redirect_is_not_followed_so_the_token_stays_home(
    bundle: Bundle, fresh_web: Web, tmp_path: Path
) -> None:
    fresh_web.script.append((302, {"Location": "http://elsewhere.example/steal"}, b""))
    ran = submit(bundle.folder, "--webhook", f"{fresh_web.url}/hook", cwd=tmp_path,
                 env={"COLLECTOR_WEBHOOK_TOKEN": HOOK_TOKEN})  # fmt: skip
    assert ran.returncode == 3
    assert ran.stderr.splitlines()[-1] == (
        f"Error: {fresh_web.url}/hook redirects (302) to http://elsewhere.example/steal; "
        "give that address"
    )
    assert len(fresh_web.posts) == 1


def test_https_is_verified_and_a_private_ca_is_trusted_only_when_given(
    bundle: Bundle, secure_web: Web, cert: tuple[Path, Path], tmp_path: Path
) -> None:
    hook = f"{secure_web.url}/hook"
    refused = submit(bundle.folder, "--webhook", hook, cwd=tmp_path)
    assert refused.returncode == 3
    assert refused.stderr.splitlines()[-1].startswith(
        f"Error: {hook}: its TLS certificate is not trusted ("
    )
    assert secure_web.posts == []
    trusted = submit(bundle.folder, "--webhook", hook, "--cafile", cert[0], cwd=tmp_path)
    assert trusted.returncode == 0, trusted.stderr
    assert [p.path for p in secure_web.posts] == ["/hook"]


def test_nobody_listening_is_tried_again_then_one_line_exit_3(
    bundle: Bundle, tmp_path: Path
) -> None:
    (tmp_path / "collector.toml").write_text(NO_WAIT)
    hook = f"http://127.0.0.1:{free_port()}/hook"
    ran = submit(bundle.folder, "--webhook", hook, cwd=tmp_path)
    assert ran.returncode == 3
    lines = ran.stderr.splitlines()
    assert lines[-1] == f"Error: cannot reach {hook}: Connection refused (tried 3 times)"
    assert sum("trying again in 0 s" in line for line in lines) == 2
    assert record_lines(tmp_path) == []


def test_the_inbox_api_201_then_409_already_received(
    bundle: Bundle, fresh_web: Web, tmp_path: Path
) -> None:
    env = {"COLLECTOR_INBOX_TOKEN": INBOX_TOKEN}
    ran = submit(bundle.folder, "--inbox", fresh_web.url + "/", cwd=tmp_path, env=env)
    assert ran.returncode == 0, ran.stderr
    assert f"Issue: {fresh_web.url}/issues/1" in ran.stderr.splitlines()
    assert fresh_web.posts[0].path == "/api/bundles"
    assert record_lines(tmp_path)[0]["issue_url"] == f"{fresh_web.url}/issues/1"
    # Another machine (its own record) sends it too: the inbox says 409, not an error.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    again = submit(bundle.folder, "--inbox", fresh_web.url, "--json", cwd=elsewhere, env=env)
    assert again.returncode == 0, again.stderr
    (sent,) = json.loads(again.stdout)["sent"]
    assert (sent["status"], sent["http_status"], sent["issue_url"]) == (
        "already_received", 409, f"{fresh_web.url}/issues/1",
    )  # fmt: skip
    assert len(fresh_web.received) == 1


def test_the_inbox_refuses_a_wrong_token_in_one_line(
    bundle: Bundle, fresh_web: Web, tmp_path: Path
) -> None:
    ran = submit(bundle.folder, "--inbox", fresh_web.url, cwd=tmp_path,
                 env={"COLLECTOR_INBOX_TOKEN": "guessed"})  # fmt: skip
    assert ran.returncode == 3
    assert ran.stderr.splitlines()[-1] == (
        f"Error: {fresh_web.url}/api/bundles answered 401 Unauthorized: "
        "missing or wrong upload token"
    )
    assert record_lines(tmp_path) == []


# -- refused before anything is sent ------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "env", "line"),
    [
        (
            ["--smtp", "smtp://desk:hunter2-secret@127.0.0.1:25", "--to", "a@b.example"],
            {},
            "Error: --smtp: the URL holds a password; a password never goes on the command "
            "line (it stays in shell history and the process list): set "
            "COLLECTOR_SMTP_PASSWORD or [submit] smtp_password in collector.toml",
        ),
        (
            ["--smtp", "smtp://desk@127.0.0.1:25", "--to", "a@b.example", "--from", "c@d.example"],
            {},
            "Error: smtp://desk@127.0.0.1:25: no password for desk: set COLLECTOR_SMTP_PASSWORD "
            "(or [submit] smtp_password in collector.toml)",
        ),
        (
            ["--to", "a@b.example"],
            {},
            "Error: --to: no SMTP server to send through: give --smtp smtp://user@host:587 "
            "(or set [submit] smtp in collector.toml)",
        ),
        (
            ["--smtp", "smtp://127.0.0.1:25", "--to", "a@b.example"],
            {},
            "Error: no sender address: give --from ADDRESS (or set [submit] from)",
        ),
        (
            ["--smtp", "smtp://127.0.0.1", "--to", "a@b.example\r\nBcc: x@y.example"],
            {},
            "Error: --to a@b.example\\u000d Bcc: x@y.example: expected one e-mail address "
            "(name@host)",
        ),
        (
            ["--smtp", "http://127.0.0.1:25", "--to", "a@b.example"],
            {},
            "Error: --smtp http://127.0.0.1:25: expected smtp://[user@]host[:port] or smtps://…",
        ),
        (
            ["--inbox", "http://127.0.0.1:9"],
            {},
            "Error: --inbox: no upload token: set COLLECTOR_INBOX_TOKEN "
            "(or [submit] inbox_token in collector.toml)",
        ),
        (
            ["--webhook", "https://user:tok@hooks.example/x"],
            {},
            "Error: --webhook: the address holds a user or password; tokens go in the "
            "environment (COLLECTOR_INBOX_TOKEN, COLLECTOR_WEBHOOK_TOKEN), never on the "
            "command line",
        ),
        (
            ["--webhook", "ftp://hooks.example/x"],
            {},
            "Error: --webhook ftp://hooks.example/x: not an http:// or https:// address",
        ),
        (
            ["--webhook", "http://127.0.0.1:9/x", "--cafile", "/nonexistent/ca.pem"],
            {},
            "Error: --cafile /nonexistent/ca.pem: no such file",
        ),
        (
            [],
            {},
            "Error: nowhere to send: give --smtp/--to, --webhook or --inbox "
            "(or set smtp, webhook or inbox under [submit] in collector.toml)",
        ),
    ],
    ids=["password-in-url", "no-password", "to-without-server", "no-sender", "header-injection",
         "not-smtp", "no-inbox-token", "webhook-credentials", "webhook-ftp", "no-cafile",
         "nowhere"],
)
def test_bad_input_is_one_line_exit_2_before_any_file_is_read(
    tmp_path: Path, args: list[str], env: dict[str, str], line: str
) -> None:
    # The bundle does not even exist: the options are judged first.
    ran = submit(tmp_path / "missing", *args, cwd=tmp_path, env=env)
    assert (ran.returncode, ran.stdout, ran.stderr) == (2, "", line + "\n")
    assert "hunter2" not in ran.stderr
    assert not (tmp_path / "state").exists()


def test_a_zip_that_is_a_link_elsewhere_is_refused_and_nothing_is_sent(
    bundle: Bundle, fresh_web: Web, tmp_path: Path
) -> None:
    """A stranger's folder: its report names the zip, the zip is a link to a file of ours."""
    folder = tmp_path / bundle.reference
    folder.mkdir()
    (folder / "report.json").write_bytes((bundle.folder / "report.json").read_bytes())
    private = tmp_path / "private.txt"
    private.write_text("not for the desk")
    (folder / f"{bundle.reference}.zip").symlink_to(private)
    ran = submit(folder, "--webhook", f"{fresh_web.url}/hook", cwd=tmp_path)
    assert ran.returncode == 2
    assert ran.stderr == (
        f"Error: {folder}: {bundle.reference}.zip is a link; bundles hold plain files\n"
    )
    assert fresh_web.posts == []


def test_a_zip_over_the_attachment_budget_is_refused(
    bundle: Bundle, fresh_web: Web, tmp_path: Path
) -> None:
    (tmp_path / "collector.toml").write_text("max_attachment_bytes = 20000\n")
    ran = submit(bundle.folder, "--webhook", f"{fresh_web.url}/hook", cwd=tmp_path)
    size = bundle.zip_path.stat().st_size
    assert ran.returncode == 2
    assert ran.stderr == (
        f"Error: {bundle.folder}: {bundle.reference}.zip is {size:,} bytes, over the "
        "20,000-byte attachment limit (max_attachment_bytes)\n"
    )
    assert fresh_web.posts == []


# -- pure parts ---------------------------------------------------------------------------


def test_deliver_waits_the_given_delays_then_gives_up() -> None:
    waits: list[float] = []
    calls: list[int] = []

    def attempt() -> str:
        calls.append(1)
        raise Temporary("busy")

    with pytest.raises(SendError, match=r"^busy \(tried 3 times\)$"):
        deliver(attempt, (1.5, 4.0), sleep=waits.append)
    assert (len(calls), waits) == (3, [1.5, 4.0])


def test_deliver_honours_retry_after_up_to_its_cap_and_never_retries_a_permanent_error() -> None:
    waits: list[float] = []
    answers: list[Exception | str] = [Temporary("429", retry_after=7), Temporary("503", 10_000),
                                      "ok"]  # fmt: skip

    def attempt() -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert deliver(attempt, (1, 1), sleep=waits.append) == ("ok", 3)
    assert waits == [7, 120]

    def refused() -> str:
        raise Permanent("554 no")

    with pytest.raises(SendError, match=r"^554 no$"):
        deliver(refused, (0, 0), sleep=waits.append)
    assert waits == [7, 120]


def test_smtp_urls() -> None:
    server = parse_smtp_url("smtp://desk%40shop.example@mail.example")
    assert (server.host, server.port, server.user, server.implicit_tls) == (
        "mail.example", 587, "desk@shop.example", False,
    )  # fmt: skip
    assert parse_smtp_url("smtps://mail.example").port == 465
    with pytest.raises(BadInput, match="holds a password") as refused:
        parse_smtp_url("smtp://desk:@mail.example")
    assert "mail.example" not in str(refused.value)


def test_the_record_lives_in_the_state_folder_and_survives_a_cut_line(tmp_path: Path) -> None:
    assert state_dir({"XDG_STATE_HOME": str(tmp_path)}) == tmp_path / "collector"
    assert state_dir({"XDG_STATE_HOME": "relative"}) == Path.home() / ".local/state/collector"
    record = SentRecord(tmp_path / "collector" / "sent.jsonl")
    record.add({"reference": "CR-20261201-AAAAAA", "key": "k", "destination": "d"})
    with record.path.open("a") as stream:
        stream.write('{"reference": "CR-2026')  # a crash in the middle of a line
    record.add({"reference": "CR-20261201-BBBBBB", "key": "k", "destination": "d"})
    assert [e["reference"] for e in record.entries()] == [
        "CR-20261201-AAAAAA", "CR-20261201-BBBBBB",
    ]  # fmt: skip
    assert record.damaged == 1  # the cut line is counted, not silently skipped
    assert record.previous("CR-20261201-BBBBBB", "k") is not None
    assert record.previous("CR-20261201-BBBBBB", "other") is None
    assert oct(record.path.stat().st_mode & 0o777) == "0o600"


def test_options_choose_destinations_and_the_config_only_fills_in() -> None:
    config = Config(
        support_address="desk@shop.example",
        submit=SubmitConfig(smtp="smtp://mail.example", sender="a@shop.example",
                            webhook="https://hooks.example/x", inbox_token="t"),
    )  # fmt: skip
    everything = make_plan(SubmitFlags(), config, {})
    assert [d.channel for d in everything.destinations] == ["email", "webhook"]
    only_inbox = make_plan(SubmitFlags(inbox="https://inbox.example/"), config, {})
    assert [d.address for d in only_inbox.destinations] == ["https://inbox.example/api/bundles"]
    env_wins = make_plan(SubmitFlags(inbox="https://inbox.example"), config,
                         {"COLLECTOR_INBOX_TOKEN": "from-env"})  # fmt: skip
    assert env_wins.inbox_token == "from-env"
    assert "from-env" not in repr(env_wins)


def test_submit_labels_have_both_languages_with_the_same_fields() -> None:
    from string import Formatter

    assert set(SUBMIT_LABELS["en"]) == set(SUBMIT_LABELS["pt"])
    for key, english in SUBMIT_LABELS["en"].items():
        fields = {f for _, f, _, _ in Formatter().parse(english) if f}
        assert {f for _, f, _, _ in Formatter().parse(SUBMIT_LABELS["pt"][key]) if f} == fields


def test_retry_after_is_seconds_or_our_own_backoff() -> None:
    from collector.transports import _retry_after

    assert _retry_after("120") == 120.0 and _retry_after(" 1.5 ") == 1.5
    for value in (None, "Wed, 21 Oct 2015 07:28:00 GMT", "-3", "1e9", "nan", "", "99999999"):
        assert _retry_after(value) is None, value
