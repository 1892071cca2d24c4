"""CI outputs of `check` and `collector merge`: JUnit by kind, annotations, job summary, shards.

The browser part checks one set of pages four times, once whole and once per
shard of three (four `check` processes in all, module-scoped), then merges the
shards in this process and compares: the merged JUnit must give every page the
verdict the whole run gave it. The rest is pure: results built by hand.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from run_collector import invoke, run

from collector import github
from collector.errors import BadInput
from collector.github import (
    MAX_SUMMARY_BYTES,
    SourceRoot,
    annotation_lines,
    job_summary,
    parse_source_root,
    source_file,
)
from collector.junit import junit_xml
from collector.merge import MAX_RESULTS_BYTES, merge_results
from collector.results import (
    CheckResults,
    ErrorRecord,
    PageRecord,
    Shard,
    summary_of,
    targets_digest,
    verdict_of,
)

pytestmark = pytest.mark.timeout(300)

CHECK_PAGES = Path(__file__).parent / "pages" / "check"
# 10 s per step, as in test_check: pages must load on a loaded machine; the hang
# page (its image answers after 30 s) costs those 10 s, the others overlap it.
FLAGS = ("--linger", "5", "--timeout", "10000", "--quiet")
# Page (or scenario) -> the JUnit element and type it must get.
EXPECTED = {
    "clean-plain.html": None,
    "clean-console-log.html": None,
    "fail-console-error-on-load.html": ("failure", "console"),
    "fail-uncaught-exception.html": ("failure", "exception"),
    "fail-image-404.html": ("failure", "http"),
    "fail-connection-refused.html": ("failure", "request_failed"),
    "fail-hang.html": ("failure", "timeout"),
    "unreachable": ("error", "unreachable"),
    "step-failed.yaml": ("failure", "step_failed"),
    "crash.yaml": ("error", "crash"),
}


def closed_port() -> int:
    """A port nothing listens on (bound, then released): connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def check(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run("check", *args, cwd=cwd, env=env, timeout=280)


def verdicts(junit: bytes) -> dict[str, tuple[str, str | None] | None]:
    """testcase name -> (element, type) of its failure/error, None when it passed.

    Checks the structure a JUnit XSD asks for on the way: testsuites > testsuite >
    testcase, at most one failure or error each, and counts that add up.
    """
    root = ET.fromstring(junit)
    assert root.tag == "testsuites"
    [suite] = root
    assert suite.tag == "testsuite"
    cases = list(suite)
    assert all(case.tag == "testcase" for case in cases)
    found: dict[str, tuple[str, str | None] | None] = {}
    for case in cases:
        assert case.get("classname") and case.get("name") and case.get("time")
        problems = [child for child in case if child.tag in ("failure", "error", "skipped")]
        assert len(problems) <= 1
        assert {child.tag for child in case} <= {"failure", "error", "system-out"}
        found[case.get("name") or ""] = (
            (problems[0].tag, problems[0].get("type")) if problems else None
        )
    failures = sum(1 for v in found.values() if v and v[0] == "failure")
    errors = sum(1 for v in found.values() if v and v[0] == "error")
    for element in (root, suite):
        assert element.get("tests") == str(len(cases))
        assert element.get("failures") == str(failures)
        assert element.get("errors") == str(errors)
        float(element.get("time") or "x")
    assert len(found) == len(cases), "a testcase name twice"
    return found


def short(name: str) -> str:
    return (
        "unreachable"
        if "/check/" not in name and name.startswith("http")
        else name.rsplit("/", 1)[-1]
    )


# ---------------------------------------------------------------- the runs (browser)


@dataclass
class Runs:
    cwd: Path
    pages_url: str
    whole: subprocess.CompletedProcess[str]
    shards: list[subprocess.CompletedProcess[str]]
    targets: list[str]


@pytest.fixture(scope="module")
def runs(pages_url: str, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    cwd = tmp_path_factory.mktemp("ci-outputs")
    urls = [f"{pages_url}check/{name}" for name in EXPECTED if name.endswith(".html")]
    urls.insert(0, urls.pop(urls.index(f"{pages_url}check/fail-hang.html")))  # slowest first
    urls.append(f"http://127.0.0.1:{closed_port()}/")
    (cwd / "pages.txt").write_text("\n".join(urls) + "\n", encoding="utf-8")
    (cwd / "step-failed.yaml").write_text(
        f"steps:\n  - goto: {pages_url}check/clean-plain.html\n"
        "  - evaluate: \"() => { throw new Error('the step broke') }\"\n",
        encoding="utf-8",
    )
    (cwd / "crash.yaml").write_text(
        f"steps:\n  - goto: {pages_url}check/clean-plain.html\n  - goto: chrome://crash\n",
        encoding="utf-8",
    )
    # The repository of the site under test: one of its scripts is there, the others not.
    (cwd / "site").mkdir()
    shutil.copy(CHECK_PAGES / "fail-uncaught-exception.js", cwd / "site")
    items = ("crash.yaml", "step-failed.yaml", "pages.txt")
    whole_args = (
        *items, *FLAGS,
        "--junit", "whole.xml", "--json-file", "whole.json", "--out", "bundles",
        "--github", "--source-root", f"{pages_url}check/=site/",
    )  # fmt: skip
    shard_args = [
        (*items, *FLAGS, "--shard", f"{i}/3", "--json-file", f"shard-{i}.json")
        + (("--json",) if i == 1 else ())
        for i in (1, 2, 3)
    ]
    summary_env = {"GITHUB_STEP_SUMMARY": str(cwd / "summary.md")}
    # The whole run beside the shards: both wait out the hang page's 10 s at the same
    # time (one after the other, 20 s of a worker doing nothing). The shards still run
    # one after the other, so that no more pages open at once than two checks open
    # (eight): each must load within its 10 s on a machine whose cores are all busy.
    with ThreadPoolExecutor(1) as pool:
        started = pool.submit(check, *whole_args, cwd=cwd, env=summary_env)
        shards = [check(*args, cwd=cwd) for args in shard_args]
        whole = started.result()
    for proc in (whole, *shards):
        assert "Traceback" not in proc.stderr, proc.stderr
    return Runs(cwd, pages_url, whole, shards, ["crash.yaml", "step-failed.yaml", *urls])


@pytest.mark.browser
def test_junit_types_by_kind(runs: Runs) -> None:
    assert runs.whole.returncode == 1, runs.whole.stderr
    found = verdicts((runs.cwd / "whole.xml").read_bytes())
    assert list(found) == runs.targets  # input order
    assert {short(name): v for name, v in found.items()} == EXPECTED


@pytest.mark.browser
def test_junit_attaches_the_bundles(runs: Runs) -> None:
    root = ET.parse(runs.cwd / "whole.xml").getroot()
    for case in root.iter("testcase"):
        out = case.find("system-out")
        if EXPECTED[short(case.get("name") or "")] is None:
            assert out is None
            continue
        assert out is not None and out.text
        [bundle_line, attachment] = out.text.splitlines()
        bundle = Path(bundle_line.removeprefix("bundle: "))
        assert bundle.parent == Path("bundles")
        assert attachment == f"[[ATTACHMENT|{bundle / bundle.name}.zip]]"
        assert (runs.cwd / bundle / f"{bundle.name}.zip").is_file()


@pytest.mark.browser
def test_sharded_and_merged_gives_the_verdicts_of_one_run(runs: Runs) -> None:
    for proc in runs.shards:
        assert proc.returncode in (0, 1), proc.stderr
    files = [f"shard-{i}.json" for i in (1, 2, 3)]
    merged = invoke(
        "merge", *files, "--junit", "merged.xml", "--json-file", "merged.json", "--github",
        cwd=runs.cwd, env={"GITHUB_STEP_SUMMARY": str(runs.cwd / "merged-summary.md")},
    )  # fmt: skip
    assert merged.returncode == 1, merged.stdout + merged.stderr
    assert merged.stdout.splitlines()[-1].startswith("10 pages, 2 passed, 8 failed in ")
    assert merged.stdout.splitlines()[-1].endswith(" (3 shards merged)")
    whole = verdicts((runs.cwd / "whole.xml").read_bytes())
    assert verdicts((runs.cwd / "merged.xml").read_bytes()) == whole
    assert list(verdicts((runs.cwd / "merged.xml").read_bytes())) == list(whole)  # same order
    # Each shard ran its own part: together every page once.
    parts = [json.loads((runs.cwd / f).read_text(encoding="utf-8")) for f in files]
    names = [p["name"] for part in parts for p in part["pages"]]
    assert sorted(names) == sorted(runs.targets)
    merged_json = json.loads((runs.cwd / "merged.json").read_text(encoding="utf-8"))
    assert [p["name"] for p in merged_json["pages"]] == runs.targets
    assert merged_json["summary"]["failed"] == 8
    assert (
        (runs.cwd / "merged-summary.md")
        .read_text(encoding="utf-8")
        .startswith("## collector check: failed")
    )


@pytest.mark.browser
def test_check_json_prints_the_results_on_stdout(runs: Runs) -> None:
    proc = runs.shards[0]
    printed = json.loads(proc.stdout)  # stdout is the JSON alone
    written = json.loads((runs.cwd / "shard-1.json").read_text(encoding="utf-8"))
    assert printed == written
    assert printed["schema"] == "collector/check-results@1"
    assert printed["shard"] == {"index": 1, "count": 3}
    # The lines for people went to stderr.
    assert proc.stderr.splitlines()[-1].startswith(f"{len(printed['pages'])} pages, ")


@pytest.mark.browser
def test_annotations_name_a_file_only_when_mapped_and_there(runs: Runs) -> None:
    lines = [line for line in runs.whole.stdout.splitlines() if line.startswith("::")]
    assert lines and all(line.startswith("::error ") for line in lines)
    with_file = [line for line in lines if "file=" in line]
    page = f"{runs.pages_url}check/fail-uncaught-exception.html".replace(":", "%3A")
    assert with_file == [
        f"::error file=site/fail-uncaught-exception.js,line=3,col=9,title=collector check%3A {page}"
        f"::page_error {runs.pages_url}check/fail-uncaught-exception.js:3:9 "
        "TypeError: uncaught on load"
    ]
    # Mapped too, but not in the repository: title and message only.
    console = f"{runs.pages_url}check/fail-console-error-on-load.html".replace(":", "%3A")
    assert (
        f"::error title=collector check%3A {console}::console "
        f"{runs.pages_url}check/fail-console-error-on-load.js:2:9 error on load"
    ) in lines


@pytest.mark.browser
def test_the_job_summary_is_written(runs: Runs) -> None:
    text = (runs.cwd / "summary.md").read_text(encoding="utf-8")
    assert text.startswith("## collector check: failed\n")
    assert "| 10 | 2 | 6 | 2 |" in text  # pages, passed, failures, could not check
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert len(rows) == 8
    hang = next(row for row in rows if "fail-hang.html" in row)
    assert "| timeout, console 1 | step\\_failed: Timeout 10000ms exceeded" in hang
    assert "`bundles/CR-" in hang


# ---------------------------------------------------------------- merge refuses (no browser)


def page(name: str, index: int, *errors: ErrorRecord, outcome: str = "errors") -> PageRecord:
    failed = bool(errors) or outcome in ("unreachable", "crashed", "step_failed")
    return PageRecord(
        name=name,
        index=index,
        failed=failed,
        verdict=verdict_of(
            failed=failed,
            outcome=outcome,
            message="",
            kinds=[e.kind for e in errors],
            problem=False,
            missing_expected=False,
        ),
        reason=f"{outcome}: x" if failed else None,
        outcome=outcome if failed else "clean",
        duration_ms=100,
        errors=list(errors),
    )


def results(
    pages: list[PageRecord], names: list[str], shard: tuple[int, int] | None
) -> CheckResults:
    return CheckResults(
        targets=len(names),
        targets_sha256=targets_digest(names),
        shard=Shard(index=shard[0], count=shard[1]) if shard else None,
        pages=pages,
        summary=summary_of(pages, 1000, shard),
    )


NAMES = ["https://a.test/1", "https://a.test/2", "https://a.test/3"]
CONSOLE = ErrorRecord(kind="console", level="error", text="boom")


def shards_of_three() -> list[tuple[str, CheckResults]]:
    return [
        ("s1.json", results([page(NAMES[0], 0, CONSOLE)], NAMES, (1, 2))),
        ("s2.json", results([page(NAMES[1], 1), page(NAMES[2], 2)], NAMES, (2, 2))),
    ]


def test_merge_orders_pages_as_the_whole_run() -> None:
    parts = shards_of_three()
    merged = merge_results(parts[::-1])
    assert [p.name for p in merged.pages] == NAMES
    assert (merged.summary.pages, merged.summary.failed, merged.summary.passed) == (3, 1, 2)
    assert [s.index for s in merged.shards] == [1, 2]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p[:1], "shard 2 of 2 missing"),
        (lambda p: [p[0], p[0], p[1]], "s1.json: shard 1/2 given twice (also s1.json)"),
        (
            lambda p: [p[0], ("s3.json", results(p[1][1].pages, NAMES, (2, 3)))],
            "s3.json: shard 2/3 does not match s1.json's count of 2",
        ),
        (
            lambda p: [
                p[0],
                ("x.json", results(p[1][1].pages, [*NAMES, "https://a.test/4"], (2, 2))),
            ],
            "x.json: a different target list than s1.json (4 vs 3 targets): not shards of one run",
        ),
        (
            lambda p: [
                p[0],
                ("y.json", results([page(NAMES[0], 0), *p[1][1].pages], NAMES, (2, 2))),
            ],
            "y.json: page 'https://a.test/1' also in s1.json",
        ),
        (
            lambda p: [p[0], ("z.json", results(p[1][1].pages[:1], NAMES, (2, 2)))],
            "the shards hold 2 pages, their run has 3 targets",
        ),
        (lambda p: [], "nothing to merge: give the results files of a check's shards"),
    ],
)
def test_merge_refuses_a_set_that_is_not_one_run(change: Any, message: str) -> None:
    with pytest.raises(BadInput) as info:
        merge_results(change(shards_of_three()))
    assert str(info.value) == message


