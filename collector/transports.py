"""One delivery attempt each: an e-mail over SMTP, a multipart POST over HTTP(S).

An attempt either returns what the other side answered or raises ``Temporary``
(worth trying again: a 4xx SMTP reply, HTTP 429/5xx, a refused connection) or
``Permanent`` (a 5xx SMTP reply, another HTTP 4xx, an untrusted certificate).
Retrying is ``submit.py``'s job. Messages are one line and never hold a password
or a token: the server's own words are quoted, cut and made printable.
"""

from __future__ import annotations

import json
import re
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from typing import Any
from urllib import error as urlerror
from urllib import request as urlrequest
from urllib.parse import unquote, urlsplit

from collector import __version__
from collector.errors import BadInput
from collector.text import one_line

SERVER_WORDS = 200  # characters of a server's answer quoted in a message
ANSWER_BYTES = 64_000  # what is read of an HTTP answer
RETRY_HTTP = frozenset({408, 425, 429, 500, 502, 503, 504})


class Temporary(Exception):
    """A failure worth another attempt; ``retry_after``: seconds the server asked for."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Permanent(Exception):
    """A failure that another attempt would repeat."""


# -- SMTP ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpServer:
    """``smtp://[user@]host[:port]`` (STARTTLS, port 587) or ``smtps://`` (TLS, port 465)."""

    host: str
    port: int
    user: str | None
    implicit_tls: bool

    @property
    def shown(self) -> str:
        scheme = "smtps" if self.implicit_tls else "smtp"
        user = f"{self.user}@" if self.user else ""
        return f"{scheme}://{user}{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpServer:
    """The server of ``--smtp URL``; BadInput for anything else, and for a password in it."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise BadInput("--smtp: not a URL of the form smtp://user@host:port") from None
    if parts.password is not None:
        # Said without echoing the URL: the password is in it.
        raise BadInput(
            "--smtp: the URL holds a password; a password never goes on the command line "
            "(it stays in shell history and the process list): set COLLECTOR_SMTP_PASSWORD "
            "or [submit] smtp_password in collector.toml"
        )
    shown = one_line(url)[:200]
    if parts.scheme not in ("smtp", "smtps"):
        raise BadInput(f"--smtp {shown}: expected smtp://[user@]host[:port] or smtps://…")
    if not parts.hostname:
        raise BadInput(f"--smtp {shown}: no host")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise BadInput(f"--smtp {shown}: only smtp://[user@]host[:port], no path or query")
    implicit = parts.scheme == "smtps"
    user = unquote(parts.username) if parts.username else None
    return SmtpServer(parts.hostname, port or (465 if implicit else 587), user, implicit)


def send_email(
    server: SmtpServer,
    password: str | None,
    sender: str,
    recipients: list[str],
    message: bytes,
    *,
    tls: ssl.SSLContext,
    timeout: float,
) -> None:
    """Deliver ``message``. STARTTLS is required on
    ``smtp://``: neither the ticket nor a password is sent in clear."""
    where = f"{server.host}:{server.port}"
    try:
        client: smtplib.SMTP
        if server.implicit_tls:
            client = smtplib.SMTP_SSL(server.host, server.port, timeout=timeout, context=tls)
        else:
            client = smtplib.SMTP(server.host, server.port, timeout=timeout)
        with client:
            client.ehlo()
            if not server.implicit_tls:
                if not client.has_extn("starttls"):
                    raise Permanent(
                        f"{where} does not offer STARTTLS; collector does not send a ticket "
                        "or a password in clear (use smtps:// for a TLS port)"
                    )
                client.starttls(context=tls)
                client.ehlo()
            if server.user is not None:
                client.login(server.user, password or "")
            client.sendmail(sender, recipients, message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        said = "; ".join(f"{rcpt}: {code} {_words(msg)}" for rcpt, (code, msg) in
                         exc.recipients.items())  # fmt: skip
        text = f"{where} refused the recipient: {said}"
        if all(400 <= code < 500 for code in codes):
            raise Temporary(text) from None
        raise Permanent(text) from None
    except smtplib.SMTPResponseException as exc:
        # Sender refused, authentication failed, data refused …: the reply code decides.
        what = "refused the login" if isinstance(exc, smtplib.SMTPAuthenticationError) else "said"
        text = f"{where} {what}: {exc.smtp_code} {_words(exc.smtp_error)}"
        if 400 <= exc.smtp_code < 500:
            raise Temporary(text) from None
        raise Permanent(text) from None
    except smtplib.SMTPNotSupportedError as exc:
        raise Permanent(f"{where}: {one_line(exc)[:SERVER_WORDS]}") from None
    except ssl.SSLCertVerificationError as exc:
        raise Permanent(_untrusted(where, exc)) from None
    except ssl.SSLError as exc:
        raise Permanent(f"{where}: TLS failed: {one_line(exc.reason or exc)}") from None
    except smtplib.SMTPServerDisconnected as exc:
        raise Temporary(f"{where} closed the connection: {one_line(exc)[:SERVER_WORDS]}") from None
    except smtplib.SMTPException as exc:
        raise Permanent(f"{where}: {one_line(exc)[:SERVER_WORDS]}") from None
    except OSError as exc:  # refused, unreachable, timed out, name not known
        raise Temporary(f"cannot reach {where}: {_os_words(exc)}") from None


def _words(said: bytes | str) -> str:
    text = said.decode("utf-8", "replace") if isinstance(said, bytes) else said
    return one_line(text)[:SERVER_WORDS]


def _os_words(exc: OSError) -> str:
    return one_line(exc.strerror or exc or type(exc).__name__)[:SERVER_WORDS]


def _untrusted(where: str, exc: ssl.SSLCertVerificationError) -> str:
    return (
        f"{where}: its TLS certificate is not trusted ({one_line(exc.verify_message)}); "
        "trust its CA with --cafile FILE or [submit] cafile"
    )


# -- HTTP ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    data: dict[str, Any]


def check_http_url(url: str, option: str) -> str:
    """``url`` if it is a plain http(s) address without credentials in it; else BadInput."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        raise BadInput(f"{option}: not an http:// or https:// address") from None
    if parts.password is not None or parts.username is not None:
        raise BadInput(
            f"{option}: the address holds a user or password; tokens go in the environment "
            "(COLLECTOR_INBOX_TOKEN, COLLECTOR_WEBHOOK_TOKEN), never on the command line"
        )
    if parts.scheme not in ("http", "https") or not parts.hostname or has_space(url):
        raise BadInput(f"{option} {one_line(url)[:200]}: not an http:// or https:// address")
    return url


def has_space(text: str) -> bool:
    return any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text)


def multipart(ticket: dict[str, Any], zip_name: str, zip_data: bytes) -> tuple[bytes, str]:
    """The body of the POST and its Content-Type: a ``ticket`` JSON part, a ``bundle`` zip."""
    boundary = f"collector-{uuid.uuid4().hex}"
    ticket_bytes = json.dumps(ticket, ensure_ascii=False).encode("utf-8")
    parts = [
        (b'name="ticket"; filename="ticket.json"', b"application/json", ticket_bytes),
        (f'name="bundle"; filename="{zip_name}"'.encode(), b"application/zip", zip_data),
    ]
    body = b"".join(
        b"--%s\r\nContent-Disposition: form-data; %s\r\nContent-Type: %s\r\n\r\n%s\r\n"
        % (boundary.encode(), disposition, kind, data)
        for disposition, kind, data in parts
    )
    body += b"--%s--\r\n" % boundary.encode()
    return body, f"multipart/form-data; boundary={boundary}"


class _NoRedirect(urlrequest.HTTPRedirectHandler):
    """A redirect is answered, not followed: the token must not travel to another host."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def post(
    url: str,
    body: bytes,
    content_type: str,
    *,
    token: str | None,
    reference: str,
    tls: ssl.SSLContext,
    timeout: float,
) -> HttpAnswer:
    """POST ``body``; the answer when its status is 2xx or 409 (already received)."""
    headers = {
        "Content-Type": content_type,
        "User-Agent": f"collector/{__version__}",
        "X-Collector-Reference": reference,
        "Idempotency-Key": reference,
        "Accept": "application/json",
    }
    if token:
        headers["Authorization"] = f"Bearer {token}"
    where = _where(url)
    req = urlrequest.Request(url, data=body, headers=headers, method="POST")
    opener = urlrequest.build_opener(_NoRedirect(), urlrequest.HTTPSHandler(context=tls))
    try:
        with opener.open(req, timeout=timeout) as answer:
            return HttpAnswer(answer.status, _json_object(answer.read(ANSWER_BYTES)))
    except urlerror.HTTPError as exc:
        status = exc.code
        raw = exc.read(ANSWER_BYTES)
        exc.close()
        if status == 409:
            return HttpAnswer(status, _json_object(raw))
        said = _said(raw)
        text = f"{where} answered {status} {one_line(exc.reason)}" + (f": {said}" if said else "")
        if 300 <= status < 400:
            moved = one_line(exc.headers.get("Location", ""))[:200]
            raise Permanent(f"{where} redirects ({status}) to {moved}; give that address") from None
        if status in RETRY_HTTP:
            raise Temporary(text, _retry_after(exc.headers.get("Retry-After"))) from None
        raise Permanent(text) from None
    except urlerror.URLError as exc:
        reason = exc.reason
        if isinstance(reason, ssl.SSLCertVerificationError):
            raise Permanent(_untrusted(where, reason)) from None
        if isinstance(reason, ssl.SSLError):
            raise Permanent(f"{where}: TLS failed: {one_line(reason.reason or reason)}") from None
        words = _os_words(reason) if isinstance(reason, OSError) else one_line(reason)
        raise Temporary(f"cannot reach {where}: {words}") from None
    except (OSError, ValueError) as exc:  # a reset or timeout while reading the answer
        raise Temporary(f"{where}: {one_line(exc)[:SERVER_WORDS]}") from None


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _json_object(data: bytes) -> dict[str, Any]:
    """The answer's JSON object, or {} (a webhook may answer anything)."""
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def _said(data: bytes) -> str:
    """What an error answer says: its JSON ``error``/``detail``, or its text, in one line."""
    found = _json_object(data)
    text = found.get("error") or found.get("detail") or found.get("message")
    if not isinstance(text, str):
        text = data.decode("utf-8", "replace")
    return one_line(text)[:SERVER_WORDS]


_SECONDS = re.compile(r"\d{1,9}(?:\.\d{1,6})?")


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds (the delta form; an HTTP date is not waited for)."""
    if value is None or not _SECONDS.fullmatch(value.strip()):
        return None  # absent, or an HTTP date: our own backoff applies
    seconds = float(value.strip())
    return seconds if seconds < 86_400 else None
