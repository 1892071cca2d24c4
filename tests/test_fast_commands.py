"""The fast commands (validate, schema, convert, ticket) import nothing heavy.

Each runs as a user runs it, in its own interpreter, and says which modules it
imported; the assertion is on that list, never on a time (bench/startup.py
measures the time). No browser. Costs about 0.1 CPU-second per command run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from collector.report import Outcome, Report, StepRecord

ROOT = Path(__file__).resolve().parent.parent
RECORDING = ROOT / "tests" / "recordings" / "reference" / "click.json"

# Run the command as `collector ARGS` does, then print every imported module as the
# last line of stderr (even when the command exits non-zero).
WRAPPER = """
import json, sys
from collector.cli import main
sys.argv = ["collector", *sys.argv[1:]]
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
print(json.dumps({"exit": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""

# Never on the path of a command that starts no browser, serves nothing, sends nothing.
HEAVY = ("playwright", "PIL", "symbolic", "starlette", "psycopg", "aiosmtpd", "asyncio")
# Built and checked without the models: the scenario's checks use pydantic-core's
# validator of the shipped schema, and nothing renders a template.
NO_MODELS = (*HEAVY, "pydantic", "jinja2", "collector.scenario", "collector.report")
# The ticket reads report.json with the shipped report schema, and its settings without
# the config models where no config file is written (as here).
TICKET_FORBIDDEN = (*HEAVY, "pydantic", "yaml", "collector.report", "collector.config")


def imported(tmp_path: Path, *args: str) -> set[str]:
    ran = subprocess.run(
        [sys.executable, "-c", WRAPPER, *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(ran.stderr.splitlines()[-1])
    assert report["exit"] in (0, None), ran.stderr
    return set(report["modules"])


def loaded(modules: set[str], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == f or m.startswith(f + ".") for f in forbidden))


def test_validate_imports_no_models_and_nothing_heavy(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(
        "url: http://127.0.0.1:1/\nsteps:\n  - goto: /\n  - click: '#pay'\n", encoding="utf-8"
    )
    modules = imported(tmp_path, "validate", "s.yaml")
    assert "collector.scenario_check" in modules  # the command did validate
    assert loaded(modules, NO_MODELS) == []
    assert loaded(imported(tmp_path, "validate", str(RECORDING)), NO_MODELS) == []


def test_schema_imports_no_models_and_nothing_heavy(tmp_path: Path) -> None:
    for what in ("scenario", "report"):
        assert loaded(imported(tmp_path, "schema", what), NO_MODELS) == []


def test_convert_imports_no_models_and_nothing_heavy(tmp_path: Path) -> None:
    modules = imported(tmp_path, "convert", str(RECORDING), "-o", "out.yaml")
    assert (tmp_path / "out.yaml").read_text(encoding="utf-8").startswith("# Converted from")
    assert loaded(modules, NO_MODELS) == []


def test_ticket_imports_no_models_and_nothing_heavy(tmp_path: Path) -> None:
    bundle = tmp_path / "CR-20261126-000000"
    bundle.mkdir()
    report = Report(
        reference=bundle.name,
        created="2026-11-26T00:00:00Z",
        outcome=Outcome(status="clean"),
        steps=[StepRecord(index=1, action="goto", target="http://127.0.0.1/", status="ok")],
    )
    (bundle / "report.json").write_text(report.to_json(), encoding="utf-8")
    for fmt in ("md", "eml"):
        modules = imported(tmp_path, "ticket", bundle.name, "--format", fmt, "-o", f"t.{fmt}")
        assert (tmp_path / f"t.{fmt}").stat().st_size > 0
        assert loaded(modules, TICKET_FORBIDDEN) == []


# `collector check ARGS`, stopped where it spawns the Playwright driver: prints what
# was imported by then. The driver and Chromium take a third of a second to start; what
# is imported before they are asked to start adds to every check's time.
AT_SPAWN = """
import asyncio, json, sys
from collector.cli import main

async def spawn(*args, **kwargs):
    print(json.dumps(sorted(sys.modules)), file=sys.stderr)
    raise SystemExit(0)

asyncio.create_subprocess_exec = spawn
sys.argv = ["collector", *sys.argv[1:]]
main()
"""


def test_check_starts_the_browser_before_importing_the_models(tmp_path: Path) -> None:
    """Models, templates and the bundle writer are imported while the browser starts."""
    ran = subprocess.run(
        [sys.executable, "-c", AT_SPAWN, "check", "http://127.0.0.1:1/", "--out", "out"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    modules = set(json.loads(ran.stderr.splitlines()[-1]))
    assert "playwright.async_api" in modules  # it did reach the spawn
    late = ("pydantic", "jinja2", "PIL", "collector.report", "collector.bundle", "collector.runner")
    assert loaded(modules, late) == []
