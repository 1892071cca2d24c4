"""`collector minimize` of a 20-step recording whose bug needs three of them (real Chromium).

Every run attaches to the worker's shared browser (`invoke` adds `--cdp`); the search
runs once for the module and every test reads its result. The smaller recordings and
the demo's bundle are in test_minimize_cases.py, so that the two run on two workers.
Twenty steps prove what forty did (steps far apart, state kept in localStorage and in
the page, every kind of step, the ddmin bound) with 44 candidate runs of half the length
instead of some 70: the module took 50 CPU seconds instead of 77 (Chromium's included).
The 40-step recording is bench/minimize_forty.py's, where its time is measured.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from minimize_runs import PAGES, minimized, original_steps
from run_collector import invoke

from collector.minimize import (
    Budget,
    RunsPerCandidate,
    candidate_timeout_ms,
    default_runs,
    in_original_steps,
    parse_budget,
    parse_runs,
)
from collector.scenario import load_scenario

# The 20-step search is some forty-five runs: on a machine whose cores are all taken it
# outlasts the default per-test limit without anything being wrong.
pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def twenty(tmp_path_factory: pytest.TempPathFactory, pages_url: str) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("twenty")
    # Its error is thrown by the last click's own handler, so a short linger loses nothing
    # and spares some forty-five runs the default 2 s each.
    result = minimized(
        tmp, pages_url, PAGES / "twenty.yaml", "-o", str(tmp / "minimal.yaml"),
        "--runs-per-candidate", "1", "--linger", "0.5",
    )  # fmt: skip
    result["tmp"] = tmp
    return result


def test_twenty_steps_come_down_to_the_three_that_matter(twenty: dict[str, Any]) -> None:
    # The first navigation, then steps 3, 11 and 17 of the recording, in their order.
    assert original_steps(twenty) == [1, 3, 11, 17]
    assert [s["index"] for s in twenty["steps"]] == [1, 2, 3, 4]
    assert twenty["steps_before"] == 20 and twenty["steps_after"] == 4
    assert twenty["complete"] is True and twenty["stopped"] == ""
    assert twenty["verdict"] == "reproduced"
    assert twenty["verification"] == {"reproduced": 1, "runs": 1, "rate": 1.0}


def test_twenty_steps_candidate_runs_stay_within_ddmin_bound(twenty: dict[str, Any]) -> None:
    # 19 steps can change (the first navigation stays): (19² + 7·19) / 2, plus the
    # kept steps alone and the light steps away.
    assert twenty["bound"] == 2 + (19 * 19 + 7 * 19) // 2
    assert twenty["candidate_runs"] == twenty["candidates"] <= 50
    assert twenty["runs_per_candidate"] == {"k": 1, "n": 1}
    assert twenty["baseline"] == {"reproduced": 1, "runs": 1}


def test_twenty_steps_minimal_file_is_a_steps_file_naming_the_recorded_steps(
    twenty: dict[str, Any],
) -> None:
    path = twenty["tmp"] / "minimal.yaml"
    assert twenty["steps_file"] == str(path)
    text = path.read_text()
    assert "# step 11 of the recording" in text
    scenario = load_scenario(path, base_url="http://127.0.0.1/")
    assert [s.action for s in scenario.steps] == ["goto", "click", "click", "click"]
    assert [getattr(s, "selector", None) for s in scenario.steps[1:]] == [
        "#remember", "#arm", "#go",
    ]  # fmt: skip


def test_twenty_steps_new_bundle_replays_reproduced(twenty: dict[str, Any], pages_url: str) -> None:
    bundle = Path(twenty["bundle"])
    report = json.loads((bundle / "report.json").read_text())
    assert report["reference"] == twenty["reference"]
    assert len(report["steps"]) == 4
    assert twenty["target"]["fingerprint"] in {e["fingerprint"] for e in report["errors"]}
    # Every candidate left nothing behind: one bundle, no partial folders.
    assert [p.name for p in bundle.parent.iterdir()] == [bundle.name]
    ran = invoke("replay", bundle, "--out", twenty["tmp"] / "replays", cwd=twenty["tmp"])
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "Verdict: reproduced" in ran.stdout


# --- pure helpers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shown", "runs", "expected"),
    [(3, 3, RunsPerCandidate(1, 1)), (2, 3, RunsPerCandidate(1, 3)),
     (1, 3, RunsPerCandidate(1, 8)), (1, 20, RunsPerCandidate(1, 10)),
     (0, 0, RunsPerCandidate(1, 1))],
)  # fmt: skip
def test_default_runs_from_the_rate(shown: int, runs: int, expected: RunsPerCandidate) -> None:
    assert default_runs(shown, runs) == expected


def test_parse_runs_and_budget() -> None:
    assert parse_runs("5") == RunsPerCandidate(1, 5)
    assert parse_runs("2/5") == RunsPerCandidate(2, 5)
    assert parse_budget("200") == Budget(runs=200)
    assert parse_budget("90s") == Budget(seconds=90)
    assert parse_budget("5m") == Budget(seconds=300)


def test_outcome_fingerprints_name_the_recorded_step() -> None:
    seen = {"outcome:step_failed:2": "step 2 failed", "abc123def456": "TypeError"}
    assert in_original_steps(seen, (0, 16, 28)) == {
        "outcome:step_failed:17": "step 2 failed",
        "abc123def456": "TypeError",
    }


def test_candidate_timeout_follows_the_slowest_step() -> None:
    assert candidate_timeout_ms([10, 40]) == 2000
    assert candidate_timeout_ms([900, 30]) == 2700


def test_minimize_has_examples() -> None:
    from collector.cli import EXAMPLES

    assert all(line.startswith("collector minimize ") for line in EXAMPLES["minimize"])
