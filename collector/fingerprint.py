"""Fingerprints: one stable id per distinct error, whatever the run.

The same bug seen on another port, with another order id, at another time or
after a redeploy must get the same fingerprint, so that a ticket groups its
errors, a replay can say "reproduced" and CI can compare two runs. We get there
by normalising away what varies (numbers, ids, origins, quoted values, query
strings, line/column numbers) and hashing what identifies the error: its kind,
its normalised message and the function + file it was thrown from.

Pure functions only: no browser, no I/O.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence

from collector.report import ErrorGroup, Event, Frame

MAX_MESSAGE_SCAN = 2_000
"""Only this many characters of a message are normalised (bounded work on floods)."""

MAX_STACK_SCAN = 10_000
"""Only this many characters of a stack are searched for the top frame."""

MAX_GROUP_MESSAGE = 500
"""`ErrorGroup.message` is the first event's text cut to this many characters."""

FINGERPRINT_LENGTH = 12

NETWORK_KINDS = frozenset({"request_failed", "http_error"})

_KEPT_QUOTED = re.compile(r"[A-Za-z_$][\w$]{0,40}")
_URL = r"\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"`<>()\[\]{}]+"
_UUID = r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
_DATETIME = (
    r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b"
)
# Long hex runs (hashes, ids): at least one digit and one a-f letter, so that words
# ("deadline") and plain numbers are left to the other rules.
_HEX = r"\b0[xX][0-9a-fA-F]+\b|\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b"
_NUMBER = r"\d+(?:\.\d+)?"
# A quote starts only where it is not part of a word ("can't" is not a quote).
_QUOTED = r"(?<![\w$])(?:'[^'\n]{0,300}'|\"[^\"\n]{0,300}\"|`[^`\n]{0,300}`)"

_VARYING_IN_PATH = re.compile(rf"(?P<uuid>{_UUID})|(?P<hex>{_HEX})|(?P<number>{_NUMBER})")
_VARYING = re.compile(
    rf"(?P<data>\bdata:[\w.+\-/]+[;,]\S*)"
    rf"|(?P<url>{_URL})"
    rf"|(?P<uuid>{_UUID})"
    rf"|(?P<datetime>{_DATETIME})"
    rf"|(?P<quoted>{_QUOTED})"
    rf"|(?P<hex>{_HEX})"
    rf"|(?P<number>{_NUMBER})"
)
_WHITESPACE = re.compile(r"\s+")
_ORIGIN = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://[^/?#]*")
_PLACEHOLDERS = {"uuid": "<uuid>", "hex": "<hex>", "number": "<n>", "datetime": "<time>"}

# V8 frames: "at fn (location)" or "at location"; Firefox/Safari style "fn@location" too.
_V8_FRAME = re.compile(r"^\s*at\s+(?:(?P<fn>.+?)\s+\((?P<loc>.*)\)|(?P<bare>\S.*?))\s*$")
_AT_FRAME = re.compile(r"^\s*(?P<fn>[^\s@]*)@(?P<loc>\S.*?)\s*$")
_LINE_COLUMN = re.compile(r":\d+(?::\d+)?(?=$|[),\s])")
_URL_IN_TEXT = re.compile(_URL)
_STATUS_IN_TEXT = re.compile(r"(?<![\w.:/-])[1-5]\d{2}(?![\w.:/-])")
_NET_ERROR = re.compile(r"\bnet::ERR_[A-Z_]+")


def normalise_message(text: str) -> str:
    """Replace what varies between runs of the same error with placeholders.

    Numbers, hex ids, UUIDs, ISO dates/times, URL origins and query strings change
    from run to run (or port to port) without changing the bug, so they become
    ``<n>``, ``<hex>``, ``<uuid>``, ``<time>``, ``<origin>``; the query string is
    dropped. Quoted values usually vary too (``'order 1234'``) and become
    ``'<str>'`` — except short identifiers, because in
    ``Cannot read properties of undefined (reading 'card')`` the property name
    *is* the identity of the error. Only the first 2,000 characters are read.
    """
    return _WHITESPACE.sub(" ", _VARYING.sub(_replace_varying, text[:MAX_MESSAGE_SCAN])).strip()


def _replace_varying(match: re.Match[str]) -> str:
    kind = match.lastgroup or ""
    value = match.group()
    if kind == "url":
        return _normalise_url(value, origin="<origin>")
    if kind == "data":
        return "<data-url>"
    if kind == "quoted":
        inner = value[1:-1]
        if _KEPT_QUOTED.fullmatch(inner):
            return value
        return f"{value[0]}<str>{value[-1]}"
    return _PLACEHOLDERS[kind]


def _normalise_url(url: str, origin: str = "") -> str:
    """``http://127.0.0.1:8123/a/42.js?v=3#x`` -> ``<origin>/a/<n>.js`` (origin as given)."""
    path = re.split(r"[?#]", url, maxsplit=1)[0]
    path = _ORIGIN.sub("", path, count=1) if _ORIGIN.match(path) else path
    return origin + _VARYING_IN_PATH.sub(_replace_varying, path)


