"""The attachment budget as a guarantee: the zip planner and the packing loop, no browser.

Incompressible files (os.urandom) and tiny budgets are the hard case: compression
helps nothing, and any estimate that is off shows as an oversize zip. Whatever the
plan estimated, the zip written and every file in it must fit, and everything else
must be listed as left out, least important first.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from collector.bundle import BundleOptions, Contents, write_bundle, write_run_bundle
from collector.report import Environment, ErrorGroup, Outcome, Report, StepRecord
from collector.runner import RunResult, Shot
from collector.scenario import Goto, Scenario, Screenshot
from collector.workspace import new_workspace
from collector.zipplan import (
    ZIP_FULL_NOTE,
    ZipEntry,
    ZipPlan,
    next_to_leave_out,
    over_limit_note,
    pack_within_budget,
    plan_zip,
    zip_entry_overhead,
)

# -- plan_zip (pure) -------------------------------------------------------------------


def cost(entry: ZipEntry) -> int:
    return entry.packed + zip_entry_overhead(entry.path)


def test_plan_takes_files_in_priority_order_while_they_fit() -> None:
    entries = [ZipEntry(f"f{i}", 3000, 3000) for i in range(6)]
    budget = 22 + 3 * cost(entries[0])  # room for exactly three
    plan = plan_zip(entries, budget)
    assert plan.members == ("f0", "f1", "f2")
    assert plan.left_out == {"f3": ZIP_FULL_NOTE, "f4": ZIP_FULL_NOTE, "f5": ZIP_FULL_NOTE}
    assert plan_zip(entries, budget - 1).members == ("f0", "f1")


def test_plan_lets_a_small_file_in_after_a_big_one_stayed_out() -> None:
    entries = [ZipEntry("big", 9000, 9000), ZipEntry("small", 500, 500)]
    plan = plan_zip(entries, 5000)
    assert plan.members == ("small",)
    assert plan.left_out == {"big": over_limit_note(9000, 5000)}


def test_plan_leaves_out_a_file_over_the_limit_even_if_it_compresses_well() -> None:
    # Each attached file must fit, not only the zip: a 3 MB log that packs to 100 kB too.
    plan = plan_zip([ZipEntry("console.log", 3_000_000, 100_000)], 2_000_000)
    assert plan.members == ()
    assert plan.left_out == {
        "console.log": "left out: 3,000,000 bytes is over the 2,000,000-byte attachment limit"
    }


def test_plan_keeps_out_what_a_written_zip_showed_does_not_fit() -> None:
    entries = [ZipEntry("a", 10, 10), ZipEntry("b", 10, 10), ZipEntry("c", 10, 10)]
    plan = plan_zip(entries, 10_000, leave_out={"b": "left out: because"})
    assert plan.members == ("a", "c")
    assert plan.left_out == {"b": "left out: because"}


def test_next_to_leave_out() -> None:
    plan = ZipPlan(("ticket.md", "a.png", "b.png"))
    sizes = {"ticket.md": 100, "a.png": 400, "b.png": 400}
    assert next_to_leave_out(plan, 1000, sizes, 1000) is None
    # Only the zip is over: the least important member goes.
    assert next_to_leave_out(plan, 1001, sizes, 1000) == ("b.png", ZIP_FULL_NOTE)
    # A member over the limit by itself goes first, whatever its rank.
    big = {**sizes, "ticket.md": 1500}
    assert next_to_leave_out(plan, 900, big, 1000) == ("ticket.md", over_limit_note(1500, 1000))
    assert next_to_leave_out(ZipPlan(()), 22, {}, 1000) is None


# -- pack_within_budget on real files ----------------------------------------------------


def random_files(root: Path, sizes: list[int]) -> list[str]:
    names = []
    for i, size in enumerate(sizes):
        name = f"shots/file-{i:02d}.bin"
        (root / name).parent.mkdir(exist_ok=True)
        (root / name).write_bytes(os.urandom(size))
        names.append(name)
    return names


def measured(root: Path, names: list[str], *, packed_guess: float = 1.0) -> list[ZipEntry]:
    entries = []
    for name in names:
        size = (root / name).stat().st_size
        entries.append(ZipEntry(name, size, int(size * packed_guess)))
    return entries


def check_packed(root: Path, zip_path: Path, names: list[str], plan: ZipPlan, budget: int) -> None:
    assert zip_path.stat().st_size <= budget
    with zipfile.ZipFile(zip_path) as zf:
        assert zf.testzip() is None
        infos = zf.infolist()
        assert tuple(i.filename for i in infos) == plan.members
        for info in infos:
            assert info.file_size <= budget
            assert zf.read(info) == (root / info.filename).read_bytes()
    # Every candidate is either in the zip or listed as left out, with a reason.
    assert set(plan.members) | set(plan.left_out) == set(names)
    assert not set(plan.members) & set(plan.left_out)
    assert all(note.startswith("left out: ") for note in plan.left_out.values())
    # Members keep the priority order.
    assert list(plan.members) == [n for n in names if n in plan.members]


@pytest.mark.parametrize("budget", [10_000, 12_345, 50_000, 250_000, 1_000_000])
def test_many_incompressible_files_under_tiny_budgets(tmp_path: Path, budget: int) -> None:
    sizes = [4_000, 9_000, 30_000, 250_000, 1_500, 800, 260_000, 70_000, 9_990, 120] * 4
    names = random_files(tmp_path, sizes)
    zip_path = tmp_path / "bundle.zip"
    plan = pack_within_budget(zip_path, tmp_path, lambda: measured(tmp_path, names), budget)
    check_packed(tmp_path, zip_path, names, plan, budget)
    for name, note in plan.left_out.items():
        size = (tmp_path / name).stat().st_size
        assert note == (over_limit_note(size, budget) if size > budget else ZIP_FULL_NOTE)


@pytest.mark.parametrize("guess", [0.0, 0.3])
def test_estimates_that_are_far_off_still_give_a_zip_under_budget(
    tmp_path: Path, guess: float
) -> None:
    # The planner believes random bytes compress (to nothing, or to 30 %): only the
    # check of the written zip stands between this and a zip several times the budget.
    budget = 100_000
    names = random_files(tmp_path, [20_000] * 12)
    zip_path = tmp_path / "bundle.zip"
    plan = pack_within_budget(
        zip_path, tmp_path, lambda: measured(tmp_path, names, packed_guess=guess), budget
    )
    check_packed(tmp_path, zip_path, names, plan, budget)
    # Left out from the least important up: what is in is the most important prefix.
    assert plan.members == tuple(names[:4])
    assert list(plan.left_out) == names[4:]
    assert set(plan.left_out.values()) == {ZIP_FULL_NOTE}


def test_a_listing_that_grows_with_each_file_left_out_still_fits(tmp_path: Path) -> None:
    # Like ticket.md: it lists what is left out, so each round makes it bigger; it comes
    # first, and is written by ``describe`` after planning with an estimate of zero.
    budget = 30_000
    names = random_files(tmp_path, [5_000] * 10)
    ticket = tmp_path / "ticket.md"

    def describe(plan: ZipPlan) -> None:
        lines = [f"- {name}: {note} " + "x" * 900 for name, note in plan.left_out.items()]
        ticket.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def measure() -> list[ZipEntry]:
        listing = ZipEntry("ticket.md", 0, 0)  # never measured: the worst estimate
        return [listing, *measured(tmp_path, names)]

    zip_path = tmp_path / "bundle.zip"
    plan = pack_within_budget(zip_path, tmp_path, measure, budget, describe)
    check_packed(tmp_path, zip_path, ["ticket.md", *names], plan, budget)
    assert plan.members[0] == "ticket.md"
    listed = ticket.read_text(encoding="utf-8")
    assert all(f"- {name}: " in listed for name in plan.left_out)


# -- write_bundle: eight incompressible screenshots and a 1 MB limit --------------------


def noise_png(path: Path, seed: int) -> int:
    """A ~262 kB PNG of random pixels: nothing can make it smaller but scaling."""
    data = hashlib.shake_256(str(seed).encode()).digest(300 * 290 * 3)
    Image.frombytes("RGB", (300, 290), data).save(path, "PNG")
    return path.stat().st_size


def run_with_shots(work: Path, count: int) -> RunResult:
    shots, steps = [], [StepRecord(index=1, action="goto", target="http://x/", status="ok")]
    scenario_steps: list[object] = [Goto(url="http://x/")]
    for i in range(count):
        index = i + 2
        rel = f"screenshots/step-{index:02d}-shot{i}.png"
        (work / "screenshots").mkdir(exist_ok=True)
        assert 240_000 < noise_png(work / rel, i) < 280_000
        shots.append(Shot(work / rel, index, "step"))
        steps.append(
            StepRecord(index=index, action="screenshot", status="ok", screenshot=rel, target=f"shot{i}")
        )
        scenario_steps.append(Screenshot(name=f"shot{i}"))
    return RunResult(
        scenario=Scenario(name="noise", steps=scenario_steps),
        started=datetime(2026, 11, 30, tzinfo=UTC),
        duration_ms=1000,
        steps=steps,
        events=[],
        totals={},
        dropped=0,
        outcome=Outcome(status="clean", message="No errors captured"),
        environment=Environment(),
        screenshots=shots,
        secrets=[],
        problems=[],
    )


@pytest.mark.parametrize("budget", [1_000_000, 300_000, 10_000])
def test_eight_incompressible_screenshots_never_make_an_oversize_zip(
    tmp_path: Path, budget: int
) -> None:
    workspace = new_workspace(tmp_path / "out")
    result = run_with_shots(workspace.path, 8)
    options = BundleOptions(out_dir=tmp_path / "out", max_attachment_bytes=budget)
    bundle = write_run_bundle(result, workspace, options).path
    zip_path = bundle / f"{bundle.name}.zip"
    assert zip_path.stat().st_size <= budget
    with zipfile.ZipFile(zip_path) as zf:
        entries = {i.filename: i for i in zf.infolist()}
        assert all(i.file_size <= budget for i in entries.values())
    report = json.loads((bundle / "report.json").read_text(encoding="utf-8"))
    listed = {a["path"]: a for a in report["attachments"]}
    shots = [f"screenshots/step-{i + 2:02d}-shot{i}.png" for i in range(8)]
    for attachment in listed.values():
        assert attachment["in_zip"] == (attachment["path"] in entries), attachment
        data = (bundle / attachment["path"]).read_bytes()
        assert attachment["bytes"] == len(data)
        if attachment["sha256"]:
            assert attachment["sha256"] == hashlib.sha256(data).hexdigest()
    left_out = [a for a in report["attachments"] if not a["in_zip"]]
    assert left_out, "eight 262 kB pictures cannot all fit"
    # Screenshots go in by their rank, so those left out are the last ones.
    kept_shots = [s for s in shots if s in entries]
    assert kept_shots == shots[: len(kept_shots)]
    ticket = (bundle / "ticket.md").read_text(encoding="utf-8")
    section = ticket.split("**Left out of the zip:**", 1)[1]
    from collector.ticket import human_size

    for attachment in left_out:
        assert attachment["note"].startswith("left out: ")
        assert f"`{attachment['path']}` ({human_size(attachment['bytes'])})" in section
    if budget == 1_000_000:
        assert len(kept_shots) == 3  # 3 x 262 kB + the texts; a fourth would not fit
    with zipfile.ZipFile(io.BytesIO(zip_path.read_bytes())) as zf:
        assert zf.testzip() is None


def test_the_writer_writes_the_report_it_is_given(tmp_path: Path) -> None:
    """The writer takes an assembled Report: it lists files, it never regroups errors."""
    workspace = new_workspace(tmp_path / "out")
    given = ErrorGroup(
        fingerprint="fp-given", kind="console", message="given", count=3, first_step=1
    )
    report = Report(
        reference=workspace.reference,
        created="2026-11-30T00:00:00Z",
        outcome=Outcome(status="errors", message="1 error"),
        steps=[StepRecord(index=1, action="goto", target="http://x/", status="ok")],
        errors=[given],  # no events behind it: recomputing would lose it
    )
    yaml_text = "name: given\nsteps:\n  - goto: http://x/\n"
    bundle = write_bundle(Contents(report, yaml_text), workspace, BundleOptions(out_dir=tmp_path / "out"))
    written = json.loads((bundle / "report.json").read_text(encoding="utf-8"))
    assert written["errors"] == [given.model_dump(mode="json")]
    assert (bundle / "scenario.yaml").read_text(encoding="utf-8") == yaml_text
    assert {a["path"] for a in written["attachments"]} >= {"console.log", "report.html"}


def test_a_trace_the_browser_left_half_written_is_left_out_with_a_note(tmp_path: Path) -> None:
    # Closing the last window (record) or a killed browser can leave part of a trace.zip:
    # it cannot be redacted, so it must not be sent, and the bundle is still written.
    workspace = new_workspace(tmp_path / "out")
    (workspace.path / "trace.zip").write_bytes(b"PK\x03\x04 the browser stopped here")
    report = Report(
        reference=workspace.reference,
        created="2026-11-30T00:00:00Z",
        outcome=Outcome(status="clean", message="no errors"),
        steps=[StepRecord(index=1, action="goto", target="http://x/", status="ok")],
    )
    bundle = write_bundle(
        Contents(report, "steps:\n  - goto: http://x/\n"), workspace,
        BundleOptions(out_dir=tmp_path / "out"),
    )  # fmt: skip
    assert not (bundle / "trace.zip").exists()
    written = json.loads((bundle / "report.json").read_text(encoding="utf-8"))
    assert [p for p in written["capture_problems"] if p.startswith("trace.zip left out: ")]
    assert "trace.zip" not in {a["path"] for a in written["attachments"]}
    with zipfile.ZipFile(bundle / f"{bundle.name}.zip") as zf:
        assert not [n for n in zf.namelist() if n.endswith("trace.zip")]
