"""What the minimize tests share: the recordings folder and one `collector minimize --json`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from run_collector import invoke

PAGES = Path(__file__).parent / "pages" / "minimize"


def minimized(tmp: Path, pages_url: str, steps: Path | str, *args: str) -> dict[str, Any]:
    ran = invoke(
        "minimize", steps, "--url", pages_url, "--out", tmp / "out", "--json", *args, cwd=tmp
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    result: dict[str, Any] = json.loads(ran.stdout)
    return result


def original_steps(result: dict[str, Any]) -> list[int]:
    return [step["original_index"] for step in result["steps"]]
