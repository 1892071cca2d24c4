"""`collector minimize`: from a long recording to the few steps that still show the bug.

The search itself is ``collector.ddmin`` (pure); this module runs its candidates.
One browser for everything: a candidate run is one run of the chosen steps in a
fresh context (as ``replay --times`` does), judged by whether the target
fingerprint shows. A candidate that stops early because a step it needs is gone
(a selector that only an earlier, removed step created) simply did not reproduce.

Flaky bugs: a candidate reproduces when k of its N runs show the target (N
chosen from how often the whole recording reproduced here, unless given). The
result is run N more times and its rate reported.

Ctrl-C, SIGTERM, SIGHUP and the budget end the search between two runs (the run
in progress is abandoned); the best result so far is what is written: the
smallest candidate seen to reproduce, with the bundle of the run that showed it.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from collector.assemble import failing_fingerprints, report_from_run
from collector.ddmin import Candidate, Minimizer
from collector.errors import BadInput
from collector.lanes import Lane
from collector.report import Report, StepRecord
from collector.scenario import (
    ExpectText,
    ExpectUrl,
    ExpectVisible,
    Goto,
    Scenario,
    Screenshot,
    Wait,
    WaitFor,
    WaitForExpression,
    WaitForUrl,
)

if TYPE_CHECKING:
    from playwright.async_api import Browser

    from collector.browser import BrowserOptions
    from collector.bundle import BundleOptions
    from collector.deadlines import Interrupt
    from collector.repro import StopGuard
    from collector.runner import RunOptions, RunResult
    from collector.workspace import Workspace

# Steps that only wait, check or take a picture: tried away first.
LIGHT_STEPS = (Wait, WaitFor, WaitForUrl, WaitForExpression, ExpectText, ExpectVisible,
               ExpectUrl, Screenshot)  # fmt: skip
# Runs of the whole recording that say how often the bug shows here (without --runs-per-candidate).
PROBE_RUNS = 3
# A candidate that truly reproduces may be missed at most this often (k = 1 of N).
MISS_RATE = 0.05
MAX_DEFAULT_RUNS = 10
# A step that waits for what a removed step would have made waits this long at least
# (else 3× the slowest step of the whole recording here), not the default 30 s.
MIN_CANDIDATE_TIMEOUT_MS = 2000


@dataclass(frozen=True)
class RunsPerCandidate:
    """A candidate reproduces when ``k`` of its ``n`` runs show the target."""

    k: int
    n: int

    def __str__(self) -> str:
        return f"{self.k}/{self.n}"


def parse_runs(text: str) -> RunsPerCandidate:
    """``N`` (1 of N) or ``K/N``; BadInput otherwise."""
    match = re.fullmatch(r"\s*(?:(\d+)\s*/\s*)?(\d+)\s*", text)
    if match is None:
        raise BadInput(f"--runs-per-candidate {text}: expected N or K/N (e.g. 5 or 2/5)")
    k, n = int(match[1] or 1), int(match[2])
    if not 1 <= k <= n <= 100:
        raise BadInput(f"--runs-per-candidate {text}: needs 1 <= K <= N <= 100")
    return RunsPerCandidate(k, n)


def default_runs(reproduced: int, runs: int) -> RunsPerCandidate:
    """Runs per candidate from how often the whole recording reproduced (``reproduced``
    of ``runs``): 1 when always, else the N that misses a true candidate at most
    ``MISS_RATE`` of the time at that rate, with one success enough."""
    if runs <= 0 or reproduced >= runs:
        return RunsPerCandidate(1, 1)
    rate = max(reproduced, 1) / runs
    n = math.ceil(math.log(MISS_RATE) / math.log(1 - rate))
    return RunsPerCandidate(1, max(2, min(MAX_DEFAULT_RUNS, n)))


@dataclass(frozen=True)
class Budget:
    """When to stop searching and keep the best so far: candidate runs, or seconds."""

    runs: int | None = None
    seconds: float | None = None

    def __str__(self) -> str:
        return f"{self.runs} runs" if self.runs is not None else f"{self.seconds:g} s"


def parse_budget(text: str) -> Budget:
    """``200`` (runs), ``90s``, ``5m`` or ``1h`` (time); BadInput otherwise."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|m|h|runs?)?\s*", text.lower())
    if match is None or float(match[1]) <= 0:
        raise BadInput(f"--budget {text}: expected a number of runs (200) or a time (90s, 5m, 1h)")
    number, unit = float(match[1]), match[2]
    if unit is None or unit.startswith("run"):
        if number != int(number):
            raise BadInput(f"--budget {text}: a number of runs is a whole number")
        return Budget(runs=int(number))
    return Budget(seconds=number * {"s": 1, "m": 60, "h": 3600}[unit])


