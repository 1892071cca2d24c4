"""Which captured events fail a run.

Defaults follow what a person reporting a bug expects: console errors,
uncaught exceptions, failed requests, HTTP errors and crashes fail the run;
warnings and logs do not; a missing ``/favicon.ico`` is browser noise; the
browser's own "Failed to load resource" line repeats a network event that
already counts, so it does not count twice.

Patterns match as a substring or, failing that, as a regex; a pattern that is
not a valid regex is a ``PatternError`` when the rule is made, never a silent
substring-only match. A regex gets ``MATCH_TIMEOUT_S`` per text: a pattern of
a stranger's bundle can backtrack for ever on what a page logs (``(x+x+)+y``
never ends in Python's ``re``), so matching uses the ``regex`` engine, which can
stop. A pattern that ran out of time matches nothing from then on, and says so
(``slow_patterns``): an error is never hidden by a pattern that did not finish.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from collector.errors import BadInput

if TYPE_CHECKING:
    # Only named in annotations: reading rules (options, config) must not import pydantic,
    # and checking a pattern must not import the matching engine.
    import regex

    from collector.report import Event

FailOn = Literal["error", "warning", "never"]
Source = Literal["console", "exception", "network", "any"]

KIND_SOURCE = {
    "console": "console",
    "page_error": "exception",
    "request_failed": "network",
    "http_error": "network",
}
ALWAYS_FAILS = {"crash", "disconnect"}
NEVER_FAILS = {"dialog", "download"}


class PatternError(BadInput):
    """An ignore or expect pattern that is not a valid regex."""

    def __init__(self, pattern: str, reason: str) -> None:
        super().__init__(f"not a valid regex: {pattern!r} ({reason})")
        self.pattern = pattern
        self.reason = reason


# Per text: legitimate patterns take microseconds; the engine checks the time coarsely.
MATCH_TIMEOUT_S = 0.25
# After this many patterns ran out of time (a file made to stall us), the others get
# MATCH_TIMEOUT_AFTER_S: still thousands of times what a legitimate pattern needs, and a
# file listing a thousand slow patterns costs seconds, not minutes.
SLOW_PATTERNS_TOLERATED = 8
MATCH_TIMEOUT_AFTER_S = 0.01
# Patterns that ran out of time (or that the matching engine refuses), in this process.
_SLOW: dict[str, str] = {}


def slow_patterns() -> dict[str, str]:
    """Patterns that match nothing because matching them could not finish: pattern -> why."""
    return dict(_SLOW)


@lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled; PatternError naming it when it is not a valid regex."""
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise PatternError(pattern, str(exc)) from None


@dataclass(frozen=True)
class IgnoreRule:
    """Ignore events whose text (or URL) matches ``pattern`` (substring, else regex)."""

    pattern: str
    source: Source = "any"
    url: str | None = None

    def __post_init__(self) -> None:
        compile_pattern(self.pattern)
        if self.url is not None:
            compile_pattern(self.url)

    def matches(self, event: Event) -> bool:
        if self.source != "any" and KIND_SOURCE.get(event.kind) != self.source:
            return False
        if self.url is not None and not _search(self.url, event.url or ""):
            return False
        return _search(self.pattern, event.text) or (
            event.kind in ("http_error", "request_failed") and _search(self.pattern, event.url or "")
        )


DEFAULT_IGNORES = (IgnoreRule(r"/favicon\.ico(\?|$)", source="network"),)


@dataclass(frozen=True)
class Rules:
    fail_on: FailOn = "error"
    ignore: tuple[IgnoreRule, ...] = field(default_factory=tuple)
    include_defaults: bool = True
    expect: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for pattern in self.expect:
            compile_pattern(pattern)

    def with_overrides(
        self,
        *,
        fail_on: FailOn | None = None,
        ignore: tuple[str, ...] = (),
        expect: tuple[str, ...] = (),
    ) -> Rules:
        """These rules, tightened or loosened by a scenario or by CLI flags."""
        return Rules(
            fail_on=fail_on or self.fail_on,
            ignore=self.ignore + tuple(IgnoreRule(p) for p in ignore),
            include_defaults=self.include_defaults,
            expect=self.expect + expect,
        )

    def missing_expected(self, events: list[Event]) -> list[str]:
        """Patterns of ``expect`` that no captured event matches."""
        return [
            pattern
            for pattern in self.expect
            if not any(_search(pattern, e.text) for e in events)
        ]

    def all_ignores(self) -> tuple[IgnoreRule, ...]:
        return (DEFAULT_IGNORES if self.include_defaults else ()) + self.ignore

    def fails(self, event: Event) -> bool:
        """Whether ``event`` counts as a failure under these rules."""
        if self.fail_on == "never" or event.kind in NEVER_FAILS:
            return False
        if event.kind in ALWAYS_FAILS:
            return True
        if event.native:
            return False
        levels = ("error",) if self.fail_on == "error" else ("error", "warning")
        if event.level not in levels:
            return False
        return not any(rule.matches(event) for rule in self.all_ignores())

    def judge(self, events: list[Event]) -> list[Event]:
        """The same events with ``fails`` set."""
        return [e.model_copy(update={"fails": self.fails(e)}) for e in events]


def _search(pattern: str, text: str) -> bool:
    if pattern in text:
        return True
    if pattern in _SLOW:
        return False
    matcher = _matcher(pattern)
    if matcher is None:
        return False
    limit = MATCH_TIMEOUT_S if len(_SLOW) < SLOW_PATTERNS_TOLERATED else MATCH_TIMEOUT_AFTER_S
    try:
        return matcher.search(text, timeout=limit) is not None
    except TimeoutError:
        _SLOW[pattern] = f"did not finish within {limit:g} s on a {len(text)}-character text"
        return False


@lru_cache(maxsize=512)
def _matcher(pattern: str) -> regex.Pattern[str] | None:
    """``pattern`` for the ``regex`` engine (imported when a run first matches)."""
    import regex

    try:
        return regex.compile(pattern)
    except regex.error as exc:  # valid for ``re`` (compile_pattern), not for this engine
        _SLOW[pattern] = f"the matching engine refuses it: {exc}"
        return None
