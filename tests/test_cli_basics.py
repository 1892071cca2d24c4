"""The command line's front door: help, version, usage errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from collector import __version__
from collector.cli import cli

SCRIPT = Path(sys.executable).parent / "collector"


def run(command: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLLECTOR")}
    env.update(LC_ALL="C.UTF-8", PYTHONIOENCODING="utf-8")
    return subprocess.run(
        command, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60
    )


ENTRY_POINTS = [
    pytest.param([str(SCRIPT)], id="script"),
    pytest.param([sys.executable, "-m", "collector"], id="python-m"),
]


@pytest.mark.parametrize("prefix", ENTRY_POINTS)
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_lists_every_command(tmp_path: Path, prefix: list[str], flag: str) -> None:
    if not Path(prefix[0]).exists():
        pytest.skip(f"{prefix[0]} is not installed")
    result = run([*prefix, flag], tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith("Usage: collector [OPTIONS] COMMAND [ARGS]...")
    listed = result.stdout.split("Commands:", 1)[1]
    for name in ("doctor", "validate", "schema", *cli.commands):
        assert f"\n  {name} " in listed, name


def test_version(tmp_path: Path) -> None:
    result = run([sys.executable, "-m", "collector", "--version"], tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        f"collector, version {__version__}\n",
        "",
    )


@pytest.mark.parametrize(
    ("args", "last_line"),
    [
        pytest.param(["frobnicate"], "Error: No such command 'frobnicate'.", id="unknown-command"),
        pytest.param(["validate"], "Error: Missing argument 'SCENARIO...'.", id="validate-no-args"),
        pytest.param(
            ["schema", "bogus"],
            "Error: Invalid value for '{scenario|report}': 'bogus' is not one of 'scenario', 'report'.",
            id="schema-bad-choice",
        ),
        pytest.param(["--frob"], "Error: No such option '--frob'.", id="unknown-option"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], last_line: str) -> None:
    result = run([sys.executable, "-m", "collector", *args], tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("Usage: collector ")
    assert result.stderr.splitlines()[-1] == last_line


def test_shipped_schemas_are_what_the_models_generate() -> None:
    from collector.schemas import NAMES, generate, shipped

    for name in NAMES:
        assert shipped(name) == generate(name), (
            f"collector/schemas/{name}.json is stale: run `python -m collector.schemas`"
        )
