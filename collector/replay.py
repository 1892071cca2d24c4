"""Replay a received bundle: does the bug happen here, how often, and is it gone?

A received bundle is untrusted input. Only ``report.json`` and
``scenario.yaml`` are read from it, into memory, after the whole zip has been
checked for path tricks, links and bombs; nothing from it is ever extracted.
Steps that would open local or browser-internal URLs are refused unless the
user allows them.
"""

from __future__ import annotations

import stat
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from collector.errors import BundleError, ScenarioError
from collector.fingerprint import compare_fingerprints, group_errors
from collector.report import Report
from collector.scenario import Scenario, Upload, scenario_from_document

if TYPE_CHECKING:
    from collector.browser import BrowserOptions
    from collector.bundle import BundleOptions
    from collector.repro import Reproduction
    from collector.runner import RunOptions

MAX_ENTRIES = 500
MAX_TOTAL_BYTES = 100_000_000
MAX_MEMBER_BYTES = 20_000_000
MAX_RATIO = 200
LOCAL_SCHEMES = {"file", "chrome", "javascript", "data", "chrome-extension", "devtools",
                 "view-source", "blob", "filesystem"}  # fmt: skip
Expectation = Literal["reproduced", "fixed"]


@dataclass
class ReceivedBundle:
    """What a replay needs from a bundle: its report and its scenario text."""

    label: str
    report: Report
    scenario_text: str


@dataclass
class RunVerdict:
    reference: str
    bundle: Path
    seen: set[str]
    verdict: str  # "reproduced", "partly reproduced", "not reproduced"


@dataclass
class ReplayResult:
    original: Report
    runs: list[RunVerdict] = field(default_factory=list)
    original_fingerprints: dict[str, str] = field(default_factory=dict)  # fingerprint -> message
    new_errors: dict[str, str] = field(default_factory=dict)
    interrupted: bool = False

    @property
    def reproduced_runs(self) -> int:
        return sum(1 for r in self.runs if r.verdict == "reproduced")

    @property
    def verdict(self) -> str:
        """The verdict of the runs together: reproduced when any run reproduced it all."""
        if not self.original_fingerprints:
            return NOTHING
        if self.reproduced_runs:
            return "reproduced"
        if any(r.verdict == "partly reproduced" for r in self.runs):
            return "partly reproduced"
        return "not reproduced"

    @property
    def frequency(self) -> str:
        k, n = self.reproduced_runs, len(self.runs)
        if not self.original_fingerprints:
            return "no errors in the original"
        if k == n:
            return "always"
        return f"flaky ({k}/{n})" if k else "never"

    def rates(self) -> dict[str, int]:
        """Fingerprint -> in how many runs it was seen."""
        return {fp: sum(1 for r in self.runs if fp in r.seen) for fp in self.original_fingerprints}

    def as_expected(self, expect: Expectation) -> bool:
        """`--expect fixed`: no run saw an original error, and none saw a new failing one
        (a step that fails earlier now is not a fix). `--expect reproduced`: some run
        reproduced the bug, fully or in part."""
        if expect == "fixed":
            if not self.runs or self.new_errors:
                return False
            return all(not (r.seen & set(self.original_fingerprints)) for r in self.runs)
        return any(r.verdict in ("reproduced", "partly reproduced") for r in self.runs)


def open_bundle(path: Path) -> ReceivedBundle:
    """Read a bundle folder or zip, refusing anything unusual. Raises BundleError."""
    label = str(path)
    if not path.exists():
        raise BundleError(f"{label}: no such file or folder")
    if path.is_dir():
        report_text = _read_small(path / "report.json", label)
        scenario_text = _read_small(path / "scenario.yaml", label)
    elif zipfile.is_zipfile(path):
        report_text, scenario_text = _read_zip(path, label)
    else:
        raise BundleError(f"{label}: not a bundle (expected a bundle folder or its .zip)")
    report = _parse_report(report_text, label)
    return ReceivedBundle(label, report, scenario_text)


def _read_small(path: Path, label: str) -> str:
    if not path.is_file() or path.is_symlink():
        raise BundleError(f"{label}: {path.name} is missing")
    if path.stat().st_size > MAX_MEMBER_BYTES:
        raise BundleError(f"{label}: {path.name} is too large")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise BundleError(f"{label}: {path.name} is not UTF-8 text") from None


