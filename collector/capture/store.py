"""The bounded event store of a run: caps, folding, totals and step attribution.

Pure: no browser, no event loop. The listener front ends (Playwright events,
DevTools sessions) call ``record``; a page that logs 100,000 errors costs a
counter bump per message once the caps are reached, and huge texts are cut
when the events are built. Both clocks are arguments, so attribution is tested
with a fake one.
"""

from __future__ import annotations

import bisect
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from collector.report import Event
from collector.stacks import MAX_FRAMED_EVENTS

# Beyond this, a DevTools timestamp is not from this machine's clock.
CLOCK_TRUST_MS = 60_000
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
UNRESPONSIVE = "The page stopped responding (its script is busy)"
REJECTION = "Unhandled rejection: "
# A listener that keeps failing must not fill the report with the same complaint.
MAX_NOTES = 50


@dataclass(frozen=True)
class CaptureLimits:
    """Caps that keep memory and report size bounded, whatever the page does."""

    max_text_chars: int = 8_000
    max_stack_chars: int = 8_000
    max_console_entries: int = 1_000
    max_other_entries: int = 300


def safe_text(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` chars with a marker, and make it valid UTF-8.

    Pages can log lone surrogates, which cannot be encoded as UTF-8; they
    become U+FFFD. NUL and control characters stay: JSON escapes them, and the
    human-readable outputs escape them on the way out.
    """
    cut = ""
    if len(text) > limit:
        dropped = len(text[limit:].encode("utf-8", "surrogatepass"))
        cut = f" … [truncated {dropped} bytes]"
        text = text[:limit]
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = LONE_SURROGATE.sub("\ufffd", text)
    return text + cut


class CaptureStore:
    """Counts every event exactly, keeps them folded under the caps, names their steps."""

    def __init__(
        self,
        limits: CaptureLimits | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.limits = limits or CaptureLimits()
        self.clock = clock
        self._start = clock()
        self.current_step: int | None = None
        # The step being performed, passive or not: what a crash or a hang interrupts.
        self.running_step: int | None = None
        # (wall-clock ms, step) as steps start: DevTools events carry the time they
        # happened, and may arrive after the next step started.
        self._step_starts: list[tuple[float, int]] = []
        self._wall_clock = wall_clock
        self._entries: dict[tuple[Any, ...], list[Any]] = {}
        self._kept_per_kind: dict[str, int] = {}
        self.totals: dict[str, Any] = {}
        self.dropped = 0
        # What capture could not do: the report's capture notes.
        self.problems: list[str] = []
        self._last_activity = clock()
        # Told of each kept event's frames (captured dicts, stack text): source maps start
        # fetching the scripts' maps while the steps go on.
        self.frames_seen: Callable[[list[dict[str, Any]], str | None], None] | None = None
        self._framed = 0

    def note(self, text: str) -> None:
        """Say in the report what capture could not do (bounded)."""
        if len(self.problems) < MAX_NOTES:
            self.problems.append(text)

    def touch(self) -> None:
        """Something happened (a request went out or ended): quiet starts again."""
        self._last_activity = self.clock()

    def idle_for_ms(self) -> float:
        return (self.clock() - self._last_activity) * 1000

    def elapsed_ms(self) -> int:
        return int((self.clock() - self._start) * 1000)

    def step_started(self, index: int, at_ms: float | None = None) -> None:
        """Events from now on belong to step ``index`` (the last step started before them).

        ``at_ms``: when it started (wall-clock ms), when that was earlier than now (an
        action `collector record` hears of after the page acted on it).
        """
        self.current_step = index
        now = self._wall_clock() * 1000
        started = now if at_ms is None else min(at_ms, now)
        if self._step_starts:
            started = max(started, self._step_starts[-1][0])
        self._step_starts.append((started, index))

    def step_running(self, index: int) -> None:
        """Step ``index`` is being performed (passive steps included)."""
        self.running_step = index

    def step_at(self, timestamp_ms: float | None) -> int | None:
        """The step that had started when something happened at ``timestamp_ms``."""
        if timestamp_ms is None or not self._step_starts:
            return self.current_step
        if abs(self._wall_clock() * 1000 - timestamp_ms) > CLOCK_TRUST_MS:
            return self.current_step  # another machine's clock (a remote browser): arrival order
        index = bisect.bisect_right(self._step_starts, (timestamp_ms, float("inf"))) - 1
        return self._step_starts[index][1] if index >= 0 else None

    def record(
        self,
        kind: str,
        level: str,
        text: str,
        *,
        url: str | None = None,
        line: int | None = None,
        column: int | None = None,
        stack: str | None = None,
        source: str = "",
        at: float | None = None,
        at_step: int | None = None,
        **extra: Any,
    ) -> tuple[Any, ...] | None:
        """Count an event exactly; keep it (folded) while under the caps.

        ``at`` is when it happened (wall-clock ms) when the browser says so;
        ``at_step`` names its step outright (what a crash interrupted). Returns
        the key of a newly kept entry (for ``add_detail``), None when it folded
        into an earlier one or went over the caps.
        """
        self.touch()
        bucket = self.totals.get(kind)
        if kind == "console":
            if bucket is None:
                bucket = self.totals[kind] = {}
            bucket[level] = bucket.get(level, 0) + 1
        else:
            self.totals[kind] = (bucket or 0) + 1
        if at_step is not None:
            step: int | None = at_step
        else:
            step = self.current_step if at is None else self.step_at(at)
        key = (kind, level, text, url, line, column, step, source)
        entry = self._entries.get(key)
        if entry is not None:
            entry[0] += 1
            return None
        cap = (
            self.limits.max_console_entries if kind == "console" else self.limits.max_other_entries
        )
        kept = self._kept_per_kind.get(kind, 0)
        if kept >= cap:
            self.dropped += 1
            return None
        self._kept_per_kind[kind] = kept + 1
        if "frames" in extra:
            if self._framed >= MAX_FRAMED_EVENTS:
                del extra["frames"]
            elif extra["frames"]:
                self._framed += 1
        self._entries[key] = [1, self.elapsed_ms(), stack, extra]
        if self.frames_seen is not None and (extra.get("frames") or stack):
            self.frames_seen(extra.get("frames") or [], stack)
        return key

    def add_detail(self, key: tuple[Any, ...], **fields: Any) -> None:
        """Add fields learnt later (a response body read after its status) to a kept entry."""
        entry = self._entries.get(key)
        if entry is not None:
            entry[3] = {**entry[3], **fields}

    def page_error(self, text: str, *, name: str, rejection: bool, **where: Any) -> None:
        """An uncaught exception, or (``rejection``) a promise rejection nobody handled.

        ``where`` takes ``record``'s keywords: url, line, column, stack, source, at.
        """
        text = f"{REJECTION}{text}" if rejection else text
        self.record("page_error", "error", text, name=name, **where)

    def events(self) -> list[Event]:
        """Build the kept events, texts cut to the limits and made valid UTF-8."""
        return self.events_since(0)

    def events_since(self, start: int) -> list[Event]:
        """The kept events from the ``start``-th distinct one on, in order of arrival."""
        limits = self.limits
        result = []
        entries = list(self._entries.items())[start:] if start else self._entries.items()
        for key, (count, t_ms, stack, extra) in entries:
            kind, level, text, url, line, column, step, source = key
            result.append(
                Event(
                    kind=kind,
                    level=level,
                    text=safe_text(text, limits.max_text_chars),
                    url=safe_text(url, limits.max_text_chars) if url else None,
                    line=line,
                    column=column,
                    stack=safe_text(stack, limits.max_stack_chars) if stack else None,
                    step=step,
                    time_ms=t_ms,
                    source=source,
                    count=count,
                    **extra,
                )
            )
        return result