def kept_steps(scenario: Scenario) -> set[int]:
    """Every run starts with the first navigation: it and anything before it stay."""
    for index, step in enumerate(scenario.steps):
        if isinstance(step, Goto):
            return set(range(index + 1))
    return set()


def light_steps(scenario: Scenario) -> set[int]:
    return {i for i, step in enumerate(scenario.steps) if isinstance(step, LIGHT_STEPS)}


def default_target(report: Report) -> str | None:
    """The first failing error of a run: the earliest step's, then the outcome's."""
    failing = [g for g in report.errors if g.fails]
    if failing:
        first = min(failing, key=lambda g: -1 if g.first_step is None else g.first_step)
        return first.fingerprint
    found = failing_fingerprints(report)
    return next(iter(found), None)


def in_original_steps(seen: dict[str, str], candidate: Candidate) -> dict[str, str]:
    """A candidate run's fingerprints with step numbers of the outcome (``outcome:S:N``)
    turned back into the recording's, so "step 6 failed" means the same step."""
    moved = {}
    for fp, message in seen.items():
        parts = fp.split(":")
        if len(parts) == 3 and parts[0] == "outcome" and parts[2].isdigit():
            position = int(parts[2]) - 1
            if 0 <= position < len(candidate):
                fp = f"outcome:{parts[1]}:{candidate[position] + 1}"
        moved[fp] = message
    return moved


def candidate_timeout_ms(durations: Sequence[int]) -> int:
    return max(MIN_CANDIDATE_TIMEOUT_MS, 3 * max(durations, default=0))


@dataclass
class Evidence:
    """A run that showed the target, kept (with its workspace) until a smaller one does."""

    candidate: Candidate
    result: RunResult
    workspace: Workspace
    pictured: bool = False


@dataclass
class _Run:
    candidate: Candidate
    result: RunResult
    report: Report
    workspace: Workspace
    pictured: bool = False


@dataclass
class Progress:
    """What the terminal shows after each candidate."""

    candidates: int
    runs: int
    size: int  # steps in the candidate just tried
    reproduced: bool
    best: int  # steps in the best so far
    total: int  # steps in the recording
    elapsed_s: float
    left: str  # "" when there is no budget


@dataclass
class MinimizeResult:
    total_steps: int
    target: str
    target_message: str
    baseline: tuple[int, int]  # runs that showed the target / runs of the whole recording
    runs_per_candidate: RunsPerCandidate
    best: Candidate = ()
    complete: bool = False
    stopped: str = ""  # why the search ended early ("" when it finished)
    candidates: int = 0
    runs: int = 0  # candidate runs (the baseline and the verification aside)
    bound: int = 0
    verification: tuple[int, int] = (0, 0)
    bundle: Path | None = None
    reference: str | None = None
    scenario: Scenario | None = None  # the minimal steps, secrets as ${NAME}
    interrupt: Interrupt | None = None
    elapsed_s: float = 0.0
    original_reference: str | None = None
    seen: dict[str, str] = field(default_factory=dict)  # what the baseline showed instead
    steps: list[StepRecord] = field(default_factory=list)  # the minimal steps as they ran

    @property
    def reproduced(self) -> bool:
        return self.baseline[0] > 0

    @property
    def verified(self) -> bool:
        """The minimal steps reproduced in the re-verification (k of N)."""
        return self.verification[0] >= self.runs_per_candidate.k

    def original_numbers(self) -> list[int]:
        """The minimal steps by their 1-based number in the recording."""
        return [i + 1 for i in self.best]


