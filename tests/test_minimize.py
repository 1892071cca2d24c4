"""`collector minimize` against local pages whose bugs need known steps (real Chromium).

Every run attaches to the worker's shared browser (`invoke` adds `--cdp`); each
scenario is minimized once per module and many tests read its result.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from run_collector import invoke, process_env
from shared_browser import attached

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

PAGES = Path(__file__).parent / "pages" / "minimize"
# The 40-step search is some seventy runs: on a machine whose cores are all taken it
# outlasts the default per-test limit without anything being wrong.
pytestmark = pytest.mark.timeout(600)


def minimized(tmp: Path, pages_url: str, steps: Path | str, *args: str) -> dict[str, Any]:
    ran = invoke(
        "minimize", steps, "--url", pages_url, "--out", tmp / "out", "--json", *args, cwd=tmp
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    result: dict[str, Any] = json.loads(ran.stdout)
    return result


def original_steps(result: dict[str, Any]) -> list[int]:
    return [step["original_index"] for step in result["steps"]]


@pytest.fixture(scope="module")
def forty(tmp_path_factory: pytest.TempPathFactory, pages_url: str) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("forty")
    # Its error is thrown by the last click's own handler, so a short linger loses nothing
    # and spares some seventy runs the default 2 s each.
    result = minimized(
        tmp, pages_url, PAGES / "forty.yaml", "-o", str(tmp / "minimal.yaml"),
        "--runs-per-candidate", "1", "--linger", "0.5",
    )  # fmt: skip
    result["tmp"] = tmp
    return result


def test_forty_steps_come_down_to_the_three_that_matter(forty: dict[str, Any]) -> None:
    # The first navigation, then steps 3, 17 and 29 of the recording, in their order.
    assert original_steps(forty) == [1, 3, 17, 29]
    assert [s["index"] for s in forty["steps"]] == [1, 2, 3, 4]
    assert forty["steps_before"] == 40 and forty["steps_after"] == 4
    assert forty["complete"] is True and forty["stopped"] == ""
    assert forty["verdict"] == "reproduced"
    assert forty["verification"] == {"reproduced": 1, "runs": 1, "rate": 1.0}


def test_forty_steps_candidate_runs_stay_within_ddmin_bound(forty: dict[str, Any]) -> None:
    # 39 steps can change (the first navigation stays): (39² + 7·39) / 2, plus the
    # kept steps alone and the light steps away.
    assert forty["bound"] == 2 + (39 * 39 + 7 * 39) // 2
    assert forty["candidate_runs"] == forty["candidates"] <= 80
    assert forty["runs_per_candidate"] == {"k": 1, "n": 1}
    assert forty["baseline"] == {"reproduced": 1, "runs": 1}


def test_forty_steps_minimal_file_is_a_steps_file_naming_the_recorded_steps(
    forty: dict[str, Any],
) -> None:
    path = forty["tmp"] / "minimal.yaml"
    assert forty["steps_file"] == str(path)
    text = path.read_text()
    assert "# step 17 of the recording" in text
    scenario = load_scenario(path, base_url="http://127.0.0.1/")
    assert [s.action for s in scenario.steps] == ["goto", "click", "click", "click"]
    assert [getattr(s, "selector", None) for s in scenario.steps[1:]] == [
        "#remember", "#arm", "#go",
    ]  # fmt: skip


def test_forty_steps_new_bundle_replays_reproduced(forty: dict[str, Any], pages_url: str) -> None:
    bundle = Path(forty["bundle"])
    report = json.loads((bundle / "report.json").read_text())
    assert report["reference"] == forty["reference"]
    assert len(report["steps"]) == 4
    assert forty["target"]["fingerprint"] in {e["fingerprint"] for e in report["errors"]}
    # Every candidate left nothing behind: one bundle, no partial folders.
    assert [p.name for p in bundle.parent.iterdir()] == [bundle.name]
    ran = invoke("replay", bundle, "--out", forty["tmp"] / "replays", cwd=forty["tmp"])
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "Verdict: reproduced" in ran.stdout


def test_order_matters_a_before_b(tmp_path: Path, pages_url: str) -> None:
    result = minimized(tmp_path, pages_url, PAGES / "order.yaml", "--runs-per-candidate", "1")
    # B at step 2 comes before A: only the later B shows the bug.
    assert original_steps(result) == [1, 4, 6]
    assert result["verdict"] == "reproduced"


def test_a_step_whose_selector_vanishes_is_not_reproduced_not_an_error(
    tmp_path: Path, pages_url: str
) -> None:
    result = minimized(
        tmp_path, pages_url, PAGES / "vanish.yaml", "--runs-per-candidate", "1",
        "--timeout", "1500",
    )  # fmt: skip
    assert original_steps(result) == [1, 2, 4]
    assert result["verdict"] == "reproduced" and result["complete"] is True


def test_flaky_bug_uses_k_of_n_and_reports_the_rate(tmp_path: Path, pages_url: str) -> None:
    key = uuid.uuid4().hex
    steps = tmp_path / "flaky.yaml"
    steps.write_text(
        "name: Go fails every other time\nsteps:\n"
        f"  - goto: /minimize/flaky.html?key={key}\n"
        '  - click: "#arm"\n  - click: "#noise"\n  - click: "#go"\n'
    )
    result = minimized(tmp_path, pages_url, steps)
    assert original_steps(result) == [1, 2, 4]
    # Three runs of the whole recording: shown in 2 (1, 0, 1), so 1 of 3 runs per candidate.
    assert result["baseline"] == {"reproduced": 2, "runs": 3}
    assert result["runs_per_candidate"] == {"k": 1, "n": 3}
    verification = result["verification"]
    assert verification["runs"] == 3 and verification["reproduced"] in (1, 2)
    assert result["verdict"] == "reproduced"


def test_budget_stops_early_and_keeps_the_best_so_far(tmp_path: Path, pages_url: str) -> None:
    result = minimized(
        tmp_path, pages_url, PAGES / "order.yaml", "--runs-per-candidate", "1",
        "--budget", "3", "-o", str(tmp_path / "best.yaml"),
    )  # fmt: skip
    assert result["complete"] is False
    assert result["stopped"] == "budget of 3 runs reached"
    assert result["candidate_runs"] == 3
    assert {1, 4, 6} <= set(original_steps(result))
    assert result["verdict"] == "reproduced"
    assert len(load_scenario(tmp_path / "best.yaml", base_url=pages_url).steps) == len(
        result["steps"]
    )


# --- the demo: `collector demo`, then `collector minimize` on its bundle ---------------


@pytest.fixture(scope="module")
def demo_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("demo")
    ran = invoke("demo", "--out", tmp / "out", "--json", cwd=tmp)
    assert ran.returncode == 0, ran.stdout + ran.stderr  # it showed the bug, as a demo should
    return Path(json.loads(ran.stdout)["bundle"])


def test_demo_bundle_minimizes_to_open_checkout_pay(demo_bundle: Path, tmp_path: Path) -> None:
    from collector.demo.server import DemoServer

    with DemoServer() as shop:
        ran = invoke(
            "minimize", demo_bundle, "--url", shop.url, "--secret", "DEMO_SHOP_PASSWORD",
            "--out", tmp_path, cwd=tmp_path, env={"DEMO_SHOP_PASSWORD": "demo-shop-secret"},
        )  # fmt: skip
    assert ran.returncode == 0, ran.stdout + ran.stderr
    lines = ran.stderr.splitlines()
    assert "Minimal steps: 3 of 7" in "\n".join(lines)
    shown = [line for line in lines if line.startswith("  ") and "(step " in line]
    assert [line.rsplit("(step ", 1)[1] for line in shown] == ["1)", "2)", "6)"]
    assert "Pay now" in shown[2]
    bundle = Path(ran.stdout.strip().splitlines()[-1])
    report = json.loads((bundle / "report.json").read_text())
    original = json.loads((demo_bundle / "report.json").read_text())["reference"]
    assert report["original_reference"] == original
    assert "demo-shop-secret" not in (bundle / "scenario.yaml").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--runs-per-candidate", "0"], "Error: --runs-per-candidate 0: needs 1 <= K <= N <= 100"),
        (["--budget", "soon"], "Error: --budget soon: expected a number of runs (200) or a "
         "time (90s, 5m, 1h)"),
        ([], "the steps ask for secrets you have not given: DEMO_SHOP_PASSWORD"),
        (["--secret", "DEMO_SHOP_PASSWORD", "--target", "000000000000"],
         "Error: --target 000000000000: not a failing error of CR-"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_2(
    demo_bundle: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    ran = invoke(
        "minimize", demo_bundle, *args, "--out", tmp_path, cwd=tmp_path,
        env={"DEMO_SHOP_PASSWORD": "x"},
    )  # fmt: skip
    assert ran.returncode == 2, ran.stdout + ran.stderr
    assert message in ran.stderr
    assert len(ran.stderr.strip().splitlines()) == 1
    assert "Traceback" not in ran.stderr


def test_ctrl_c_keeps_the_best_so_far(tmp_path: Path, pages_url: str) -> None:
    """A real process, stopped by SIGINT once a smaller candidate reproduced: exit 130,
    the best steps so far written, with their bundle."""
    best = tmp_path / "best.yaml"
    command = attached(["minimize", str(PAGES / "order.yaml"), "--url", pages_url, "--out",
                        str(tmp_path / "out"), "-o", str(best), "--runs-per-candidate", "1"])  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "collector", *command],
        cwd=tmp_path, env=process_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, encoding="utf-8",
    )  # fmt: skip
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if ", reproduced;" in line:
            proc.send_signal(signal.SIGINT)
            break
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, "".join(seen) + err
    assert "Interrupted (Ctrl-C)" in err
    assert "Best so far:" in err
    steps = load_scenario(best, base_url=pages_url).steps
    assert 3 <= len(steps) < 7
    assert out.strip().splitlines()[-1] == str(best)
    bundles = [p for p in (tmp_path / "out").iterdir()]
    assert len(bundles) == 1 and not bundles[0].name.startswith(".")
    assert len(json.loads((bundles[0] / "report.json").read_text())["steps"]) == len(steps)


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