def _read_zip(path: Path, label: str) -> tuple[str, str]:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            _check_members(infos, label)
            wanted = {}
            for info in infos:
                name = PurePosixPath(info.filename)
                if len(name.parts) <= 2 and name.name in ("report.json", "scenario.yaml"):
                    wanted.setdefault(name.name, info)
            for needed in ("report.json", "scenario.yaml"):
                if needed not in wanted:
                    raise BundleError(f"{label}: {needed} is missing from the zip")
            texts = []
            for needed in ("report.json", "scenario.yaml"):
                with zf.open(wanted[needed]) as member:
                    data = member.read(MAX_MEMBER_BYTES + 1)
                if len(data) > MAX_MEMBER_BYTES:
                    raise BundleError(f"{label}: {needed} is too large")
                try:
                    texts.append(data.decode("utf-8"))
                except UnicodeDecodeError:
                    raise BundleError(f"{label}: {needed} is not UTF-8 text") from None
            return texts[0], texts[1]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, RuntimeError, EOFError) as exc:
        raise BundleError(f"{label}: unreadable zip: {exc}") from None
    except NotImplementedError as exc:  # unsupported compression or encryption
        raise BundleError(f"{label}: unsupported zip: {exc}") from None


def _check_members(infos: list[zipfile.ZipInfo], label: str) -> None:
    """Refuse path traversal, absolute paths, links, too many entries and zip bombs."""
    if len(infos) > MAX_ENTRIES:
        raise BundleError(f"{label}: {len(infos)} entries, more than a bundle has ({MAX_ENTRIES})")
    total = 0
    for info in infos:
        name = info.filename
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in parts:
            raise BundleError(f"{label}: unsafe entry {name!r} (absolute or outside the bundle)")
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise BundleError(f"{label}: entry {name!r} is a link; bundles hold plain files")
        if info.flag_bits & 0x1:
            raise BundleError(f"{label}: entry {name!r} is encrypted")
        total += info.file_size
        if info.file_size > MAX_MEMBER_BYTES or total > MAX_TOTAL_BYTES:
            raise BundleError(
                f"{label}: uncompressed size beyond any bundle ({total:,} bytes): zip bomb?"
            )
        if info.compress_size and info.file_size / info.compress_size > MAX_RATIO and (
            info.file_size > 1_000_000
        ):
            raise BundleError(f"{label}: entry {name!r} compresses {MAX_RATIO}:1+: zip bomb?")


def _parse_report(text: str, label: str) -> Report:
    import json

    from pydantic import ValidationError

    from collector.report import SCHEMA_ID

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BundleError(f"{label}: report.json is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BundleError(f"{label}: report.json is not a report")
    if data.get("schema") != SCHEMA_ID:
        raise BundleError(
            f"{label}: report.json has schema {data.get('schema')!r}; this collector reads "
            f"{SCHEMA_ID}"
        )
    data.pop("redactions", None)
    try:
        return Report.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in err["loc"])
        raise BundleError(f"{label}: report.json: {where}: {err['msg']}") from None


def bundle_scenario(
    bundle: ReceivedBundle,
    *,
    env: Mapping[str, str],
    base_url: str | None = None,
    allow_local: bool = False,
) -> Scenario:
    """The bundle's scenario, rebased onto ``base_url``, with local URLs refused."""
    from collector.yamlsource import parse_document

    label = f"{bundle.label}:scenario.yaml"
    try:
        doc = parse_document(bundle.scenario_text, label)
        secrets = doc.data.get("secrets") if isinstance(doc.data, dict) else None
        if isinstance(secrets, list):
            missing = [s for s in secrets if isinstance(s, str) and s not in env]
            if missing:
                raise BundleError(
                    f"{bundle.label}: the steps need secrets that are not set: "
                    f"{', '.join(missing)} (set them as environment variables; the bundle "
                    "carries them redacted)"
                )
        scenario = scenario_from_document(doc, env=env)
    except ScenarioError as exc:
        raise BundleError(f"invalid scenario in the bundle: {exc}") from None
    original_base = scenario.url or bundle.report.environment.url or first_url(scenario)
    if base_url:
        scenario = rebase(scenario, original_base, base_url)
    if not allow_local:
        refuse_local_urls(scenario, bundle.label)
    return scenario


def rebase(scenario: Scenario, old_base: str | None, new_base: str) -> Scenario:
    """Point the scenario at another deployment: same paths, new origin."""
    old_origin = _origin(old_base) if old_base else None

    def move(url: str) -> str:
        if old_origin is None or _origin(url) != old_origin:
            return url
        new = urlsplit(new_base)
        parts = urlsplit(url)
        # Bases are folders: http://shop/app/ and http://shop/app/index.html both mean /app.
        old_dir = urlsplit(old_base or "").path.rsplit("/", 1)[0]
        new_dir = new.path.rsplit("/", 1)[0]
        path = parts.path
        if old_dir and path.startswith(old_dir + "/"):
            path = path[len(old_dir) :]
        return urlunsplit((new.scheme, new.netloc, new_dir + path, parts.query, parts.fragment))

    steps = []
    for step in scenario.steps:
        updates: dict[str, Any] = {}
        url = getattr(step, "url", None)
        if isinstance(url, str) and urlsplit(url).scheme:
            updates["url"] = move(url)
        if step.target and urlsplit(step.target).scheme:
            updates["target"] = move(step.target)
        steps.append(step.model_copy(update=updates) if updates else step)
    return scenario.model_copy(update={"url": new_base, "steps": steps})