def test_merge_refuses_merged_results() -> None:
    merged = merge_results(shards_of_three())
    with pytest.raises(BadInput, match=r"^m\.json: already merged results"):
        merge_results([("m.json", merged)])


def write_shards(folder: Path) -> list[str]:
    names = []
    for name, part in shards_of_three():
        (folder / name).write_text(part.to_json(), encoding="utf-8")
        names.append(name)
    return names


def test_merge_command_outputs(tmp_path: Path) -> None:
    files = write_shards(tmp_path)
    ran = invoke("merge", *files, "--junit", "out/j.xml", "--json-file", "m.json", cwd=tmp_path)
    assert ran.returncode == 1, ran.stderr
    assert ran.stdout.splitlines() == [
        "FAIL https://a.test/1: console boom",
        "3 pages, 2 passed, 1 failed in 1.0s (2 shards merged)",
    ]
    assert verdicts((tmp_path / "out" / "j.xml").read_bytes()) == {
        NAMES[0]: ("failure", "console"), NAMES[1]: None, NAMES[2]: None,
    }  # fmt: skip
    assert CheckResults.model_validate_json((tmp_path / "m.json").read_bytes()).shards
    quiet = invoke("merge", *files, "-q", cwd=tmp_path)
    assert quiet.stdout.splitlines() == ["3 pages, 2 passed, 1 failed in 1.0s (2 shards merged)"]
    printed = invoke("merge", *files, "--json", cwd=tmp_path)
    assert json.loads(printed.stdout)["summary"]["failed"] == 1


