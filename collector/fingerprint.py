"""Fingerprints: one stable id per distinct error, whatever the run.

The same bug seen on another port, with another order id, at another time or
after a redeploy must get the same fingerprint, so that a ticket groups its
errors, a replay can say "reproduced" and CI can compare two runs. Two errors
group when their event kind and their *basis* (``FingerprintBasis``, written to
report.json so a reader can see why) are equal:

- an exception with an in-app stack: its type and its top in-app frames
  (function and script path; no origin, no line or column, no message), as
  Sentry groups stack traces;
- anything else: its message, normalised (every value that varies between runs
  becomes a placeholder), and the in-app frame or script it came from;
- a network error: its URL's normalised path and its status or net error code.

Frames of browser extensions, evaluated or injected scripts (Playwright's and
collector's own) never decide a group. Pure functions only: no browser, no I/O.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from collector.report import ErrorGroup, Event, FingerprintBasis, Frame

MAX_MESSAGE_SCAN = 2_000
"""Only this many characters of a message are normalised (bounded work on floods)."""

MAX_STACK_SCAN = 10_000
"""Only this many characters of a stack are read for frames."""

MAX_GROUP_MESSAGE = 500
"""`ErrorGroup.message` is the first event's text cut to this many characters."""

GROUPING_FRAMES = 3
"""How many in-app frames, from the top, decide a stack's group."""

FINGERPRINT_LENGTH = 12

NETWORK_KINDS = frozenset({"request_failed", "http_error"})

VALUE = "<val>"
"""What any varying value becomes: one placeholder for numbers, ids, hashes, versions,
addresses…, so an id that changes its shape from run to run (a UUID, then a 9-digit
first segment, then a plain number) still leaves the same text."""

# -- what varies in a message ---------------------------------------------------------------

_URL = (
    r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]*://"
    r"(?:\[[0-9A-Fa-f:.]+\][^\s'\"`<>()\[\]{}]*|[^\s'\"`<>()\[\]{}]+)"
)
_EMAIL = r"(?<![\w.+\-])[\w.+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+"
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]{0,6}\.?"
_WEEKDAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]{0,6}"
_CLOCK = r"\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s?[AaPp][Mm]\b)?"
_ZONE = (
    r"(?:\s?(?:Z(?:\d{2}:\d{2})?|[+-]\d{2}:?\d{2}|GMT(?:[+-]\d{4})?|UTC"
    r"|[ECMP][SD]T|BST|CES?T|WES?T|EES?T|JST)\b)?(?:\s\([A-Za-z ]{1,40}\))?"
)
_DATETIME = (
    # ISO 8601 / RFC 3339 dates and date-times.
    rf"(?<![\w.:\-])\d{{4}}-[01]\d-[0-3]\d(?:[T ]{_CLOCK}{_ZONE})?(?![\w:])"
    # RFC 822/850/1123 and JavaScript's Date#toString: "Mon, 02 Jan 2006 15:04:05 MST".
    rf"|\b(?:{_WEEKDAY},?\s+)?(?:\d{{1,2}}[\s-]{_MONTH}[\s-]\d{{2,4}}|{_MONTH}\s+\d{{1,2}},?\s+\d{{4}})"
    rf"(?:\s+{_CLOCK})?{_ZONE}"
    # A clock time alone: "15:04:05", "3:04PM".
    rf"|(?<![\w.:\-]){_CLOCK}(?![\w:]){_ZONE}"
)
_QUOTED = r"(?<![\w$])(?:'[^'\n]{0,300}'|\"[^\"\n]{0,300}\"|`[^`\n]{0,300}`)"
# true/false as an assigned or JSON value ("a=true", '"ok": false'); alone it is a word.
_BOOL = r"(?:(?<==)|(?<=[\"']:)|(?<=[\"']: ))(?:true|false|True|False)\b"
_THOUSANDS = r"(?<![\w.,])\d{1,3}(?:,\d{3})+(?![\w,]|\.\d)"
_TLDS = "com|net|org|io|co|pt|br|uk|de|fr|es|it|nl|eu|info|biz|edu|gov|local|internal"
_HOST = rf"(?<![\w.@/\-])(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{{0,61}}[A-Za-z0-9])?\.)+(?:{_TLDS})(?![\w\-]|\.\w)"
_REASONS = (
    "Not Found|Bad Request|Unauthori[sz]ed|Forbidden|Internal Server Error|Bad Gateway"
    "|Service Unavailable|Gateway Time-?out|Conflict|Too Many Requests|Unprocessable"
    "|Method Not Allowed|Not Acceptable|Gone|Payload Too Large|Request Timeout"
)
# An HTTP status is kept as its family (404 -> <4xx>): where it is named as one.
_STATUS = (
    r"(?P<status_cue>\b(?:[Ss]tatus(?:\s+[Cc]ode)?(?:\s+of)?|HTTP(?:/\d(?:\.\d)?)?)\s*:?\s*)"
    r"(?P<status>[1-5]\d\d)(?![\w.])"
    rf"|(?<![\w.])(?P<status_reason>[1-5]\d\d)(?=\s+\(?(?:{_REASONS})\b)"
)
_URL_STATUS = r"(?:\s+(?P<url_status>[1-5]\d\d)(?![\w.:]))?"
# A token with a digit in it: numbers, ids, hashes, versions, addresses, sizes…
_TOKEN_CHARS = r"[\w.+\-:=%#]"
_TOKEN = rf"(?<![\w.+\-:=%#@]){_TOKEN_CHARS}*\d{_TOKEN_CHARS}*"
# Numbers that are the identity of an error, not data.
_KEPT = r"\bMinified React error #\d+"
# "app.3f9a.js:12:34" in a message: the file stays (its hash a value), line and column go.
_FILE_LINE = (
    r"(?<![\w.\-/:$])(?P<file>[\w$\-]+(?:\.[\w$\-]+)*\.(?:m?js|cjs|tsx?|jsx|vue|svelte|html?|css))"
    r"(?::\d+){1,2}(?![\w.:])"
)
# Digit-free values: hex words of 8+ letters ("deadbeef") and the IPv6 "::".
_HEX_WORD = r"(?<![\w$])[a-fA-F]{8,}(?![\w$])"
_IPV6_ANY = r"(?<![\w:])::(?![\w:])"