async def minimize(
    scenario: Scenario,
    *,
    browser_options: BrowserOptions,
    run_options: RunOptions,
    bundle_options: BundleOptions,
    original: Report | None = None,
    target: str | None = None,
    runs: RunsPerCandidate | None = None,
    budget: Budget | None = None,
    timeout_given: bool = False,
    on_progress: Callable[[Progress], None] | None = None,
    on_baseline: Callable[[int, int, RunsPerCandidate], None] | None = None,
) -> MinimizeResult:
    """Find a 1-minimal subsequence of ``scenario.steps`` that still shows ``target``.

    ``target``: a fingerprint (default: ``original``'s first failing error, else the
    first failing error of the whole recording run here). ``timeout_given``: the
    step timeout was chosen by the user (else candidates get a shorter one).
    """
    from collector.browser import open_browser
    from collector.repro import StopGuard

    started = time.monotonic()
    with StopGuard() as guard:
        async with open_browser(browser_options, survive_signals=True) as (browser, _origin):
            search = _Search(
                scenario, browser, guard, run_options, bundle_options, original, started
            )
            try:
                return await search.run(
                    target, runs, budget, timeout_given, on_progress, on_baseline
                )
            finally:
                search.discard()
                await search.lane.close()


class _Search:
    def __init__(
        self,
        scenario: Scenario,
        browser: Browser,
        guard: StopGuard,
        run_options: RunOptions,
        bundle_options: BundleOptions,
        original: Report | None,
        started: float,
    ) -> None:
        self.scenario = scenario
        self.browser = browser
        self.guard = guard
        # Candidates take no pictures (a screenshot costs more than a step); the runs
        # that re-verify the result take those a bundle shows.
        self.run_options = replace(run_options, final_screenshot="never")
        self.pictured = replace(run_options, final_screenshot="on_failure")
        self.bundle_options = bundle_options
        self.original = original
        self.started = started
        self.evidence: Evidence | None = None
        self.runs = 0
        # The baseline's and the candidates' runs share a context, reset between runs:
        # it halves what a candidate costs. The verification runs get contexts of their
        # own, so the result is confirmed by runs that owe nothing to the reset.
        self.lane = Lane(browser)

    async def run(
        self,
        target: str | None,
        runs: RunsPerCandidate | None,
        budget: Budget | None,
        timeout_given: bool,
        on_progress: Callable[[Progress], None] | None,
        on_baseline: Callable[[int, int, RunsPerCandidate], None] | None,
    ) -> MinimizeResult:
        everything: Candidate = tuple(range(len(self.scenario.steps)))
        if target is None and self.original is not None:
            target = default_target(self.original)
        probes = runs.n if runs is not None else PROBE_RUNS
        hits = done = 0
        seen: dict[str, str] = {}
        durations: list[int] = []
        message = ""
        for _ in range(probes):
            got = await self._once(everything)
            if got is None:
                break
            run, found = got
            done += 1
            durations.extend(s.duration_ms for s in run.result.steps if s.status == "ok")
            if target is None:
                target = default_target(run.report)
            seen.update(found)
            shows = target is not None and target in found
            if shows:
                assert target is not None
                hits += 1
                message = message or found[target]
            self._keep(run, shows)
        chosen = runs or default_runs(hits, done)
        if on_baseline is not None and done:
            on_baseline(hits, done, chosen)
        result = MinimizeResult(
            total_steps=len(everything),
            target=target or "",
            target_message=message,
            baseline=(hits, done),
            runs_per_candidate=chosen,
            best=everything,
            original_reference=self.original.reference if self.original else None,
            seen=seen,
        )
        if self.guard.stop is not None:
            result.interrupt = self.guard.stop
            result.stopped = self.guard.stop.message
            return self._finish(result)
        if not hits or target is None:
            return result
        if not timeout_given and self.scenario.timeout is None:
            timeout = candidate_timeout_ms(durations)
            self.run_options = replace(self.run_options, timeout_ms=timeout)
            self.pictured = replace(self.pictured, timeout_ms=timeout)
        minimizer = Minimizer(
            len(everything), keep=kept_steps(self.scenario), light=light_steps(self.scenario)
        )
        result.bound = minimizer.bound
        searching = minimizer.search()
        try:
            candidate = next(searching)
            while True:
                stop = self._stop_reason(budget)
                if stop:
                    result.stopped = stop
                    break
                verdict = await self._candidate(candidate, target, chosen, budget)
                if verdict is None:
                    result.stopped = self._stop_reason(budget) or "stopped"
                    break
                if on_progress is not None:
                    best = len(candidate) if verdict else len(minimizer.best)
                    on_progress(
                        Progress(
                            candidates=minimizer.tests + 1,
                            runs=self.runs,
                            size=len(candidate),
                            reproduced=verdict,
                            best=min(best, len(minimizer.best)),
                            total=len(everything),
                            elapsed_s=time.monotonic() - self.started,
                            left=self._left(budget),
                        )
                    )
                candidate = searching.send(verdict)
        except StopIteration:
            result.complete = True
        finally:
            searching.close()
        result.best = minimizer.best
        result.candidates = minimizer.tests
        result.runs = self.runs
        if self.guard.stop is None:
            result.verification = await self._verify(result.best, target, chosen.n)
        result.interrupt = self.guard.stop
        return self._finish(result)

    async def _verify(self, candidate: Candidate, target: str, times: int) -> tuple[int, int]:
        """Run the result ``times`` more times: in how many did the target show?"""
        shown = done = 0
        for _ in range(times):
            got = await self._once(candidate, verifying=True)
            if got is None:
                break
            run, found = got
            done += 1
            shown += target in found
            self._keep(run, target in found)
        return shown, done

    def _finish(self, result: MinimizeResult) -> MinimizeResult:
        """Write the bundle of the run that showed the best candidate; name the minimal steps."""
        from collector.bundle import write_run_bundle

        result.elapsed_s = time.monotonic() - self.started
        evidence = self.evidence
        if evidence is None:
            return result
        best = evidence.candidate
        result.best = best
        what = result.original_reference or "the recording"
        evidence.result.scenario_comments = {
            number: [f"step {index + 1} of {what}"] for number, index in enumerate(best)
        }
        options = replace(self.bundle_options, original_reference=result.original_reference)
        self.evidence = None
        written = write_run_bundle(evidence.result, evidence.workspace, options)
        result.bundle = written.path
        result.steps = list(written.report.steps)
        result.reference = evidence.workspace.reference
        result.scenario = self.scenario.model_copy(
            update={"steps": [self.scenario.steps[i] for i in best]}
        )
        return result

    def _stop_reason(self, budget: Budget | None) -> str:
        if self.guard.stop is not None:
            return self.guard.stop.message
        if budget is not None:
            if budget.runs is not None and self.runs >= budget.runs:
                return f"budget of {budget} reached"
            if budget.seconds is not None and time.monotonic() - self.started >= budget.seconds:
                return f"budget of {budget} reached"
        return ""

    def _left(self, budget: Budget | None) -> str:
        if budget is None:
            return ""
        if budget.runs is not None:
            return f"{max(0, budget.runs - self.runs)} runs"
        assert budget.seconds is not None
        return f"{max(0.0, budget.seconds - (time.monotonic() - self.started)):.0f} s"

    async def _candidate(
        self, candidate: Candidate, target: str, runs: RunsPerCandidate, budget: Budget | None
    ) -> bool | None:
        """k of n runs show the target (True), cannot (False); None: stopped meanwhile."""
        from collector.workspace import discard_workspace

        showing: list[_Run] = []  # kept until the candidate is judged
        verdict: bool | None = False
        for number in range(runs.n):
            if number and self._stop_reason(budget):
                verdict = None
                break
            got = await self._once(candidate)
            if got is None:
                verdict = None
                break
            self.runs += 1
            run, found = got
            if target in found:
                showing.append(run)
            else:
                discard_workspace(run.workspace)
            if len(showing) >= runs.k:
                verdict = True
                break
            if len(showing) + (runs.n - number - 1) < runs.k:
                break
        for run in showing:
            self._keep(run, verdict is True)
        return verdict

    async def _once(
        self, candidate: Candidate, verifying: bool = False
    ) -> tuple[_Run, dict[str, str]] | None:
        """Run ``candidate``'s steps once: the run and what failed (fingerprints in the
        recording's step numbers). None: a stop signal came.

        ``verifying``: a run of the result, with pictures, in a fresh context."""
        from collector.workspace import discard_workspace, new_workspace

        steps = [self.scenario.steps[i] for i in candidate]
        scenario = self.scenario.model_copy(update={"steps": steps})
        workspace = new_workspace(self.bundle_options.out_dir)
        try:
            options = self.pictured if verifying else self.run_options
            result = await self.guard.run(
                scenario,
                self.browser,
                replace(options, work_dir=workspace.path),
                lane=None if verifying else self.lane,
            )
        except BaseException:
            discard_workspace(workspace)
            raise
        if self.guard.stop is not None:
            discard_workspace(workspace)
            return None
        report = report_from_run(result, workspace.reference)
        found = in_original_steps(failing_fingerprints(report), candidate)
        return _Run(candidate, result, report, workspace, verifying), found

    def _keep(self, run: _Run, shows: bool) -> None:
        """Keep the run as evidence when it shows the target on fewer steps than the
        evidence so far (or is the first to show it); else remove its workspace."""
        from collector.workspace import discard_workspace

        old = self.evidence
        better = (
            old is None
            or len(run.candidate) < len(old.candidate)
            # The same steps with the pictures a bundle shows.
            or (run.candidate == old.candidate and run.pictured and not old.pictured)
        )
        if shows and better:
            if old is not None:
                discard_workspace(old.workspace)
            self.evidence = Evidence(run.candidate, run.result, run.workspace, run.pictured)
        else:
            discard_workspace(run.workspace)

    def discard(self) -> None:
        from collector.workspace import discard_workspace

        if self.evidence is not None:
            discard_workspace(self.evidence.workspace)
            self.evidence = None


