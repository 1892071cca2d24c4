"""Issue 15, "one meaning per option": the options every bundle-writing command shares.

Without a browser: the shared options are the same objects on repro, demo, check and
replay; old spellings and a --reason outside the configured list are one exit-2 line
each, said before any browser starts. With the real Chromium: check and replay honour
--trace/--har/--lang/--reason per bundle written, check's --json is JSON on stdout and
-q its summary line alone, and `ticket` keeps a bundle's reason unless told otherwise.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pytest
from run_collector import invoke, process_env, run

from collector.cli import cli

WRITERS = ("repro", "demo", "check", "replay")
# Click parameter name -> its option strings: one meaning, one spelling, on each writer.
SHARED = {
    "out_dir": ["--out"],
    "trace": ["--trace"],
    "har": ["--har"],
    "max_attachment_bytes": ["--max-attachment-bytes"],
    "lang": ["--lang"],
    "reason": ["--reason"],
    "template_dir": ["--template-dir"],
    "quiet": ["--quiet", "-q"],
    "as_json": ["--json"],
    "timeout_ms": ["--timeout"],
    "linger": ["--linger"],
}
DEFAULT_REASONS = "technical, billing, account, other"
LINGER = "3"


def options_of(name: str) -> dict[str, click.Parameter]:
    command = cli.commands[name]
    return {p.name: p for p in command.params if p.name and not getattr(p, "hidden", False)}


@pytest.mark.parametrize("name", WRITERS)
def test_every_bundle_writer_has_the_shared_options_with_one_meaning(name: str) -> None:
    mine = options_of(name)
    reference = options_of("repro")
    for param, spelling in SHARED.items():
        assert param in mine, f"{name} lacks {spelling[0]}"
        assert sorted(mine[param].opts + mine[param].secondary_opts) == sorted(spelling)
        if param not in ("quiet",):  # the last line differs: a bundle path, a summary, a verdict
            assert mine[param].help == reference[param].help, f"{name} {spelling[0]}"
        assert mine[param].is_flag == reference[param].is_flag  # type: ignore[attr-defined]


def test_json_is_a_stdout_flag_and_files_are_json_file() -> None:
    for name, command in cli.commands.items():
        for param in command.params:
            if "--json" in getattr(param, "opts", []):
                assert param.is_flag, f"{name} --json takes a value"  # type: ignore[attr-defined]
    assert "json_file" in options_of("check")
    assert "bundles" not in options_of("check")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["repro", "x.yaml", "--max-attachment-size", "1MB"],
            "Error: --max-attachment-size is now --max-attachment-bytes "
            "(see collector repro --help)",
        ),
        (
            ["check", "https://a.example/", "--bundles", "failures"],
            "Error: --bundles is now --out DIR (see collector check --help)",
        ),
        (
            ["check", "https://a.example/", "--json", "results.json"],
            "Error: results.json: no such file; --json now prints on stdout, "
            "write a file with --json-file results.json",
        ),
        (
            ["repro", "x.yaml", "--reason", "nope"],
            f"Error: --reason 'nope': not one of the reasons configured (the default list): "
            f"{DEFAULT_REASONS}",
        ),
        (
            ["check", "https://a.example/", "--reason", "nope"],
            f"Error: --reason 'nope': not one of the reasons configured (the default list): "
            f"{DEFAULT_REASONS}",
        ),
        (
            ["replay", "no-such-bundle", "--reason", "nope"],
            f"Error: --reason 'nope': not one of the reasons configured (the default list): "
            f"{DEFAULT_REASONS}",
        ),
        (
            ["demo", "--reason", "nope"],
            f"Error: --reason 'nope': not one of the reasons configured (the default list): "
            f"{DEFAULT_REASONS}",
        ),
        (
            ["ticket", "no-such-bundle", "--reason", "nope"],
            f"Error: --reason 'nope': not one of the reasons configured (the default list): "
            f"{DEFAULT_REASONS}",
        ),
    ],
)
def test_old_spellings_and_bad_reasons_are_one_line_exit_2(
    args: list[str], message: str, tmp_path: Path
) -> None:
    ran = invoke(*args, cwd=tmp_path)
    assert (ran.returncode, ran.stderr.splitlines(), ran.stdout) == (2, [message], "")
    assert list(tmp_path.iterdir()) == [], "refused before anything was written"


def test_reason_is_checked_against_the_configured_list(tmp_path: Path) -> None:
    (tmp_path / "collector.toml").write_text('reasons = ["payments", "other"]\n', encoding="utf-8")
    ran = invoke("repro", "x.yaml", "--reason", "billing", cwd=tmp_path)
    assert ran.returncode == 2
    assert ran.stderr.splitlines() == [
        f"Error: --reason 'billing': not one of the reasons configured in "
        f"{tmp_path / 'collector.toml'}: payments, other"
    ]


# --- with the real browser ----------------------------------------------------------


def bundles_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def report_of(bundle: Path) -> dict[str, Any]:
    return json.loads((bundle / "report.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def buggy_bundle(pages_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bundle of checkout-buggy.html whose scenario says `reason: technical`."""
    work = tmp_path_factory.mktemp("original")
    (work / "checkout.yaml").write_text(
        f"name: Pay now fails\nurl: {pages_url}\nreason: technical\n"
        f"steps:\n  - goto: /checkout-buggy.html\n  - click: '#pay'\n",
        encoding="utf-8",
    )
    ran = invoke("repro", "checkout.yaml", "--out", "out", "--linger", LINGER, "-q", cwd=work)
    assert ran.returncode == 1, ran.stderr
    assert len(ran.stdout.splitlines()) == 1, "-q: only the bundle path"
    return work / ran.stdout.strip()