_VARYING = re.compile(
    rf"(?P<data>\bdata:[\w.+\-/]+[;,]\S*)"
    rf"|(?P<url>{_URL}){_URL_STATUS}"
    rf"|(?P<email>{_EMAIL})"
    rf"|(?P<datetime>{_DATETIME})"
    rf"|(?P<quoted>{_QUOTED})"
    rf"|(?P<bool>{_BOOL})"
    rf"|{_STATUS}"
    rf"|(?P<thousands>{_THOUSANDS})"
    rf"|(?P<host>{_HOST})"
    rf"|(?P<kept>{_KEPT})"
    rf"|(?P<fileline>{_FILE_LINE})"
    rf"|(?P<token>{_TOKEN})"
    rf"|(?P<hexword>{_HEX_WORD})"
    rf"|(?P<ipv6>{_IPV6_ANY})"
)

# Identifiers with digits that name something rather than vary: typed arrays and other
# classes (Uint8Array, WebGL2RenderingContext), camelCase methods (getInt32), error codes
# (ERR_HTTP2_PROTOCOL_ERROR) and the encodings, algorithms and standards errors cite.
_MEANINGFUL = re.compile(
    r"[A-Za-z]+\d+[A-Z][A-Za-z]*"
    r"|[A-Za-z]*[a-z][A-Z][A-Za-z]*\d{1,2}"
    r"|[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+"
    r"|(?i:utf-?(?:8|16|32)(?:le|be)?|iso-?8859-\d{1,2}|windows-125\d|base(?:32|36|58|64)(?:url)?"
    r"|sha-?(?:1|224|256|384|512)|md5|crc32|es(?:[3-9]|20\d\d)|h[1-6]|https?/?[23]"
    r"|http/1\.[01]|ipv[46]|oauth2|x86(?:[_-]64)?|x64|arm64|amd64|i18n|l10n|a11y|k8s|[23]d"
    r"|webgl2|mp[34]|h26[45]|vp[89]|av1|aes-?(?:128|192|256)|u?int(?:8|16|32|64)"
    r"|float(?:16|32|64)|big(?:u?int)64|iso8601|e2e|2fa)"
)
# "order-", "value:", "maisey-", "item_": a word before a simple value stays.
_WORD_PREFIX = re.compile(r"(?:[A-Za-z$]+(?:::|[:=_\-]))+")
_SIMPLE_VALUE = re.compile(
    r"[-+]?(?:0[xX])?[0-9a-fA-F]+(?:[-.:_][0-9a-fA-F]+)*(?:ms|s|px|%|[kKMG]i?B)?"
)
_LONG_HEX_WORD = re.compile(r"[a-fA-F]{8,}")
_KEPT_QUOTED = re.compile(r"[A-Za-z_$][\w$]{0,40}")
_JSON_KEY = re.compile(r"\s?:")
_KEPT_KEY = re.compile(r"[A-Za-z_$][\w $.\-]{0,39}")
_DIGIT = re.compile(r"\d")
_IDENTIFIER = re.compile(r"[A-Za-z_$][\w$]*")
_WHITESPACE = re.compile(r"\s+")
_ORIGIN = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://[^/?#]*")
_EXTENSION = re.compile(r"[A-Za-z][A-Za-z0-9]{0,5}")
_PLACEHOLDERS = {
    "email": "<email>",
    "datetime": "<time>",
    "bool": "<bool>",
    "thousands": VALUE,
    "host": "<host>",
    "hexword": VALUE,
    "ipv6": VALUE,
}