def test_merge_passes_when_no_page_failed(tmp_path: Path) -> None:
    clean = results([page(n, i) for i, n in enumerate(NAMES)], NAMES, None)
    (tmp_path / "r.json").write_text(clean.to_json(), encoding="utf-8")
    ran = invoke("merge", "r.json", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[-1] == "3 pages, 3 passed, 0 failed in 1.0s (1 shards merged)"


VALID = results([page(NAMES[0], 0)], NAMES[:1], None).model_dump(by_alias=True)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "r.json: not check results (collector/check-results@1): Invalid JSON: EOF"),
        (b"\xff\xfe{", "r.json: not check results (collector/check-results@1): Invalid JSON"),
        (b"[]", "r.json: not check results (collector/check-results@1): Input should be"),
        (b"[" * 100_000, "r.json: not check results (collector/check-results@1): "),
        (
            json.dumps({**VALID, "schema": "collector/report@1"}).encode(),
            "r.json: not check results (collector/check-results@1): its schema is not "
            "collector/check-results@1",
        ),
        (
            json.dumps({**VALID, "pages": [{**VALID["pages"][0], "index": "0"}]}).encode(),
            "r.json: not check results (collector/check-results@1): pages.0.index: "
            "Input should be a valid integer",
        ),
        (
            json.dumps({**VALID, "extra": 1}).encode(),
            "r.json: not check results (collector/check-results@1): extra: Extra inputs",
        ),
        (
            json.dumps({k: v for k, v in VALID.items() if k != "targets_sha256"}).encode(),
            "r.json: not check results (collector/check-results@1): targets_sha256: Field required",
        ),
    ],
)
def test_merge_refuses_hostile_files_with_one_line(
    tmp_path: Path, content: bytes, message: str
) -> None:
    (tmp_path / "r.json").write_bytes(content)
    ran = invoke("merge", "r.json", cwd=tmp_path)
    assert ran.returncode == 2, ran.stdout + ran.stderr
    [line] = ran.stderr.splitlines()
    assert line.startswith("Error: " + message), line
    assert "Traceback" not in ran.stderr


