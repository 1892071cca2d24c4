"""A bundle's workspace: the hidden folder a run writes into, renamed into place when whole.

``out_dir/.<REF>.pid-<PID>@<HOST>.partial`` names its owner, so the partial
folders of runs that died are found and removed; ``move_into_place`` is the one
rename that makes a bundle appear, complete.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from collector.errors import OutputError
from collector.reference import new_reference

# `.<REF>.pid-<PID>@<HOST>.partial`: the owner is in the name, so the folder and
# its owner appear together (no window where a folder has no owner yet).
PARTIAL_NAME = re.compile(r"^\.(?P<ref>[^/]+)\.pid-(?P<pid>\d+)@(?P<host>[^/@]*)\.partial$")


@dataclass
class Workspace:
    """A reference number and the hidden folder the run writes into."""

    reference: str
    path: Path
    out_dir: Path
    name: str | None = None  # the bundle folder's name when not the reference

    @property
    def final_path(self) -> Path:
        return self.out_dir / (self.name or self.reference)


# The output folders whose dead runs' partial folders this process has removed.
_ORPHANS_REMOVED: set[Path] = set()


def new_workspace(out_dir: Path, name: str | None = None) -> Workspace:
    """Create ``out_dir/.<REF>.pid-<PID>@<HOST>.partial`` for a run to write into.

    ``name`` names the final folder instead of the reference (the pytest plugin
    uses the test id). Partial folders of runs that died (killed, power cut) are
    removed first. Raises OutputError when the folder cannot be made or written.
    """
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"--out {out_dir}: cannot create the folder: {exc.strerror}") from None
    if not out_dir.is_dir():
        raise OutputError(f"--out {out_dir}: not a folder")
    # Once per folder and process: a `check` of thousands of pages into a folder of
    # thousands of bundles must not list that folder again for every page.
    folder = out_dir.resolve()
    if folder not in _ORPHANS_REMOVED:
        remove_orphans(out_dir)
        _ORPHANS_REMOVED.add(folder)
    # Two processes (pytest-xdist workers) may draw the same reference in the same
    # tick, and each names its own partial folder: whoever sees a rival draws again
    # (the one listing of the folder per new workspace).
    for _attempt in range(20):
        reference = new_reference(exists=lambda ref: (out_dir / ref).exists())
        path = out_dir / partial_name(reference)
        try:
            path.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputError(f"--out {out_dir}: cannot write there: {exc.strerror}") from None
        prefix = f".{reference}."
        with os.scandir(out_dir) as entries:
            rivals = [
                e.name
                for e in entries
                if e.name.startswith(prefix) and e.name.endswith("partial") and e.name != path.name
            ]
        if rivals or (out_dir / reference).exists():
            path.rmdir()
            continue
        return Workspace(reference, path, out_dir, name)
    raise OutputError(f"--out {out_dir}: could not create a unique bundle folder")


def partial_name(reference: str, pid: int | None = None, host: str | None = None) -> str:
    """The hidden name of a run's workspace, naming the process that owns it."""
    pid = os.getpid() if pid is None else pid
    host = socket.gethostname() if host is None else host
    return f".{reference}.pid-{pid}@{host.replace('/', '_').replace('@', '_')}.partial"


def remove_orphans(
    out_dir: Path,
    *,
    host: str | None = None,
    alive: Callable[[int], bool] | None = None,
) -> list[Path]:
    """Remove the partial folders whose owner process is gone; return them.

    Only folders of this machine are judged (a shared folder's other writers have
    their own process ids), and only ours by name: nothing else is ever removed.
    """
    host = socket.gethostname() if host is None else host
    alive = alive or _process_alive
    removed = []
    for entry in out_dir.iterdir():
        match = PARTIAL_NAME.match(entry.name)
        if match is None or match["host"] != host.replace("/", "_").replace("@", "_"):
            continue
        if entry.is_symlink() or not entry.is_dir() or alive(int(match["pid"])):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def discard_workspace(workspace: Workspace) -> None:
    """Remove our own temporary folder (never the user's output folder)."""
    if workspace.path.name.endswith(".partial"):
        shutil.rmtree(workspace.path, ignore_errors=True)


def move_into_place(workspace: Workspace) -> Path:
    """Rename the finished workspace to its final name; return that folder."""
    final = workspace.final_path
    if final.exists() and (final / "report.json").is_file():
        # An earlier bundle of the same test: ours to replace (never other folders).
        shutil.rmtree(final)
    workspace.path.rename(final)
    return final
