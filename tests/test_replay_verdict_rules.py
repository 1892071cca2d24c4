"""Every verdict of `collector replay`, as pure functions of fingerprints (no browser).

The end-to-end tests in test_replay.py show the verdicts on real runs; these pin
each rule down, so that breaking one of them fails a test that names it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.assemble import failing_fingerprints, outcome_fingerprint
from collector.replay import (
    NOTHING,
    ReplayResult,
    RunVerdict,
    verdict_of,
)
from collector.report import ErrorGroup, Outcome, Report

A, B, C = "fp-a", "fp-b", "fp-c"


# -- one run ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("original", "seen", "verdict"),
    [
        ({A, B}, {A, B}, "reproduced"),
        ({A, B}, {A, B, C}, "reproduced"),  # a new error on top does not undo it
        ({A}, {A}, "reproduced"),
        ({A, B}, {A}, "partly reproduced"),
        ({A, B}, {B, C}, "partly reproduced"),
        ({A, B}, set(), "not reproduced"),
        ({A, B}, {C}, "not reproduced"),  # something else failed: not this bug
        (set(), set(), NOTHING),
        (set(), {C}, NOTHING),  # a clean original has no bug to confirm
    ],
)
def test_verdict_of_one_run(original: set[str], seen: set[str], verdict: str) -> None:
    assert verdict_of(original, seen) == verdict


# -- several runs ----------------------------------------------------------------------


def report(*groups: tuple[str, bool], outcome: Outcome | None = None) -> Report:
    return Report(
        reference="CR-20261130-AAAAAA",
        created="2026-11-30T00:00:00Z",
        outcome=outcome or Outcome(status="errors", message="2 error(s)"),
        errors=[group(fp, fails) for fp, fails in groups],
    )


def group(fingerprint: str, fails: bool) -> ErrorGroup:
    return ErrorGroup(
        fingerprint=fingerprint,
        kind="console",
        message=f"message {fingerprint}",
        count=1,
        first_step=1,
        fails=fails,
    )


def result_of(original: set[str], *runs: set[str], new: set[str] = frozenset()) -> ReplayResult:
    result = ReplayResult(
        report((A, True)),
        original_fingerprints={fp: f"message {fp}" for fp in sorted(original)},
        new_errors={fp: f"message {fp}" for fp in sorted(new)},
    )
    for number, seen in enumerate(runs, 1):
        result.runs.append(
            RunVerdict(f"CR-{number}", Path(f"out/{number}"), seen, verdict_of(original, seen))
        )
    return result


def test_reproduced_in_every_run() -> None:
    result = result_of({A, B}, {A, B}, {A, B}, {A, B})
    assert (result.verdict, result.frequency) == ("reproduced", "always")
    assert result.rates() == {A: 3, B: 3}
    assert result.as_expected("reproduced") is True
    assert result.as_expected("fixed") is False


def test_flaky_rates_count_the_runs_that_reproduced_it_all() -> None:
    result = result_of({A, B}, {A, B}, set(), {A}, {A, B}, set())
    assert result.reproduced_runs == 2
    assert (result.verdict, result.frequency) == ("reproduced", "flaky (2/5)")
    assert result.rates() == {A: 3, B: 2}
    assert result.as_expected("reproduced") is True
    assert result.as_expected("fixed") is False


def test_partly_reproduced_when_no_run_had_it_all() -> None:
    result = result_of({A, B}, {A}, set(), {A})
    assert result.verdict == "partly reproduced"
    assert result.frequency == "never"  # never the whole bug
    assert result.rates() == {A: 2, B: 0}
    # --expect reproduced holds on a partial reproduction; --expect fixed does not.
    assert result.as_expected("reproduced") is True
    assert result.as_expected("fixed") is False


def test_not_reproduced() -> None:
    result = result_of({A, B}, set(), set())
    assert (result.verdict, result.frequency) == ("not reproduced", "never")
    assert result.rates() == {A: 0, B: 0}
    assert result.as_expected("reproduced") is False
    assert result.as_expected("fixed") is True


def test_not_reproduced_but_a_new_error_is_not_a_fix() -> None:
    result = result_of({A, B}, {C}, new={C})
    assert result.verdict == "not reproduced"
    assert result.as_expected("fixed") is False
    assert result.as_expected("reproduced") is False


def test_nothing_to_reproduce() -> None:
    result = result_of(set(), set(), set())
    assert (result.verdict, result.frequency) == (NOTHING, "no errors in the original")
    assert result.rates() == {}
    assert result.as_expected("reproduced") is False
    # SPEC: fixed holds only on "not reproduced"; a clean original proves nothing.
    assert result.as_expected("fixed") is False


def test_no_runs_is_never_as_expected() -> None:
    # Interrupted before the first run ended: nothing was shown either way.
    result = result_of({A})
    assert result.as_expected("fixed") is False
    assert result.as_expected("reproduced") is False


# -- what the original's fingerprints are ------------------------------------------------


def test_original_fingerprints_are_the_failing_errors() -> None:
    assert failing_fingerprints(report((A, True), (B, False), (C, True))) == {
        A: "message fp-a",
        C: "message fp-c",
    }


def test_a_failed_step_of_the_original_is_part_of_the_bug() -> None:
    failed = Outcome(status="step_failed", message="Timeout 5000ms exceeded.", failed_step=3)
    found = failing_fingerprints(report((A, True), outcome=failed))
    assert found == {
        A: "message fp-a",
        outcome_fingerprint("step_failed", 3): "step_failed at step 3: Timeout 5000ms exceeded.",
    }
    # The same step failing again reproduces it; another step failing does not.
    original = set(found)
    assert verdict_of(original, {A, "outcome:step_failed:3"}) == "reproduced"
    assert verdict_of(original, {A, "outcome:step_failed:2"}) == "partly reproduced"


def test_a_bundle_from_an_earlier_collector_is_compared_by_today_s_fingerprints() -> None:
    # Its groups carry the fingerprints of the old rules and no basis; its events are
    # what a replay's run will be grouped from, so they decide.
    from collector.assemble import error_groups
    from collector.report import Event

    event = Event(
        kind="page_error", level="error", text="TypeError: kaboom at order 5f3c12e2a-91b0",
        stack="TypeError: kaboom\n    at pay (http://127.0.0.1:8000/shop.js:24:9)", fails=True,
    )  # fmt: skip
    old = report(("0123456789ab", True)).model_copy(update={"events": [event]})
    assert old.errors[0].fingerprint_basis is None
    [today] = error_groups([event])
    assert today.fingerprint_basis is not None
    assert failing_fingerprints(old) == {today.fingerprint: today.message}
    # A report of today's collector keeps its own groups.
    current = old.model_copy(update={"errors": [today]})
    assert failing_fingerprints(current) == {today.fingerprint: today.message}