def test_merge_refuses_an_oversized_file(tmp_path: Path) -> None:
    with (tmp_path / "big.json").open("wb") as fh:
        fh.truncate(MAX_RESULTS_BYTES + 1)
    ran = invoke("merge", "big.json", "missing.json", cwd=tmp_path)
    assert ran.returncode == 2
    assert (
        ran.stderr
        == f"Error: big.json: over {MAX_RESULTS_BYTES:,} bytes, not a check results file\n"
    )
    ran = invoke("merge", "missing.json", cwd=tmp_path)
    assert (ran.returncode, ran.stderr) == (2, "Error: missing.json: file not found\n")


# ---------------------------------------------------------------- verdicts, JUnit (pure)


@pytest.mark.parametrize(
    ("outcome", "message", "kinds", "problem", "missing", "expected"),
    [
        ("clean", "", [], False, False, None),
        ("errors", "", ["console"], False, False, ("failure", "console")),
        ("errors", "", ["console", "page_error"], False, False, ("failure", "exception")),
        ("errors", "", ["request_failed", "http_error"], False, False, ("failure", "http")),
        ("errors", "", ["request_failed"], False, False, ("failure", "request_failed")),
        ("errors", "", ["crash"], False, False, ("error", "crash")),
        (
            "step_failed",
            "Timeout 5000ms exceeded.",
            ["console"],
            False,
            False,
            ("failure", "timeout"),
        ),
        ("step_failed", "Error: the step broke", [], False, False, ("failure", "step_failed")),
        ("unreachable", "net::ERR_CONNECTION_REFUSED", [], False, False, ("error", "unreachable")),
        ("crashed", "The page crashed", ["console"], False, False, ("error", "crash")),
        ("crashed", "cannot open a context", [], True, False, ("error", "crash")),
        ("errors", "", [], False, True, ("failure", "missing_expected")),
    ],
)
def test_verdict_of(
    outcome: str, message: str, kinds: list[str], problem: bool, missing: bool, expected: Any
) -> None:
    verdict = verdict_of(
        failed=expected is not None, outcome=outcome, message=message, kinds=kinds,
        problem=problem, missing_expected=missing,
    )  # fmt: skip
    assert ((verdict.element, verdict.type) if verdict else None) == expected


