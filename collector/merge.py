"""`collector merge`: the results of a check's shards -> the results of the whole run.

Like Playwright's merge-reports: each CI machine runs ``check --shard I/N
--json-file shard-I.json``; one job merges them. The files are strangers'
input as far as this module knows: each is read with a size bound, checked
against the results model, and the set must be one run's complete set of
shards (same target list, every shard once, no page twice). Anything else is
refused with one line (BadInput, exit 2) rather than merged into a report that
would pass a run it does not cover.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from collector.errors import BadInput
from collector.results import RESULTS_SCHEMA, CheckResults, Shard, summary_of

MAX_RESULTS_BYTES = 50_000_000


def read_results(path: Path) -> CheckResults:
    """One shard's results file, bounded and validated."""
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_RESULTS_BYTES + 1)
    except FileNotFoundError:
        raise BadInput(f"{path}: file not found") from None
    except OSError as exc:
        raise BadInput(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_RESULTS_BYTES:
        raise BadInput(f"{path}: over {MAX_RESULTS_BYTES:,} bytes, not a check results file")
    try:
        return CheckResults.model_validate_json(data)
    except ValidationError as exc:
        raise BadInput(f"{path}: not check results ({RESULTS_SCHEMA}): {_first(exc)}") from None


def _first(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False, include_input=False)
    if not errors:
        return "invalid"
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"])
    if first["type"] == "literal_error" and first["loc"] == ("schema",):
        return "its schema is not " + RESULTS_SCHEMA
    return f"{where}: {first['msg']}" if where else str(first["msg"])


def merge_results(parts: list[tuple[str, CheckResults]]) -> CheckResults:
    """One run's shards (``(file name, results)``) as the results of the whole run."""
    if not parts:
        raise BadInput("nothing to merge: give the results files of a check's shards")
    first_name, first = parts[0]
    seen_shards: dict[int, str] = {}
    seen_pages: dict[str, str] = {}
    count = (first.shard or Shard(index=1, count=1)).count
    for name, part in parts:
        if part.shards:
            raise BadInput(f"{name}: already merged results; merge the shards' own files")
        shard = part.shard or Shard(index=1, count=1)
        if part.targets_sha256 != first.targets_sha256 or part.targets != first.targets:
            raise BadInput(
                f"{name}: a different target list than {first_name} "
                f"({part.targets} vs {first.targets} targets): not shards of one run"
            )
        if shard.count != count:
            raise BadInput(
                f"{name}: shard {shard.index}/{shard.count} does not match {first_name}'s "
                f"count of {count}"
            )
        if shard.index in seen_shards:
            raise BadInput(
                f"{name}: shard {shard.index}/{count} given twice (also {seen_shards[shard.index]})"
            )
        seen_shards[shard.index] = name
        for page in part.pages:
            if page.name in seen_pages:
                raise BadInput(f"{name}: page {page.name!r} also in {seen_pages[page.name]}")
            seen_pages[page.name] = name
    missing = [str(i) for i in range(1, count + 1) if i not in seen_shards]
    if missing:
        raise BadInput(
            f"shard{'s' if len(missing) > 1 else ''} {', '.join(missing)} of {count} missing"
        )
    pages = sorted((page for _, part in parts for page in part.pages), key=lambda p: p.index)
    if len(pages) != first.targets:
        raise BadInput(f"the shards hold {len(pages)} pages, their run has {first.targets} targets")
    # Shards run side by side: the run took as long as its slowest shard.
    duration = max(part.summary.duration_ms for _, part in parts)
    shards = sorted((p.shard or Shard(index=1, count=1) for _, p in parts), key=lambda s: s.index)
    return CheckResults(
        targets=first.targets,
        targets_sha256=first.targets_sha256,
        shards=shards,
        pages=pages,
        summary=summary_of(pages, duration),
    )


def merge_files(paths: list[str]) -> CheckResults:
    return merge_results([(path, read_results(Path(path))) for path in paths])
