"""`collector replay`: verdicts against the original and a fixed deployment, rates over
several runs, secrets, and received bundles that try to do harm.

Bundles are recorded with the real Chromium (pages served on 127.0.0.1); the hostile
bundles are crafted with ``zipfile`` and need no browser: they must be refused before
anything runs, with one ``Error:`` line and nothing written anywhere.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import threading
import zipfile
from collections.abc import Callable, Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from shared_browser import attached

from collector.bundle import BundleOptions
from collector.bundle_reader import open_bundle
from collector.cli import cli
from collector.errors import BundleError
from collector.replay import bundle_scenario
from collector.report import Outcome, Report
from collector.repro import Reproduction, reproduce
from collector.runner import RunOptions
from collector.scenario import Goto, scenario_from_document
from collector.yamlsource import SourceDocument

PAGES = Path(__file__).parent / "pages"
SECRET_NAME = "COLLECTOR_TEST_REPLAY_PW"
# Generous: a run stops waiting once the page is quiet, and the buggy checkout's
# TypeError (a timer after the click) must land on a loaded machine too.
LINGER = "5"


def collector(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "collector", *attached(args)],
        cwd=cwd,
        env=env if env is not None else os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=180,
    )


def read_report(bundle: Path) -> dict[str, Any]:
    return json.loads((bundle / "report.json").read_text(encoding="utf-8"))


def bundles_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir()) if folder.exists() else []


def verdict_line(stdout: str) -> str:
    return next(line for line in stdout.splitlines() if line.startswith("Verdict: "))


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture(scope="module")
def fixed_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Another deployment, where checkout-buggy.html is the fixed checkout."""
    root = tmp_path_factory.mktemp("fixed-site")
    shutil.copy(PAGES / "checkout-fixed.html", root / "checkout-buggy.html")
    shutil.copy(PAGES / "checkout-fixed.js", root / "checkout-fixed.js")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(root)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


HALF_FIXED_JS = """// checkout-buggy.html half fixed: the receipt shows, the console error stays.
document.getElementById('pay').addEventListener('click', () => {
  console.error('payment failed');
  document.getElementById('result').textContent = 'paid';
});
"""


@pytest.fixture(scope="module")
def half_fixed_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A deployment where one of the two errors of checkout-buggy.html is fixed."""
    root = tmp_path_factory.mktemp("half-fixed-site")
    shutil.copy(PAGES / "checkout-buggy.html", root / "checkout-buggy.html")
    (root / "checkout-buggy.js").write_text(HALF_FIXED_JS, encoding="utf-8")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(root)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def buggy_bundle(pages_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bundle recorded with `collector repro` against checkout-buggy.html."""
    work = tmp_path_factory.mktemp("buggy")
    (work / "checkout.yaml").write_text(
        f"name: Pay now fails\n"
        f"url: {pages_url}\n"
        f"steps:\n"
        f"  - goto: {pages_url}checkout-buggy.html\n"
        f"  - click: '#pay'\n",
        encoding="utf-8",
    )
    proc = collector(
        "repro", "checkout.yaml", "--out", "out", "--linger", LINGER, "--quiet", cwd=work
    )
    assert proc.returncode == 1, proc.stderr
    bundle = (work / proc.stdout.strip()).parent  # the zip's folder
    report = read_report(bundle)
    assert report["outcome"]["status"] == "errors"
    assert len([e for e in report["errors"] if e["fails"]]) == 2
    return bundle


# --- verdicts -------------------------------------------------------------------------