def test_junit_is_valid_xml_whatever_the_page_logs() -> None:
    hostile = "nul\x00 bell\x07 del\x7f end]]> <b>&amp;</b> \ufffe \ud800 done"
    error = ErrorRecord(
        kind="console", level="error", text=hostile, url="https://a.test/x\x01.js", line=1
    )
    pages = [page(f"https://a.test/{hostile}", 0, error), page("https://a.test/ok", 1)]
    data = junit_xml(results(pages, [p.name for p in pages], None))
    found = verdicts(data)  # parses: valid XML
    assert list(found.values()) == [("failure", "console"), None]
    text = ET.fromstring(data).find("testsuite/testcase/failure").text  # type: ignore[union-attr]
    assert "end]]> <b>&amp;</b>" in text
    assert not set(text) & {"\x00", "\x07", "\x7f", "\x01"}


# ---------------------------------------------------------------- annotations (pure)


def test_no_file_without_a_mapping() -> None:
    error = ErrorRecord(
        kind="page_error", level="error", text="E", url="https://a.test/s/err.js", line=3, column=9
    )
    lines = annotation_lines(
        results([page("https://a.test/", 0, error)], ["https://a.test/"], None)
    )
    assert lines == [
        "::error title=collector check%3A https%3A//a.test/::page_error https://a.test/s/err.js:3:9 E"
    ]


