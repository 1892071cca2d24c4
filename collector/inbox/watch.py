"""Poll a folder for bundle zips; a file is taken once it is complete, and taken once.

"Complete" means: a ``.zip`` that is a plain file (no link) whose size and modification
time did not change between two polls. Taken files leave the folder: into ``done/``
when stored (or already known), into ``refused/`` with a ``.why.txt`` beside them when
the reader refused them, so no file is read twice.
"""

from __future__ import annotations

import os
import stat
import threading
from dataclasses import dataclass, field
from pathlib import Path

from collector.bundle_reader import MAX_ZIP_BYTES
from collector.inbox.intake import BUSY, Refused, receive
from collector.inbox.store import Store


@dataclass
class FolderWatch:
    folder: Path
    bundles: Path
    store: Store
    seen: dict[str, tuple[int, int]] = field(default_factory=dict)
    taken: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    vanished: list[str] = field(default_factory=list)  # gone between listing and look

    def poll(self) -> int:
        """One look at the folder; returns how many files were taken."""
        now: dict[str, tuple[int, int]] = {}
        count = 0
        for entry in sorted(os.scandir(self.folder), key=lambda e: e.name):
            if not entry.name.endswith(".zip") or entry.name.startswith("."):
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                self.vanished.append(entry.name)
                continue
            if not stat.S_ISREG(info.st_mode):
                continue
            sig = (info.st_size, info.st_mtime_ns)
            if self.seen.get(entry.name) != sig:
                now[entry.name] = sig  # changed or new: look again next time
                continue
            if self._take(Path(entry.path), info.st_size):
                count += 1
            else:
                now[entry.name] = sig  # left for the next poll
        self.seen = now
        return count

    def _take(self, path: Path, size: int) -> bool:
        """Store or refuse the file; False: left where it is, for a later poll."""
        try:
            if size > MAX_ZIP_BYTES:
                raise Refused(f"{path.name}: larger than any bundle")
            received = receive(_read(path), self.bundles, self.store, label=path.name)
            self._move(path, "done")
            self.taken.append(received.report.reference)
        except Refused as exc:
            if exc.status == BUSY:
                return False  # another upload is storing this reference
            target = self._move(path, "refused")
            target.with_name(target.name + ".why.txt").write_text(str(exc) + "\n")
            self.refused.append(path.name)
        return True

    def _move(self, path: Path, where: str) -> Path:
        folder = self.folder / where
        folder.mkdir(exist_ok=True)
        target = folder / path.name
        os.replace(path, target)
        return target

    def run(self, stop: threading.Event, interval_s: float = 1.0) -> None:
        while not stop.wait(interval_s):
            self.poll()


def _read(path: Path) -> bytes:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as stream:
        return stream.read(MAX_ZIP_BYTES + 1)