# What the command prints: lines for people (stderr and the result), JSON for tools.


def say(lang: str, key: str, **values: object) -> str:
    from collector.labels import LABELS
    from collector.text import printable

    return printable(LABELS[lang][key].format(**values))


def progress_line(progress: Progress, lang: str = "en") -> str:
    verdict = say(lang, "min_reproduced" if progress.reproduced else "min_not_reproduced")
    line = say(
        lang,
        "min_candidate",
        number=progress.candidates,
        size=progress.size,
        verdict=verdict,
        best=progress.best,
        total=progress.total,
        runs=progress.runs,
        seconds=f"{progress.elapsed_s:.1f}",
    )
    return line + (say(lang, "min_left", left=progress.left) if progress.left else "")


def step_lines(result: MinimizeResult, lang: str = "en") -> list[str]:
    """The minimal steps in plain language, each with its number in the recording."""
    from collector.text import one_line
    from collector.ticket import describe_step

    return [
        say(
            lang,
            "min_step",
            number=record.index,
            step=one_line(describe_step(record, lang))[:200],
            original=original,
        )
        for record, original in zip(result.steps, result.original_numbers(), strict=False)
    ]


def result_lines(result: MinimizeResult, lang: str = "en") -> list[str]:
    """The result for people: the minimal steps, how sure, where they were written."""
    from collector.text import one_line

    if not result.reproduced and result.interrupt is None:
        lines = [say(lang, "min_nothing", runs=result.baseline[1])]
        for fp, message in list(result.seen.items())[:5]:
            lines.append(say(lang, "min_seen", message=one_line(message)[:150], fingerprint=fp))
        return lines
    count, total = len(result.best), result.total_steps
    if result.complete:
        counts = {"candidates": result.candidates, "runs": result.runs, "bound": result.bound}
        lines = [say(lang, "min_steps", count=count, total=total, **counts)]
    else:
        lines = [say(lang, "min_partial", count=count, total=total, why=result.stopped)]
    lines += step_lines(result, lang)
    if result.verification[1]:
        shown, runs = result.verification
        lines.append(say(lang, "min_verified", shown=shown, runs=runs))
    return lines


