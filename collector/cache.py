"""Collector's folder in the user's cache: what saves work between runs, never needed."""

from __future__ import annotations

import os
from pathlib import Path


def cache_folder(name: str) -> Path | None:
    """``$XDG_CACHE_HOME/collector/NAME`` (default ``~/.cache``), made private if new.

    None when it cannot be made (a read-only home): the caller does without.
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = Path(base) / "collector" / name
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return None
    return folder