def top_frame(stack: str | None) -> str | None:
    """The first frame of a stack as ``function@/path.js``, or None if there is none.

    The origin (host and port differ between runs and deployments) and the
    line/column (they move whenever code above is edited) are dropped; the
    function name and the script path stay, because they say where the error
    comes from. Anonymous frames read ``<anonymous>@/path.js``; ``async``
    prefixes are dropped; content hashes in file names become ``<hex>``.
    """
    if not stack:
        return None
    for line in stack[:MAX_STACK_SCAN].splitlines():
        match = _V8_FRAME.match(line)
        if match:
            fn = match.group("fn")
            loc = match.group("loc") if fn is not None else match.group("bare")
        else:
            match = _AT_FRAME.match(line)
            if not match or ("/" not in match.group("loc") and ":" not in match.group("loc")):
                continue
            fn, loc = match.group("fn"), match.group("loc")
        fn = re.sub(r"^(?:async\s+)+", "", (fn or "").strip()) or "<anonymous>"
        return f"{fn}@{_normalise_location(loc)}"
    return None


def _normalise_location(loc: str) -> str:
    loc = _LINE_COLUMN.sub("", loc.strip())
    # A location may hold several URLs ("eval at f (http://…/a.js:1:2), <anonymous>:1:1").
    return _URL_IN_TEXT.sub(lambda m: _normalise_url(m.group()), loc)


def fingerprint(
    kind: str,
    text: str,
    stack: str | None = None,
    url: str | None = None,
    *,
    status: int | None = None,
    frames: Sequence[Frame] = (),
) -> str:
    """A 12-hex-digit id, equal for the same error in any run.

    Script errors hash the kind, the normalised message and the top stack frame
    (or, without a stack, the path of the source URL: the same message from two
    scripts is two bugs). Network errors hash the kind, the URL's normalised path
    (no origin, no query, ids as placeholders, no method) and the HTTP status
    (``status=`` or the first status-like number in the text) or the
    ``net::ERR_…`` code, because "``/api/pay`` answers 500" is the error whatever
    the port or order id.
    """
    if kind in NETWORK_KINDS:
        key = _network_key(text, url, status)
    else:
        where = original_top_frame(frames) or top_frame(stack)
        if where is None and url:
            where = _normalise_url(url)
        key = normalise_message(text) + "\x1f" + (where or "")
    digest = hashlib.sha1(f"{kind}\x1f{key}".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:FINGERPRINT_LENGTH]


def original_top_frame(frames: Sequence[Frame]) -> str | None:
    """The top frame through its source map, as ``function@src/file.ts``; None when the top
    frame is not resolved. Minified names and bundle file names change with every build; the
    original ones do not, so the same bug in two builds groups together (issue 16)."""
    top = frames[0].original if frames else None
    if top is None:
        return None
    # Not the generated name when the map has none: a minifier renames it in every build.
    return f"{top.function or '<anonymous>'}@{top.file}"


def _network_key(text: str, url: str | None, status: int | None) -> str:
    head = text[:MAX_MESSAGE_SCAN]
    if not url:
        found = _URL_IN_TEXT.search(head)
        url = found.group() if found else None
    if url is None:
        return normalise_message(text)
    outside_urls = _URL_IN_TEXT.sub(" ", head)
    if status is None:
        found_status = _STATUS_IN_TEXT.search(outside_urls)
        status = int(found_status.group()) if found_status else None
    net_error = _NET_ERROR.search(outside_urls)
    parts = [_normalise_url(url), str(status or ""), net_error.group() if net_error else ""]
    return "\x1f".join(parts)


def group_errors(events: Iterable[Event]) -> list[ErrorGroup]:
    """One group per fingerprint, in order of first occurrence.

    The caller picks the events that matter (usually the failing ones); this only
    folds them. ``count`` adds up each event's own ``count`` (events are already
    folded duplicates), ``first_step`` is the earliest step (``None`` — before the
    first step — is earliest), the message, kind and location come from the first
    event, and the group ``fails`` if any of its events does.
    """
    groups: dict[str, ErrorGroup] = {}
    for event in events:
        fp = fingerprint(
            event.kind, event.text, event.stack, event.url, status=event.status,
            frames=event.frames,
        )  # fmt: skip
        group = groups.get(fp)
        if group is None:
            groups[fp] = ErrorGroup(
                fingerprint=fp,
                kind=event.kind,
                message=_truncate(event.text, MAX_GROUP_MESSAGE),
                count=event.count,
                first_step=event.step,
                url=event.url,
                line=event.line,
                column=event.column,
                stack=event.stack,
                fails=event.fails,
                frames=event.frames,
            )
            continue
        group.count += event.count
        group.fails = group.fails or event.fails
        if group.first_step is not None and (event.step is None or event.step < group.first_step):
            group.first_step = event.step
    return list(groups.values())


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def compare_fingerprints(original: set[str], seen: set[str]) -> tuple[set[str], set[str], set[str]]:
    """Split two runs' fingerprints into (reproduced, missing, new).

    ``reproduced``: in the original and seen again; ``missing``: in the original
    but not seen (fixed, or not reproduced); ``new``: seen only now. Replay turns
    these into its verdict.
    """
    return original & seen, original - seen, seen - original
