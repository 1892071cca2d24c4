"""The wheel ships what an installed collector needs: templates, demo shop, py.typed, driver script.

The wheel is built from the checkout, installed with ``pip install --target`` into a
folder of its own, and imported from there (``PYTHONPATH``, run outside the checkout)
with the project venv's dependencies: rendering a ticket and report.html from the
installed package proves the templates travel inside it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from collector.report import Outcome, Report, StepRecord

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def run(command: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return subprocess.run(
        command, cwd=cwd, env={**clean, **env}, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    result = run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)], out)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    [built] = out.glob("collector-*-py3-none-any.whl")
    return built


@pytest.fixture(scope="module")
def site(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    result = run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet",
         "--target", str(target), str(wheel)],
        target,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return target


def test_wheel_contents(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        for name in (
            "collector/__init__.py",
            "collector/py.typed",
            "collector/driver_keepalive.js",
            "collector/demo/static/checkout.html",
            "collector/demo/scenario.yaml",
            # What validate, convert and ticket validate with (collector.coreschema).
            "collector/schemas/scenario.core.json",
            "collector/schemas/report.core.json",
        ):
            assert name in names, name
        # Every template of the checkout, byte for byte, under collector/templates/.
        templates = sorted((ROOT / "templates").glob("*.j2"))
        assert templates
        for template in templates:
            assert zf.read(f"collector/templates/{template.name}") == template.read_bytes()
        [entry_points] = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        scripts = zf.read(entry_points).decode()
    assert "collector = collector.cli:main" in scripts
    # The pytest plugin (SPEC: entry point pytest11).
    assert "[pytest11]\ncollector = collector.pytest_plugin" in scripts
    assert not [n for n in names if n.startswith("tests/") or "__pycache__" in n]


RENDER = textwrap.dedent(
    """
    import json, sys
    import collector
    from collector.bundle_text import events_by_step
    from collector.report import Report
    from collector.ticket import build_context, builtin_template_dir, render, render_ticket

    report = Report.model_validate_json(sys.stdin.read())
    context = build_context(report)
    html = render(
        "report.html.j2", report=report, ticket=context, t=context.t,
        events_by_step=events_by_step(report.events, report.steps),
    )
    print(json.dumps({
        "file": collector.__file__,
        "templates": str(builtin_template_dir()),
        "md": render_ticket(context, "md"),
        "pt": render_ticket(build_context(report, lang="pt"), "txt"),
        "html": html,
    }))
    """
)


def a_report() -> Report:
    return Report(
        reference="CR-20261125-WHEEL1",
        title="Installed",
        created="2026-11-25T10:00:00Z",
        outcome=Outcome(status="step_failed", message="Timeout 300ms exceeded.", failed_step=1),
        steps=[
            StepRecord(
                index=1, action="click", target="#pay", status="failed",
                error="Timeout 300ms exceeded.", url="http://127.0.0.1:8000/checkout.html",
            )
        ],
    )  # fmt: skip


def test_installed_package_renders_from_its_own_templates(site, tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", RENDER],
        input=a_report().model_dump_json(by_alias=True),
        cwd=tmp_path,  # not the checkout: `import collector` must find the installed copy
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert Path(out["file"]).resolve() == (site / "collector" / "__init__.py").resolve()
    assert Path(out["templates"]).resolve() == (site / "collector" / "templates").resolve()
    assert out["md"].startswith(
        "# Support ticket draft: Step 1 failed: Timeout 300ms exceeded. — click #pay on /checkout.html\n"
    )
    assert "Referência: CR-20261125-WHEEL1" in out["pt"] and "PASSOS PARA REPRODUZIR" in out["pt"]
    assert out["html"].startswith("<!doctype html>") and "CR-20261125-WHEEL1" in out["html"]


def test_installed_cli_renders_a_ticket(site, tmp_path):
    bundle = tmp_path / "CR-20261125-WHEEL1"
    bundle.mkdir()
    (bundle / "report.json").write_text(a_report().model_dump_json(by_alias=True))
    result = subprocess.run(
        [sys.executable, "-m", "collector", "ticket", str(bundle), "--format", "txt"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith("Reference: CR-20261125-WHEEL1\n")


def test_installed_cli_validates_and_converts_with_its_shipped_schema(site, tmp_path):
    (tmp_path / "s.yaml").write_text("url: http://127.0.0.1:1/\nsteps:\n  - click: ''\n")
    recording = ROOT / "tests" / "recordings" / "reference" / "click.json"
    env = {**os.environ, "PYTHONPATH": str(site)}
    probe = (
        "import sys, runpy; sys.argv = ['collector', *sys.argv[1:]]\n"
        "try:\n    runpy.run_module('collector', run_name='__main__')\n"
        "finally:\n    print(sorted(m for m in sys.modules if m.split('.')[0] == 'pydantic'),"
        " file=sys.stderr)"
    )
    ran = [
        subprocess.run(
            [sys.executable, "-c", probe, *args], cwd=tmp_path, env=env,
            capture_output=True, text=True, timeout=120,
        )
        for args in (["validate", "s.yaml"], ["convert", str(recording)])
    ]  # fmt: skip
    assert ran[0].returncode == 2
    assert ran[0].stderr.splitlines() == [
        "Error: s.yaml:3: steps.0.click.selector: Value should have at least 1 item after "
        "validation, not 0",
        "[]",  # validated by pydantic-core alone: pydantic and the models were not needed
    ]
    assert ran[1].returncode == 0 and ran[1].stdout.startswith("# Converted from click.json")
    assert ran[1].stderr.splitlines()[-1] == "[]"
