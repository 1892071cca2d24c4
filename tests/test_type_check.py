"""`make test` type-checks collector/ strictly, before the tests, so a type error fails CI.

The package itself is checked by `make test`; here the promises around it: the
configuration in pyproject.toml is strict (an untyped function, a wrong
assignment, an unknown pydantic keyword each fail), and the make target runs
mypy after ruff and before pytest.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for this module's mypy runs, started from the one `make test`'s mypy
    left (same configuration): pydantic and the standard library are analysed once,
    not twice from nothing (some ten CPU seconds). The file under test is new to it."""
    cache = tmp_path_factory.mktemp("mypy") / "cache"
    if (ROOT / ".mypy_cache").is_dir():
        shutil.copytree(ROOT / ".mypy_cache", cache)
    return cache


def mypy(source: str, tmp_path: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    """mypy with the project's configuration, on one file instead of `files`."""
    checked = tmp_path / "checked.py"
    checked.write_text(textwrap.dedent(source), encoding="utf-8")
    return subprocess.run(
        [
            sys.executable, "-m", "mypy",
            "--config-file", str(ROOT / "pyproject.toml"),
            "--cache-dir", str(cache),
            str(checked),
        ],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_well_typed_code_passes(tmp_path: Path, mypy_cache: Path) -> None:
    result = mypy(
        """
        from pydantic import BaseModel

        class Model(BaseModel):
            name: str
            count: int = 0

        def make(name: str) -> Model:
            return Model(name=name)
        """,
        tmp_path,
        mypy_cache,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_strict_configuration_rejects_type_errors(tmp_path: Path, mypy_cache: Path) -> None:
    result = mypy(
        """
        from pydantic import BaseModel

        class Model(BaseModel):
            name: str

        def untyped(x):
            return x

        count: int = "three"
        model = Model(nmae="x")
        """,
        tmp_path,
        mypy_cache,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "[no-untyped-def]" in result.stdout  # strict = true
    assert "[assignment]" in result.stdout
    # pydantic's plugin with init_forbid_extra: a misspelt field is an error, not a kwarg.
    assert 'Unexpected keyword argument "nmae" for "Model"' in result.stdout


def test_make_test_runs_mypy_after_ruff_and_before_pytest() -> None:
    result = subprocess.run(
        ["make", "-n", "test", "VENV=.venv"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    commands = result.stdout.splitlines()
    ruff = commands.index(".venv/bin/ruff check .")
    mypy = commands.index(".venv/bin/mypy")
    [pytest] = [i for i, c in enumerate(commands) if c.startswith(".venv/bin/python -m pytest")]
    assert ruff < mypy < pytest


def test_ci_runs_make_test() -> None:
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert lines[-1] == "make test"
