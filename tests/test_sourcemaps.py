"""Source maps (issue 16): minified stacks become the original TypeScript, in every file.

One module-scoped run drives a page built by esbuild (tests/sourcemap_site.py) with
every kind of map: external (sourceMappingURL comment), inline (data: URL), a
``SourceMap`` header, an index map (sections) of a second build whose minified names
differ, one not deployed at all (found in ``--source-maps DIR``), and seven broken
maps (404, 50 MB, invalid JSON, version 2, file: URL, a path out of the folder, a
map that never answers). Every test below asserts on that one run.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from run_collector import invoke
from sourcemap_site import BAD_MAPS, BUNDLES, build_site, esbuild_missing, serve

from collector.fingerprint import fingerprint, original_top_frame
from collector.report import Event, Frame, OriginalLocation, SourceLine
from collector.sourcemaps import MapProblem, data_url_bytes, display_path, map_reference
from collector.stacks import frames_from_stack, readable_stack

APP_SOURCES = Path(__file__).parent / "sourcemap-app" / "src"

pytestmark = pytest.mark.browser

# src/cart/discount.ts line 20: `  const off = Math.round((subtotal * coupon.percent) / 100);`
# V8 points at `percent` (column 45), the property read that throws.
BUG = "at applyDiscount (src/cart/discount.ts:20:45)"
BUG_LINE = "  const off = Math.round((subtotal * coupon.percent) / 100);"


@pytest.fixture(scope="module")
def minified(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    missing = esbuild_missing()
    if missing:
        if __import__("os").environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    built = build_site()
    work = tmp_path_factory.mktemp("sourcemaps")
    # Long enough for every other script and map on a machine with both cores busy; the
    # map that times out never answers.
    (work / "collector.toml").write_text("source_map_timeout = 3\n")
    with serve(built / "site") as (base, seen, headers_of):
        clicks = "".join(f"  - click: '#pay-{name}'\n" for name in BUNDLES)
        (work / "minified.yaml").write_text(
            f"name: Minified cart\nurl: {base}/\nsteps:\n  - goto: /index.html\n{clicks}"
            "  - click: '#log-ext'\n"
        )
        ran = invoke(
            "repro", "minified.yaml", "--out", "out", "--source-maps", built / "maps",
            "--linger", "0.5", cwd=work,
        )  # fmt: skip
        seen_paths = list(seen)
        # The same site without the local folder: local.js's map is not served (404).
        (work / "local.yaml").write_text(
            f"url: {base}/\nsteps:\n  - goto: /local.html\n  - click: '#pay-local'\n"
        )
        unresolved = invoke("repro", "local.yaml", "--out", "unresolved", "--linger", "0.5", cwd=work)
        before_check = seen.count("/assets/ext.js.map")
        # The site's repository checked out where check runs (as in CI): its annotations
        # point at the developer's files.
        shutil.copytree(APP_SOURCES, work / "src", dirs_exist_ok=True)
        checked = invoke(
            "check", f"{base}/logs.html?page=1", f"{base}/logs.html?page=2", "--out", "checked",
            "--json-file", "checked.json", "--linger", "0.5", "--github", "--junit",
            "checked.xml", cwd=work,
        )  # fmt: skip
        check_fetches = seen.count("/assets/ext.js.map") - before_check
        seen_all = list(seen)
    (bundle,) = [p for p in (work / "out").iterdir() if p.is_dir()]
    report = json.loads((bundle / "report.json").read_text())
    (plain,) = [p for p in (work / "unresolved").iterdir() if p.is_dir()]
    return {
        "work": work,
        "maps": built / "maps",
        "unresolved": (unresolved, plain),
        "check": (checked, check_fetches),
        "seen_all": seen_all,
        "ran": ran,
        "report": report,
        "bundle": bundle,
        "base": base,
        "seen": seen_paths,
        "headers_of": headers_of,
        "errors": {_script(e): e for e in report["events"] if e["kind"] == "page_error"},
    }


def _script(event: dict[str, Any]) -> str:
    return event["frames"][0]["url"].rsplit("/", 1)[1].removesuffix(".js")


def test_the_run_is_intact_whatever_the_maps(minified: dict[str, Any]) -> None:
    report = minified["report"]
    assert minified["ran"].returncode == 1, minified["ran"].stderr
    assert "Traceback" not in minified["ran"].stderr
    assert [s["status"] for s in report["steps"]] == ["ok"] * (len(BUNDLES) + 2)
    assert sorted(minified["errors"]) == sorted(BUNDLES)


@pytest.mark.parametrize("name", BUNDLES)
def test_every_kind_of_map_resolves_the_exact_original_frame(
    minified: dict[str, Any], name: str
) -> None:
    # ext: comment; inline: data: URL; header: SourceMap header; v2: index map;
    # local: not served, from --source-maps DIR.
    frames = minified["errors"][name]["frames"]
    top = frames[0]
    assert top["url"] == f"{minified['base']}/assets/{name}.js"
    assert top["line"] == 1 and top["function"] in ("u", "i")  # generated, kept
    original = top["original"]
    assert (original["file"], original["line"], original["column"], original["function"]) == (
        "src/cart/discount.ts", 20, 45, "applyDiscount"
    )  # fmt: skip
    assert [(c["line"], c["text"]) for c in original["context"]][1:4] == [
        (19, "  const coupon = findCoupon(code) as Coupon;"),
        (20, BUG_LINE),
        (21, "  return subtotal - off;"),
    ]
    callers = [(f["original"]["function"], f["original"]["file"]) for f in frames[1:3]]
    assert callers == [("checkoutTotal", "src/cart/checkout.ts"), ("onPay", "src/main.ts")]


def test_a_console_error_is_resolved_at_its_call(minified: dict[str, Any]) -> None:
    (logged,) = [e for e in minified["report"]["events"] if e["text"].startswith("checkout failed")]
    original = logged["frames"][0]["original"]
    assert (original["file"], original["line"], original["function"]) == (
        "src/main.ts", 20, "reportLater"
    )  # fmt: skip


def test_two_builds_with_other_minified_names_give_one_fingerprint(
    minified: dict[str, Any],
) -> None:
    errors = minified["errors"]
    assert errors["ext"]["frames"][0]["function"] != errors["v2"]["frames"][0]["function"]
    groups = [g for g in minified["report"]["errors"] if g["kind"] == "page_error"]
    assert len(groups) == 1 and groups[0]["count"] == len(BUNDLES)
    # Without the originals, the two builds are two bugs: the originals are what groups them.
    generated = {
        fingerprint("page_error", e["text"], e["stack"], e["url"]) for e in errors.values()
    }
    assert len(generated) > 1


def test_each_map_is_fetched_once_per_run(minified: dict[str, Any]) -> None:
    seen = minified["seen"]
    # ext.js threw twice (pay, log): its map is asked for once; the local one never.
    assert seen.count("/assets/ext.js.map") == 1
    assert "/assets/local.js.map" not in seen
    assert seen.count("/assets/header.js.map") == 1 and seen.count("/assets/v2.js.map") == 1


def test_maps_are_fetched_with_the_pages_cookies_and_user_agent(minified: dict[str, Any]) -> None:
    headers = minified["headers_of"]["/assets/ext.js.map"]
    assert headers.get("Cookie") == "shop=minified"
    page_agent = minified["headers_of"]["/index.html"]["User-Agent"]
    assert headers.get("User-Agent") == page_agent


def test_check_fetches_a_map_once_for_all_its_pages(minified: dict[str, Any]) -> None:
    checked, fetches = minified["check"]
    assert checked.returncode == 1, checked.stderr
    bundles = [p for p in (minified["work"] / "checked").iterdir() if p.is_dir()]
    assert len(bundles) == 2
    for bundle in bundles:
        report = json.loads((bundle / "report.json").read_text())
        (logged,) = [e for e in report["events"] if e["text"].startswith("checkout failed")]
        assert logged["frames"][0]["original"]["function"] == "reportLater"
    assert fetches == 1
    # CI's words name the developer's file first, then what the browser ran.
    line = re.compile(
        r"FAIL \S+/logs\.html\?page=1: console src/main\.ts:20:13 "
        r"\(http://\S+/assets/ext\.js:\d+:\d+\) checkout failed.*"
    )
    assert any(line.fullmatch(text) for text in checked.stdout.splitlines()), checked.stdout
    junit = (minified["work"] / "checked.xml").read_text()
    assert "console src/main.ts:20:13 (http://" in junit
    annotations = [a for a in checked.stdout.splitlines() if a.startswith("::error file=")]
    assert annotations and all(
        a.startswith("::error file=src/main.ts,line=20,col=13,") for a in annotations
    ), checked.stdout
    # A frame of the page's inline script: the page is not fetched again for a map.
    assert minified["seen_all"].count("/logs.html?page=1") == 1


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("bad-404", r"bad-404\.js\.map answered HTTP 404"),
        ("bad-big", r"big\.map is too big \(50,000,000 bytes, limit 20,000,000\)"),
        ("bad-json", r"bad-json\.js\.map is not valid JSON"),
        ("bad-version", r"has version 2; only version 3 is read"),
        ("bad-scheme", r"the map 'file:///etc/passwd' points outside the site; not read"),
        ("bad-outside", r"the map '\.\./secret\.map' points outside .*maps; not read"),
        ("bad-timeout", r"hang\.map not answered within 3 s \(timeout\)"),
    ],
)
def test_a_bad_map_leaves_the_frames_generated_with_a_note(
    minified: dict[str, Any], name: str, why: str
) -> None:
    assert name in BAD_MAPS
    (event,) = [e for e in minified["report"]["events"] if f"/assets/{name}.js" in e["text"]]
    assert event["frames"][0]["original"] is None
    notes = [n for n in minified["report"]["capture_problems"] if f"/assets/{name}.js:" in n]
    assert len(notes) == 1 and re.search(why, notes[0]), notes
    assert notes[0].endswith("frames stay as generated")


def test_ticket_shows_original_frames_first_with_the_source(minified: dict[str, Any]) -> None:
    ticket = (minified["bundle"] / "ticket.md").read_text()
    assert BUG in ticket and f"> 20 | {BUG_LINE}" in ticket
    assert ticket.index(BUG) < ticket.index(f"at u ({minified['base']}/assets/ext.js:1:")
    assert "Location: `src/cart/discount.ts:20:45 (" in ticket


def test_report_html_shows_original_frames_first(minified: dict[str, Any]) -> None:
    page = (minified["bundle"] / "report.html").read_text()
    assert html.escape(BUG, quote=False) in page
    assert html.escape(f"> 20 | {BUG_LINE}", quote=False) in page
    assert page.index(html.escape(BUG, quote=False)) < page.index("at u (")


def test_console_log_shows_original_frames_first(minified: dict[str, Any]) -> None:
    log = (minified["bundle"] / "console.log").read_text()
    assert BUG in log and "at reportLater (src/main.ts:20:13)" in log
    assert log.index(BUG) < log.index("at u (")


# -- pure parts ------------------------------------------------------------------------


def test_map_reference_prefers_the_header_and_takes_the_last_comment() -> None:
    script = b'let s="//# sourceMappingURL=no.map";\n//# sourceMappingURL=app.js.map\n'
    assert map_reference(script, {}) == "app.js.map"
    assert map_reference(script, {"X-SourceMap": "/h.map"}) == "/h.map"
    assert map_reference(b'let s="//# sourceMappingURL=no.map";f()\n', {}) is None
    assert map_reference(b"f()\n", {}) is None


def test_inline_maps_decode_and_refuse_what_is_too_big() -> None:
    assert data_url_bytes("data:application/json;base64,eyJ2IjozfQ==", 100) == b'{"v":3}'
    assert data_url_bytes("data:application/json,%7B%7D", 100) == b"{}"
    with pytest.raises(MapProblem, match="too big"):
        data_url_bytes("data:application/json;base64," + "A" * 400, 100)


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        ("../src/cart/discount.ts", "src/cart/discount.ts"),
        ("webpack:///./src/a.ts", "src/a.ts"),
        ("../../../../etc/passwd", "etc/passwd"),
        ("src/a.ts", "src/a.ts"),
    ],
)
def test_source_paths_are_shown_without_climbing(source: str, shown: str) -> None:
    assert display_path(source) == shown


def test_v8_stacks_parse_into_frames() -> None:
    frames = frames_from_stack(
        "TypeError: x\n    at u (https://s/a.js:1:226)\n    at https://s/a.js:1:9\n"
        "    at new Promise (<anonymous>)"
    )
    assert [(f.function, f.url, f.line, f.column) for f in frames] == [
        ("u", "https://s/a.js", 1, 226), (None, "https://s/a.js", 1, 9),
        ("new Promise", None, None, None),
    ]  # fmt: skip


def _resolved(function: str, url: str) -> Frame:
    original = OriginalLocation(
        file="src/a.ts", line=3, column=5, function="pay",
        context=[SourceLine(line=3, text="  pay();")],
    )  # fmt: skip
    return Frame(function=function, url=url, line=1, column=9, original=original)


def test_fingerprint_prefers_the_original_top_frame() -> None:
    one, two = _resolved("u", "https://s/app.1.js"), _resolved("i", "https://s/app.2.js")
    assert original_top_frame([one]) == "pay@src/a.ts"
    assert fingerprint("page_error", "E", frames=[one]) == fingerprint("page_error", "E", frames=[two])
    bare = [one.model_copy(update={"original": None})]
    assert original_top_frame(bare) is None
    assert fingerprint("page_error", "E", "E\n    at u (https://s/app.1.js:1:9)", frames=bare) != (
        fingerprint("page_error", "E", "E\n    at i (https://s/app.2.js:1:9)", frames=bare)
    )


def test_an_exception_groups_by_its_original_frames() -> None:
    # Issue 20's stack grouping reads the original frames: the basis names them, not the
    # minified ones, and an unresolved frame below keeps its generated place.
    from collector.fingerprint import fingerprint_basis

    below = Frame(function="k", url="https://s/vendor.js", line=1, column=2)
    basis = fingerprint_basis(
        "page_error", "TypeError: x is undefined", "TypeError: x\n    at u (https://s/app.1.js:1:9)",
        frames=[_resolved("u", "https://s/app.1.js"), below],
    )  # fmt: skip
    assert basis.kind == "stack"
    assert basis.frames == ["pay@src/a.ts", "k@/vendor.js"]


def test_readable_stack_is_the_captured_one_when_nothing_resolved() -> None:
    stack = "E\n    at u (https://s/a.js:1:9)"
    assert readable_stack(stack, frames_from_stack(stack)) == stack
    shown = readable_stack(stack, [_resolved("u", "https://s/a.js")])
    assert shown is not None
    assert shown.splitlines()[:4] == ["E", "    at pay (src/a.ts:3:5)", "", "  > 3 |   pay();"]
    assert shown.splitlines()[-1] == "    at u (https://s/a.js:1:9)"


def test_a_resolved_frame_without_an_original_name_shows_no_minified_one() -> None:
    resolved = _resolved("l", "https://s/a.js")
    assert resolved.original is not None
    nameless = resolved.model_copy(
        update={"original": resolved.original.model_copy(update={"function": None})}
    )
    shown = readable_stack("E\n    at l (https://s/a.js:1:9)", [nameless])
    assert shown is not None
    assert shown.splitlines()[1] == "    at src/a.ts:3:5"
    assert shown.splitlines()[-1] == "    at l (https://s/a.js:1:9)"  # as the browser ran it


def test_event_frames_round_trip_through_the_report_model() -> None:
    event = Event(kind="page_error", level="error", text="E", frames=[_resolved("u", "u.js")])
    assert Event.model_validate_json(event.model_dump_json()) == event


def test_source_maps_dir_must_be_a_folder(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text("url: http://127.0.0.1:9/\nsteps:\n  - goto: /\n")
    ran = invoke("repro", "s.yaml", "--source-maps", "nope", cwd=tmp_path)
    assert ran.returncode == 2
    assert ran.stderr.strip().splitlines()[-1] == "Error: --source-maps nope: not a folder"


# -- collector symbolicate -----------------------------------------------------------------


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def symbolicated(minified: dict[str, Any]) -> dict[str, Any]:
    ran, bundle = minified["unresolved"]
    before = _tree(bundle)
    done = invoke(
        "symbolicate", bundle, "--source-maps", minified["maps"], "--out", "resolved",
        cwd=minified["work"],
    )  # fmt: skip
    return {"ran": ran, "bundle": bundle, "before": before, "done": done}


def test_symbolicate_resolves_what_the_page_did_not_serve(
    minified: dict[str, Any], symbolicated: dict[str, Any]
) -> None:
    bundle = symbolicated["bundle"]
    old = json.loads((bundle / "report.json").read_text())
    (event,) = [e for e in old["events"] if e["kind"] == "page_error"]
    assert event["frames"][0]["original"] is None
    assert any("local.js.map answered HTTP 404" in n for n in old["capture_problems"])
    done = symbolicated["done"]
    assert done.returncode == 0, done.stderr
    new_folder = Path(done.stdout.strip().splitlines()[-1])
    assert new_folder == (minified["work"] / "resolved" / f"{bundle.name}-symbolicated").resolve()
    assert "frames resolved through source maps" in done.stdout
    new = json.loads((new_folder / "report.json").read_text())
    (event,) = [e for e in new["events"] if e["kind"] == "page_error"]
    top = event["frames"][0]["original"]
    assert (top["file"], top["line"], top["column"], top["function"]) == (
        "src/cart/discount.ts", 20, 45, "applyDiscount"
    )  # fmt: skip
    assert BUG in (new_folder / "ticket.md").read_text()
    assert BUG in (new_folder / "console.log").read_text()
    assert html.escape(BUG, quote=False) in (new_folder / "report.html").read_text()
    # Its fingerprint is now the one of the same bug in the resolved run (another build).
    (group,) = [g for g in new["errors"] if g["kind"] == "page_error"]
    (resolved,) = [g for g in minified["report"]["errors"] if g["kind"] == "page_error"]
    (unresolved,) = [g for g in old["errors"] if g["kind"] == "page_error"]
    assert group["fingerprint"] == resolved["fingerprint"] != unresolved["fingerprint"]


def test_symbolicate_copies_the_pictures_its_report_links_to(
    minified: dict[str, Any], symbolicated: dict[str, Any]
) -> None:
    bundle = symbolicated["bundle"]
    new_folder = Path(symbolicated["done"].stdout.strip().splitlines()[-1])
    named = {
        s["screenshot"]
        for s in json.loads((bundle / "report.json").read_text())["steps"]
        if s["screenshot"]
    }
    assert named, "the bundle names no picture: nothing to check"
    for name in named:
        assert (new_folder / name).read_bytes() == (bundle / name).read_bytes()
        assert f'href="{name}"' in (new_folder / "report.html").read_text()
    # From the zip too.
    done = invoke(
        "symbolicate", bundle / f"{bundle.name}.zip", "--source-maps", minified["maps"],
        "--out", "from-zip", cwd=minified["work"],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    from_zip = Path(done.stdout.strip().splitlines()[-1])
    assert {str(p.relative_to(from_zip)) for p in from_zip.glob("screenshots/*")} == named


def test_symbolicate_refuses_a_screenshots_link_out_of_the_bundle(
    minified: dict[str, Any], symbolicated: dict[str, Any], tmp_path: Path
) -> None:
    import shutil

    hostile = tmp_path / "hostile"
    shutil.copytree(symbolicated["bundle"], hostile)
    shutil.rmtree(hostile / "screenshots")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (hostile / "screenshots").symlink_to(elsewhere)
    done = invoke(
        "symbolicate", hostile, "--source-maps", minified["maps"], "--out", "out", cwd=tmp_path
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.strip().splitlines()[-1].endswith("screenshots is not a plain folder")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_symbolicate_never_touches_the_bundle(symbolicated: dict[str, Any]) -> None:
    assert _tree(symbolicated["bundle"]) == symbolicated["before"]


def test_symbolicate_reads_the_zip_and_numbers_a_second_folder(
    minified: dict[str, Any], symbolicated: dict[str, Any]
) -> None:
    bundle = symbolicated["bundle"]
    done = invoke(
        "symbolicate", bundle / f"{bundle.name}.zip", "--source-maps", minified["maps"],
        "--out", "resolved", "--json", cwd=minified["work"],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["path"].endswith(f"{bundle.name}-symbolicated-2")
    assert summary["resolved"] >= 3 and summary["reference"] == bundle.name


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["nope"], "Error: symbolicate needs --source-maps DIR (or config source_maps)"),
        (["nope", "--source-maps", "nomaps"], "Error: --source-maps nomaps: not a folder"),
    ],
)
def test_symbolicate_bad_input_is_one_line(tmp_path: Path, args: list[str], line: str) -> None:
    ran = invoke("symbolicate", *args, cwd=tmp_path)
    assert ran.returncode == 2
    assert ran.stderr.strip().splitlines() == [line]


def test_symbolicate_a_missing_bundle_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "maps").mkdir()
    ran = invoke("symbolicate", "nope", "--source-maps", "maps", cwd=tmp_path)
    assert ran.returncode == 2 and len(ran.stderr.strip().splitlines()) == 1, ran.stderr


def test_a_flood_of_distinct_errors_keeps_frames_for_the_first_hundred_only() -> None:
    from collector.capture.store import CaptureStore
    from collector.sourcemaps import symbolicate
    from collector.stacks import MAX_FRAMED_EVENTS

    store = CaptureStore()
    frame = {"function": "f", "url": "https://s/a.js", "line": 1, "column": 2}
    for n in range(MAX_FRAMED_EVENTS + 5):
        store.record("console", "error", f"error {n}", frames=[frame])
        store.page_error(f"E{n}", name="Error", rejection=False, stack=f"E{n}\n    at f (https://s/a.js:1:{n + 1})")
    events = store.events()
    console = [e for e in events if e.kind == "console"]
    assert all(e.frames for e in console[:MAX_FRAMED_EVENTS])
    assert not any(e.frames for e in console[MAX_FRAMED_EVENTS:])
    resolved = symbolicate(events, {})
    assert sum(bool(e.frames) for e in resolved) == MAX_FRAMED_EVENTS
    assert all(e.stack for e in resolved if e.kind == "page_error")  # the text stays
