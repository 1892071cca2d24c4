"""Stack frames: parsed from V8 stack text, and shown original-first.

Pure text work (no source-map library): the ticket, console.log and report.html
show a resolved stack through ``readable_stack``; ``collector.sourcemaps`` fills
in the frames' originals.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Only frames_from_stack builds models: the ticket reads frames and starts without them.
    from collector.report import Event, Frame

MAX_FRAMES = 12
# Events that keep their frames (the first ones): a flood of distinct errors must not fill
# report.json with frames (its own stack text and location stay).
MAX_FRAMED_EVENTS = 100
# Lines of original source shown each side of the error line.
CONTEXT_LINES = 2
_V8_AT = re.compile(r"^\s*at (?:(?P<fn>.+?) \((?P<loc>.+)\)|(?P<bare>.+))$")
_LOCATION = re.compile(r"^(?P<url>.+):(?P<line>\d+):(?P<column>\d+)$")


# -- frames ------------------------------------------------------------------------


def frames_from_stack(stack: str | None) -> list[Frame]:
    """The frames of a V8 stack text (``at fn (url:line:col)`` / ``at url:line:col``)."""
    from collector.report import Frame

    frames: list[Frame] = []
    for raw in (stack or "").splitlines()[1:]:
        match = _V8_AT.match(raw)
        if not match:
            continue
        loc = match.group("loc") if match.group("fn") is not None else match.group("bare")
        where = _LOCATION.match(loc.strip())
        if where is None:
            frames.append(Frame(function=match.group("fn")))
        else:
            frames.append(
                Frame(
                    function=match.group("fn"),
                    url=where.group("url"),
                    line=int(where.group("line")),
                    column=int(where.group("column")),
                )
            )
        if len(frames) >= MAX_FRAMES:
            break
    return frames


def event_frames(event: Event) -> list[Frame]:
    """The frames of ``event``: the ones captured, else parsed from its stack text."""
    return list(event.frames) or frames_from_stack(event.stack)


def script_urls(frames: Iterable[Frame]) -> list[str]:
    """The http(s) scripts the frames ran in, in order, each once."""
    seen: dict[str, None] = {}
    for frame in frames:
        if frame.url and frame.url.startswith(("http://", "https://")):
            seen.setdefault(frame.url.split("#", 1)[0], None)
    return list(seen)


# -- showing -----------------------------------------------------------------------


def _at(function: str | None, where: str) -> str:
    return f"at {function} ({where})" if function else f"at {where}"


def generated_line(frame: Frame) -> str:
    where = frame.url or "<anonymous>"
    if frame.line is not None:
        where += f":{frame.line}" + (f":{frame.column}" if frame.column is not None else "")
    return _at(frame.function, where)


def original_line(frame: Frame) -> str:
    """The frame as a developer reads it: original when resolved, else as generated.

    A resolved frame whose map names no function shows none: the name the browser ran is
    the minifier's (``l``), which the developer's code does not have."""
    o = frame.original
    if o is None:
        return generated_line(frame)
    return _at(o.function, f"{o.file}:{o.line}:{o.column}")


def readable_stack(
    stack: str | None, frames: Sequence[Frame], generated: str = "as the browser ran it:"
) -> str | None:
    """The stack to show: original frames first, the source lines of the top one, then the
    frames as the browser ran them. Unresolved: the stack as captured."""
    if not any(f.original is not None for f in frames):
        return stack
    lines = [stack.splitlines()[0]] if stack and not stack.startswith("    at ") else []
    lines += ["    " + original_line(f) for f in frames]
    top = next((f.original for f in frames if f.original and f.original.context), None)
    if top is not None:
        width = len(str(top.context[-1].line))
        lines.append("")
        for source in top.context:
            mark = ">" if source.line == top.line else " "
            lines.append(f"  {mark} {source.line:>{width}} | {source.text}")
    lines.append("")
    lines.append("  " + generated)
    lines += ["    " + generated_line(f) for f in frames]
    return "\n".join(lines)
