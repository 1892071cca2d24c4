"""The zip under the attachment budget: plan in priority order, write, check, repeat.

Pure planning (``plan_zip``, ``next_to_leave_out``) is apart from the loop that
writes and measures (``pack_within_budget``), so the budget's arithmetic is
unit-tested without files.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

# Per entry: local header + central directory entry + room for extra fields (names apart).
ZIP_ENTRY_OVERHEAD = 140
ZIP_END_BYTES = 22  # the end-of-central-directory record
ZIP_FULL_NOTE = "left out: the zip would exceed the attachment limit"
STORED_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".zip")  # already compressed


@dataclass(frozen=True)
class ZipEntry:
    """A file that may go into the zip: its size, and the bytes it takes compressed."""

    path: str
    size: int
    packed: int


@dataclass(frozen=True)
class ZipPlan:
    """What goes into the zip (in priority order), and why each other file stays out."""

    members: tuple[str, ...]
    left_out: dict[str, str] = field(default_factory=dict)


def pack_within_budget(
    zip_path: Path,
    root: Path,
    measure: Callable[[], list[ZipEntry]],
    budget: int,
    describe: Callable[[ZipPlan], object] = lambda _plan: None,
) -> ZipPlan:
    """Write ``zip_path`` from files of ``root`` so that it and each member fit ``budget``.

    ``measure`` gives the candidates, most important first; ``describe(plan)``
    writes the files that list the attachments (their sizes depend on the plan).
    Plan, describe, write, then check what was written: whatever is still over
    (an estimate was off, a listing grew) is left out and the round repeats. Each
    round leaves out one more file, so this ends, at worst with an empty zip:
    never an oversize one, never an error.
    """
    leave_out: dict[str, str] = {}
    while True:
        plan = plan_zip(measure(), budget, leave_out=leave_out)
        describe(plan)
        _write_zip(zip_path, root, plan.members)
        written = {path: (root / path).stat().st_size for path in plan.members}
        over = next_to_leave_out(plan, zip_path.stat().st_size, written, budget)
        if over is None:
            return plan
        leave_out[over[0]] = over[1]


def plan_zip(
    entries: Iterable[ZipEntry], budget: int, *, leave_out: dict[str, str] | None = None
) -> ZipPlan:
    """Greedy in priority order: a file goes in when it and the zip so far fit the budget.

    ``entries`` come most important first. ``leave_out`` maps files that must stay
    out (a written zip showed they do not fit) to the reason given for them.
    """
    leave_out = leave_out or {}
    members: list[str] = []
    left: dict[str, str] = {}
    used = ZIP_END_BYTES
    for entry in entries:
        if entry.path in leave_out:
            left[entry.path] = leave_out[entry.path]
            continue
        if entry.size > budget:
            left[entry.path] = over_limit_note(entry.size, budget)
            continue
        cost = entry.packed + zip_entry_overhead(entry.path)
        if used + cost <= budget:
            members.append(entry.path)
            used += cost
        else:
            left[entry.path] = ZIP_FULL_NOTE
    return ZipPlan(tuple(members), left)


def next_to_leave_out(
    plan: ZipPlan, zip_bytes: int, member_bytes: dict[str, int], budget: int
) -> tuple[str, str] | None:
    """Check a written zip: None when it and every member fit, else what to leave out next.

    A member over the limit by itself goes first; else, when only the zip is over,
    the least important member.
    """
    for path in plan.members:
        if member_bytes[path] > budget:
            return path, over_limit_note(member_bytes[path], budget)
    if zip_bytes > budget and plan.members:
        return plan.members[-1], ZIP_FULL_NOTE
    return None


def over_limit_note(size: int, budget: int) -> str:
    return f"left out: {size:,} bytes is over the {budget:,}-byte attachment limit"


def zip_entry_overhead(path: str) -> int:
    # Local header (30) and central directory entry (46) both repeat the name; the
    # rest is room for extra fields (zip64, timestamps).
    return ZIP_ENTRY_OVERHEAD + 2 * len(path.encode("utf-8"))


def packed_size(path: Path) -> int:
    """The bytes ``path`` takes in the zip (estimated the way the zip is written)."""
    data = path.read_bytes()
    if path.suffix.lower() in STORED_SUFFIXES:
        return len(data)
    return len(zlib.compress(data, 6))


def _write_zip(zip_path: Path, root: Path, members: Iterable[str]) -> None:
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in members:
            path = root / name
            if not path.exists():
                continue
            stored = path.suffix.lower() in STORED_SUFFIXES
            zf.write(path, name, zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)
