"""Collector's folder in the user's cache: what saves work between runs, never needed."""

from __future__ import annotations

import os
from pathlib import Path

# Cache folders that could not be made, and why (`collector doctor` shows them): a run
# does without and says nothing, since a read-only home is no reason to fail or to warn.
UNUSABLE: dict[str, str] = {}


def cache_folder(name: str) -> Path | None:
    """``$XDG_CACHE_HOME/collector/NAME`` (default ``~/.cache``), made private if new.

    None when it cannot be made (recorded in ``UNUSABLE``): the caller does without.
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = Path(base) / "collector" / name
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        UNUSABLE[name] = f"{folder}: {exc.strerror}"
        return None
    UNUSABLE.pop(name, None)
    return folder
