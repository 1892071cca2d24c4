"""The collector command as tests run it: in this process, or as a real process.

In this process (`invoke`) costs no interpreter start and no imports, so the many
refusal and read-only cases stay cheap. A real process (`run`) is kept for what only
a process shows: signals, process groups, the installed entry points.
"""

from __future__ import annotations

import os
import subprocess
import sys
import traceback
from collections.abc import Mapping
from contextlib import chdir
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner
from shared_browser import attached

from collector.cli import cli

# What every run of the command sees: no collector settings inherited from the
# developer's shell, and UTF-8 whatever the machine's locale.
BASE_ENV = {"LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8"}


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def process_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLLECTOR")}
    return {**env, **BASE_ENV, **(extra or {})}


def invoke(
    *args: str | Path,
    cwd: Path,
    env: Mapping[str, str | None] | None = None,
    input: str | None = None,
) -> Ran:
    """Run `collector ARGS` in this process, with the environment a process would get.

    `env` adds variables to this process's environment; a None value removes one.

    An exception escaping the command is what a user would see as a traceback, so it
    is reported as one on stderr with exit code 1, as the real process would.
    """
    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith("COLLECTOR")}
    with chdir(cwd):
        result = CliRunner().invoke(
            cli,
            attached(args),
            env={**unset, **BASE_ENV, **(env or {})},
            input=input,
            prog_name="collector",
        )
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        assert result.exc_info is not None
        stderr += "Traceback (most recent call last):\n" + "".join(
            traceback.format_exception(*result.exc_info)
        )
    return Ran(result.exit_code, result.stdout, stderr)


def run(
    *args: str | Path, cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """Run `python -m collector ARGS` as a real process."""
    return subprocess.run(
        [sys.executable, "-m", "collector", *attached(args)],
        cwd=cwd,
        env=process_env(env),
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=timeout,
    )