def test_a_source_mapped_error_points_at_the_repository_file_when_it_is_there(
    tmp_path: Path,
) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "pay.ts").write_text("x", encoding="utf-8")
    mapped = dict(
        kind="page_error", level="error", text="E", url="https://a.test/app.1.js", line=1,
        column=4821, source_line=20, source_column=45,
    )  # fmt: skip
    title = "title=collector check%3A https%3A//a.test/"
    said = "page_error src/pay.ts:20:45 (https://a.test/app.1.js:1:4821) E"
    cases = {
        "src/pay.ts": f"::error file=src/pay.ts,line=20,col=45,{title}::{said}",
        # Not in the repository, outside it, or absolute: no file, the words stay.
        "src/gone.ts": f"::error {title}::{said.replace('pay.ts', 'gone.ts')}",
        "../pay.ts": f"::error {title}::{said.replace('src/pay.ts', '../pay.ts')}",
        "/etc/passwd": f"::error {title}::{said.replace('src/pay.ts', '/etc/passwd')}",
    }
    for source, expected in cases.items():
        error = ErrorRecord(**mapped, source_file=source)  # type: ignore[arg-type]
        data = results([page("https://a.test/", 0, error)], ["https://a.test/"], None)
        assert annotation_lines(data, cwd=tmp_path) == [expected], source
    # The results file keeps the original location through a merge's round trip.
    error = ErrorRecord(**mapped, source_file="src/pay.ts")  # type: ignore[arg-type]
    assert ErrorRecord.model_validate_json(error.model_dump_json()) == error


def test_source_root_maps_only_files_that_exist(tmp_path: Path) -> None:
    (tmp_path / "site" / "js").mkdir(parents=True)
    (tmp_path / "site" / "js" / "app.js").write_text("x", encoding="utf-8")
    roots = [
        parse_source_root("https://a.test/static/=site/"),
        SourceRoot("https://a.test/", "other/"),
    ]
    assert (
        source_file("https://a.test/static/js/app.js?v=3#x", roots, cwd=tmp_path)
        == "site/js/app.js"
    )
    assert source_file("https://a.test/static/js/gone.js", roots, cwd=tmp_path) is None
    assert source_file("https://a.test/static/../../../etc/passwd", roots, cwd=tmp_path) is None
    assert source_file("https://b.test/static/js/app.js", roots, cwd=tmp_path) is None
    outside = [SourceRoot("https://a.test/", "../")]
    assert source_file("https://a.test/x.js", outside, cwd=tmp_path, exists=lambda p: True) is None
    assert source_file(None, roots, cwd=tmp_path) is None


@pytest.mark.parametrize(
    "text", ["site/", "https://a.test/", "ftp://a.test/=x", "=site/", "https://a.test/="]
)
def test_parse_source_root_rejects(text: str) -> None:
    with pytest.raises(BadInput, match=r"^--source-root .*: expected URL_PREFIX=PATH, e\.g\. "):
        parse_source_root(text)


def test_a_bad_source_root_is_exit_2_before_a_browser_starts(tmp_path: Path) -> None:
    ran = invoke("check", "https://a.test/", "--github", "--source-root", "nope", cwd=tmp_path)
    assert ran.returncode == 2
    assert ran.stderr.startswith("Error: --source-root nope: expected URL_PREFIX=PATH")


