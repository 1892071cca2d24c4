"""Replay a received bundle: does the bug happen here, how often, and is it gone?

A received bundle is untrusted input. Only ``report.json`` and
``scenario.yaml`` are read from it, into memory, after the whole zip has been
checked for path tricks, links and bombs; nothing from it is ever extracted.
Steps that would open local or browser-internal URLs are refused unless the
user allows them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from collector.assemble import failing_fingerprints, outcome_fingerprint
from collector.bundle_reader import ReceivedBundle
from collector.errors import BundleError, ScenarioError
from collector.fingerprint import compare_fingerprints
from collector.report import FAILED_STATUSES, Outcome, Report, StepRecord
from collector.scenario import Scenario, Upload, scenario_from_document
from collector.scenario_check import SECRET_REF, scenario_strings
from collector.text import one_line

if TYPE_CHECKING:
    from collector.browser import BrowserOptions
    from collector.bundle import BundleOptions
    from collector.deadlines import Interrupt
    from collector.runner import RunOptions

LOCAL_SCHEMES = {"file", "chrome", "javascript", "data", "chrome-extension", "devtools",
                 "view-source", "blob", "filesystem"}  # fmt: skip
Expectation = Literal["reproduced", "fixed"]
# Where a received bundle may use a secret: the value a typing step types.
TYPED_FIELDS = {"fill": "value", "change": "value", "type": "text"}


@dataclass
class RunVerdict:
    reference: str
    bundle: Path
    seen: set[str]
    verdict: str  # reproduced, partly reproduced, not reproduced, inconclusive, nothing …
    # Why the run is inconclusive, or which step stopped it early ("" when every step ran).
    reason: str = ""
    every_step_ran: bool = True
    new_errors: dict[str, str] = field(default_factory=dict)


@dataclass
class ReplayResult:
    original: Report
    runs: list[RunVerdict] = field(default_factory=list)
    original_fingerprints: dict[str, str] = field(default_factory=dict)  # fingerprint -> message
    new_errors: dict[str, str] = field(default_factory=dict)
    interrupt: Interrupt | None = None  # set when a signal or --max-run-time ended it

    @property
    def reproduced_runs(self) -> int:
        return sum(1 for r in self.runs if r.verdict == "reproduced")

    @property
    def verdict(self) -> str:
        """The verdict of the runs together: the strongest evidence any run gave.

        A run that reproduced the bug outweighs one that could not get there; a run
        that could not get there outweighs one that got there and saw nothing
        (a flaky environment must not pass for a fix).
        """
        if not self.original_fingerprints:
            return NOTHING
        for verdict in ("reproduced", "partly reproduced", INCONCLUSIVE):
            if any(r.verdict == verdict for r in self.runs):
                return verdict
        return "not reproduced"

    @property
    def reason(self) -> str:
        """Why the verdict is inconclusive (the first such run's reason), else ""."""
        if self.verdict != INCONCLUSIVE:
            return ""
        return next(r.reason for r in self.runs if r.verdict == INCONCLUSIVE)

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
        return self.expectation(expect)[0]

    def expectation(self, expect: Expectation) -> tuple[bool, str]:
        """Whether ``--expect`` holds, and why, in words an agent can act on."""
        if not self.runs:
            return False, "no run finished (interrupted before the first one ended)"
        verdict = self.verdict
        if expect == "reproduced":
            if verdict in ("reproduced", "partly reproduced"):
                return True, f"{verdict} ({self.frequency})"
            if verdict == INCONCLUSIVE:
                return False, f"inconclusive: {self.reason}"
            if verdict == NOTHING:
                return False, "the original run captured no failing error"
            return False, f"not reproduced in {len(self.runs)} run(s)"
        # --expect fixed: only a run that did everything the user did, and saw
        # neither the old errors nor new ones, is evidence of a fix.
        if verdict == NOTHING:
            return False, "the original run captured no failing error: there is nothing to fix"
        if verdict in ("reproduced", "partly reproduced"):
            k = sum(1 for r in self.runs if r.verdict != "not reproduced")
            return False, f"{verdict}: the original's errors still happen ({k}/{len(self.runs)} runs)"
        if verdict == INCONCLUSIVE:
            return False, f"inconclusive, the fix cannot be confirmed: {self.reason}"
        stopped = next((r for r in self.runs if not r.every_step_ran), None)
        if stopped is not None:
            return False, f"not every step ran: {stopped.reason}"
        if self.new_errors:
            first = one_line(next(iter(self.new_errors.values())))[:150]
            more = f" (+{len(self.new_errors) - 1} more)" if len(self.new_errors) > 1 else ""
            return False, f"a new failing error appeared: {first}{more}"
        return True, "not reproduced, every step ran and no new error appeared"


def bundle_scenario(
    bundle: ReceivedBundle,
    *,
    base_url: str | None = None,
    allow_local: bool = False,
) -> Scenario:
    """The bundle's scenario, rebased onto ``base_url``, refusing what a stranger may not do.

    Secrets stay ``${NAME}`` here: ``secrets_for`` says which the agent must give.
    """
    from collector.yamlsource import parse_document

    if bundle.scenario_text is None:
        raise BundleError(f"{bundle.label}: scenario.yaml is missing")
    label = f"{bundle.label}:scenario.yaml"
    try:
        doc = parse_document(bundle.scenario_text, label)
        # env=None: a bundle's `secrets:` is a request; the agent's environment is not read.
        scenario = scenario_from_document(doc, env=None)
    except ScenarioError as exc:
        raise BundleError(f"invalid scenario in the bundle: {exc}") from None
    refuse_misplaced_secrets(scenario, bundle.label)
    original_base = scenario.url or bundle.report.environment.url or first_url(scenario)
    if base_url:
        scenario = rebase(scenario, original_base, base_url)
    if not allow_local:
        refuse_local_urls(scenario, bundle.label)
    return scenario


def refuse_misplaced_secrets(scenario: Scenario, label: str) -> None:
    """A received bundle may put a secret only where it is typed, never where it is sent.

    A ``${NAME}`` in a URL, a selector or a script would hand the value to whoever
    wrote the bundle (``goto: /steal?x=${AWS_SECRET_ACCESS_KEY}``).
    """
    for path, text in scenario_strings(scenario):
        match = SECRET_REF.search(text)
        if match is None:
            continue
        if len(path) == 4 and path[0] == "steps" and TYPED_FIELDS.get(str(path[2])) == path[3]:
            continue
        where = (
            f"step {int(path[1]) + 1} ({path[2]}) uses ${{{match.group(1)}}} in its "
            f"{'.'.join(str(p) for p in path[3:])}"
            if path[0] == "steps"
            else f"the scenario's {'.'.join(str(p) for p in path)} uses ${{{match.group(1)}}}"
        )
        raise BundleError(
            f"{label}: {one_line(where)}; a received bundle may use secrets only in the "
            "values it types (fill, change, type): refused"
        )


def secrets_for(scenario: Scenario, named: Mapping[str, str], label: str) -> dict[str, str]:
    """The values of the secrets the bundle asks for, from those the agent named."""
    missing = [name for name in scenario.secrets if name not in named]
    if missing:
        flags = " ".join(f"--secret {name}" for name in missing)
        raise BundleError(
            f"{label}: the steps ask for secrets you have not given: {', '.join(missing)} "
            f"(a bundle's secrets are yours to choose: pass {flags} or --secrets-file FILE)"
        )
    return {name: named[name] for name in scenario.secrets}


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


def first_failure_step(report: Report) -> int | None:
    """The step at which the original's first failing error happened (None: it had none).

    An error logged before the first step counts as step 1: a replay must at least
    have opened the page to say anything about it.
    """
    steps = [g.first_step or 1 for g in report.errors if g.fails]
    outcome = report.outcome
    if outcome.status in FAILED_STATUSES:
        steps.append(outcome.failed_step or 1)
    return min(steps) if steps else None


NOTHING = "nothing to reproduce"
INCONCLUSIVE = "inconclusive"
# Outcomes that stop a run before its last step.
STOPPING = (*FAILED_STATUSES, "interrupted")


def verdict_of(original: set[str], seen: set[str], *, reached: bool = True) -> str:
    """The verdict of one run; ``reached``: it got to the original's first failing step."""
    if not original:
        # The original run was clean: there is no bug in the bundle to confirm.
        return NOTHING
    reproduced, missing, _new = compare_fingerprints(original, seen)
    if not missing:
        return "reproduced"
    if not reached:
        # Not seeing an error at a step the run never got to says nothing about it.
        return INCONCLUSIVE
    return "partly reproduced" if reproduced else "not reproduced"


@dataclass(frozen=True)
class Progress:
    """How far a replay run got, compared with where the original's bug showed."""

    reached: bool  # it got through the step of the original's first failing error
    every_step_ran: bool
    reason: str  # where and why it stopped early ("" when every step ran)


def progress_of(
    original: Report,
    steps: list[StepRecord],
    outcome: Outcome,
    seen: Mapping[str, str],
) -> Progress:
    """Did the run get as far as the original's bug, and did it run every step?"""
    stop = outcome.failed_step if outcome.status in STOPPING else None
    if stop is None:
        return Progress(reached=True, every_step_ran=True, reason="")
    record = next((s for s in steps if s.index == stop), None)
    what = f"step {stop}"
    if record is not None:
        shown = record.matched_selector or record.target
        what += f" ({record.action}{' ' + one_line(shown)[:100] if shown else ''})"
    verb = {"unreachable": "could not reach the site", "crashed": "crashed",
            "interrupted": "was interrupted"}.get(outcome.status, "failed")  # fmt: skip
    reason = f"{what} {verb}: {one_line(outcome.message)[:200]}"
    target = first_failure_step(original)
    if target is None or stop > target:
        return Progress(reached=True, every_step_ran=False, reason=reason)
    # Stopping at the very step where the original stopped, the same way, is the bug.
    same_stop = stop == target and outcome_fingerprint(outcome.status, stop) in seen
    if not same_stop:
        reason += f", before step {target} where the original's first error happened"
    return Progress(reached=same_stop, every_step_ran=False, reason=reason)


async def replay(
    bundle: ReceivedBundle,
    scenario: Scenario,
    *,
    times: int,
    browser_options: BrowserOptions,
    run_options: RunOptions,
    bundle_options: BundleOptions,
    on_run: Callable[[int, RunVerdict], None] | None = None,
    max_run_time_s: float | None = None,
) -> ReplayResult:
    """Run the scenario ``times`` times in one browser and compare with the original.

    A signal or ``max_run_time_s`` (for all the runs together) ends the run in
    progress, whose bundle is still written, and starts no other.
    """
    from collector.browser import open_browser
    from collector.repro import StopGuard, reproduce

    original = failing_fingerprints(bundle.report)
    result = ReplayResult(bundle.report, original_fingerprints=original)
    options = replace(bundle_options, original_reference=bundle.report.reference)
    with StopGuard(max_run_time_s) as guard:
        async with open_browser(browser_options, survive_signals=True) as (browser, _origin):
            for number in range(1, times + 1):
                if guard.stop is not None:
                    break
                done = await reproduce(
                    scenario,
                    browser_options=browser_options,
                    run_options=run_options,
                    bundle_options=options,
                    browser=browser,
                    guard=guard,
                )
                seen = failing_fingerprints(done.report)
                new = {fp: message for fp, message in seen.items() if fp not in original}
                for fp, message in new.items():
                    result.new_errors.setdefault(fp, message)
                got = progress_of(bundle.report, done.result.steps, done.result.outcome, seen)
                run = RunVerdict(
                    done.reference,
                    done.bundle,
                    set(seen),
                    verdict_of(set(original), set(seen), reached=got.reached),
                    reason=got.reason,
                    every_step_ran=got.every_step_ran,
                    new_errors=new,
                )
                result.runs.append(run)
                if on_run is not None:
                    on_run(number, run)
    result.interrupt = guard.stop
    return result


def _origin(url: str | None) -> tuple[str, str] | None:
    if not url:
        return None
    parts = urlsplit(url)
    return (parts.scheme.lower(), parts.netloc.lower()) if parts.scheme else None