def normalise_message(text: str) -> str:
    """Replace what varies between runs of the same error with placeholders.

    Every token with a digit in it (numbers, ids, hashes, UUIDs of any segment
    length, versions, IPs, ports, sizes, durations, hex colours, base36/64 keys,
    JWT-like tokens) becomes ``<val>`` whole, whatever its shape, unless it names
    something (``Uint8Array``, ``ERR_HTTP2_PROTOCOL_ERROR``, ``utf-8``); a word
    joined to a simple value stays (``order-<val>``). Dates become ``<time>``,
    e-mails ``<email>``, host names ``<host>``, URL origins ``<origin>`` (query and
    fragment dropped, ids in the path replaced), HTTP statuses named as such their
    family (``<4xx>``). Quoted values become ``'<str>'`` — except identifiers,
    because in ``Cannot read properties of undefined (reading 'card')`` the
    property name *is* the identity of the error. Words without digits (error
    class names, HTTP methods, property names) stay. Only the first 2,000
    characters are read.
    """
    return _WHITESPACE.sub(" ", _VARYING.sub(_replace_varying, text[:MAX_MESSAGE_SCAN])).strip()


def _replace_varying(match: re.Match[str]) -> str:
    value = match.group()
    if match.group("token") is not None:
        return _normalise_token(value)
    if match.group("url") is not None:
        url = _normalise_url(match.group("url"), origin="<origin>")
        status = match.group("url_status")
        return url + (f" <{status[0]}xx>" if status else "")
    if match.group("kept") is not None:
        return value
    if match.group("fileline") is not None:
        return _normalise_segment(match.group("file")) + f":{VALUE}"
    if match.group("quoted") is not None:
        return _normalise_quoted(match)
    if match.group("status") is not None:
        return match.group("status_cue") + f"<{match.group('status')[0]}xx>"
    if match.group("status_reason") is not None:
        return f"<{value[0]}xx>"
    if match.group("data") is not None:
        return "<data-url>"
    kind = next(name for name in _PLACEHOLDERS if match.group(name) is not None)
    return _PLACEHOLDERS[kind]


def _normalise_quoted(match: re.Match[str]) -> str:
    value = match.group()
    inner = value[1:-1]
    if _KEPT_QUOTED.fullmatch(inner) and _names(inner):
        return value
    # A JSON key ('{"dogs are great": true') names a field; its value varies.
    before = match.string[max(0, match.start() - 20) : match.start()].rstrip()[-1:]
    is_key = before in ("{", ",") and _JSON_KEY.match(match.string, match.end()) is not None
    if is_key and _KEPT_KEY.fullmatch(inner) and not _DIGIT.search(inner):
        return value
    return f"{value[0]}<str>{value[-1]}"