def test_annotation_escaping() -> None:
    error = ErrorRecord(
        kind="console", level="error", text="100% done, with: colons\r\nnext",
        url="https://a.test/a,b:c.js", line=2,
    )  # fmt: skip
    name = "https://a.test/p?q=a,b%c"
    lines = annotation_lines(
        results([page(name, 0, error)], [name], None),
        [SourceRoot("https://a.test/", "")],
        exists=lambda p: True,
        cwd=Path("/repo"),
    )
    assert lines == [
        "::error file=a%2Cb%3Ac.js,line=2,title=collector check%3A https%3A//a.test/p?q=a%2Cb%25c"
        "::console https://a.test/a,b:c.js:2 100%25 done, with: colons next"
    ]
    assert github.message("a\r\nb%") == "a%0D%0Ab%25"


# ---------------------------------------------------------------- job summary (pure)


def test_job_summary_escapes_page_text() -> None:
    error = ErrorRecord(
        kind="console", level="error", text="<img src=x onerror=alert(1)> | *bold* `x`\n# h"
    )
    name = "https://a.test/<b>|`"
    text = job_summary(results([page(name, 0, error)], [name], None))
    [row] = [line for line in text.splitlines() if line.startswith("| `")]
    assert "<img" not in row
    assert "&lt;img src=x onerror=alert\\(1\\)&gt; &#124; \\*bold\\* \\`x\\` \\# h" in row
    assert row.startswith("| `https://a.test/<b>\\|'` |")  # a code span: shown as is
    assert row.count(" | ") == 3  # four cells: no pipe of the page's survives


def test_job_summary_is_capped() -> None:
    big = ErrorRecord(kind="console", level="error", text="x" * 5000)
    names = [f"https://a.test/{i}" for i in range(2000)]
    text = job_summary(results([page(n, i, big) for i, n in enumerate(names)], names, None))
    assert len(text.encode("utf-8")) <= MAX_SUMMARY_BYTES
    assert MAX_SUMMARY_BYTES < 1024 * 1024 // 4
    last = text.splitlines()[-1]
    assert last.startswith("… and ") and last.endswith(
        " more failing pages (see the JUnit or JSON results)."
    )
    shown = sum(1 for line in text.splitlines() if line.startswith("| `"))
    assert int(last.split()[2]) == 2000 - shown


def test_job_summary_appends_only_when_asked(tmp_path: Path) -> None:
    target = tmp_path / "summary.md"
    target.write_text("earlier step\n", encoding="utf-8")
    assert github.append_job_summary("## mine", {"GITHUB_STEP_SUMMARY": str(target)}) == target
    assert target.read_text(encoding="utf-8") == "earlier step\n## mine\n\n"
    assert github.append_job_summary("## mine", {}) is None


def test_ci_labels_have_both_languages() -> None:
    from string import Formatter

    from collector.labels import CI_LABELS

    assert set(CI_LABELS) == {"en", "pt"}
    assert set(CI_LABELS["en"]) == set(CI_LABELS["pt"])
    for key, english in CI_LABELS["en"].items():
        fields = {f for _, f, _, _ in Formatter().parse(english) if f}
        assert {f for _, f, _, _ in Formatter().parse(CI_LABELS["pt"][key]) if f} == fields, key
        assert CI_LABELS["pt"][key] != english or key in {"time"}, key


def test_merge_writes_the_job_summary_in_portuguese(tmp_path: Path) -> None:
    files = write_shards(tmp_path)
    summary = tmp_path / "summary.md"
    ran = invoke(
        "merge", *files, "--github", "--lang", "pt", cwd=tmp_path,
        env={"GITHUB_STEP_SUMMARY": str(summary)},
    )  # fmt: skip
    assert ran.returncode == 1, ran.stderr
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("## collector check: falhou\n\nJunção de 2 partes (shards).\n")
    assert "| página | o que falhou | primeiro erro | pacote |" in text
    assert "| `https://a.test/1` | console 1 | console boom |  |" in text
    # Without --github nothing is appended, even with the variable set.
    invoke("merge", *files, cwd=tmp_path, env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert summary.read_text(encoding="utf-8") == text
