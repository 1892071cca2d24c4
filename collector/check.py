"""`collector check`: many pages (or flows) in one browser, judged by the rules, for CI.

Each worker keeps one context and page for the plain URLs it checks and
resets them between two pages, so that no state leaks from one page to the
next (``collector.lanes``); a flow gets a fresh context. Every page gets the
usual capture and linger; workers run concurrently because lingering is idle
time. A page that cannot load, hangs or crashes is a failure of that page,
never of the run.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from collector.errors import BadInput, CollectorError
from collector.kinds import FAILED_STATUSES

if TYPE_CHECKING:
    from playwright.async_api import Browser

    from collector.browser import BrowserOptions
    from collector.bundle import BundleOptions
    from collector.lanes import Lane
    from collector.report import Event, Outcome, StepRecord
    from collector.runner import RunOptions, RunResult
    from collector.scenario import Scenario
    from collector.ticket import Ran
    from collector.workspace import Workspace

MAX_SITEMAP_BYTES = 10_000_000


@dataclass(frozen=True)
class Target:
    """One thing to check: a URL, or a scenario file run as a flow."""

    name: str
    scenario: Scenario
    scenario_dir: Path = Path(".")
    # A plain URL: it may run in a worker's reused context (a flow gets its own).
    plain: bool = False


@dataclass(frozen=True)
class Ended:
    """What check's outputs read of a finished run: its outcome and the step it failed in.

    A page's whole RunResult (every event, the capture's totals, the environment) goes
    into its bundle and is then dropped: a run of 10,000 pages keeps this much per page.
    """

    outcome: Outcome
    steps: list[StepRecord]

    @classmethod
    def of(cls, result: RunResult) -> Ended:
        failed = result.outcome.failed_step
        return cls(result.outcome, [s for s in result.steps if s.index == failed])


@dataclass
class PageResult:
    target: Target
    result: Ran | None  # None: the page never ran (see problem)
    failing: list[Event] = field(default_factory=list)
    missing_expected: list[str] = field(default_factory=list)
    problem: str | None = None
    bundle: Path | None = None
    duration_ms: int = 0

    @property
    def failed(self) -> bool:
        if self.problem or self.failing or self.missing_expected:
            return True
        status = self.result.outcome.status if self.result else "crashed"
        return status in FAILED_STATUSES

    @property
    def reason(self) -> str:
        """One line saying why the page failed."""
        if self.problem:
            return self.problem
        if self.result and self.result.outcome.status in FAILED_STATUSES:
            return f"{self.result.outcome.status}: {self.result.outcome.message}"
        return self._counts()

    @property
    def said(self) -> str:
        """Why the page failed, for people: the symptom in the tool's words first
        ("The page did not load within 30 s (step 1: open …)"), Playwright's after."""
        if self.problem:
            return self.problem
        if self.result and self.result.outcome.status in FAILED_STATUSES:
            from collector.ticket import symptom_line

            return symptom_line(self.result) or self.reason
        return self._counts()

    def _counts(self) -> str:
        parts = []
        if self.failing:
            count = sum(e.count for e in self.failing)
            parts.append(f"{count} error{'' if count == 1 else 's'}")
        if self.missing_expected:
            parts.append("expected but not seen: " + ", ".join(self.missing_expected))
        return "; ".join(parts)


@dataclass
class CheckReport:
    pages: list[PageResult]
    duration_ms: int
    shard: tuple[int, int] | None = None
    # The whole run's target names, all shards (what a shard's results are merged against).
    all_targets: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.all_targets:
            self.all_targets = [p.target.name for p in self.pages]

    @property
    def failed(self) -> list[PageResult]:
        return [p for p in self.pages if p.failed]


def default_concurrency(cpus: int | None = None) -> int:
    """Lingering pages are idle, so overlap more of them than there are cores."""
    cpus = cpus or os.cpu_count() or 2
    return max(2, min(8, cpus * 2))