def _normalise_token(token: str) -> str:
    """A run of word characters, dots, dashes, colons… holding a digit: a value, unless
    it names something; a word joined to a simple value keeps the word."""
    core = token.rstrip(".:-+#")
    tail = token[len(core) :]
    lead_length = len(core) - len(core.lstrip("#="))
    lead, core = core[:lead_length], core[lead_length:]
    if not _DIGIT.search(core) or _MEANINGFUL.fullmatch(core):
        return token
    if all(_IDENTIFIER.fullmatch(p) and _names(p) for p in core.split(".")):
        return token  # a property path: WebGL2RenderingContext.getInt32
    prefix = _WORD_PREFIX.match(core)
    if prefix:
        rest = core[prefix.end() :]
        words = re.split(r"[:=_\-]+", prefix.group())
        if _MEANINGFUL.fullmatch(rest):
            return token
        if _SIMPLE_VALUE.fullmatch(rest) and not any(_LONG_HEX_WORD.fullmatch(w) for w in words):
            return f"{lead}{prefix.group()}{VALUE}{tail}"
    return f"{lead}{VALUE}{tail}"


def _names(part: str) -> bool:
    return not _DIGIT.search(part) or _MEANINGFUL.fullmatch(part) is not None


def _normalise_url(url: str, origin: str = "") -> str:
    """``http://127.0.0.1:8123/a/42.js?v=3#x`` -> ``<origin>/a/<val>.js`` (origin as given)."""
    path = re.split(r"[?#]", url, maxsplit=1)[0]
    path = _ORIGIN.sub("", path, count=1) if _ORIGIN.match(path) else path
    return origin + "/".join(_normalise_segment(segment) for segment in path.split("/"))


def _normalise_segment(segment: str) -> str:
    """One path segment: a file name keeps its name parts and extension
    (``app.3f9a8b7c1.js`` -> ``app.<val>.js``); any other segment with a digit is a value."""
    if not segment:
        return segment
    parts = segment.split(".")
    if len(parts) > 1 and _EXTENSION.fullmatch(parts[-1]) and parts[0]:
        return ".".join([*(_normalise_part(p) for p in parts[:-1]), parts[-1]])
    return _normalise_part(segment)


def _normalise_part(part: str) -> str:
    if _DIGIT.search(part):
        return _normalise_token(part)
    return VALUE if _LONG_HEX_WORD.fullmatch(part) else part


# -- stacks ---------------------------------------------------------------------------------

# V8 frames: "at fn (location)" or "at location"; Firefox/Safari style "fn@location" too.
_V8_FRAME = re.compile(r"^\s*at\s+(?:(?P<fn>.+?)\s+\((?P<loc>.*)\)|(?P<bare>\S.*?))\s*$")
_AT_FRAME = re.compile(r"^\s*(?P<fn>[^\s@]*)@(?P<loc>\S.*?)\s*$")
_LINE_COLUMN = re.compile(r":\d+(?::\d+)?(?=$|[),\s])")
_URL_IN_TEXT = re.compile(_URL)
_STATUS_IN_TEXT = re.compile(r"(?<![\w.:/-])[1-5]\d{2}(?![\w.:/-])")
_NET_ERROR = re.compile(r"\bnet::ERR_[A-Z0-9_]+")
_EXCEPTION_NAME = re.compile(r"^\s*(?:Uncaught\s+)?(?P<name>[A-Za-z_$][\w$.]{0,100})(?::|$)")

# Locations no in-app frame has: browser extensions, the browser's own pages, code run by
# eval or by a debugger, scripts without a URL — which is how Playwright's evaluate and
# collector's own init scripts (capture/quiet.py) appear — and native code.
NOT_IN_APP_PREFIXES = (
    "chrome-extension://",
    "moz-extension://",
    "safari-extension://",
    "safari-web-extension://",
    "webkit-masked-url://",
    "extensions::",
    "chrome://",
    "about:",
    "node:",
    "pptr:",
    "<anonymous>",
    "eval at ",
    "debugger eval code",
    "[native code]",
    "native",
)
NOT_IN_APP_MARKERS = ("__playwright", "__puppeteer", "__collector", "debugger eval code")


class FrameLike(Protocol):
    """A call frame as grouping needs it: the function's name and the script's URL.

    ``StackFrame`` (parsed from stack text) is one; frames resolved through source
    maps can be passed as well, as long as they have these two attributes.
    """

    @property
    def function(self) -> str | None: ...

    @property
    def url(self) -> str | None: ...


@dataclass(frozen=True)
class StackFrame:
    function: str | None
    url: str | None
    """The location as the stack wrote it, without line and column."""


