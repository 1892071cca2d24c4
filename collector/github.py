"""GitHub Actions outputs of check results: error annotations and the job summary.

Annotations name the page in ``title=`` and say what broke in the message. A
``file=``/``line=`` is given only when the user maps URLs to the repository
(``--source-root URL_PREFIX=PATH``) and the mapped file exists: a URL's basename
is not a file GitHub can show, and a wrong ``file=`` hides the annotation.
The job summary is Markdown appended to ``$GITHUB_STEP_SUMMARY``; page text in
it is escaped (HTML and Markdown) and its size is bounded.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from collector.errors import BadInput, OutputError
from collector.junit import error_line
from collector.results import KIND_TYPES, CheckResults, PageRecord

MAX_MESSAGE = 1000
# GitHub keeps 1 MiB per step's summary; a summary is for reading, so far less.
MAX_SUMMARY_BYTES = 64_000
MAX_CELL = 200
_CONTROL = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+!~-])")


@dataclass(frozen=True)
class SourceRoot:
    """URLs starting with ``prefix`` are files under ``path`` in the repository."""

    prefix: str
    path: str


def parse_source_root(text: str) -> SourceRoot:
    prefix, sep, path = text.partition("=")
    parts = urlsplit(prefix)
    if not sep or parts.scheme not in ("http", "https") or not parts.netloc or not path:
        raise BadInput(
            f"--source-root {text}: expected URL_PREFIX=PATH, "
            "e.g. http://127.0.0.1:8000/static/=site/static/"
        )
    return SourceRoot(prefix, path)


def source_file(
    url: str | None,
    roots: list[SourceRoot],
    *,
    cwd: Path | None = None,
    exists: Callable[[Path], bool] = Path.is_file,
) -> str | None:
    """The repository path (relative to ``cwd``) of a script URL, if mapped and there."""
    if not url:
        return None
    base = (cwd or Path.cwd()).resolve()
    for root in sorted(roots, key=lambda r: -len(r.prefix)):
        if not url.startswith(root.prefix):
            continue
        rest = urlsplit(url[len(root.prefix) :]).path.lstrip("/")
        if not rest or ".." in PurePosixPath(rest).parts:
            return None
        candidate = (base / root.path / rest).resolve()
        if not candidate.is_relative_to(base):  # outside the working directory: not the repo's
            return None
        return candidate.relative_to(base).as_posix() if exists(candidate) else None
    return None


def repository_file(
    path: str | None, *, cwd: Path | None = None, exists: Callable[[Path], bool] = Path.is_file
) -> str | None:
    """A source map's file name (``src/cart/discount.ts``) as a path of the repository
    checked out in ``cwd``, if it is one there; never a path outside it."""
    if not path or PurePosixPath(path).is_absolute() or ".." in PurePosixPath(path).parts:
        return None
    base = (cwd or Path.cwd()).resolve()
    candidate = (base / path).resolve()
    if not candidate.is_relative_to(base) or not exists(candidate):
        return None
    return candidate.relative_to(base).as_posix()


def annotation_lines(
    results: CheckResults,
    roots: list[SourceRoot] | None = None,
    *,
    cwd: Path | None = None,
    exists: Callable[[Path], bool] = Path.is_file,
) -> list[str]:
    """``::error`` workflow commands: one per failing error, one for a page's reason."""
    lines = []
    for page in sorted(results.failed, key=lambda p: p.index):
        title = f"collector check: {page.name}"
        if page.reason and (not page.errors or page.outcome != "errors" or page.missing_expected):
            lines.append(f"::error title={prop(title)}::{message(page.reason)}")
        for error in page.errors:
            props = []
            # The developer's own file when a source map named one that is in the
            # repository; else the script, when a --source-root maps its URL.
            original = repository_file(error.source_file, cwd=cwd, exists=exists)
            path = original or source_file(error.url, roots or [], cwd=cwd, exists=exists)
            line, column = (
                (error.source_line, error.source_column) if original else (error.line, error.column)
            )
            if path:
                props.append(f"file={prop(path)}")
                if line:
                    props.append(f"line={line}")
                    if column:
                        props.append(f"col={column}")
            props.append(f"title={prop(title)}")
            lines.append(f"::error {','.join(props)}::{message(error_line(error))}")
    return lines