def collect_targets(
    items: Iterable[str],
    *,
    urls_file: str | None = None,
    sitemap_urls: Iterable[str] = (),
    base_url: str | None = None,
    env: dict[str, str] | None = None,
    fetch: Callable[[str], bytes] | None = None,
) -> list[Target]:
    """URLs, URL-list files, scenario files and sitemaps -> targets, in order, without repeats."""
    targets: list[Target] = []
    for item in items:
        if _looks_like_url(item):
            targets.append(url_target(item))
            continue
        path = Path(item)
        if not path.exists():
            raise BadInput(f"{item}: neither a URL (http://…) nor an existing file")
        if path.is_dir():
            raise BadInput(f"{item}: is a directory, expected a URL, a URL list or a scenario")
        if _is_url_list(path):
            targets.extend(url_target(u) for u in read_url_list(path))
        else:
            from collector.loader import load_any

            scenario = load_any(path, base_url=base_url, env=env)
            targets.append(Target(str(path), scenario, path.resolve().parent))
    if urls_file:
        targets.extend(url_target(u) for u in read_url_list(Path(urls_file)))
    for sitemap in sitemap_urls:
        targets.extend(url_target(u) for u in read_sitemap(sitemap, fetch=fetch))
    seen: set[str] = set()
    unique = []
    for target in targets:
        if target.name not in seen:
            seen.add(target.name)
            unique.append(target)
    if not unique:
        raise BadInput("nothing to check: give URLs, a URL list, a scenario or --sitemap")
    return unique


def url_target(url: str) -> Target:
    if not _looks_like_url(url):
        raise BadInput(f"not an http(s) URL: {url!r}")
    from collector.scenario import Goto, Scenario

    return Target(url, Scenario(name=url, steps=[Goto(url=url)]), plain=True)