def first_url(scenario: Scenario) -> str | None:
    """The first absolute URL the steps open (the base of a scenario without `url:`)."""
    for step in scenario.steps:
        url = getattr(step, "url", None)
        if isinstance(url, str) and urlsplit(url).scheme in ("http", "https"):
            return url
    return None


def refuse_local_urls(scenario: Scenario, label: str) -> None:
    for index, step in enumerate(scenario.steps, start=1):
        if isinstance(step, Upload):
            # The files would come from this machine, not the bundle: a way to exfiltrate them.
            raise BundleError(
                f"{label}: step {index} uploads local files; refused in a received bundle "
                "(pass --allow-local to run it)"
            )
        url = getattr(step, "url", None)
        if isinstance(url, str) and urlsplit(url).scheme.lower() in LOCAL_SCHEMES:
            raise BundleError(
                f"{label}: step {index} opens {urlsplit(url).scheme}: URLs "
                f"({url[:80]}); refused in a received bundle (pass --allow-local to run it)"
            )
    if scenario.url and urlsplit(scenario.url).scheme.lower() in LOCAL_SCHEMES:
        raise BundleError(f"{label}: the scenario's url is local; refused without --allow-local")


def original_fingerprints(report: Report) -> dict[str, str]:
    """The failing fingerprints of the original run (plus its outcome when a step failed)."""
    found = {g.fingerprint: g.message for g in report.errors if g.fails}
    outcome = report.outcome
    if outcome.status in ("step_failed", "crashed", "unreachable"):
        found[outcome_fingerprint(outcome.status, outcome.failed_step)] = (
            f"{outcome.status} at step {outcome.failed_step}: {outcome.message}"
        )
    return found


def outcome_fingerprint(status: str, step: int | None) -> str:
    return f"outcome:{status}:{step}"


def seen_fingerprints(done: Reproduction) -> dict[str, str]:
    result = done.result
    groups = group_errors([e for e in result.events if e.fails])
    found = {g.fingerprint: g.message for g in groups}
    outcome = result.outcome
    if outcome.status in ("step_failed", "crashed", "unreachable"):
        found[outcome_fingerprint(outcome.status, outcome.failed_step)] = (
            f"{outcome.status} at step {outcome.failed_step}: {outcome.message}"
        )
    return found


NOTHING = "nothing to reproduce"


def verdict_of(original: set[str], seen: set[str]) -> str:
    if not original:
        # The original run was clean: there is no bug in the bundle to confirm.
        return NOTHING
    reproduced, missing, _new = compare_fingerprints(original, seen)
    if not missing:
        return "reproduced"
    return "partly reproduced" if reproduced else "not reproduced"


async def replay(
    bundle: ReceivedBundle,
    scenario: Scenario,
    *,
    times: int,
    browser_options: BrowserOptions,
    run_options: RunOptions,
    bundle_options: BundleOptions,
    on_run: Callable[[int, RunVerdict], None] | None = None,
) -> ReplayResult:
    """Run the scenario ``times`` times in one browser and compare with the original."""
    from collector.browser import open_browser
    from collector.repro import reproduce

    original = original_fingerprints(bundle.report)
    result = ReplayResult(bundle.report, original_fingerprints=original)
    options = replace(bundle_options, original_reference=bundle.report.reference)
    async with open_browser(browser_options, survive_sigint=True) as (browser, _origin):
        for number in range(1, times + 1):
            done = await reproduce(
                scenario,
                browser_options=browser_options,
                run_options=run_options,
                bundle_options=options,
                browser=browser,
            )
            seen = seen_fingerprints(done)
            for fp, message in seen.items():
                if fp not in original:
                    result.new_errors.setdefault(fp, message)
            run = RunVerdict(done.reference, done.bundle, set(seen), verdict_of(set(original), set(seen)))
            result.runs.append(run)
            if on_run is not None:
                on_run(number, run)
            if done.result.outcome.status == "interrupted":
                result.interrupted = True
                break
    return result


def _origin(url: str | None) -> tuple[str, str] | None:
    if not url:
        return None
    parts = urlsplit(url)
    return (parts.scheme.lower(), parts.netloc.lower()) if parts.scheme else None