def verdict_of_result(result: MinimizeResult) -> str:
    if not result.reproduced:
        return "not reproduced"
    if result.verification[1] == 0:
        return "interrupted" if result.interrupt is not None else "not verified"
    return "reproduced" if result.verified else "not reproduced"


def summary_json(result: MinimizeResult, source: str, steps_file: str | None) -> dict[str, object]:
    shown, runs = result.verification
    return {
        "source": source,
        "original": result.original_reference,
        "target": {"fingerprint": result.target, "message": result.target_message},
        "baseline": {"reproduced": result.baseline[0], "runs": result.baseline[1]},
        "runs_per_candidate": {"k": result.runs_per_candidate.k, "n": result.runs_per_candidate.n},
        "steps_before": result.total_steps,
        "steps_after": len(result.best),
        "steps": [
            {
                "index": record.index,
                "original_index": original,
                "action": record.action,
                "target": record.target,
                "name": record.name,
            }
            for record, original in zip(result.steps, result.original_numbers(), strict=False)
        ],
        "complete": result.complete,
        "stopped": result.stopped,
        "candidates": result.candidates,
        "candidate_runs": result.runs,
        "bound": result.bound,
        "verification": {
            "reproduced": shown,
            "runs": runs,
            "rate": round(shown / runs, 3) if runs else None,
        },
        "verdict": verdict_of_result(result),
        "reference": result.reference,
        "bundle": str(result.bundle) if result.bundle else None,
        "steps_file": steps_file,
        "elapsed_s": round(result.elapsed_s, 3),
    }