def message(text: str) -> str:
    """Workflow command data: ``%``, CR and LF escaped."""
    return text[:MAX_MESSAGE].replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def prop(text: str) -> str:
    """A workflow command property: as data, plus ``:`` and ``,``."""
    return message(text).replace(":", "%3A").replace(",", "%2C")


# -- job summary -------------------------------------------------------------------


def job_summary(results: CheckResults, title: str = "collector check", lang: str = "en") -> str:
    """Markdown: totals, then a table of failing pages, within MAX_SUMMARY_BYTES."""
    from collector.labels import CI_LABELS

    t = CI_LABELS.get(lang, CI_LABELS["en"])
    s = results.summary
    kinds = {"failure": 0, "error": 0}
    for page in results.failed:
        if page.verdict:
            kinds[page.verdict.element] += 1
    head = [
        f"## {cell(title)}: {t['failed'] if s.failed else t['passed']}",
        "",
        f"| {t['pages']} | {t['passed_count']} | {t['failed_count']} | {t['not_checked']} "
        f"| {t['time']} |",
        "| ---: | ---: | ---: | ---: | ---: |",
        f"| {s.pages} | {s.passed} | {kinds['failure']} | {kinds['error']} "
        f"| {s.duration_ms / 1000:.1f} s |",
        "",
    ]
    if results.shards:
        head.insert(2, t["merged"].format(count=len(results.shards)) + "\n")
    if not results.failed:
        return "\n".join(head)
    head += [
        f"### {t['failing_pages']}",
        "",
        f"| {t['page']} | {t['kinds']} | {t['first_error']} | {t['bundle']} |",
        "| --- | --- | --- | --- |",
    ]
    text = "\n".join(head) + "\n"
    failed = sorted(results.failed, key=lambda p: p.index)
    for shown, page in enumerate(failed):
        row = _row(page) + "\n"
        tail = "\n" + t["more"].format(count=len(failed) - shown) + "\n"
        if len((text + row + tail).encode("utf-8")) > MAX_SUMMARY_BYTES:
            return text + tail
        text += row
    return text


def _row(page: PageRecord) -> str:
    counts: dict[str, int] = {}
    for error in page.errors:
        kind = KIND_TYPES.get(error.kind, error.kind)
        counts[kind] = counts.get(kind, 0) + error.count
    kinds = [f"{kind} {n}" for kind, n in counts.items()]
    if page.verdict and page.verdict.type not in counts:  # timeout, unreachable …
        kinds.insert(0, page.verdict.type)
    first = error_line(page.errors[0]) if page.errors else (page.reason or "")
    if page.reason and page.outcome != "errors":  # the stop says more than its errors
        first = page.reason
    bundle = f"`{cell(page.bundle, code=True)}`" if page.bundle else ""
    return (
        f"| `{cell(page.name, code=True)}` | {cell(', '.join(kinds))} | {cell(first)} | {bundle} |"
    )


def cell(text: str, code: bool = False) -> str:
    """Page text as one table cell: one line, bounded, no HTML or Markdown meaning."""
    flat = " ".join(_CONTROL.sub(" ", text).split())
    if len(flat) > MAX_CELL:
        flat = flat[: MAX_CELL - 1] + "…"
    if code:  # inside a code span only the backtick and the pipe mean anything
        return flat.replace("`", "'").replace("|", "\\|")
    escaped = _MARKDOWN.sub(r"\\\1", flat)  # then HTML: entities must stay as they are
    return html.escape(escaped, quote=True).replace("|", "&#124;")


def append_job_summary(text: str, environ: dict[str, str] | None = None) -> Path | None:
    """Append to ``$GITHUB_STEP_SUMMARY`` when it is set; the file written, else None."""
    path = (environ if environ is not None else os.environ).get("GITHUB_STEP_SUMMARY")
    if not path:
        return None
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(text.rstrip("\n") + "\n\n")
    except OSError as exc:
        raise OutputError(f"GITHUB_STEP_SUMMARY {path}: cannot write: {exc}") from None
    return Path(path)
