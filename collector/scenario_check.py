"""The checks of a steps file around its schema: one implementation, two validators.

Steps are normalised from ``{kind: args}`` into ``{"action": kind, ...args}``,
validated, and the result is checked for URLs and secrets; a failure becomes
``FILE:LINE: dotted.path: message``. The validator is a parameter:
``collector.scenario`` passes its pydantic models (to run the steps), and
``collector validate`` passes the same schema's pydantic-core validator shipped
as data (``collector.coreschema``), which starts without importing pydantic.
Nothing here imports pydantic, so both give the same lines for the same file.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from urllib.parse import urlsplit

from collector.errors import ScenarioError

if TYPE_CHECKING:
    # Types only: the ticket validates reports with coreschema, which needs `regex` from
    # here, and has no YAML to read.
    from collector.yamlsource import PathKey, SourceDocument

SECRET_REF = re.compile(r"\$\{([^}]*)\}")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# The field a shorthand scalar fills: `- click: "#pay"` means selector="#pay".
SHORTHAND_FIELD: dict[str, str] = {
    "goto": "url", "click": "selector", "dblclick": "selector", "press": "key",
    "check": "selector", "uncheck": "selector", "hover": "selector", "scroll": "selector",
    "wait": "ms", "wait_for": "selector", "wait_for_url": "url", "expect_text": "text",
    "expect_visible": "selector", "expect_url": "url", "screenshot": "name",
    "evaluate": "expression", "key_down": "key", "key_up": "key",
    "wait_for_expression": "expression",
}  # fmt: skip
NO_ARGUMENT_KINDS = {"reload", "back", "close"}
COMMON_KEYS = {"name", "timeout", "optional", "target", "frame"}


@dataclass(frozen=True)
class FormatShape:
    """The field names of the scenario format, for messages and did-you-mean hints.

    ``steps`` maps each step kind, in the models' order, to its fields (``action`` left
    out) and ``required`` to those without a default; both validators derive it from the
    same models (the shipped copy is regenerated and compared by a test).
    """

    scenario: tuple[str, ...]
    viewport: tuple[str, ...]
    steps: Mapping[str, tuple[str, ...]]
    required: Mapping[str, tuple[str, ...]]


class StepLike(Protocol):
    action: str


class ScenarioLike(Protocol):
    """What the checks read of a validated scenario (a model, or pydantic-core's object)."""

    @property
    def url(self) -> str | None: ...
    @property
    def secrets(self) -> Sequence[str]: ...
    @property
    def steps(self) -> Sequence[Any]: ...


T = TypeVar("T", bound=ScenarioLike)


def regex(pattern: str) -> str:
    # Checked on load, so a typo is a line of the file, not a failure after Chromium starts.
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"not a valid regex: {pattern!r} ({exc})") from None
    return pattern


def check_document(
    doc: SourceDocument,
    *,
    shape: FormatShape,
    validate: Callable[[dict[str, Any]], T],
    validation_error: type[Exception],
    env: Mapping[str, str] | None,
    base_url: str | None = None,
) -> T:
    """Validate parsed data with ``validate``. ``env=None`` skips the check that secrets
    are set. ``validation_error`` is pydantic's ValidationError (pydantic-core's class)."""
    data = doc.data
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a {type(data).__name__}"
        raise ScenarioError(
            f"{doc.label}:{doc.line_of(())}: the scenario must be a mapping "
            f"(name:, url:, steps:), not {kind}"
        )
    normalised = dict(data)
    if isinstance(data.get("steps"), list):
        if not data["steps"]:
            raise ScenarioError(
                f"{doc.label}:{doc.line_of(('steps',))}: steps: "
                "List should have at least 1 item after validation, not 0"
            )
        normalised["steps"] = [
            _normalise_step(doc, shape, i, s) for i, s in enumerate(data["steps"])
        ]
    try:
        scenario = validate(normalised)
    except validation_error as exc:
        raise _first_error(doc, shape, exc) from None
    _check_urls(doc, scenario, base_url)
    _check_secrets(doc, scenario, env)
    return scenario


def _normalise_step(doc: SourceDocument, shape: FormatShape, index: int, raw: Any) -> dict[str, Any]:
    here: PathKey = ("steps", index)

    def fail(message: str, path: PathKey = here) -> ScenarioError:
        return ScenarioError(f"{doc.label}:{doc.line_of(path)}: {dotted(path)}: {message}")

    if isinstance(raw, str) and raw in NO_ARGUMENT_KINDS:
        return {"action": raw}
    if not isinstance(raw, dict) or not raw:
        raise fail("a step is a mapping like `click: \"#pay\"`")
    kinds = [k for k in raw if k not in COMMON_KEYS]
    if not kinds:
        raise fail("the step has no action (" + ", ".join(shape.steps) + ")")
    unknown = [k for k in kinds if k not in shape.steps]
    if unknown:
        key = unknown[0]
        hint = difflib.get_close_matches(str(key), shape.steps, n=1)
        suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
        raise fail(f"unknown step kind '{key}'{suggestion}", (*here, key))
    if len(kinds) > 1:
        raise fail(f"a step has exactly one action, found {' and '.join(map(str, kinds))}")
    kind = kinds[0]
    args = raw[kind]
    common = {k: v for k, v in raw.items() if k in COMMON_KEYS}
    if isinstance(args, dict):
        long_form = dict(args)
    elif args is None or (args is True and kind in NO_ARGUMENT_KINDS):
        long_form = {}
    elif kind in SHORTHAND_FIELD:
        long_form = {SHORTHAND_FIELD[kind]: args}
    elif kind in NO_ARGUMENT_KINDS:
        raise fail(f"takes no arguments (write `- {kind}`)", (*here, kind))
    else:
        example = ", ".join(f"{n}: …" for n in shape.required[kind])
        raise fail(f"needs a mapping ({{{example}}})", (*here, kind))
    for key, value in common.items():
        if key in long_form:
            raise fail(f"'{key}' is given twice", (*here, key))
        long_form[key] = value
    long_form["action"] = kind
    return long_form


