"""A run's ``Report``: assembled here, once, for every front door.

repro, check, replay and the pytest plugin all get their report from
``report_from_run``, and replay compares runs with ``failing_fingerprints`` of
such reports, so which events are grouped, which groups fail and how an outcome
is fingerprinted exist in this one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from collector.fingerprint import group_errors
from collector.report import FAILED_STATUSES, ErrorGroup, Event, Report

if TYPE_CHECKING:
    from collector.runner import RunResult


def report_from_run(
    result: RunResult,
    reference: str,
    *,
    reason: str | None = None,
    original_reference: str | None = None,
) -> Report:
    """The report of ``result`` under ``reference`` (before the bundle's files are listed).

    ``reason`` overrides the scenario's own; ``original_reference`` marks a replay.
    """
    scenario = result.scenario
    return Report(
        reference=reference,
        title=scenario.name or "",
        scenario_name=scenario.name,
        created=result.started.isoformat(timespec="seconds").replace("+00:00", "Z"),
        duration_ms=result.duration_ms,
        outcome=result.outcome,
        steps=list(result.steps),
        events=list(result.events),
        totals=result.totals,
        dropped=result.dropped,
        errors=error_groups(result.events),
        environment=result.environment,
        capture_problems=list(result.problems),
        reason=reason or scenario.reason,
        expected=scenario.expected,
        original_reference=original_reference,
    )


def error_groups(events: Iterable[Event]) -> list[ErrorGroup]:
    """The errors of a run by fingerprint: every failing event and every page's own error."""
    # The browser's own "Failed to load resource" repeats a network event: not an error twice.
    return group_errors([e for e in events if e.fails or (e.level == "error" and not e.native)])


def failing_fingerprints(report: Report) -> dict[str, str]:
    """Fingerprint -> message of what failed the run: its failing groups, and its outcome
    when the page or the site stopped it."""
    groups = report.errors
    if report.events and any(g.fingerprint_basis is None for g in groups):
        # Written by an earlier collector, whose fingerprints were computed another way: a
        # replay compares with today's, so the original's groups are made again from its
        # events (else every old bundle in a support queue would replay "not reproduced").
        groups = error_groups(report.events)
    found = {g.fingerprint: g.message for g in groups if g.fails}
    outcome = report.outcome
    if outcome.status in FAILED_STATUSES:
        found[outcome_fingerprint(outcome.status, outcome.failed_step)] = (
            f"{outcome.status} at step {outcome.failed_step}: {outcome.message}"
        )
    return found


def outcome_fingerprint(status: str, step: int | None) -> str:
    return f"outcome:{status}:{step}"