def parse_stack(stack: str | None) -> list[StackFrame]:
    """The frames of a V8 (``at fn (url:1:2)``) or Firefox/Safari (``fn@url:1:2``) stack,
    top first; lines that are not frames (the message) are skipped. Only the first
    10,000 characters are read."""
    frames: list[StackFrame] = []
    for line in (stack or "")[:MAX_STACK_SCAN].splitlines():
        match = _V8_FRAME.match(line)
        if match:
            fn = match.group("fn")
            loc = match.group("loc") if fn is not None else match.group("bare")
        else:
            match = _AT_FRAME.match(line)
            if not match or ("/" not in match.group("loc") and ":" not in match.group("loc")):
                continue
            fn, loc = match.group("fn"), match.group("loc")
        fn = re.sub(r"^(?:async\s+)+", "", (fn or "").strip()) or None
        frames.append(StackFrame(fn, _LINE_COLUMN.sub("", loc.strip())))
    return frames


def is_in_app(frame: FrameLike) -> bool:
    """Whether a frame is the page's own code (not an extension, eval, injected or native)."""
    location = (frame.url or "").strip()
    if not location or location.startswith(":"):
        return False
    lowered = location.lower()
    if lowered.startswith(NOT_IN_APP_PREFIXES) or any(m in lowered for m in NOT_IN_APP_MARKERS):
        return False
    return not any(m in (frame.function or "") for m in NOT_IN_APP_MARKERS)


def _frame_text(frame: FrameLike) -> str:
    return f"{frame.function or '<anonymous>'}@{_normalise_location(frame.url or '')}"


def frames_for_grouping(
    frames: str | Iterable[FrameLike] | None, *, limit: int = GROUPING_FRAMES
) -> list[str]:
    """The top ``limit`` in-app frames as ``function@/path``, top first.

    ``frames`` is a stack's text or frames already parsed (e.g. original frames
    resolved through source maps, which then decide the group instead of the
    generated ones). Frames from browser extensions, eval'd and injected scripts
    (Playwright's, collector's own) and native code are skipped; origins, query
    strings, lines and columns are dropped and content hashes in file names
    replaced, so a redeploy on another host keeps the group.
    """
    parsed = parse_stack(frames) if isinstance(frames, str) or frames is None else frames
    found: list[str] = []
    for frame in parsed:
        if len(found) >= limit:
            break
        if is_in_app(frame):
            found.append(_frame_text(frame))
    return found


def top_frame(stack: str | None) -> str | None:
    """The first frame of a stack as ``function@/path.js``, or None if there is none.

    The origin (host and port differ between runs and deployments) and the
    line/column (they move whenever code above is edited) are dropped; the
    function name and the script path stay, because they say where the error
    comes from. Anonymous frames read ``<anonymous>@/path.js``; ``async``
    prefixes are dropped; content hashes in file names become ``<val>``. Unlike
    ``frames_for_grouping`` this does not skip frames that are not in-app.
    """
    frames = parse_stack(stack)
    return _frame_text(frames[0]) if frames else None


def _normalise_location(loc: str) -> str:
    loc = _LINE_COLUMN.sub("", loc.strip())
    # A location may hold several URLs ("eval at f (http://…/a.js:1:2), <anonymous>:1:1").
    return _URL_IN_TEXT.sub(lambda m: _normalise_url(m.group()), loc)


# -- fingerprints ---------------------------------------------------------------------------


