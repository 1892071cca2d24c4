"""`collector inbox serve`: the real server on a free port, real uploads, the real browser.

One real bundle (the demo shop's bug, one in-process `collector demo` on the worker's
shared Chromium); every other bundle is that report changed through the library and
zipped in memory, so twenty bundles cost no browser.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import stat
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import test_hostile_bundles as hostile
from pg_cluster import cluster, new_database
from run_collector import invoke
from shared_browser import BrowserLoop

from collector.bundle_reader import open_bundle
from collector.demo.server import DemoServer
from collector.errors import BadInput
from collector.inbox.intake import Refused, read_member, receive
from collector.inbox.serve import Running, ServeOptions, db_path, running
from collector.inbox.store import MIGRATIONS, Store, StoreUnavailable
from collector.labels import INBOX_LABELS
from collector.report import ErrorGroup, FingerprintBasis, Report
from collector.transports import multipart

TOKEN = "inbox-token-3e8d1a"


# -- bundles ------------------------------------------------------------------------------


@dataclass
class Demo:
    folder: Path
    zip_path: Path
    report: Report
    scenario: str


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    work = tmp_path_factory.mktemp("demo")
    ran = invoke("demo", "--out", work / "reports", "-q", cwd=work)
    assert ran.returncode == 0, ran.stderr
    zip_path = Path(ran.stdout.strip().splitlines()[-1])
    received = open_bundle(zip_path, need_scenario=True)
    assert received.scenario_text is not None
    return Demo(zip_path.parent, zip_path, received.report, received.scenario_text)


def reference(n: int) -> str:
    return f"CR-20261201-T{n:05d}"


def bug_b(report: Report) -> Report:
    """Another bug: a ReferenceError of another function (its own fingerprint)."""
    group = ErrorGroup(
        fingerprint="b0b0b0b0b0b0", kind="page_error", count=1, first_step=2,
        message="ReferenceError: total is not defined",
        fingerprint_basis=FingerprintBasis(
            kind="stack", exception="ReferenceError", frames=["sum@/cart.js"]
        ),
    )  # fmt: skip
    return report.model_copy(update={"errors": [group], "events": []})


def bug_c(report: Report) -> Report:
    """A third: the search API answers 503."""
    group = ErrorGroup(
        fingerprint="c0c0c0c0c0c0", kind="http_error", count=2, first_step=1,
        message="HTTP 503 Service Unavailable GET http://shop.example/api/search",
        fingerprint_basis=FingerprintBasis(kind="network", source="/api/search", status=503),
    )  # fmt: skip
    return report.model_copy(update={"errors": [group], "events": []})


def zip_of(report: Report, scenario: str, **extra: bytes) -> bytes:
    """A bundle zip in memory: the report (under its own reference), its steps, ``extra``."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("report.json", report.to_json())
        zf.writestr("scenario.yaml", scenario)
        for name, data in extra.items():
            zf.writestr(name.replace("__", "/"), data)
    return out.getvalue()


# -- the server ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def postgres() -> Iterator[str | None]:
    with cluster() as url:
        yield url


