"""``collector submit``: send a received bundle's ticket by e-mail, to a webhook, to an inbox.

The flow: options + config + environment -> ``SubmitPlan`` (every destination,
checked before anything is sent) -> for each destination, attempts with bounded
backoff (``deliver``) -> a line in the sent record. The record
(``$XDG_STATE_HOME/collector/sent.jsonl``, one JSON object a line: reference,
when, where) is what refuses a second send of the same bundle to the same place
unless ``force`` is given.

The bundle is read through ``bundle_reader.open_bundle`` (a stranger's file reads
nothing outside itself); its zip must fit the attachment budget. Passwords and
tokens come from the environment or the config, never from a URL on the command
line, and never appear in a message, the record or the JSON summary.

The inbox API (what ``collector inbox serve`` implements):
``POST {inbox}/api/bundles``, ``Authorization: Bearer TOKEN``, multipart/form-data
with a ``ticket`` part (the ticket JSON of ``collector ticket --format json``) and a
``bundle`` part (``<REF>.zip``); headers ``X-Collector-Reference`` and
``Idempotency-Key`` carry the reference. ``201`` + ``{"reference", "issue_url"}``:
received. ``409`` + the same JSON: that reference was already received (not an
error). ``400``/``413``/``422``: the bundle is refused (``{"error": "…"}``, not
retried); ``401``/``403``: the token is missing or wrong (not retried);
``408``/``425``/``429``/``5xx``: try again later (``Retry-After`` seconds honoured,
up to ``MAX_RETRY_AFTER``). Webhooks get the same POST at their own URL.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from email.parser import BytesHeaderParser
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from collector.bundle_reader import ReceivedBundle
from collector.config import EMAIL_ADDRESS, Config
from collector.errors import BadInput, OutputError, SendError
from collector.text import one_line, utc_stamp
from collector.transports import (
    Permanent,
    SmtpServer,
    Temporary,
    check_http_url,
    multipart,
    parse_smtp_url,
    post,
    send_email,
)

if TYPE_CHECKING:
    from collector.ticket import TicketContext

SMTP_PASSWORD_ENV = "COLLECTOR_SMTP_PASSWORD"
INBOX_TOKEN_ENV = "COLLECTOR_INBOX_TOKEN"
WEBHOOK_TOKEN_ENV = "COLLECTOR_WEBHOOK_TOKEN"
INBOX_PATH = "/api/bundles"
MAX_RETRY_AFTER = 120.0
RECORD_NAME = "sent.jsonl"

Channel = Literal["email", "webhook", "inbox"]
T = TypeVar("T")


@dataclass(frozen=True)
class SubmitFlags:
    """What the command line said (None: not given)."""

    smtp: str | None = None
    to: str | None = None
    webhook: str | None = None
    inbox: str | None = None
    sender: str | None = None
    reply_to: str | None = None
    cafile: str | None = None
    lang: str | None = None
    force: bool = False


@dataclass(frozen=True)
class Destination:
    channel: Channel
    address: str  # the recipient's e-mail address, or the URL posted to
    key: str  # what the sent record compares (no credentials)
    shown: str  # for people (no credentials)


@dataclass(frozen=True)
class SubmitPlan:
    """Every destination and how to reach it, checked before anything is sent."""

    destinations: list[Destination]
    lang: str
    smtp: SmtpServer | None = None
    smtp_password: str | None = field(default=None, repr=False)
    sender: str | None = None
    reply_to: str | None = None
    webhook_token: str | None = field(default=None, repr=False)
    inbox_token: str | None = field(default=None, repr=False)
    cafile: str | None = None
    timeout: float = 30.0
    delays: tuple[float, ...] = (2.0, 10.0, 30.0)
    force: bool = False


@dataclass(frozen=True)
class Sent:
    """One delivery: where, how it ended (sent, or already received), what came back."""

    destination: Destination
    status: Literal["sent", "already_received"]
    attempts: int
    sent_at: str
    message_id: str | None = None
    issue_url: str | None = None
    http_status: int | None = None

    def as_json(self) -> dict[str, Any]:
        found = {
            "channel": self.destination.channel,
            "destination": self.destination.shown,
            "status": self.status,
            "attempts": self.attempts,
            "sent_at": self.sent_at,
        }
        extra = {"message_id": self.message_id, "issue_url": self.issue_url,
                 "http_status": self.http_status}  # fmt: skip
        return found | {k: v for k, v in extra.items() if v is not None}


# -- the plan ---------------------------------------------------------------------


def make_plan(flags: SubmitFlags, config: Config, env: Mapping[str, str]) -> SubmitPlan:
    """Destinations from the options, else from ``[submit]``; BadInput for what cannot work.

    Options choose the destinations; the config only fills in their details (server,
    sender, tokens). With no destination option, every destination the config names is used.
    """
    conf = config.submit
    chosen = any((flags.smtp, flags.to, flags.webhook, flags.inbox))
    smtp_url = flags.smtp or conf.smtp
    to = flags.to or config.support_address
    wants_email = bool(flags.smtp or flags.to) if chosen else conf.smtp is not None
    webhook = flags.webhook if chosen else conf.webhook
    inbox = flags.inbox if chosen else conf.inbox
    if not (wants_email or webhook or inbox):
        raise BadInput(
            "nowhere to send: give --smtp/--to, --webhook or --inbox "
            "(or set smtp, webhook or inbox under [submit] in collector.toml)"
        )
    plan = SubmitPlan(
        destinations=[],
        lang=flags.lang or config.lang,
        cafile=flags.cafile or conf.cafile,
        timeout=conf.timeout,
        delays=tuple(conf.retry_delays),
        force=flags.force,
    )
    destinations: list[Destination] = []
    if wants_email:
        plan, email = _email_plan(plan, flags, config, env, smtp_url, to)
        destinations.append(email)
    if webhook:
        url = check_http_url(webhook, "--webhook")
        token = env.get(WEBHOOK_TOKEN_ENV) or conf.webhook_token
        plan = replace(plan, webhook_token=token)
        destinations.append(Destination("webhook", url, f"webhook {url}", url))
    if inbox:
        base = check_http_url(inbox, "--inbox").rstrip("/")
        token = env.get(INBOX_TOKEN_ENV) or conf.inbox_token
        if not token:
            raise BadInput(
                f"--inbox: no upload token: set {INBOX_TOKEN_ENV} "
                "(or [submit] inbox_token in collector.toml)"
            )
        plan = replace(plan, inbox_token=token)
        destinations.append(Destination("inbox", base + INBOX_PATH, f"inbox {base}", base))
    tls_context(plan.cafile)  # an unreadable CA file is said now, before anything is sent
    return replace(plan, destinations=destinations)


def _email_plan(
    plan: SubmitPlan,
    flags: SubmitFlags,
    config: Config,
    env: Mapping[str, str],
    smtp_url: str | None,
    to: str | None,
) -> tuple[SubmitPlan, Destination]:
    conf = config.submit
    if smtp_url is None:
        raise BadInput(
            "--to: no SMTP server to send through: give --smtp smtp://user@host:587 "
            "(or set [submit] smtp in collector.toml)"
        )
    server = parse_smtp_url(smtp_url)
    if to is None:
        raise BadInput("--smtp: no recipient: give --to ADDRESS (or set support_address)")
    for option, value in (("--to", to), ("--from", flags.sender), ("--reply-to", flags.reply_to)):
        if value is not None and not EMAIL_ADDRESS.fullmatch(value):
            raise BadInput(
                f"{option} {one_line(value)[:120]}: expected one e-mail address (name@host)"
            )
    user_address = server.user if server.user and EMAIL_ADDRESS.fullmatch(server.user) else None
    sender = flags.sender or conf.sender or user_address
    if sender is None:
        raise BadInput("no sender address: give --from ADDRESS (or set [submit] from)")
    password = env.get(SMTP_PASSWORD_ENV) or conf.smtp_password
    if server.user is not None and not password:
        raise BadInput(
            f"{server.shown}: no password for {server.user}: set {SMTP_PASSWORD_ENV} "
            "(or [submit] smtp_password in collector.toml)"
        )
    plan = replace(
        plan,
        smtp=server,
        smtp_password=password,
        sender=sender,
        reply_to=flags.reply_to or conf.reply_to,
    )
    return plan, Destination("email", to, f"mailto:{to.lower()}", f"{to} via {server.shown}")


def tls_context(cafile: str | None) -> ssl.SSLContext:
    """The system's trusted CAs, and ``cafile``'s too when given: verification stays on."""
    context = ssl.create_default_context()
    if cafile:
        try:
            context.load_verify_locations(cafile=cafile)
        except FileNotFoundError:
            raise BadInput(f"--cafile {one_line(cafile)}: no such file") from None
        except (OSError, ssl.SSLError) as exc:
            raise BadInput(
                f"--cafile {one_line(cafile)}: not a PEM certificate file ({one_line(exc)})"
            ) from None
    return context


# -- the sent record ------------------------------------------------------------------


def state_dir(env: Mapping[str, str]) -> Path:
    """$XDG_STATE_HOME/collector (default ~/.local/state/collector)."""
    base = env.get("XDG_STATE_HOME") or ""
    root = Path(base) if os.path.isabs(base) else Path.home() / ".local" / "state"
    return root / "collector"


class SentRecord:
    """The JSON-lines file of what was sent: one object a line, appended, never rewritten."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.damaged = 0  # lines of the last read that were not JSON

    def entries(self) -> list[dict[str, Any]]:
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise OutputError(f"{self.path}: cannot read the sent record: {exc.strerror}") from None
        found = []
        self.damaged = 0
        for line in text.splitlines():
            # A line cut by a crash (or edited by hand) does not hide the others.
            try:
                entry = json.loads(line)
            except ValueError:
                self.damaged += 1
                continue
            if isinstance(entry, dict) and isinstance(entry.get("reference"), str):
                found.append(entry)
        return found

    def previous(self, reference: str, key: str) -> dict[str, Any] | None:
        return next(
            (e for e in self.entries() if e["reference"] == reference and e.get("key") == key),
            None,
        )

    @contextlib.contextmanager
    def sending(self, reference: str) -> Iterator[None]:
        """Hold ``reference``'s lock (beside the record) while its sends are checked and made.

        Without it two submits of one bundle started together would both find it unsent
        and both send it.
        """
        locks = self.path.parent / "locks"
        try:
            locks.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(locks / f"{reference}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise OutputError(f"{locks}: cannot lock the sent record: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def add(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "r+b") as stream:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    line = "\n" + line  # a line cut by a crash stays apart from this one
                stream.write(line.encode("utf-8"))
        except OSError as exc:
            raise OutputError(
                f"{entry['reference']} was sent to {entry['destination']}, but the sent record "
                f"{self.path} could not be written: {exc.strerror}"
            ) from None


def refuse_repeats(record: SentRecord, reference: str, plan: SubmitPlan) -> None:
    """BadInput when a destination already got this bundle (unless ``force``)."""
    if plan.force:
        return
    for destination in plan.destinations:
        before = record.previous(reference, destination.key)
        if before is not None:
            raise BadInput(
                f"{reference} was already sent to {destination.shown} on "
                f"{one_line(before.get('sent_at', '?'))}; --force sends it again"
            )


# -- delivery ---------------------------------------------------------------------------


RetryHook = Callable[[Destination, str, float, int, int], None]


def deliver(
    attempt: Callable[[], T],
    delays: tuple[float, ...],
    *,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[str, float, int, int], None] | None = None,
) -> tuple[T, int]:
    """``attempt()`` until it succeeds, at most ``len(delays) + 1`` times, waiting
    ``delays[i]`` (or the server's Retry-After, up to MAX_RETRY_AFTER) after a temporary
    failure; a permanent one, or the last temporary one, is a SendError (exit 3)."""
    total = len(delays) + 1
    for number in range(1, total + 1):
        try:
            return attempt(), number
        except Permanent as exc:
            raise SendError(str(exc)) from None
        except Temporary as exc:
            if number == total:
                tried = f" (tried {total} times)" if total > 1 else ""
                raise SendError(f"{exc}{tried}") from None
            wait = delays[number - 1]
            if exc.retry_after is not None:
                wait = max(wait, min(exc.retry_after, MAX_RETRY_AFTER))
            if on_retry is not None:
                on_retry(str(exc), wait, number + 1, total)
            sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover



