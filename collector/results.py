"""The results of a `check` run as data: what `--json`/`--json-file` write and `merge` reads.

One model for one run or many shards, so that JUnit, annotations and the job
summary are rendered by the same code from a fresh run and from merged shards:
a merged run cannot give other verdicts than the run it stands for.

Each page carries its own verdict (``failure``/``error`` and a type named by
kind), decided once here from what the run captured.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from collector.check import CheckReport, PageResult
    from collector.report import Event

RESULTS_SCHEMA: Literal["collector/check-results@1"] = "collector/check-results@1"

# A page's failure type names what broke, in words a CI reader knows.
KIND_TYPES = {
    "console": "console",
    "page_error": "exception",
    "http_error": "http",
    "request_failed": "request_failed",
    "crash": "crash",
    "disconnect": "crash",
    "dialog": "dialog",
    "download": "download",
}
# The first of these among a page's failing errors names its failure (KIND_RANK's order).
TYPE_RANK = ("crash", "exception", "console", "http", "request_failed", "dialog", "download")
# The page could not be checked at all: a JUnit <error>, not a <failure> of the page.
ERROR_OUTCOMES = {"unreachable": "unreachable", "crashed": "crash", "interrupted": "interrupted"}
_TIMEOUT = re.compile(r"\bTimeout \d+ ?ms exceeded")

VerdictElement = Literal["failure", "error"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ErrorRecord(_Model):
    kind: str = Field(max_length=40)
    level: str = Field(max_length=40)
    text: str
    url: str | None = None
    line: int | None = None
    column: int | None = None
    count: int = Field(1, ge=1)
    step: int | None = None
    # Where it comes from in the developer's code, when a source map resolved it.
    source_file: str | None = None
    source_line: int | None = None
    source_column: int | None = None

    def where(self) -> str:
        """``src/a.ts:20:45 (https://…/app.js:1:4821)``, or the generated location alone."""
        return where_text(
            self.url, self.line, self.column, self.source_file, self.source_line, self.source_column
        )


class Verdict(_Model):
    """How a failed page shows in JUnit: ``<failure type=…>`` or ``<error type=…>``."""

    element: VerdictElement
    type: str = Field(max_length=40)


class PageRecord(_Model):
    name: str
    index: int = Field(ge=0, description="Position in the whole (unsharded) target list.")
    failed: bool
    verdict: Verdict | None = None
    reason: str | None = None
    outcome: str = Field(max_length=40)
    duration_ms: int = Field(ge=0)
    errors: list[ErrorRecord] = Field(default_factory=list)
    missing_expected: list[str] = Field(default_factory=list)
    bundle: str | None = None
    attachment: str | None = Field(None, description="The bundle's zip, to attach.")


class Shard(_Model):
    index: int = Field(ge=1)
    count: int = Field(ge=1)


class Summary(_Model):
    pages: int = Field(ge=0)
    failed: int = Field(ge=0)
    passed: int = Field(ge=0)
    duration_ms: int = Field(ge=0)
    shard: list[int] | None = None


class CheckResults(_Model):
    schema_: Literal["collector/check-results@1"] = Field(RESULTS_SCHEMA, alias="schema")
    targets: int = Field(ge=0, description="How many targets the whole run has, all shards.")
    targets_sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="Of the target names.")
    shard: Shard | None = None
    shards: list[Shard] = Field(default_factory=list, description="Set on merged results.")
    pages: list[PageRecord]
    summary: Summary

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    @property
    def failed(self) -> list[PageRecord]:
        return [p for p in self.pages if p.failed]

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, indent=2)


def targets_digest(names: Iterable[str]) -> str:
    """What every shard of one run shares: a hash of the whole target list, in order."""
    digest = hashlib.sha256()
    for name in names:
        digest.update(name.encode("utf-8", "surrogatepass") + b"\n")
    return digest.hexdigest()


