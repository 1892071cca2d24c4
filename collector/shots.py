"""The screenshots of a bundle: each picture kept once per step, fitted into the budget.

Identical screenshots of one step (its error, its screenshot step and the final
state are often the same picture) are kept once; the user's own screenshot
steps keep their names. A picture is never shared across steps: a file named
for step 6 must not be shown as what step 5 looked like.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from collector.report import StepRecord
from collector.runner import Shot

# Which of several identical screenshots keeps its file: the user's own first.
SHOT_PRIORITY = {"step": 0, "failed_step": 1, "first_error": 2, "final": 3}


@dataclass
class FittedShots:
    """Each kept screenshot with its path in the bundle, and what fitting did to files."""

    kept: list[tuple[Shot, str]] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)  # path in the bundle -> note

    def failing(self) -> str | None:
        """The picture that shows the failure best: the failed step's, the first error's …"""
        for role in ("failed_step", "first_error", "final"):
            for shot, rel in self.kept:
                if shot.role == role:
                    return rel
        return self.kept[0][1] if self.kept else None


def fit_screenshots(shots: list[Shot], root: Path, budget: int) -> FittedShots:
    """Fit every screenshot under ``root`` into ``budget``, in place; drop repeats."""
    from collector.images import fit_image

    fitted = FittedShots()
    keep_first = sorted(shots, key=lambda s: SHOT_PRIORITY.get(s.role, 9))
    by_digest: dict[tuple[str, int | None], str] = {}
    kept: dict[int, str] = {}
    for shot in keep_first:
        if not shot.path.exists():
            continue
        data = shot.path.read_bytes()
        digest = (hashlib.sha256(data).hexdigest(), shot.step)
        if digest in by_digest:
            shot.path.unlink()
            kept[id(shot)] = by_digest[digest]
            continue
        try:
            image = fit_image(data, budget)
        except ValueError as exc:
            # An unreadable screenshot must not cost the bundle; keep the file as it is.
            fitted.notes[_rel(shot.path, root)] = f"could not be fitted: {exc}"
            by_digest[digest] = kept[id(shot)] = _rel(shot.path, root)
            continue
        path = shot.path
        if image.data != data:
            suffix = "jpg" if image.format == "jpeg" else image.format
            path = shot.path.with_suffix(f".{suffix}")
            if path != shot.path:
                shot.path.unlink()
            path.write_bytes(image.data)
            fitted.notes[_rel(path, root)] = image.note
        by_digest[digest] = kept[id(shot)] = _rel(path, root)
    fitted.kept = [(s, kept[id(s)]) for s in shots if id(s) in kept]
    return fitted


def steps_with_shots(steps: list[StepRecord], fitted: FittedShots, root: Path) -> list[StepRecord]:
    """The steps pointing at their fitted screenshots (none where the file is gone)."""
    renamed = {f"screenshots/{shot.path.name}": rel for shot, rel in fitted.kept}
    result = []
    for step in steps:
        if step.screenshot and step.screenshot in renamed:
            step = step.model_copy(update={"screenshot": renamed[step.screenshot]})
        elif step.screenshot and not (root / step.screenshot).exists():
            step = step.model_copy(update={"screenshot": None})
        result.append(step)
    # The final screenshot belongs to the last step that ran, when it has none.
    for shot, rel in fitted.kept:
        if shot.role == "final" and shot.step:
            for i, step in enumerate(result):
                if step.index == shot.step and not step.screenshot:
                    result[i] = step.model_copy(update={"screenshot": rel})
    return result


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()