@pytest.mark.browser
def test_check_writes_a_bundle_per_failing_page_with_trace_har_lang_reason(
    pages_url: str, tmp_path: Path
) -> None:
    failing = f"{pages_url}check/fail-known-bug.html"
    clean = f"{pages_url}check/clean-plain.html"
    ran = invoke(
        "check", failing, clean, "--trace", "--har", "--lang", "pt", "--reason", "billing",
        "--linger", "0.5", "-q", cwd=tmp_path,
    )  # fmt: skip
    assert ran.returncode == 1, ran.stderr
    # -q: the summary line alone.
    (line,) = ran.stdout.splitlines()
    assert line.startswith("2 pages, 1 passed, 1 failed in ")
    # No --out: the bundles go to reports/, as every other command's.
    (bundle,) = bundles_in(tmp_path / "reports")
    assert (bundle / "trace.zip").is_file() and (bundle / "network.har").is_file()
    assert report_of(bundle)["reason"] == "billing"
    assert "Motivo" in (bundle / "ticket.md").read_text(encoding="utf-8")

    as_json = invoke("check", failing, "--json", "--out", "j", "--linger", "0.5", cwd=tmp_path)
    assert as_json.returncode == 1, as_json.stderr
    summary = json.loads(as_json.stdout)  # stdout is the JSON and nothing else
    (page,) = summary["pages"]
    assert page["failed"] and Path(page["bundle"]).parent == Path("j")


@pytest.mark.browser
def test_replay_writes_trace_and_har_per_run_with_lang_and_reason(
    buggy_bundle: Path, tmp_path: Path
) -> None:
    ran = invoke(
        "replay", buggy_bundle, "--times", "2", "--trace", "--har", "--lang", "pt",
        "--reason", "account", "--out", "r", "--linger", LINGER, "--json", cwd=tmp_path,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    verdict = json.loads(ran.stdout)
    assert len(verdict["runs"]) == 2
    for run_ in verdict["runs"]:
        bundle = tmp_path / run_["bundle"]
        assert bundle.parent == tmp_path / "r"
        assert (bundle / "trace.zip").is_file() and (bundle / "network.har").is_file()
        assert report_of(bundle)["reason"] == "account"
        assert "Motivo" in (bundle / "ticket.md").read_text(encoding="utf-8")


@pytest.mark.browser
def test_ticket_keeps_the_bundles_reason_unless_reason_is_given(
    buggy_bundle: Path, tmp_path: Path
) -> None:
    # A configured list that does not hold the bundle's reason must not replace it.
    (tmp_path / "collector.toml").write_text('reasons = ["payments", "other"]\n', encoding="utf-8")
    kept = invoke("ticket", buggy_bundle, "--format", "json", cwd=tmp_path)
    assert kept.returncode == 0, kept.stderr
    assert json.loads(kept.stdout)["reason"] == "technical"
    chosen = invoke("ticket", buggy_bundle, "--format", "json", "--reason", "payments", cwd=tmp_path)
    assert json.loads(chosen.stdout)["reason"] == "payments"
    refused = invoke("ticket", buggy_bundle, "--reason", "technical", cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.splitlines() == [
        f"Error: --reason 'technical': not one of the reasons configured in "
        f"{tmp_path / 'collector.toml'}: payments, other"
    ]


@pytest.mark.parametrize("stop", ["SIGTERM", "SIGINT"])  # what systemd/CI send; Ctrl-C
def test_demo_serve_serves_until_terminated(tmp_path: Path, stop: str) -> None:
    import signal
    import subprocess
    import sys
    import urllib.request


    proc = subprocess.Popen(
        [sys.executable, "-m", "collector", "demo", "--serve", "--port", "0"],
        cwd=tmp_path, env=process_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/")
        with urllib.request.urlopen(f"{url}api/health", timeout=30) as answer:
            assert json.loads(answer.read()) == {"status": "ok", "variant": "buggy"}
        with urllib.request.urlopen(f"{url}checkout.html", timeout=30) as answer:
            assert b'id="pay"' in answer.read()
    finally:
        proc.send_signal(getattr(signal, stop))
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Ctrl-C to stop" in err


def test_demo_serve_on_a_port_in_use_is_exit_3(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ran = run("demo", "--serve", "--port", str(port), cwd=tmp_path, timeout=60)
    assert ran.returncode == 3
    assert ran.stderr.splitlines() == [
        f"Error: cannot serve the demo shop on 127.0.0.1:{port}: Address already in use "
        "(choose another with --port, 0 for a free one)"
    ]