def verdict_of(
    *,
    failed: bool,
    outcome: str,
    message: str,
    kinds: Iterable[str],
    problem: bool,
    missing_expected: bool,
) -> Verdict | None:
    """A failed page's JUnit element and type; None when it passed."""
    if not failed:
        return None
    if problem:
        return Verdict(element="error", type="crash")
    if outcome in ERROR_OUTCOMES:
        return Verdict(element="error", type=ERROR_OUTCOMES[outcome])
    if outcome == "step_failed":
        return Verdict(
            element="failure", type="timeout" if _TIMEOUT.search(message) else "step_failed"
        )
    types = {KIND_TYPES.get(kind, kind) for kind in kinds}
    for name in TYPE_RANK:
        if name in types:
            return Verdict(element="error" if name == "crash" else "failure", type=name)
    if missing_expected:
        return Verdict(element="failure", type="missing_expected")
    return Verdict(element="failure", type="errors")


def page_record(page: PageResult, index: int) -> PageRecord:
    outcome = page.result.outcome if page.result else None
    status = outcome.status if outcome else "crashed"
    attachment = None
    if page.bundle is not None:
        zip_path = page.bundle / f"{page.bundle.name}.zip"
        attachment = str(zip_path) if zip_path.is_file() else None
    return PageRecord(
        name=page.target.name,
        index=index,
        failed=page.failed,
        verdict=verdict_of(
            failed=page.failed,
            outcome=status,
            message=outcome.message if outcome else "",
            kinds=[e.kind for e in page.failing],
            problem=page.problem is not None,
            missing_expected=bool(page.missing_expected),
        ),
        reason=page.reason if page.failed else None,
        outcome=status,
        duration_ms=page.duration_ms,
        errors=[
            ErrorRecord(
                kind=e.kind,
                level=e.level,
                text=e.text,
                url=e.url,
                line=e.line,
                column=e.column,
                count=e.count,
                step=e.step,
                **_source_of(e),
            )
            for e in page.failing
        ],
        missing_expected=list(page.missing_expected),
        bundle=str(page.bundle) if page.bundle else None,
        attachment=attachment,
    )


def results_of(report: CheckReport) -> CheckResults:
    """A finished check as results; page indexes count in the whole target list."""
    positions = {name: i for i, name in enumerate(report.all_targets)}
    pages = [page_record(p, positions.get(p.target.name, i)) for i, p in enumerate(report.pages)]
    shard = Shard(index=report.shard[0], count=report.shard[1]) if report.shard else None
    return CheckResults(
        targets=len(report.all_targets),
        targets_sha256=targets_digest(report.all_targets),
        shard=shard,
        pages=pages,
        summary=summary_of(pages, report.duration_ms, report.shard),
    )


def summary_of(
    pages: list[PageRecord], duration_ms: int, shard: tuple[int, int] | None = None
) -> Summary:
    failed = sum(1 for p in pages if p.failed)
    return Summary(
        pages=len(pages),
        failed=failed,
        passed=len(pages) - failed,
        duration_ms=duration_ms,
        shard=list(shard) if shard else None,
    )


def summary_line(results: CheckResults) -> str:
    """The last line of `check` and `merge`: counts and time."""
    summary = results.summary
    line = (
        f"{summary.pages} pages, {summary.passed} passed, {summary.failed} failed "
        f"in {summary.duration_ms / 1000:.1f}s"
    )
    if results.shards:
        line += f" ({len(results.shards)} shards merged)"
    return line


def write_text(path: str | Path, text: str | bytes) -> None:
    """Write an output file (its folder made if missing)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        target.write_bytes(text)
    else:
        target.write_text(text, encoding="utf-8")


def _source_of(event: Event) -> dict[str, Any]:
    """The error's own frame through its source map, as ErrorRecord fields (or none)."""
    top = event.frames[0].original if event.frames else None
    if top is None:
        return {}
    return {"source_file": top.file, "source_line": top.line, "source_column": top.column}


def where_text(
    url: str | None,
    line: int | None,
    column: int | None,
    source_file: str | None = None,
    source_line: int | None = None,
    source_column: int | None = None,
) -> str:
    """An error's location for a log line: the original first when resolved, then the
    location the browser ran (``src/a.ts:20:45 (https://…/app.js:1:4821)``)."""
    generated = url or ""
    if generated and line:
        generated += f":{line}" + (f":{column}" if column else "")
    if not source_file:
        return generated
    original = source_file + (f":{source_line}" if source_line else "")
    original += f":{source_column}" if source_line and source_column else ""
    return f"{original} ({generated})" if generated else original