NewDb = Callable[[], "str | None"]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def new_db(request: pytest.FixtureRequest) -> NewDb:
    """Every test below that stores runs on both: SQLite (a file per inbox: None) and a
    database of its own on the throwaway PostgreSQL cluster."""
    if request.param == "sqlite":
        return lambda: None
    url = request.getfixturevalue("postgres")
    if url is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is missing (make setup installs Debian's postgresql)")
        pytest.skip("PostgreSQL is not installed (Debian: apt-get install postgresql)")
    names = iter(range(1_000_000))
    return lambda: new_database(url, f"inbox_{os.getpid()}_{next(names)}")


def serve(root: Path, new_db: NewDb, browser_loop: BrowserLoop | None = None,  # type: ignore[no-untyped-def]
          **options: Any):  # fmt: skip
    from collector.browser import BrowserOptions

    browser = BrowserOptions(cdp=browser_loop.cdp_url) if browser_loop else None
    return running(
        ServeOptions(bundles=root / "bundles", db=new_db(), port=0, token=TOKEN, browser=browser,
                     **options)
    )  # fmt: skip


@pytest.fixture(scope="module")
def inbox(
    tmp_path_factory: pytest.TempPathFactory, browser_loop: BrowserLoop, new_db: NewDb
) -> Iterator[Running]:
    """The inbox the browser and `collector submit` talk to ('fixed' needs a fixed replay)."""
    root = tmp_path_factory.mktemp("inbox")
    (root / "drop").mkdir()
    with serve(
        root, new_db, browser_loop, require_fixed_replay=True, watch=root / "drop", watch_interval_s=3600,
        secrets={"DEMO_SHOP_PASSWORD": "correct horse"},
    ) as running_inbox:
        yield running_inbox


def api_post(url: str, data: bytes, *, token: str = TOKEN, ref: str | None = None,
             ticket: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:  # fmt: skip
    body, kind = multipart(ticket or {"reference": ref}, "bundle.zip", data)
    headers = {"Content-Type": kind, "Authorization": f"Bearer {token}"}
    if ref:
        headers["X-Collector-Reference"] = ref
    request = urllib.request.Request(f"{url}/api/bundles", body, headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=60) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def counts(url: str) -> dict[str, int]:
    return {row["fingerprint"]: row["count"] for row in json.loads(get(f"{url}/api/issues")[2])}


def written(root: Path) -> list[str]:
    """Every file under the bundles folder but the database's own."""
    return sorted(
        str(p.relative_to(root)) for p in root.rglob("*")
        if p.is_file() and not p.name.startswith("inbox.sqlite3")
    )  # fmt: skip


# -- collector submit against the real inbox ---------------------------------------------


def test_collector_submit_gets_201_then_409_from_the_real_inbox(
    demo: Demo, inbox: Running, tmp_path: Path
) -> None:
    env = {"COLLECTOR_INBOX_TOKEN": TOKEN, "XDG_STATE_HOME": str(tmp_path / "state")}
    ran = invoke("submit", demo.folder, "--inbox", inbox.url + "/", cwd=tmp_path, env=env)
    assert ran.returncode == 0, ran.stderr
    issue_id = inbox.inbox.store.has_report(demo.report.reference)
    assert f"Issue: {inbox.url}/issues/{issue_id}" in ran.stderr.splitlines()
    elsewhere = tmp_path / "elsewhere"  # another machine: its own sent record
    elsewhere.mkdir()
    env["XDG_STATE_HOME"] = str(elsewhere / "state")
    again = invoke("submit", demo.folder, "--inbox", inbox.url, "--json", cwd=elsewhere, env=env)
    assert again.returncode == 0, again.stderr
    (sent,) = json.loads(again.stdout)["sent"]
    assert (sent["status"], sent["http_status"], sent["issue_url"]) == (
        "already_received", 409, f"{inbox.url}/issues/{issue_id}",
    )  # fmt: skip
    stored = inbox.inbox.bundles / demo.report.reference / f"{demo.report.reference}.zip"
    assert stored.read_bytes() == demo.zip_path.read_bytes()
    wrong = invoke("submit", demo.folder, "--inbox", inbox.url, "--force", cwd=tmp_path,
                   env={**env, "COLLECTOR_INBOX_TOKEN": "guessed"})  # fmt: skip
    assert wrong.returncode == 3
    assert wrong.stderr.splitlines()[-1] == (
        f"Error: {inbox.url}/api/bundles answered 401 Unauthorized: "
        "missing or wrong upload token"
    )


# -- grouping -----------------------------------------------------------------------------


def test_twenty_bundles_of_three_bugs_are_three_issues_with_their_counts(
    demo: Demo, new_db: NewDb, tmp_path: Path
) -> None:
    a, b, c = demo.report, bug_b(demo.report), bug_c(demo.report)
    plan = [a] * 11 + [b] * 6 + [c] * 3
    with serve(tmp_path, new_db) as server:
        for n, bug in enumerate(plan):
            ref = reference(n)
            copy = bug.model_copy(update={"reference": ref, "created": f"2026-12-01T10:{n:02d}:00Z"})
            status, answer = api_post(server.url, zip_of(copy, demo.scenario), ref=ref)
            assert status == 201, answer
        found = json.loads(get(f"{server.url}/api/issues")[2])
        by_message = {row["message"]: row for row in found}
        assert len(found) == 3
        demo_issue = by_message["TypeError: Cannot read properties of undefined (reading 'card')"]
        assert demo_issue["count"] == 11
        assert (demo_issue["first_seen"], demo_issue["last_seen"]) == (
            "2026-12-01T10:00:00Z", "2026-12-01T10:10:00Z",
        )  # fmt: skip
        assert by_message["ReferenceError: total is not defined"]["count"] == 6
        assert by_message[bug_c(a).errors[0].message]["count"] == 3
        # The issue is the failing fingerprint the report carries, never one made here.
        assert demo_issue["fingerprint"] == next(
            g.fingerprint for g in a.errors if g.kind == "page_error"
        )
        assert demo_issue["browsers"] == [f"chromium {a.environment.browser_version.split('.')[0]}"]
        # A search by another of its fingerprints (the HTTP 500) finds the same issue.
        http = next(g.fingerprint for g in a.errors if g.kind == "http_error")
        assert [row["id"] for row in json.loads(get(f"{server.url}/api/issues?q={http}")[2])] == [
            demo_issue["id"]
        ]
        assert server.inbox.store.counts() == {"issues": 3, "reports": 20}


# -- hostile uploads ----------------------------------------------------------------------


def _zip_entries(*entries: tuple[zipfile.ZipInfo | str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for info, data in entries:
            zf.writestr(info, data)
    return out.getvalue()


def _symlink_entry(report_text: str) -> bytes:
    link = zipfile.ZipInfo("screenshots/shadow")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    return _zip_entries(("report.json", report_text.encode()), (link, b"/etc/shadow"))


def _folder_case(make: Callable[[Path], Path]) -> Callable[[Path], bytes]:
    def build(tmp_path: Path) -> bytes:
        return hostile.as_zip(make(tmp_path)).read_bytes()

    return build


GOOD = hostile.report().to_json()
HOSTILE_UPLOADS = [
    pytest.param(_folder_case(hostile.traversal_reference), "is not a reference number", id="traversal-reference"),
    pytest.param(_folder_case(hostile.crlf_reference), "is not a reference number", id="crlf-reference"),
    pytest.param(_folder_case(hostile.deep_report), "nested deeper than 32 levels", id="deep-json-100000"),
    pytest.param(_folder_case(hostile.deep_but_decodable_report), "nested deeper than 32 levels", id="deep-json-500"),
    pytest.param(_folder_case(hostile.huge_string_report), "zip bomb?", id="50MB-string"),
    pytest.param(_folder_case(hostile.huge_number_report), "report.json is not valid JSON", id="100000-digit-number"),
    pytest.param(_folder_case(hostile.binary_report), "report.json is not UTF-8 text", id="binary-report"),
    pytest.param(lambda _: _zip_entries(("report.json", GOOD.encode()), ("../../escape.txt", b"x")), "unsafe entry", id="dotdot-entry"),
    pytest.param(lambda _: _zip_entries(("report.json", GOOD.encode()), ("/etc/cron.d/x", b"x")), "unsafe entry", id="absolute-entry"),
    pytest.param(lambda _: _symlink_entry(GOOD), "is a link; bundles hold plain files", id="symlink-entry"),
    pytest.param(lambda _: _zip_entries(("scenario.yaml", b"steps: []")), "report.json is missing", id="no-report"),
    pytest.param(lambda _: b"PK\x03\x04 not really a zip", "not a bundle", id="broken-zip"),
    pytest.param(lambda _: b"<html>not a zip</html>", "not a bundle zip", id="not-a-zip"),
]  # fmt: skip


@pytest.mark.parametrize(("make", "message"), HOSTILE_UPLOADS)
def test_a_hostile_upload_is_refused_and_nothing_is_written(
    make: Callable[[Path], bytes], message: str, inbox: Running, tmp_path: Path
) -> None:
    data = make(tmp_path)
    before = (written(inbox.inbox.bundles), inbox.inbox.store.counts())
    status, answer = api_post(inbox.url, data)
    assert status in (400, 413, 422), answer
    assert message in answer["error"], answer
    assert hostile.AGENT_TOKEN not in answer["error"]
    assert str(inbox.inbox.bundles) not in answer["error"]  # the temp file's name stays home
    assert (written(inbox.inbox.bundles), inbox.inbox.store.counts()) == before


def test_the_api_wants_the_token_and_the_header_s_reference(demo: Demo, inbox: Running) -> None:
    data = zip_of(demo.report.model_copy(update={"reference": reference(90)}), demo.scenario)
    before = written(inbox.inbox.bundles)
    assert api_post(inbox.url, data, token="guess")[0] == 401
    status, answer = api_post(inbox.url, data, ref=reference(91))
    assert status == 400 and "is not the bundle's" in answer["error"], answer
    assert written(inbox.inbox.bundles) == before


# -- the folder watch ---------------------------------------------------------------------


def test_a_watched_folder_takes_a_complete_zip_once_and_refuses_a_hostile_one(
    demo: Demo, inbox: Running
) -> None:
    watch = inbox.watch
    assert watch is not None
    drop = watch.folder
    good = demo.report.model_copy(update={"reference": reference(80)})
    (drop / "good.zip").write_bytes(zip_of(good, demo.scenario))
    (drop / "bad.zip").write_bytes(_symlink_entry(GOOD))
    (drop / "notes.txt").write_text("not a bundle")
    assert watch.poll() == 0  # first sight: maybe still being copied
    assert inbox.inbox.store.has_report(good.reference) is None
    assert watch.poll() == 2
    assert watch.poll() == 0  # taken once
    assert inbox.inbox.store.has_report(good.reference) is not None
    assert sorted(p.name for p in drop.iterdir()) == ["done", "notes.txt", "refused"]
    assert (drop / "done" / "good.zip").is_file()
    why = (drop / "refused" / "bad.zip.why.txt").read_text()
    assert why.startswith("bad.zip: entry 'screenshots/shadow' is a link"), why


def test_a_file_still_growing_is_not_taken(demo: Demo, inbox: Running) -> None:
    watch = inbox.watch
    assert watch is not None
    data = zip_of(demo.report.model_copy(update={"reference": reference(81)}), demo.scenario)
    target = watch.folder / "growing.zip"
    target.write_bytes(data[:100])
    assert watch.poll() == 0
    target.write_bytes(data)  # another size: seen anew
    assert watch.poll() == 0
    assert watch.poll() == 1
    assert inbox.inbox.store.has_report(reference(81)) is not None


def test_a_watched_zip_whose_reference_another_upload_is_storing_waits_for_a_later_poll(
    demo: Demo, inbox: Running
) -> None:
    watch = inbox.watch
    assert watch is not None
    ref = reference(82)
    theirs = inbox.inbox.bundles / ref / f"{ref}.zip"
    theirs.parent.mkdir(parents=True)
    theirs.write_bytes(b"the other upload's zip")
    (watch.folder / "same.zip").write_bytes(zip_of(demo.report.model_copy(update={"reference": ref}), demo.scenario))
    assert watch.poll() == 0  # first sight
    assert watch.poll() == 0  # busy: neither taken nor refused
    assert (watch.folder / "same.zip").is_file()
    assert not (watch.folder / "refused" / "same.zip").exists()
    theirs.unlink()
    assert watch.poll() == 1  # the very next poll
    assert inbox.inbox.store.has_report(ref) is not None


# -- pages --------------------------------------------------------------------------------


def test_page_text_is_escaped_and_files_come_only_from_the_bundle(
    demo: Demo, inbox: Running
) -> None:
    ref = reference(70)
    evil = demo.report.model_copy(update={"reference": ref, "title": hostile.HOSTILE_TEXT})
    shot = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    data = zip_of(evil, demo.scenario, **{"screenshots__one.png": shot, "report.html": b"<p>hi"})
    assert api_post(inbox.url, data, ref=ref)[0] == 201
    status, headers, page = get(f"{inbox.url}/reports/{ref}")
    assert status == 200
    assert b"<script>alert(1)" not in page and b"&lt;script&gt;alert(1)" in page
    assert b"<img src=http://evil" not in page
    assert "default-src 'none'" in headers["content-security-policy"]
    status, headers, html = get(f"{inbox.url}/reports/{ref}/files/report.html")
    assert (status, html) == (200, b"<p>hi")
    assert headers["content-security-policy"].endswith("; sandbox")
    assert "default-src 'none'" in headers["content-security-policy"]
    assert get(f"{inbox.url}/reports/{ref}/files/screenshots/one.png")[2] == shot
    for outside in ("../inbox.sqlite3", "%2e%2e/inbox.sqlite3", "..%2f..%2fetc/passwd",
                    f"../{ref}.zip/report.json", "/etc/passwd", "console.log"):  # fmt: skip
        assert get(f"{inbox.url}/reports/{ref}/files/{outside}")[0] == 404, outside
    assert get(f"{inbox.url}/reports/..%2f..%2fetc/files/report.json")[0] == 404
    status, headers, ticket = get(f"{inbox.url}/reports/{ref}/ticket.md?lang=pt")
    assert status == 200 and "Rascunho" in ticket.decode()
    status, headers, eml = get(f"{inbox.url}/reports/{ref}/ticket.eml")
    assert status == 200 and b"X-Collector-Reference: " + ref.encode() in eml


def test_a_form_without_its_csrf_token_changes_nothing(demo: Demo, inbox: Running) -> None:
    issue_id = inbox.inbox.store.has_report(demo.report.reference) or 1
    body = b"status=wontfix&assignee=mallory&csrf=forged"
    request = urllib.request.Request(
        f"{inbox.url}/issues/{issue_id}", body, method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded",
                 "Cookie": "collector_csrf=another"},
    )  # fmt: skip
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 403
    issue = inbox.inbox.store.issue(issue_id)
    assert issue is not None and (issue["status"], issue["assignee"]) == ("new", "")


def test_the_browser_uploads_lists_opens_searches_replays_and_marks_fixed(
    demo: Demo, inbox: Running, browser_loop: BrowserLoop, tmp_path: Path
) -> None:
    """The support agent's whole round, in the real Chromium."""
    ref = reference(60)
    upload = tmp_path / f"{ref}.zip"
    upload.write_bytes(
        zip_of(demo.report.model_copy(update={"reference": ref}), demo.scenario,
               **{"console.log": b"00:01 step 4 error TypeError: boom\n"})
    )  # fmt: skip

    async def round_trip(browser: Any) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        context = await browser.new_context()
        try:
            page = await context.new_page()
            await page.goto(f"{inbox.url}/upload")
            await page.set_input_files("input[name=bundle]", str(upload))
            await page.click("button[type=submit] >> text=Upload")
            await page.wait_for_url("**/issues/*")
            seen["issue_url"] = page.url
            seen["issue_count"] = await page.text_content("#count")
            await page.goto(inbox.url + "/")
            seen["rows"] = await page.locator("#issues tbody tr").count()
            await page.goto(seen["issue_url"])
            await page.click(f"text={ref}")
            await page.wait_for_url(f"**/reports/{ref}")
            seen["steps"] = await page.locator("#steps li").count()
            seen["console"] = await page.text_content("#console")
            await page.fill("input[name=q]", ref)
            await page.press("input[name=q]", "Enter")
            await page.wait_for_url("**/?q=*")
            seen["found"] = await page.locator("#issues tbody tr").count()
            # 'fixed' before any replay held: refused.
            await page.goto(seen["issue_url"])
            await page.select_option("select[name=status]", "fixed")
            async with page.expect_navigation():
                await page.click("text=Save")
            seen["refused_fixed"] = await page.text_content(".message")
            # Replay against the fixed shop, expecting it fixed.
            with DemoServer("fixed") as shop:
                await page.goto(f"{inbox.url}/reports/{ref}")
                await page.select_option("select[name=expect]", "fixed")
                await page.fill("input[name=url]", shop.url)
                await page.click("button >> text=Replay")
                await page.wait_for_url("**said=replay_asked")
                for _ in range(600):
                    state = await page.text_content("#replays tbody tr .state")
                    if state in ("done", "failed"):
                        break
                    await page.wait_for_timeout(100)
                    await page.reload()
                seen["verdict"] = await page.text_content("#replays tbody tr .verdict")
                seen["replay_row"] = await page.text_content("#replays tbody tr")
            await page.goto(seen["issue_url"])
            await page.select_option("select[name=status]", "fixed")
            await page.fill("input[name=assignee]", "ana")
            async with page.expect_navigation():
                await page.click("text=Save")
            seen["status"] = await page.input_value("select[name=status]")
            seen["assignee"] = await page.input_value("input[name=assignee]")
        finally:
            await context.close()
        return seen

    seen = browser_loop.run(round_trip, timeout=180)
    issue_id = inbox.inbox.store.has_report(ref)
    assert seen["issue_url"] == f"{inbox.url}/issues/{issue_id}"
    assert int(seen["issue_count"]) == len(inbox.inbox.store.reports_of(issue_id or 0))
    assert seen["rows"] == len(inbox.inbox.store.issues())
    assert seen["steps"] == len(demo.report.steps)
    assert "TypeError: boom" in seen["console"]
    assert seen["found"] == 1
    assert seen["refused_fixed"] == INBOX_LABELS["en"]["needs_fixed_replay"]
    assert seen["verdict"] == "not reproduced", seen["replay_row"]
    assert "as expected" in seen["replay_row"]
    assert (seen["status"], seen["assignee"]) == ("fixed", "ana")
    # The replay's own bundle stays in the inbox's folder, out of the served ones.
    assert inbox.inbox.store.passed_fixed_replay(issue_id or 0)
    assert read_member(inbox.inbox.bundles, ref, "report.json") is not None


# -- pure parts ---------------------------------------------------------------------------


def test_the_schema_is_migrated_once_in_wal_mode(tmp_path: Path) -> None:
    store = Store(tmp_path / "x.sqlite3")
    store.close()
    again = Store(tmp_path / "x.sqlite3")  # opening again applies nothing twice
    assert again.schema_version() == len(MIGRATIONS)
    assert again._one("PRAGMA journal_mode") == {"journal_mode": "wal"}
    assert again._all("SELECT version FROM migrations") == [
        {"version": n} for n in range(1, len(MIGRATIONS) + 1)
    ]
    again.close()


def test_a_locked_database_is_try_again_later_and_leaves_no_file(
    demo: Demo, tmp_path: Path
) -> None:
    store = Store(tmp_path / "inbox.sqlite3", busy_timeout_ms=10)
    other = sqlite3.connect(tmp_path / "inbox.sqlite3", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another process holds the database
    data = zip_of(demo.report.model_copy(update={"reference": reference(99)}), demo.scenario)
    with pytest.raises(StoreUnavailable, match="the inbox's database is busy: database is locked"):
        receive(data, tmp_path / "bundles", store)
    assert list((tmp_path / "bundles").iterdir()) == []
    other.execute("ROLLBACK")
    assert receive(data, tmp_path / "bundles", store).stored.already is False
    other.close()
    store.close()


def test_an_upload_never_writes_over_the_file_another_upload_of_its_reference_stores(
    demo: Demo, tmp_path: Path
) -> None:
    """Two uploads of one reference at once (a retried submit, two servers on one store):
    the second finds the first's file written and its row not yet, and must leave it be."""
    store = Store(tmp_path / "inbox.sqlite3")
    ref = reference(98)
    data = zip_of(demo.report.model_copy(update={"reference": ref}), demo.scenario)
    theirs = tmp_path / "bundles" / ref / f"{ref}.zip"
    theirs.parent.mkdir(parents=True)
    theirs.write_bytes(b"the other upload's zip")
    with pytest.raises(Refused, match="being stored by another upload") as refused:
        receive(data, tmp_path / "bundles", store)
    assert refused.value.status == 503  # submit sends it again later
    assert theirs.read_bytes() == b"the other upload's zip"
    assert sorted(p.name for p in (tmp_path / "bundles").iterdir()) == [ref]  # no temp file
    theirs.unlink()  # the other upload failed and took its file away: this one goes in
    assert receive(data, tmp_path / "bundles", store).stored.already is False
    assert theirs.read_bytes() == data
    store.close()


def test_db_urls(tmp_path: Path) -> None:
    assert db_path(None, tmp_path) == tmp_path / "inbox.sqlite3"
    assert db_path("sqlite:///tmp/x.db", tmp_path) == Path("tmp/x.db")
    assert db_path("team.db", tmp_path) == Path("team.db")
    assert db_path("postgresql://inbox@db/inbox", tmp_path) == "postgresql://inbox@db/inbox"
    with pytest.raises(BadInput, match="expected a SQLite file"):
        db_path("mysql://inbox@db/inbox", tmp_path)


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--db", "postgresql://nobody@127.0.0.1:1/db"], "Error: --db: cannot connect to PostgreSQL: "),
        (["--watch", "nowhere"], "Error: --watch nowhere: no such folder"),
        (["--db", "mysql://h/db"], "Error: --db: expected a SQLite file, sqlite:///path or postgresql://…, not mysql:"),
    ],
)  # fmt: skip
def test_bad_serve_options_are_one_line_exit_2(args: list[str], line: str, tmp_path: Path) -> None:
    ran = invoke("inbox", "serve", "--port", "0", *args, cwd=tmp_path)
    (said,) = ran.stderr.splitlines()
    assert said.startswith(line), said
    assert ran.returncode == (3 if "cannot connect" in line else 2)
    assert not (tmp_path / "inbox").exists()


def test_inbox_labels_have_both_languages() -> None:
    assert set(INBOX_LABELS["en"]) == set(INBOX_LABELS["pt"])
    assert os.environ.get("COLLECTOR_INBOX_TOKEN") is None
