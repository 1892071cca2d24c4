"""Typed errors raised by the library; only ``cli.py`` turns them into exit codes.

Each error carries the exit code of SPEC.md's table so that every front door
(CLI, pytest plugin, library users) classifies failures the same way.
"""

from __future__ import annotations

import re

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_ENVIRONMENT = 3
EXIT_INTERRUPTED = 130


class CollectorError(Exception):
    """Base class: a failure the user can act on, reported as one line."""

    exit_code = EXIT_BAD_INPUT


class BadInput(CollectorError):
    """Usage errors and unreadable input files (exit 2)."""


class ScenarioError(BadInput):
    """A steps file that cannot be read or does not match the scenario format."""


class ConfigError(BadInput):
    """A ``collector.toml`` / ``[tool.collector]`` section that is invalid."""


class BundleError(BadInput):
    """A received bundle (folder or zip) that is missing, malformed or hostile."""


class EnvironmentProblem(CollectorError):
    """The machine cannot run the job: no browser, it cannot start, endpoint down (exit 3)."""

    exit_code = EXIT_ENVIRONMENT


class BrowserNotFound(EnvironmentProblem):
    """No usable Chromium was found."""


class BrowserLaunchError(EnvironmentProblem):
    """A Chromium was found but could not be started or reached."""


class SendError(EnvironmentProblem):
    """`submit` could not deliver: a permanent refusal, or temporary ones past the retries."""


class OutputError(EnvironmentProblem):
    """The output folder cannot be created or written: read-only, full, not a folder."""


_API_PREFIX = re.compile(r"^[A-Za-z]+\.[A-Za-z_]+: ")


def first_line(exc: BaseException, limit: int = 500) -> str:
    """The first meaningful line of an exception, for a one-line message.

    Playwright's errors are several lines ("Call log: …") and start with the API
    name ("Locator.click: "), which says nothing to someone who wrote a step.
    """
    for line in str(exc).splitlines():
        line = line.strip(" =")
        if line and not line.startswith(("Browser logs", "Call log")):
            return _API_PREFIX.sub("", line)[:limit]
    return type(exc).__name__


# Call-log lines that say why an action is not done (the others narrate what
# Playwright does: waiting, scrolling, retrying, navigating …).
_REASON = re.compile(
    r"element is not|element was|intercepts pointer events|did not find some options|"
    r"outside of the viewport|detached|not a <|not an <",
    re.IGNORECASE,
)
_TIMEOUT = re.compile(r"Timeout \d+ms exceeded")
_REPEAT = re.compile(r"^(?:- )?(?:\d+ × )?(?:- )?")


def step_error(exc: BaseException, budget_ms: int | None = None, limit: int = 500) -> str:
    """A step's failure in one line, with the reason Playwright logged when it timed out.

    "Timeout 15000ms exceeded." alone hides why: the call log under it says
    "element is not visible", "element is not enabled", "<div> intercepts pointer
    events", or that no element ever matched the selector. ``budget_ms``: the step's
    timeout, named instead of what was left of it when the last call started.
    """
    line = first_line(exc, limit)
    if budget_ms is not None:
        line = _TIMEOUT.sub(f"Timeout {budget_ms}ms exceeded", line, count=1)
    text = str(exc)
    if "Timeout" not in line or "Call log:" not in text:
        return line
    log = [_REPEAT.sub("", raw.strip()) for raw in text.split("Call log:", 1)[1].splitlines()]
    log = [entry for entry in log if entry]
    reasons = [entry for entry in log if _REASON.search(entry)]
    waiting = [entry for entry in log if entry.startswith("waiting for ") and "locator(" in entry]
    if reasons:
        reason = reasons[-1]
    elif waiting and not any(entry.startswith("locator resolved to") for entry in log):
        reason = "no element matches " + waiting[-1][len("waiting for "):]
    else:
        return line
    return f"{line.rstrip('.')}: {reason}"[:limit]