def fingerprint_basis(
    kind: str,
    text: str,
    stack: str | Iterable[FrameLike] | None = None,
    url: str | None = None,
    *,
    status: int | None = None,
    frames: Sequence[Frame] = (),
) -> FingerprintBasis:
    """What decides the group of an error (see the module's docstring), explained.

    ``stack`` is the stack text or frames already parsed; ``frames`` are the event's
    own frames, and when source maps resolved any of them their original locations
    decide instead of ``stack`` (``original_frames``). Exceptions (``page_error``) with in-app frames group by
    their type and top in-app frames; their message does not count (it varies
    with data, the code path does not). Other script errors group by the
    normalised message and where they came from: the top in-app frame, else the
    path of the source URL (the same message from two scripts is two bugs) —
    never an extension's or an injected script's. Network errors group by the
    URL's normalised path (no origin, no query, ids as placeholders, no method)
    and the HTTP status (``status=`` or the first status-like number in the text)
    or the ``net::ERR_…`` code.
    """
    if kind in NETWORK_KINDS:
        network = _network_basis(text, url, status)
        if network is not None:
            return network
        return FingerprintBasis(kind="message", message=normalise_message(text))
    calls = original_frames(frames) or stack
    if kind == "page_error":
        in_app = frames_for_grouping(calls)
        name = _EXCEPTION_NAME.match(text)
        if in_app and name:
            return FingerprintBasis(kind="stack", exception=name.group("name"), frames=in_app)
    top = frames_for_grouping(calls, limit=1)
    source = top[0] if top else None
    if source is None and url and is_in_app(StackFrame(None, url)):
        source = _normalise_url(url)
    return FingerprintBasis(kind="message", message=normalise_message(text), source=source)


def fingerprint_of(kind: str, basis: FingerprintBasis) -> str:
    """The 12-hex-digit id of an error of ``kind`` with this basis."""
    parts = (
        basis.kind, basis.exception, "\x1e".join(basis.frames), basis.message, basis.source,
        basis.status, basis.net_error,
    )  # fmt: skip
    key = "\x1f".join("" if part is None else str(part) for part in parts)
    digest = hashlib.sha1(f"{kind}\x1f{key}".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:FINGERPRINT_LENGTH]


def fingerprint(
    kind: str,
    text: str,
    stack: str | Iterable[FrameLike] | None = None,
    url: str | None = None,
    *,
    status: int | None = None,
    frames: Sequence[Frame] = (),
) -> str:
    """A 12-hex-digit id, equal for the same error in any run (``fingerprint_basis`` says
    what goes in)."""
    basis = fingerprint_basis(kind, text, stack, url, status=status, frames=frames)
    return fingerprint_of(kind, basis)


def original_frames(frames: Sequence[Frame]) -> list[StackFrame]:
    """The call frames as the developer wrote them, when source maps resolved any: each
    resolved frame by its original function and file, the others as the browser ran them.
    Empty when nothing resolved (the stack text then decides). Minified names and bundle
    file names change with every build; original ones do not, so the same bug in two
    builds groups together (issue 16)."""
    if not any(frame.original for frame in frames):
        return []
    return [
        # Not the generated name when the map has none: a minifier renames it every build.
        StackFrame(frame.original.function, frame.original.file)
        if frame.original
        else StackFrame(frame.function, frame.url)
        for frame in frames
    ]


def original_top_frame(frames: Sequence[Frame]) -> str | None:
    """The top frame through its source map, as ``function@src/file.ts``; None when the top
    frame is not resolved."""
    top = frames[0].original if frames else None
    if top is None:
        return None
    return f"{top.function or '<anonymous>'}@{top.file}"


def _network_basis(text: str, url: str | None, status: int | None) -> FingerprintBasis | None:
    head = text[:MAX_MESSAGE_SCAN]
    if not url:
        found = _URL_IN_TEXT.search(head)
        url = found.group() if found else None
    if url is None:
        return None
    outside_urls = _URL_IN_TEXT.sub(" ", head)
    if status is None:
        found_status = _STATUS_IN_TEXT.search(outside_urls)
        status = int(found_status.group()) if found_status else None
    net_error = _NET_ERROR.search(outside_urls)
    return FingerprintBasis(
        kind="network",
        source=_normalise_url(url),
        status=status or None,
        net_error=net_error.group() if net_error else None,
    )


def group_errors(events: Iterable[Event]) -> list[ErrorGroup]:
    """One group per fingerprint, in order of first occurrence.

    The caller picks the events that matter (usually the failing ones); this only
    folds them. ``count`` adds up each event's own ``count`` (events are already
    folded duplicates), ``first_step`` is the earliest step (``None`` — before the
    first step — is earliest), the message, kind, location and fingerprint basis
    come from the first event, and the group ``fails`` if any of its events does.
    """
    groups: dict[str, ErrorGroup] = {}
    for event in events:
        basis = fingerprint_basis(
            event.kind, event.text, event.stack, event.url, status=event.status,
            frames=event.frames,
        )  # fmt: skip
        fp = fingerprint_of(event.kind, basis)
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
                fingerprint_basis=basis,
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
