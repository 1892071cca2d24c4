"""One meaning per option: flags + config -> Options, the same for every front door.

Unit tests of ``resolve_options`` (no browser), then what users see: `check`
bundles honour --lang and --reason, and a library run without a work folder
writes nothing into the working folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from shared_browser import attached

from collector.config import Config
from collector.errors import BadInput
from collector.options import Flags, resolve_options
from collector.runner import DEFAULT_LINGER_S, RunOptions


def test_unset_flags_leave_it_to_the_config_then_the_defaults() -> None:
    config = Config(lang="pt", reports_dir="out", max_attachment_bytes="1MB", redact=["id-\\d+"])
    options = resolve_options(Flags(), config)
    assert options.run.linger_s == DEFAULT_LINGER_S == RunOptions().linger_s
    assert options.run.rules.fail_on == "error"
    bundle = options.bundle
    assert (bundle.out_dir, bundle.lang, bundle.max_attachment_bytes) == (Path("out"), "pt", 1_000_000)
    assert (bundle.reason, bundle.template_dir, bundle.redact_patterns) == (None, None, ("id-\\d+",))


def test_flags_win_over_the_config() -> None:
    config = Config(lang="pt", fail_on="warning", ignore=["from-config"])
    flags = Flags(
        out_dir="mine", linger_s=0, max_attachment_bytes="500kB", lang="en", reason="billing",
        template_dir="tpl", fail_on="never", ignore=("from-flag",),
    )  # fmt: skip
    options = resolve_options(flags, config)
    assert options.run.linger_s == 0
    assert options.run.rules.fail_on == "never"
    assert [r.pattern for r in options.run.rules.ignore] == ["from-config", "from-flag"]
    bundle = options.bundle
    assert (bundle.out_dir, bundle.lang, bundle.reason, bundle.template_dir) == (
        Path("mine"), "en", "billing", "tpl",
    )  # fmt: skip
    assert bundle.max_attachment_bytes == 500_000


@pytest.mark.parametrize("option", ["--ignore", "--collector-ignore"])
def test_a_bad_ignore_flag_names_the_flag_and_the_regex(option: str) -> None:
    with pytest.raises(BadInput) as caught:
        Flags(ignore=("ok", "a[b"), ignore_option=option)
    assert str(caught.value) == (
        f"{option}: not a valid regex: 'a[b' (unterminated character set at position 1)"
    )


@pytest.mark.browser
def test_check_bundles_honour_lang_and_reason(tmp_path: Path, pages_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLLECTOR")}
    env.update(LC_ALL="C.UTF-8", PYTHONIOENCODING="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "collector", *attached(["check",
         f"{pages_url}check/fail-known-bug.html", "--out", "b", "--lang", "pt",
         "--reason", "billing", "--linger", "0.5", "--quiet"])],
        cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    (bundle,) = [p for p in (tmp_path / "b").iterdir() if not p.name.startswith(".")]
    report = json.loads((bundle / "report.json").read_text(encoding="utf-8"))
    assert report["reason"] == "billing"
    ticket = (bundle / "ticket.md").read_text(encoding="utf-8")
    assert "| **Motivo** | Faturação |" in ticket  # the reason, in the ticket's language


@pytest.mark.browser
def test_a_library_run_without_a_work_dir_writes_nothing_here(
    browser_loop, pages_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from collector.runner import run_scenario
    from collector.scenario import Goto, Scenario

    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    scenario = Scenario(name="clean", steps=[Goto(url=f"{pages_url}errors.html")])
    result = browser_loop.run(
        lambda browser: run_scenario(scenario, browser, RunOptions(linger_s=0.2, env={}))
    )
    assert list(here.iterdir()) == []
    assert result.screenshots, "a page with errors is pictured"
    for shot in result.screenshots:
        assert shot.path.is_file() and here not in shot.path.parents
