"""The start of an HTTP error's response body, as a support agent should see it.

Pure: bytes and headers in, a ``ResponseBody``-shaped dict out. Only text
types are kept (JSON, text/*, XML, JavaScript, form data), cut to the first
4 kB and decoded to valid UTF-8 whatever the bytes; anything else is named in a
note and not kept. Redaction happens where every other text is redacted: when
the bundle is written (``collector.bundle``).
"""

from __future__ import annotations

import codecs
from typing import Any

BODY_LIMIT = 4096
"""Bytes of a failed response's body kept in the report."""

TEXT_MARKERS = ("json", "xml", "javascript", "ecmascript", "x-www-form-urlencoded")


def media_type(content_type: str | None) -> str:
    """``application/json`` of ``Application/JSON; charset=utf-8`` ('' when there is none)."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_text_type(content_type: str | None) -> bool:
    """Whether a body of this Content-Type is text a person can read in a ticket."""
    kind = media_type(content_type)
    if kind.startswith("text/"):
        return True
    if not kind.startswith(("application/", "message/")):
        return False
    return any(marker in kind for marker in TEXT_MARKERS)


def charset_of(content_type: str | None) -> str:
    """The declared charset when Python knows it, else UTF-8."""
    for param in (content_type or "").split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            candidate = value.strip().strip("\"'")
            try:
                return codecs.lookup(candidate).name
            except LookupError:
                break
    return "utf-8"


def looks_like_utf8(data: bytes, limit: int = BODY_LIMIT) -> bool:
    """Whether the first ``limit`` bytes are UTF-8 (a character cut by the limit is fine)."""
    try:
        decoder = codecs.getincrementaldecoder("utf-8")("strict")
        decoder.decode(data[:limit], final=len(data) <= limit)
    except UnicodeDecodeError:
        return False
    return True


def looks_like_text(data: bytes) -> bool:
    """A body without a Content-Type: text when its start is UTF-8 without NUL bytes."""
    return b"\0" not in data[:BODY_LIMIT] and looks_like_utf8(data)


def decode_start(data: bytes, charset: str = "utf-8", limit: int = BODY_LIMIT) -> str:
    """The first ``limit`` bytes of ``data`` as text, never ending in half a character.

    Undecodable bytes become U+FFFD, so the result is always valid UTF-8.
    """
    decoder = codecs.getincrementaldecoder(charset)("replace")
    text = decoder.decode(data[:limit], final=len(data) <= limit)
    # A lone surrogate cannot come out of a decoder, but stay safe for odd codecs.
    return text.encode("utf-8", "replace").decode("utf-8")


def body_excerpt(
    data: bytes, content_type: str | None, *, limit: int = BODY_LIMIT
) -> dict[str, Any]:
    """What the report keeps of a body: its start when it is text, else why not."""
    kind = media_type(content_type)
    if not (is_text_type(content_type) or (not kind and looks_like_text(data))):
        return {"bytes": len(data), "note": not_text_note(content_type)}
    # Chromium hands text resources over already decoded (as UTF-8, whatever the
    # charset); the declared charset is for bytes that are not UTF-8.
    charset = "utf-8" if looks_like_utf8(data, limit) else charset_of(content_type)
    return {
        "text": decode_start(data, charset, limit),
        "bytes": len(data),
        "truncated": len(data) > limit,
    }


# Why a body is not shown. report.json keeps these words; labels.note_label says them in
# the ticket's language, so a new note needs a pattern and labels there.


def not_text_note(content_type: str | None) -> str:
    kind = media_type(content_type)
    return f"not kept: {kind} is not text" if kind else "not kept: no Content-Type, not text"


def over_cap_note(cap: int) -> str:
    return f"not kept: only the first {cap} bodies of a run are kept"


def too_slow_note(seconds: float) -> str:
    return f"not read: the body did not end within {seconds:g} s"


def unreadable_note(why: str) -> str:
    return f"not read: {why}"


def run_ended_note(seconds: float) -> str:
    return f"not read: the run ended first (waited {seconds:g} s for the body)"