def submit(
    received: ReceivedBundle,
    plan: SubmitPlan,
    record: SentRecord,
    *,
    budget: int,
    reason: str | None = None,
    template_dir: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], str] = utc_stamp,
    on_retry: RetryHook | None = None,
    on_start: Callable[[], None] | None = None,
    on_sent: Callable[[Sent], None] | None = None,
) -> list[Sent]:
    """Send the bundle to every destination of ``plan``, recording each delivery.

    ``on_start`` is called once the bundle and the record allow the send, before it."""
    from collector.ticket import build_context, ticket_json

    report = received.report
    zip_data = received.attachment()
    if zip_data is None:
        raise BadInput(f"{received.label}: no {received.zip_name} in the bundle: nothing to attach")
    if len(zip_data) > budget:
        raise BadInput(
            f"{received.label}: {received.zip_name} is {len(zip_data):,} bytes, over the "
            f"{budget:,}-byte attachment limit (max_attachment_bytes)"
        )
    # A second submit of this bundle at the same time waits here, then finds it sent.
    with record.sending(report.reference):
        refuse_repeats(record, report.reference, plan)
        tls = tls_context(plan.cafile)
        digest = hashlib.sha256(zip_data).hexdigest()
        if on_start is not None:
            on_start()
        done: list[Sent] = []
        for destination in plan.destinations:
            context = build_context(
                report,
                lang=plan.lang,
                reason=reason,
                support_address=destination.address if destination.channel == "email" else None,
            )

            def retrying(error: str, wait: float, number: int, total: int,
                         where: Destination = destination) -> None:  # fmt: skip
                if on_retry is not None:
                    on_retry(where, error, wait, number, total)

            if destination.channel == "email":
                sent = _send_email(plan, destination, context, zip_data, template_dir, tls,
                                   sleep, retrying, now)  # fmt: skip
            else:
                ticket = ticket_json(context, template_dir)
                body, content_type = multipart(ticket, received.zip_name, zip_data)
                token = plan.inbox_token if destination.channel == "inbox" else plan.webhook_token
                attempt = partial(
                    post, destination.address, body, content_type, token=token,
                    reference=report.reference, tls=tls, timeout=plan.timeout,
                )  # fmt: skip
                answer, attempts = deliver(attempt, plan.delays, sleep=sleep, on_retry=retrying)
                issue_url = answer.data.get("issue_url")
                sent = Sent(
                    destination,
                    "already_received" if answer.status == 409 else "sent",
                    attempts,
                    now(),
                    issue_url=one_line(issue_url)[:500] if isinstance(issue_url, str) else None,
                    http_status=answer.status,
                )
            extra = {"message_id": sent.message_id, "issue_url": sent.issue_url}
            record.add(
                {
                    "reference": report.reference,
                    "sent_at": sent.sent_at,
                    "channel": destination.channel,
                    "key": destination.key,
                    "destination": destination.shown,
                    "status": sent.status,
                    "sha256": digest,
                    **{k: v for k, v in extra.items() if v},
                }
            )
            done.append(sent)
            if on_sent is not None:
                on_sent(sent)
        return done


def _send_email(
    plan: SubmitPlan,
    destination: Destination,
    context: TicketContext,
    zip_data: bytes,
    template_dir: str | None,
    tls: ssl.SSLContext,
    sleep: Callable[[float], None],
    on_retry: Callable[[str, float, int, int], None],
    now: Callable[[], str],
) -> Sent:
    """The ticket's .eml (zip attached), sent as one message: every attempt sends the same
    bytes, Message-ID included, so a desk that saw a half-finished attempt can fold them."""
    from collector.ticket import render_eml

    assert plan.smtp is not None and plan.sender is not None
    message = render_eml(context, zip_data, template_dir, sender=plan.sender,
                         reply_to=plan.reply_to)  # fmt: skip
    attempt = partial(
        send_email, plan.smtp, plan.smtp_password, plan.sender, [destination.address], message,
        tls=tls, timeout=plan.timeout,
    )  # fmt: skip
    _, attempts = deliver(attempt, plan.delays, sleep=sleep, on_retry=on_retry)
    message_id = BytesHeaderParser().parsebytes(message).get("Message-ID")
    return Sent(destination, "sent", attempts, now(), message_id=message_id)