def baseline_lines(shown: int, runs: int, chosen: RunsPerCandidate, lang: str = "en") -> list[str]:
    lines = [say(lang, "min_baseline", shown=shown, runs=runs)]
    if shown:
        lines.append(say(lang, "min_runs", k=chosen.k, n=chosen.n))
    return lines


def start_line(loaded: Source, base_url: str | None, lang: str = "en") -> str:
    from collector.replay import first_url
    from collector.text import one_line

    scenario = loaded.scenario
    url = base_url or scenario.url or first_url(scenario) or ""
    if loaded.original is not None:
        url = url or loaded.original.environment.url or ""
    return say(lang, "min_start", what=one_line(loaded.label)[:120],
               total=len(scenario.steps), url=one_line(url)[:120])  # fmt: skip


def write_steps_file(result: MinimizeResult, path: str) -> str:
    """The minimal steps as a steps file (secrets stay ``${NAME}``), each step with
    its number in the recording; OutputError when it cannot be written."""
    from collector.errors import OutputError
    from collector.scenario import scenario_to_yaml

    assert result.scenario is not None
    what = result.original_reference or "the recording"
    comments = {n: [f"step {i + 1} of {what}"] for n, i in enumerate(result.best)}
    head = (
        f"# Minimal steps of {what}: {len(result.best)} of {result.total_steps} "
        f"(collector minimize, target {result.target})\n"
    )
    try:
        Path(path).write_text(head + scenario_to_yaml(result.scenario, comments), encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"-o {path}: cannot write: {exc.strerror or exc}") from None
    return path


@dataclass
class Source:
    """What minimize starts from: the steps, and the original bundle's report if any."""

    label: str
    scenario: Scenario
    original: Report | None
    secrets: dict[str, str]
    scenario_dir: Path


def load_source(
    source: str,
    *,
    base_url: str | None,
    allow_local: bool,
    named: dict[str, str],
    target: str | None,
) -> Source:
    """A bundle (folder or zip, read as a stranger's) or a steps file (YAML, JSON, a
    Recorder export). Secrets only from those the user named, as replay does;
    BadInput (exit 2) before any browser starts."""
    from collector.bundle_reader import open_bundle
    from collector.replay import bundle_scenario, secrets_for

    path = Path(source)
    if path.is_dir() or path.suffix.lower() == ".zip" or path.name == "report.json":
        received = open_bundle(path, need_scenario=True)
        scenario = bundle_scenario(received, base_url=base_url, allow_local=allow_local)
        secrets = secrets_for(scenario, named, received.label)
        original = received.report
        if target is not None:
            known = failing_fingerprints(original)
            if target not in known:
                listed = ", ".join(f"{fp} ({message[:60]})" for fp, message in known.items())
                raise BadInput(
                    f"--target {target}: not a failing error of {original.reference} "
                    f"(its errors: {listed or 'none'})"
                )
        return Source(received.label, scenario, original, secrets, Path("."))
    scenario = _steps_file(path, base_url)
    if base_url and not scenario.url:
        # The new bundle's steps then say where they ran, as a bundle's must to replay.
        scenario = scenario.model_copy(update={"url": base_url})
    return Source(str(path), scenario, None, secrets_for(scenario, named, str(path)),
                  path.resolve().parent)  # fmt: skip


def _steps_file(path: Path, base_url: str | None) -> Scenario:
    from collector.recorder import convert_recording, is_recording
    from collector.scenario import scenario_from_document
    from collector.yamlsource import parse_document, read_text

    label = str(path)
    doc = parse_document(read_text(path, label), label, is_json=path.suffix.lower() == ".json")
    if is_recording(doc.data):
        return convert_recording(doc).scenario
    # env=None: secrets stay ${NAME} and come only from --secret / --secrets-file.
    return scenario_from_document(doc, env=None, base_url=base_url)