def read_url_list(path: Path) -> list[str]:
    """One URL a line; blank lines and `#` comments are skipped."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise BadInput(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: cannot read as text: {exc}") from None
    urls = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not _looks_like_url(line):
            raise BadInput(f"{path}:{number}: not an http(s) URL: {line!r}")
        urls.append(line)
    return urls


def read_sitemap(
    url: str, fetch: Callable[[str], bytes] | None = None, _seen: set[str] | None = None
) -> list[str]:
    """The <loc> URLs of a sitemap (or of the sitemaps a sitemap index lists)."""
    fetch = fetch or _fetch
    seen = set() if _seen is None else _seen
    if url in seen:  # an index that lists itself, or a cycle of indexes
        return []
    seen.add(url)
    try:
        data = fetch(url)
    except OSError as exc:
        raise CollectorError(f"--sitemap {url}: cannot fetch: {exc}") from None
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise BadInput(f"--sitemap {url}: not valid XML: {exc}") from None
    # Only <url><loc> (or <sitemap><loc> in an index): extensions such as
    # <image:image><image:loc> name files, not pages.
    kind = "sitemap" if _local_name(root.tag) == "sitemapindex" else "url"
    locs = [
        loc.text.strip()
        for entry in root
        if _local_name(entry.tag) == kind
        for loc in entry
        if _local_name(loc.tag) == "loc" and loc.text
    ]
    locs = [u for u in locs if _looks_like_url(u)]  # never file:// or other schemes
    if kind == "sitemap":
        return [u for loc in locs for u in read_sitemap(loc, fetch, seen)]
    return locs


def _local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _fetch(url: str) -> bytes:
    from urllib.request import urlopen

    with urlopen(url, timeout=30) as response:
        data: bytes = response.read(MAX_SITEMAP_BYTES)
    return data


def shard(targets: list[Target], index: int, count: int) -> list[Target]:
    """The targets of shard ``index`` (1-based) of ``count``: each target in exactly one shard.

    By a hash of the name rather than by position, so that adding a page does not
    move every other page to another machine.
    """
    if count < 1 or not 1 <= index <= count:
        raise BadInput(f"--shard {index}/{count}: expected I/N with 1 <= I <= N")
    return [t for t in targets if _bucket(t.name, count) == index - 1]


def parse_shard(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match:
        raise BadInput(f"--shard {text}: expected I/N, e.g. 2/4")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1 or not 1 <= index <= count:
        raise BadInput(f"--shard {text}: expected I/N with 1 <= I <= N")
    return index, count


def _bucket(name: str, count: int) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") % count


async def check_targets(
    targets: list[Target],
    browser: Browser,
    *,
    run_options: RunOptions,
    work_dir: Path,
    concurrency: int,
    on_done: Callable[[PageResult], None] | None = None,
    bundle_options: BundleOptions | None = None,
) -> list[PageResult]:
    """Run every target, ``concurrency`` at a time, in input order.

    Each worker has a lane (a context reset between its plain URLs). Each target
    runs in a workspace under ``work_dir``; with ``bundle_options``, a failing
    page's workspace becomes its bundle.
    """
    from collector.bundle import write_run_bundle
    from collector.capture.maps import MapCache
    from collector.lanes import Lane
    from collector.workspace import discard_workspace

    lanes = [Lane(browser) for _ in range(max(1, concurrency))]
    free: asyncio.Queue[Lane] = asyncio.Queue()
    for lane in lanes:
        free.put_nowait(lane)
    rules = run_options.rules
    # One script's source map is fetched once for all the pages (issue 16).
    if run_options.map_cache is None:
        run_options = replace(run_options, map_cache=MapCache())

    async def one(target: Target) -> PageResult:
        lane = await free.get()
        try:
            started = time.monotonic()
            # An expected error is the page's known state: it must occur, and it does not fail.
            expected = rules.expect + tuple(target.scenario.expect)
            options = replace(
                run_options,
                rules=rules.with_overrides(ignore=expected),
                scenario_dir=target.scenario_dir,
            )
            page, ran = await _run_one(
                target, browser, options, work_dir, lane if target.plain else None
            )
            page.duration_ms = int((time.monotonic() - started) * 1000)
        finally:
            free.put_nowait(lane)
        if ran is not None:
            result, workspace = ran
            # In a thread: the other pages' events keep flowing while a bundle is written.
            if page.failed and bundle_options is not None:
                written = await asyncio.to_thread(write_run_bundle, result, workspace, bundle_options)
                page.bundle = written.path
            else:
                # A passing page's workspace holds next to nothing: removing it costs less
                # than handing it to a thread.
                discard_workspace(workspace)
        if on_done is not None:
            on_done(page)
        return page

    try:
        return list(await asyncio.gather(*(one(t) for t in targets)))
    finally:
        await asyncio.gather(*(lane.close() for lane in lanes))


async def _run_one(
    target: Target, browser: Browser, options: RunOptions, work_dir: Path, lane: Lane | None
) -> tuple[PageResult, tuple[RunResult, Workspace] | None]:
    """Run one target in a workspace of its own (kept only if a bundle is written).

    The whole result and its workspace come back beside the page, not in it, so that
    they are gone once the bundle is written.
    """
    from collector.runner import run_scenario
    from collector.workspace import discard_workspace, new_workspace

    workspace = new_workspace(work_dir)
    try:
        result = await run_scenario(
            target.scenario, browser, replace(options, work_dir=workspace.path), lane=lane
        )
    except CollectorError as exc:
        discard_workspace(workspace)
        return PageResult(target, None, problem=str(exc)), None
    page = PageResult(
        target,
        Ended.of(result),
        failing=result.failing_events,
        missing_expected=result.rules.missing_expected(result.events),
    )
    return page, (result, workspace)


@dataclass
class CheckPlan:
    """What to check and how, read from the command line, the config and the files."""

    targets: list[Target]
    run_options: RunOptions
    work_dir: Path  # where each page's workspace goes (the bundles' folder, if any)
    concurrency: int
    shard: tuple[int, int] | None = None
    bundle_options: BundleOptions | None = None  # None: no bundles
    all_targets: list[str] = field(default_factory=list)  # before sharding


async def run_check(
    prepare: Callable[[], CheckPlan],
    *,
    browser_options: BrowserOptions,
    on_start: Callable[[CheckPlan], None] | None = None,
    on_done: Callable[[PageResult], None] | None = None,
) -> CheckReport:
    """Start one browser while ``prepare`` reads the targets, then check every target."""
    from collector.browser import start_while_preparing

    def prepare_and_import() -> CheckPlan:
        """``prepare``, plus the imports every page needs and those of a failing page's
        bundle: done while the browser starts, not by the pages. (The templates are the
        first bundle's to load: a broken one of the user's is its error to report.)"""
        import collector.runner

        plan = prepare()
        if plan.bundle_options is not None:
            import collector.bundle  # noqa: F401
            from collector.bundle_text import import_writer

            import_writer()
        return plan

    started = time.monotonic()
    starting = await start_while_preparing(prepare_and_import, browser_options)
    plan = starting.prepared
    try:
        if on_start is not None:
            on_start(plan)
        if not plan.targets:  # an empty shard: the browser is dropped half-started
            return CheckReport([], 0, plan.shard, plan.all_targets)
        pages = await check_targets(
            plan.targets,
            await starting.browser(),
            run_options=plan.run_options,
            work_dir=plan.work_dir,
            concurrency=plan.concurrency,
            on_done=on_done,
            bundle_options=plan.bundle_options,
        )
    finally:
        await starting.close()
    elapsed = int((time.monotonic() - started) * 1000)
    return CheckReport(pages, elapsed, plan.shard, plan.all_targets)


# -- outputs --------------------------------------------------------------------


def error_lines(page: PageResult) -> list[str]:
    """One line per failing error: page, kind, url:line:column, message."""
    lines = []
    if page.problem or not page.failing or _stopped(page) or page.missing_expected:
        lines.append(f"FAIL {page.target.name}: {page.said}")
    unreachable = page.result is not None and page.result.outcome.status == "unreachable"
    for event in page.failing:
        if unreachable and event.kind == "request_failed":
            continue  # the FAIL line above already says the site could not be reached
        # A network error's text names its URL: no location beside it.
        where = "" if event.kind in ("http_error", "request_failed") else _location(event)
        count = f" (×{event.count})" if event.count > 1 else ""
        text = " ".join(event.text.split())[:300]
        lines.append(f"FAIL {page.target.name}: {event.kind} {where} {text}{count}".replace("  ", " "))
    return lines


def summary_table(report: CheckReport) -> str:
    rows = [("page", "result", "errors", "time")]
    for page in report.pages:
        errors = sum(e.count for e in page.failing)
        rows.append(
            (
                _shorten(page.target.name, 70),
                "FAIL" if page.failed else "ok",
                str(errors),
                f"{page.duration_ms / 1000:.1f}s",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    # The last column is not padded: a page that took 10 s or more must not leave
    # trailing spaces on every other line.
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    failed = len(report.failed)
    lines.append(
        f"{len(report.pages)} pages, {len(report.pages) - failed} passed, {failed} failed "
        f"in {report.duration_ms / 1000:.1f}s"
    )
    return "\n".join(lines)


def _stopped(page: PageResult) -> bool:
    """Whether the page did not run to the end (its reason is more than its errors)."""
    return page.result is not None and page.result.outcome.status in FAILED_STATUSES


def _location(event: Event) -> str:
    from collector.results import where_text

    top = event.frames[0].original if event.frames else None
    if top is None:
        return where_text(event.url, event.line, event.column)
    return where_text(event.url, event.line, event.column, top.file, top.line, top.column)


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else "…" + text[-(width - 1) :]


def _looks_like_url(text: str) -> bool:
    parts = urlsplit(text.strip())
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _is_url_list(path: Path) -> bool:
    """A text file whose first meaningful line is a URL (scenarios start with a key)."""
    if path.suffix.lower() in (".yaml", ".yml", ".json"):
        return False
    try:
        with path.open(encoding="utf-8-sig", errors="replace") as fh:
            for raw in fh:
                line = raw.strip()
                if line and not line.startswith("#"):
                    return _looks_like_url(line)
    except OSError:
        return False
    return False

