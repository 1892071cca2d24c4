"""Neutral text: what comes from a page or a stranger's bundle, made safe to show.

Imported by the command line before anything heavy, so it stays dependency-free.
"""

from __future__ import annotations


def printable(text: object) -> str:
    """Control characters shown as escapes, so logs cannot rewrite a terminal or file."""
    return "".join(
        ch if ch in "\n\t" or not _is_control(ord(ch)) else f"\\u{ord(ch):04x}" for ch in str(text)
    )


def one_line(text: object) -> str:
    """``printable`` on a single line: for error messages and headers."""
    return " ".join(printable(text).split())


def has_control(text: str) -> bool:
    """Whether ``text`` holds anything that could end or forge a header line."""
    return any(_is_control(ord(ch)) for ch in text)


def _is_control(code: int) -> bool:
    # U+2028/2029 are line breaks to some terminals and mail readers.
    return code < 32 or code == 127 or 0x80 <= code < 0xA0 or code in (0x2028, 0x2029)


def utc_stamp() -> str:
    """Now, as report.json and the inbox write times: ``2026-12-01T06:20:56Z``."""
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
