"""Source maps, the pure part: stack frames, map references, parsing, resolving, showing.

A minified bundle's frame (``at u (https://shop/assets/app.js:1:224)``) becomes the
original one (``at applyDiscount (src/cart/discount.ts:20:37)``) through the
script's source map. The maps are parsed and looked up with Sentry's ``symbolic``
(Rust, maintained, the library Sentry resolves its own events with; it handles
index maps with ``sections`` and finds original function names from the minified
source). Getting the bytes of scripts and maps is ``collector.capture.maps``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from symbolic.exceptions import SymbolicError
from symbolic.sourcemap import SourceMapView, SourceView

from collector.report import Event, Frame, OriginalLocation, SourceLine
from collector.stacks import CONTEXT_LINES, MAX_FRAMED_EVENTS, event_frames

MAX_CONTEXT_CHARS = 200
_REFERENCE_VALUE = re.compile(rb"[^\s'\"]+")
_SCHEME_PREFIX = re.compile(r"^[a-z][a-z0-9+.-]*:/+", re.IGNORECASE)


class MapProblem(Exception):
    """Why a script's frames stay generated (said in the capture notes)."""


# -- references and parsing --------------------------------------------------------


def map_reference(script: bytes, headers: Mapping[str, str]) -> str | None:
    """The map a script names: its ``SourceMap``/``X-SourceMap`` header, else its last
    ``//# sourceMappingURL=`` comment (an inline map can be megabytes long)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    for header in ("sourcemap", "x-sourcemap"):
        if lowered.get(header, "").strip():
            return lowered[header].strip()
    at = script.rfind(b"sourceMappingURL=")
    if at < 4 or script[at - 4 : at] not in (b"//# ", b"//@ "):
        return None
    found = _REFERENCE_VALUE.match(script, at + len(b"sourceMappingURL="))
    if found is None or script[found.end() :].strip():
        return None  # not the last thing in the script: a string that mentions it
    return found.group().decode("utf-8", "replace")


def data_url_bytes(url: str, max_bytes: int) -> bytes:
    """The bytes of a ``data:`` URL (base64 or percent-encoded)."""
    head, sep, payload = url.partition(",")
    if not sep:
        raise MapProblem("the inline map is not a valid data: URL")
    if len(payload) > max_bytes * 4 // 3 + 4:
        raise MapProblem(f"the inline map is too big (limit {max_bytes:,} bytes)")
    try:
        data = base64.b64decode(payload, validate=False) if head.endswith(";base64") else (
            unquote_to_bytes(payload)
        )
    except (binascii.Error, ValueError) as exc:
        raise MapProblem(f"the inline map is not valid base64 ({exc})") from None
    return data


def parse_map(data: bytes, where: str) -> SourceMapView:
    """A source map (version 3, plain or index) from ``data``; ``MapProblem`` says what is wrong."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MapProblem(f"{where} is not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise MapProblem(f"{where} is not a source map (not a JSON object)")
    if doc.get("version") != 3:
        raise MapProblem(f"{where} has version {doc.get('version')!r}; only version 3 is read")
    if "mappings" not in doc and "sections" not in doc:
        raise MapProblem(f"{where} has neither mappings nor sections")
    try:
        return SourceMapView.from_json_bytes(data)
    except SymbolicError as exc:
        raise MapProblem(f"{where} could not be read ({exc})") from None


def display_path(source: str) -> str:
    """``webpack:///./src/a.ts`` or ``../src/a.ts`` -> ``src/a.ts``: a path to show, never opened."""
    path = _SCHEME_PREFIX.sub("", source)
    parts = [p for p in path.split("/") if p not in ("", ".", "..")]
    return "/".join(parts) or source


# -- resolving ---------------------------------------------------------------------


@dataclass
class LoadedMap:
    """One script's map, ready for lookups; ``script`` (the minified text) names functions."""

    view: SourceMapView
    script: SourceView | None = None

    def resolve(self, frame: Frame, with_context: bool) -> OriginalLocation | None:
        if frame.line is None or frame.column is None:
            return None
        line, column = frame.line - 1, frame.column - 1
        # "HTMLButtonElement.f", "async f", "new F": the minified name is the last word.
        minified = re.split(r"[\s.]", frame.function)[-1] if frame.function else None
        if minified and self.script is not None:
            token = self.view.lookup(line, column, minified, self.script)
        else:
            token = self.view.lookup(line, column)
        if token is None or token.dst_line != line or not token.src:
            return None
        context: list[SourceLine] = []
        if with_context and token.src_id is not None:
            context = _context(self.view.get_source_contents(token.src_id), token.src_line)
        return OriginalLocation(
            file=display_path(token.src),
            line=token.src_line + 1,
            column=token.src_col + 1,
            function=token.function_name,
            context=context,
        )


def _context(contents: str | None, line: int) -> list[SourceLine]:
    if not contents:
        return []
    lines = contents.splitlines()
    start, end = max(0, line - CONTEXT_LINES), min(len(lines), line + CONTEXT_LINES + 1)
    return [SourceLine(line=i + 1, text=lines[i][:MAX_CONTEXT_CHARS]) for i in range(start, end)]


def resolve_frames(frames: Sequence[Frame], maps: Mapping[str, LoadedMap]) -> list[Frame]:
    """``frames`` with their originals filled in where a map knows them (context: top one)."""
    resolved: list[Frame] = []
    context_given = False
    for frame in frames:
        loaded = maps.get((frame.url or "").split("#", 1)[0])
        original = loaded.resolve(frame, not context_given) if loaded else None
        if original is not None and original.context:
            context_given = True
        resolved.append(frame.model_copy(update={"original": original}))
    return resolved


def symbolicate(events: Sequence[Event], maps: Mapping[str, LoadedMap]) -> list[Event]:
    """Every exception's and console error's frames, resolved through ``maps``."""
    result = []
    framed = 0
    for event in events:
        frames = event_frames(event) if event.kind in ("page_error", "console") else []
        if frames and framed < MAX_FRAMED_EVENTS:
            framed += 1
            event = event.model_copy(update={"frames": resolve_frames(frames, maps)})
        elif event.frames:
            event = event.model_copy(update={"frames": []})
        result.append(event)
    return result