@pytest.mark.browser
def test_replay_reproduces_the_bug(buggy_bundle: Path, tmp_path: Path) -> None:
    proc = collector("replay", str(buggy_bundle), "--out", "out", "--linger", LINGER, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert verdict_line(proc.stdout) == "Verdict: reproduced — always"
    assert "payment failed  1/1" in proc.stdout
    [replayed] = bundles_in(tmp_path / "out")
    report = read_report(replayed)
    assert report["original_reference"] == buggy_bundle.name
    assert report["reference"] == replayed.name != buggy_bundle.name


@pytest.mark.browser
def test_replay_against_the_fixed_deployment(
    buggy_bundle: Path, fixed_site: str, tmp_path: Path
) -> None:
    proc = collector(
        "replay",
        str(buggy_bundle),
        "--url",
        fixed_site,
        "--out",
        "out",
        "--linger",
        LINGER,
        cwd=tmp_path,
    )
    assert proc.returncode == 1, proc.stderr
    assert verdict_line(proc.stdout) == "Verdict: not reproduced — never"
    assert f"against {fixed_site}" in proc.stderr

    expect_fixed = collector(
        "replay",
        str(buggy_bundle),
        "--url",
        fixed_site,
        "--expect",
        "fixed",
        "--out",
        "out",
        "--linger",
        LINGER,
        cwd=tmp_path,
    )
    assert expect_fixed.returncode == 0, expect_fixed.stderr
    assert verdict_line(expect_fixed.stdout) == "Verdict: not reproduced — never"

    replays = bundles_in(tmp_path / "out")
    assert len(replays) == 2
    for replayed in replays:
        report = read_report(replayed)
        assert report["original_reference"] == buggy_bundle.name
        assert report["outcome"]["status"] == "clean"
        # Same path, the other deployment's origin.
        assert report["steps"][0]["target"] == f"{fixed_site}checkout-buggy.html"


@pytest.mark.browser
def test_replay_against_a_half_fixed_deployment_is_partly_reproduced(
    buggy_bundle: Path, half_fixed_site: str, tmp_path: Path
) -> None:
    proc = collector(
        "replay", str(buggy_bundle), "--url", half_fixed_site, "--expect", "fixed",
        "--json", "--out", "out", "--linger", LINGER, cwd=tmp_path,
    )  # fmt: skip
    summary = json.loads(proc.stdout)
    assert summary["verdict"] == "partly reproduced"
    assert [r["verdict"] for r in summary["runs"]] == ["partly reproduced"]
    seen = {e["message"]: e["seen"] for e in summary["errors"]}
    assert seen["payment failed"] == 1
    assert sorted(seen.values()) == [0, 1]  # the TypeError is gone
    # Half a fix is not a fix; it still counts as reproduced (see test_replay_verdicts).
    assert summary["as_expected"] is False
    assert proc.returncode == 1, proc.stderr


@pytest.mark.browser
def test_replay_of_the_zip_expecting_a_fix_that_is_not_there(
    buggy_bundle: Path, tmp_path: Path
) -> None:
    archive = buggy_bundle / f"{buggy_bundle.name}.zip"
    proc = collector(
        "replay", str(archive), "--expect", "fixed", "--out", "out", "--linger", LINGER, cwd=tmp_path
    )
    assert proc.returncode == 1, proc.stderr
    assert verdict_line(proc.stdout) == "Verdict: reproduced — always"
    [replayed] = bundles_in(tmp_path / "out")
    assert read_report(replayed)["original_reference"] == buggy_bundle.name


# --- several runs ---------------------------------------------------------------------


def reproduce_in(
    browser_loop: Any, data: dict[str, Any], out: Path, env: dict[str, str] | None = None
) -> Reproduction:
    scenario = scenario_from_document(SourceDocument("s.yaml", data), env=env or {})
    options = RunOptions(linger_s=float(LINGER), env=env or {})
    return browser_loop.run(
        lambda browser: reproduce(
            scenario,
            browser_options=None,  # type: ignore[arg-type]
            run_options=options,
            bundle_options=BundleOptions(out_dir=out),
            browser=browser,
        )
    )


@pytest.mark.browser
def test_replay_times_reports_rates_consistent_with_the_runs(
    browser_loop: Any, pages_url: str, tmp_path: Path
) -> None:
    # flaky.html fails half of the time: record until the original run did fail.
    data = {"name": "Sometimes fails", "url": pages_url, "steps": [{"goto": "flaky.html"}]}
    for _attempt in range(12):
        done = reproduce_in(browser_loop, data, tmp_path / "original")
        if done.result.outcome.status == "errors":
            break
    else:
        pytest.fail("flaky.html passed 12 times in a row")
    original = read_report(done.bundle)
    [flaky] = [e for e in original["errors"] if e["fails"]]
    assert flaky["message"] == "Error: flaky failure"

    proc = collector(
        "replay",
        str(done.bundle),
        "--times",
        "5",
        "--json",
        "--out",
        "out",
        "--linger",
        LINGER,
        cwd=tmp_path,
    )
    summary = json.loads(proc.stdout)
    runs = summary["runs"]
    assert len(runs) == 5
    assert {r["verdict"] for r in runs} <= {"reproduced", "not reproduced"}
    k = sum(r["verdict"] == "reproduced" for r in runs)
    assert summary["errors"] == [
        {"fingerprint": flaky["fingerprint"], "message": "Error: flaky failure", "seen": k,
         "runs": 5}
    ]  # fmt: skip
    expected_frequency = "always" if k == 5 else "never" if k == 0 else f"flaky ({k}/5)"
    assert summary["frequency"] == expected_frequency
    assert summary["verdict"] == ("reproduced" if k else "not reproduced")
    assert summary["original"] == original["reference"]
    assert summary["as_expected"] is (k > 0)
    assert proc.returncode == (0 if k else 1), proc.stderr
    for run in runs:
        report = read_report(Path(tmp_path / run["bundle"]))
        assert report["original_reference"] == original["reference"]
        failing = {e["fingerprint"] for e in report["errors"] if e["fails"]}
        assert (flaky["fingerprint"] in failing) is (run["verdict"] == "reproduced")
    assert len(bundles_in(tmp_path / "out")) == 5


# --- secrets --------------------------------------------------------------------------


@pytest.mark.browser
def test_replay_needs_the_declared_secrets(
    browser_loop: Any, pages_url: str, tmp_path: Path
) -> None:
    secret = "replay-pw-5c1e7"
    data = {
        "name": "Log in",
        "url": pages_url,
        "secrets": [SECRET_NAME],
        "steps": [
            {"goto": "secrets.html"},
            {"fill": {"selector": "#user", "value": "ana"}},
            {"fill": {"selector": "#password", "value": "${" + SECRET_NAME + "}"}},
            {"click": "#login"},
            {"expect_text": {"selector": "#status", "text": "logged in"}},
        ],
    }
    done = reproduce_in(browser_loop, data, tmp_path / "original", env={SECRET_NAME: secret})
    assert done.result.outcome.status == "clean"
    assert "${" + SECRET_NAME + "}" in (done.bundle / "scenario.yaml").read_text(encoding="utf-8")

    env = {k: v for k, v in os.environ.items() if k != SECRET_NAME}
    missing = collector("replay", str(done.bundle), "--out", "out", cwd=tmp_path, env=env)
    assert missing.returncode == 2
    [line] = missing.stderr.splitlines()
    assert line.startswith("Error: ") and SECRET_NAME in line
    assert missing.stdout == ""
    assert not (tmp_path / "out").exists()

    ran = collector(
        "replay",
        str(done.bundle),
        "--out",
        "out",
        "--linger",
        LINGER,
        "--secret",
        SECRET_NAME,
        cwd=tmp_path,
        env={**env, SECRET_NAME: secret},
    )
    # The original run was clean: the replay ran (with the secret) but has no bug to confirm.
    assert ran.returncode == 1, ran.stderr
    assert verdict_line(ran.stdout).startswith("Verdict: nothing to reproduce")
    [replayed] = bundles_in(tmp_path / "out")
    report = read_report(replayed)
    assert report["original_reference"] == done.reference
    assert [s["status"] for s in report["steps"]] == ["ok"] * 5
    for path in replayed.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


# --- hostile bundles (no browser) -----------------------------------------------------

REFERENCE = "CR-20260101-7K3QF9"
REPORT_JSON = Report(
    reference=REFERENCE,
    title="Pay now fails",
    created="2026-01-01T00:00:00+00:00",
    outcome=Outcome(status="errors", message="1 error(s) captured: payment failed"),
).to_json()
SCENARIO_YAML = "name: Pay now fails\nurl: http://127.0.0.1:9/\nsteps:\n  - goto: checkout.html\n"
GOOD = [("report.json", REPORT_JSON), ("scenario.yaml", SCENARIO_YAML)]

Member = tuple[str | zipfile.ZipInfo, str | bytes]


def write_zip(path: Path, members: list[Member], compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return path


def set_encrypted_flag(path: Path, member: str) -> None:
    """Set the 'encrypted' bit of ``member`` in the local and central headers."""
    data = bytearray(path.read_bytes())
    encoded = member.encode()
    # (signature, offset of the flags, offset of the name length, offset of the name)
    for signature, flags_at, length_at, name_at in (
        (b"PK\x03\x04", 6, 26, 30),
        (b"PK\x01\x02", 8, 28, 46),
    ):
        at = data.find(signature)
        while at != -1:
            length = int.from_bytes(data[at + length_at : at + length_at + 2], "little")
            if data[at + name_at : at + name_at + length] == encoded:
                flags = int.from_bytes(data[at + flags_at : at + flags_at + 2], "little") | 1
                data[at + flags_at : at + flags_at + 2] = flags.to_bytes(2, "little")
            at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as zf:
        assert zf.getinfo(member).flag_bits & 1


def symlink_member(name: str, target: str) -> Member:
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # Unix, so that the mode bits mean what they say
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target


def zip_slip(name: str) -> Callable[[Path], Path]:
    return lambda tmp: write_zip(tmp / "bundle.zip", [*GOOD, (name, "pwned")])


def symlink(tmp: Path) -> Path:
    return write_zip(tmp / "bundle.zip", [*GOOD, symlink_member("screenshots/x.png", "/etc")])


def symlinked_report(tmp: Path) -> Path:
    return write_zip(
        tmp / "bundle.zip",
        [symlink_member("report.json", "/etc/passwd"), ("scenario.yaml", SCENARIO_YAML)],
    )


def too_many_entries(tmp: Path) -> Path:
    extra = [(f"screenshots/{i:03d}.txt", "x") for i in range(499)]
    return write_zip(tmp / "bundle.zip", [*GOOD, *extra])


def zip_bomb(tmp: Path) -> Path:
    return write_zip(tmp / "bundle.zip", [("console.log", bytes(50_000_000)), *GOOD])


def total_bomb(tmp: Path) -> Path:
    # Six members of 18 MB, each under the per-member limit and compressing only
    # about 100:1, but 108 MB together.
    member = os.urandom(150_000) + bytes(18_000_000 - 150_000)
    big = [(f"screenshots/{i}.png", member) for i in range(6)]
    return write_zip(tmp / "bundle.zip", [*big, *GOOD])


def encrypted(tmp: Path) -> Path:
    path = write_zip(tmp / "bundle.zip", [*GOOD, ("ticket.md", "secret")])
    set_encrypted_flag(path, "ticket.md")
    return path


def missing_report(tmp: Path) -> Path:
    return write_zip(tmp / "bundle.zip", [("scenario.yaml", SCENARIO_YAML)])


def malformed_report(tmp: Path) -> Path:
    return write_zip(tmp / "bundle.zip", [("report.json", "{not json"), GOOD[1]])


def future_schema(tmp: Path) -> Path:
    report = json.loads(REPORT_JSON) | {"schema": "collector/report@9"}
    return write_zip(tmp / "bundle.zip", [("report.json", json.dumps(report)), GOOD[1]])


def report_not_an_object(tmp: Path) -> Path:
    return write_zip(tmp / "bundle.zip", [("report.json", "[1, 2]"), GOOD[1]])


def local_goto(url: str) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        scenario = f"name: Hostile\nsteps:\n  - goto: {url}\n"
        return write_zip(tmp / "bundle.zip", [GOOD[0], ("scenario.yaml", scenario)])

    return make


def local_upload(tmp: Path) -> Path:
    scenario = (
        "name: Hostile\nurl: http://127.0.0.1:9/\nsteps:\n  - goto: form.html\n"
        "  - upload: {selector: '#file', files: /etc/passwd}\n"
    )
    return write_zip(tmp / "bundle.zip", [GOOD[0], ("scenario.yaml", scenario)])


def invalid_scenario(tmp: Path) -> Path:
    return write_zip(
        tmp / "bundle.zip", [GOOD[0], ("scenario.yaml", "steps:\n  - frobnicate: x\n")]
    )


def not_a_zip(tmp: Path) -> Path:
    path = tmp / "bundle.zip"
    path.write_bytes(b"this is not a zip file\n")
    return path


def folder_without_report(tmp: Path) -> Path:
    folder = tmp / "bundle"
    folder.mkdir()
    (folder / "scenario.yaml").write_text(SCENARIO_YAML, encoding="utf-8")
    return folder


def folder_with_symlinked_report(tmp: Path) -> Path:
    folder = tmp / "bundle"
    folder.mkdir()
    (folder / "scenario.yaml").write_text(SCENARIO_YAML, encoding="utf-8")
    (folder / "report.json").symlink_to("/etc/passwd")
    return folder


def no_such_bundle(tmp: Path) -> Path:
    return tmp / "missing.zip"


HOSTILE = [
    pytest.param(zip_slip("../evil.txt"), "bundle.zip: unsafe entry '../evil.txt' (absolute or outside the bundle)", id="zip-slip-dotdot"),
    pytest.param(zip_slip("screenshots/../../evil.txt"), "bundle.zip: unsafe entry 'screenshots/../../evil.txt' (absolute or outside the bundle)", id="zip-slip-nested"),
    pytest.param(zip_slip("/abs.txt"), "bundle.zip: unsafe entry '/abs.txt' (absolute or outside the bundle)", id="zip-slip-absolute"),
    pytest.param(zip_slip("..\\evil.txt"), "bundle.zip: unsafe entry '..\\\\evil.txt' (absolute or outside the bundle)", id="zip-slip-backslash"),
    pytest.param(zip_slip("C:/evil.txt"), "bundle.zip: unsafe entry 'C:/evil.txt' (absolute or outside the bundle)", id="zip-slip-drive"),
    pytest.param(symlink, "bundle.zip: entry 'screenshots/x.png' is a link; bundles hold plain files", id="symlink-entry"),
    pytest.param(symlinked_report, "bundle.zip: entry 'report.json' is a link; bundles hold plain files", id="symlink-report"),
    pytest.param(too_many_entries, "bundle.zip: 501 entries, more than a bundle has (500)", id="too-many-entries"),
    pytest.param(zip_bomb, "bundle.zip: uncompressed size beyond any bundle (50,000,000 bytes): zip bomb?", id="zip-bomb-member"),
    pytest.param(total_bomb, "bundle.zip: uncompressed size beyond any bundle (108,000,000 bytes): zip bomb?", id="zip-bomb-total"),
    pytest.param(encrypted, "bundle.zip: entry 'ticket.md' is encrypted", id="encrypted"),
    pytest.param(missing_report, "bundle.zip: report.json is missing from the zip", id="missing-report"),
    pytest.param(malformed_report, "bundle.zip: report.json is not valid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)", id="malformed-report"),
    pytest.param(report_not_an_object, "bundle.zip: report.json is not a report (expected a JSON object)", id="report-not-an-object"),
    pytest.param(future_schema, "bundle.zip: report.json has schema 'collector/report@9'; this collector reads collector/report@1", id="schema-9"),
    pytest.param(local_goto("file:///etc/passwd"), "bundle.zip: step 1 opens file: URLs (file:///etc/passwd); refused in a received bundle (pass --allow-local to run it)", id="goto-file"),
    pytest.param(local_goto("FILE:///etc/passwd"), "bundle.zip: step 1 opens file: URLs (FILE:///etc/passwd); refused in a received bundle (pass --allow-local to run it)", id="goto-file-uppercase"),
    pytest.param(local_goto("chrome://settings"), "bundle.zip: step 1 opens chrome: URLs (chrome://settings); refused in a received bundle (pass --allow-local to run it)", id="goto-chrome"),
    pytest.param(local_upload, "bundle.zip: step 2 uploads local files; refused in a received bundle (pass --allow-local to run it)", id="upload-local-file"),
    pytest.param(invalid_scenario, "invalid scenario in the bundle: bundle.zip:scenario.yaml:2: steps.0.frobnicate: unknown step kind 'frobnicate'", id="invalid-scenario"),
    pytest.param(not_a_zip, "bundle.zip: not a bundle (expected a bundle folder or its .zip)", id="not-a-zip"),
    pytest.param(folder_without_report, "bundle: not a bundle (no report.json)", id="folder-without-report"),
    pytest.param(folder_with_symlinked_report, "bundle: report.json is a link; bundles hold plain files", id="folder-symlinked-report"),
    pytest.param(no_such_bundle, "missing.zip: no such file or folder", id="no-such-bundle"),
]  # fmt: skip


# What only replay reads: the scenario. Every other refusal is the reader's, for ticket too.
SCENARIO_CASES = {"goto-file", "goto-file-uppercase", "goto-chrome", "upload-local-file",
                  "invalid-scenario"}  # fmt: skip


@pytest.mark.parametrize(
    ("make", "message"), [p for p in HOSTILE if p.id not in SCENARIO_CASES]
)
@pytest.mark.parametrize("fmt", ["md", "eml"])
def test_ticket_refuses_the_same_hostile_bundles(
    make: Callable[[Path], Path], message: str, fmt: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    bundle = make(tmp_path)
    result = CliRunner().invoke(cli, ["ticket", bundle.name, "--format", fmt])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [f"Error: {message}"]
    assert result.stdout == ""


def listing(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.parametrize(("make", "message"), HOSTILE)
def test_hostile_bundle_is_refused_and_nothing_is_written(
    make: Callable[[Path], Path],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    bundle = make(tmp_path)
    before = listing(tmp_path)
    result = CliRunner().invoke(cli, ["replay", bundle.name, "--out", "out", "--linger", "0"])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # not a traceback
    assert result.stderr.splitlines() == [f"Error: {message}"]
    assert result.stdout == ""
    assert not (tmp_path / "out").exists()
    assert listing(tmp_path) == before
    assert not (tmp_path.parent / "evil.txt").exists()


def test_hostile_bundle_in_a_real_process(tmp_path: Path) -> None:
    """The same refusal from the installed entry point: one line, no traceback."""
    work = tmp_path / "work"
    work.mkdir()
    zip_slip("../evil.txt")(work)
    before = listing(tmp_path)
    proc = collector("replay", "bundle.zip", "--out", "out", cwd=work)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "Error: bundle.zip: unsafe entry '../evil.txt' (absolute or outside the bundle)"
    ]
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert listing(tmp_path) == before


def test_local_urls_are_accepted_with_allow_local(tmp_path: Path) -> None:
    received = open_bundle(local_goto("file:///etc/passwd")(tmp_path))
    with pytest.raises(BundleError, match="refused in a received bundle"):
        bundle_scenario(received)
    scenario = bundle_scenario(received, allow_local=True)
    assert scenario.steps == [Goto(url="file:///etc/passwd")]


def test_a_crafted_bundle_that_is_fine_is_read(tmp_path: Path) -> None:
    """The hostile cases fail for their own reason: the same zip without the trick reads."""
    received = open_bundle(write_zip(tmp_path / "bundle.zip", GOOD))
    assert received.report.reference == REFERENCE
    scenario = bundle_scenario(received)
    assert scenario.steps == [Goto(url="checkout.html")]
    folder = tmp_path / "folder"
    folder.mkdir()
    for name, text in GOOD:
        (folder / name).write_text(text, encoding="utf-8")
    assert open_bundle(folder).report.reference == REFERENCE