def _first_error(doc: SourceDocument, shape: FormatShape, exc: Exception) -> ScenarioError:
    errors: list[Any] = exc.errors(include_url=False)  # type: ignore[attr-defined]
    # A misspelt key shows up twice: as an extra key and as a missing one. Name the typo.
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    # Union members (`value.str`, `value.list[str]`) are not part of the file's paths.
    loc: PathKey = tuple(
        p for p in err["loc"] if not (isinstance(p, str) and p in ("str", "list[str]", "int"))
    )
    line = doc.lines.get(loc)
    if line is None and len(loc) >= 4 and loc[0] == "steps":
        # `name`/`timeout`/`optional` may sit beside the kind instead of inside it.
        line = doc.lines.get((*loc[:2], *loc[3:]))
    if line is None:
        line = doc.line_of(loc)
    message = err["msg"]
    if err["type"] == "value_error":
        message = str(err["ctx"]["error"])  # our own words, without pydantic's "Value error, "
    if err["type"] == "extra_forbidden" and loc:
        known = _known_keys(shape, loc[:-1])
        hint = difflib.get_close_matches(str(loc[-1]), known, n=1)
        message = "unknown key" + (f" (did you mean '{hint[0]}'?)" if hint else "")
    return ScenarioError(f"{doc.label}:{line}: {dotted(loc) or 'scenario'}: {message}")


def _known_keys(shape: FormatShape, parent: PathKey) -> list[str]:
    """The keys allowed at ``parent``, for did-you-mean hints."""
    if not parent:
        return list(shape.scenario)
    if len(parent) == 3 and parent[0] == "steps" and parent[2] in shape.steps:
        return list(shape.steps[str(parent[2])])
    if len(parent) == 2 and parent[0] == "steps":
        return [*COMMON_KEYS, *shape.steps]
    if parent == ("viewport",):
        return list(shape.viewport)
    return []


def _check_urls(doc: SourceDocument, scenario: ScenarioLike, base_url: str | None) -> None:
    if scenario.url is not None and not is_web_url(scenario.url):
        raise ScenarioError(
            f"{doc.label}:{doc.line_of(('url',))}: url: not an absolute http(s) URL: "
            f"{scenario.url!r}"
        )
    if base_url is not None and not is_web_url(base_url):
        raise ScenarioError(f"--url: not an absolute http(s) URL: {base_url!r}")
    base = base_url or scenario.url
    for i, step in enumerate(scenario.steps):
        if step.action != "goto":
            continue
        path: PathKey = ("steps", i, "goto", "url")
        if re.match(r"^[A-Za-z0-9.-]+:\d+(/|$)", step.url):
            raise ScenarioError(
                f"{doc.label}:{doc.line_of(path)}: {dotted(path)}: {step.url!r} has no scheme; "
                f"write http://{step.url}"
            )
        if is_absolute(step.url):
            if urlsplit(step.url).scheme in ("http", "https") and not is_web_url(step.url):
                raise ScenarioError(
                    f"{doc.label}:{doc.line_of(path)}: {dotted(path)}: not a valid URL: "
                    f"{step.url!r}"
                )
        elif not base:
            raise ScenarioError(
                f"{doc.label}:{doc.line_of(path)}: {dotted(path)}: relative URL "
                f"{step.url!r} needs a base (set `url:` or pass --url)"
            )


def _check_secrets(
    doc: SourceDocument, scenario: ScenarioLike, env: Mapping[str, str] | None
) -> None:
    declared = set(scenario.secrets)
    for doc_path, text in scenario_strings(scenario):
        for match in SECRET_REF.finditer(text):
            name = match.group(1)
            if name not in declared:
                raise ScenarioError(
                    f"{doc.label}:{doc.line_of(doc_path)}: {dotted(doc_path)}: "
                    f"${{{name}}} is not declared in `secrets:`"
                )
    if env is None:
        return
    for i, name in enumerate(scenario.secrets):
        if name not in env:
            raise ScenarioError(
                f"{doc.label}:{doc.line_of(('secrets', i))}: secrets.{i}: "
                f"environment variable {name} is not set"
            )


def _strings(value: Any, path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, (*path, i))
    elif hasattr(value, "__dict__"):
        # A nested model (viewport, offset): its fields, as model_dump would give them.
        yield from _strings(vars(value), path)


def scenario_strings(scenario: ScenarioLike) -> Iterator[tuple[PathKey, str]]:
    """Every string of the scenario with its path as written in the file."""
    top = {k: v for k, v in vars(scenario).items() if k != "steps"}
    yield from _strings(top, ())
    for i, step in enumerate(scenario.steps):
        args = {k: v for k, v in vars(step).items() if k != "action"}
        yield from _strings(args, ("steps", i, step.action))


def dotted(path: PathKey) -> str:
    return ".".join(str(p) for p in path)


def is_absolute(url: str) -> bool:
    return bool(urlsplit(url).scheme)


def is_web_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for a bad port
    except ValueError:
        return False
    del port
    return parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in url
