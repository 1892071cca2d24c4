"""`collector minimize` on small recordings and on the demo's bundle (real Chromium).

The 40-step search is in test_minimize.py: apart, so that the two long modules run on
two workers. Every run attaches to the worker's shared browser (`invoke` adds `--cdp`).
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
from minimize_runs import PAGES, minimized, original_steps
from run_collector import invoke, process_env
from shared_browser import attached

from collector.scenario import load_scenario

# A flaky bug's runs and the demo's search: on a machine whose cores are all taken they
# outlast the default per-test limit without anything being wrong.
pytestmark = pytest.mark.timeout(600)


def test_order_matters_a_before_b(
    tmp_path: Path, pages_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from collector import runner

    in_lane: list[bool] = []
    run_scenario = runner.run_scenario

    def watched(*args: Any, lane: Any = None, **kwargs: Any) -> Any:
        in_lane.append(lane is not None)
        return run_scenario(*args, lane=lane, **kwargs)

    monkeypatch.setattr(runner, "run_scenario", watched)
    result = minimized(tmp_path, pages_url, PAGES / "order.yaml", "--runs-per-candidate", "1")
    # B at step 2 comes before A: only the later B shows the bug.
    assert original_steps(result) == [1, 3, 5]
    assert result["verdict"] == "reproduced"
    # The baseline and the candidates share a reset context; the result is verified in
    # a fresh one (its state owes nothing to the reset).
    verified = result["verification"]["runs"]
    assert in_lane == [True] * (len(in_lane) - verified) + [False] * verified
    assert len(in_lane) == 1 + result["candidate_runs"] + verified


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
        # Noise first: ddmin's first complement is then the answer (five candidates that
        # do not reproduce, three runs each, instead of six).
        '  - click: "#noise"\n  - click: "#arm"\n  - click: "#go"\n'
    )
    result = minimized(tmp_path, pages_url, steps)
    assert original_steps(result) == [1, 3, 4]
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
    assert {1, 3, 5} <= set(original_steps(result))
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

    # The demo's bug shows every time: one run of the whole recording says so (the
    # default three and the k of n they choose are test_flaky_bug_uses_k_of_n…'s).
    with DemoServer() as shop:
        ran = invoke(
            "minimize", demo_bundle, "--url", shop.url, "--secret", "DEMO_SHOP_PASSWORD",
            "--runs-per-candidate", "1", "--out", tmp_path,
            cwd=tmp_path, env={"DEMO_SHOP_PASSWORD": "demo-shop-secret"},
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
    # order.yaml with two checks added: the search tries them away second, and that
    # smaller candidate reproduces, so the signal comes after three runs, not nine.
    recording = tmp_path / "steps.yaml"
    recording.write_text(
        (PAGES / "order.yaml").read_text()
        + '  - expect_visible: "#a"\n  - expect_text: {selector: "#b", text: B}\n'
    )
    best = tmp_path / "best.yaml"
    command = attached(["minimize", str(recording), "--url", pages_url, "--out",
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
