"""Scenario (steps file) models and loading.

A step is written ``{kind: args}`` in the file, either shorthand
(``- click: "#pay"``) or long form (``- click: {selector: "#pay"}``), with
``name``/``timeout``/``optional`` allowed inside the args or beside the kind.
We normalise that into ``{"action": kind, ...args}`` and validate it against a
discriminated union of strict models, so pydantic's error locations read like
the file: ``steps.2.fill.value``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import urljoin

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from collector import scenario_text
from collector.errors import ScenarioError
from collector.scenario_check import (
    COMMON_KEYS,
    ENV_NAME,
    NO_ARGUMENT_KINDS,
    SECRET_REF,
    SHORTHAND_FIELD,
    FormatShape,
    check_document,
    is_absolute,
    regex,
)
from collector.yamlsource import SourceDocument, parse_document, read_text

MAX_TIMEOUT_MS = 600_000

Milliseconds = Annotated[int, Field(gt=0, le=MAX_TIMEOUT_MS)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# A Playwright selector, or alternatives tried in order (the first that matches is used).
Selector = Annotated[
    str | Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)],
    Field(min_length=1),
]


class StepBase(_Strict):
    name: str | None = Field(None, description="Human label for the step, used in the ticket.")
    timeout: Milliseconds | None = Field(None, description="Step timeout in ms.")
    optional: bool = Field(False, description="A failure of this step does not stop the run.")
    target: str | None = Field(
        None, description="Page to act on: main (default) or the URL of a popup."
    )
    frame: list[Annotated[int, Field(ge=0)]] | None = Field(
        None, description="Child-frame index path from the page's main frame, e.g. [0, 1]."
    )

    if TYPE_CHECKING:
        # Every concrete step declares its kind as a Literal `action` field; code holding
        # any step reads it. Not a field here, so pydantic's field order stays the subclass's.
        action: str


class Goto(StepBase):
    action: Literal["goto"] = "goto"
    url: str = Field(min_length=1, description="Absolute URL, or relative to the scenario url.")
    wait_until: Literal["load", "domcontentloaded", "networkidle", "commit"] = "load"


MouseButton = Literal["left", "right", "middle", "back", "forward"]


class Offset(_Strict):
    """A point from the element's top-left corner, border included (as the Recorder writes it)."""

    x: float
    y: float


class Click(StepBase):
    action: Literal["click"] = "click"
    selector: Selector
    button: MouseButton = "left"
    delay: int = Field(0, ge=0, le=60_000, description="Ms between mouse down and up.")
    offset: Offset | None = Field(None, description="Where to click; else the centre.")


class Dblclick(StepBase):
    action: Literal["dblclick"] = "dblclick"
    selector: Selector
    button: MouseButton = "left"
    delay: int = Field(0, ge=0, le=60_000, description="Ms between mouse down and up.")
    offset: Offset | None = Field(None, description="Where to click; else the centre.")


class Fill(StepBase):
    action: Literal["fill"] = "fill"
    selector: Selector
    value: str


class Change(StepBase):
    """A Chrome Recorder "change", replayed exactly as the Recorder's replay library does.

    A <select> gets the option with that value; a checkbox or radio is clicked when
    its state differs from the value's truthiness; a text field or contenteditable
    keeps the part of its text that the value starts with and the rest is typed key
    by key; other inputs (date, colour, range …) get the value set with input and
    change events.
    """

    action: Literal["change"] = "change"
    selector: Selector
    value: str


class Type(StepBase):
    action: Literal["type"] = "type"
    selector: Selector
    text: str
    delay: int = Field(0, ge=0, le=10_000, description="Delay between key presses in ms.")


class Press(StepBase):
    action: Literal["press"] = "press"
    key: str = Field(min_length=1, description="Playwright key name, e.g. Enter or Control+A.")
    selector: Selector | None = Field(None, description="Element to focus first; else the page.")


class Select(StepBase):
    action: Literal["select"] = "select"
    selector: Selector
    value: str | list[str] = Field(description="Option value(s) or label(s).")


class Check(StepBase):
    action: Literal["check"] = "check"
    selector: Selector


class Uncheck(StepBase):
    action: Literal["uncheck"] = "uncheck"
    selector: Selector


class Hover(StepBase):
    action: Literal["hover"] = "hover"
    selector: Selector


class Scroll(StepBase):
    action: Literal["scroll"] = "scroll"
    selector: Selector | None = Field(
        None, description="Scroll this element (into view, or by/to x, y when given)."
    )
    x: int = Field(0, description="Horizontal scroll in px.")
    y: int = Field(0, description="Vertical scroll in px.")
    absolute: bool = Field(False, description="Scroll to x, y instead of by x, y.")


class Upload(StepBase):
    action: Literal["upload"] = "upload"
    selector: Selector
    files: str | list[str] = Field(description="Paths relative to the scenario file.")


class Wait(StepBase):
    action: Literal["wait"] = "wait"
    ms: int = Field(ge=0, le=MAX_TIMEOUT_MS)


class WaitFor(StepBase):
    action: Literal["wait_for"] = "wait_for"
    selector: Selector
    state: Literal["attached", "detached", "visible", "hidden"] = "visible"
    count: int | None = Field(None, ge=0, description="Wait until this many elements match.")
    operator: Literal[">=", "==", "<="] = Field(">=", description="How `count` compares.")
    attributes: dict[str, str] | None = Field(
        None, description="Every matching element has these attribute values."
    )
    properties: dict[str, Any] | None = Field(
        None, description="Every matching element's DOM properties include these (deeply)."
    )


class WaitForUrl(StepBase):
    action: Literal["wait_for_url"] = "wait_for_url"
    url: str = Field(min_length=1, description="URL or glob pattern (`**/done`).")


class ExpectText(StepBase):
    action: Literal["expect_text"] = "expect_text"
    text: str = Field(min_length=1)
    selector: str = Field("body", min_length=1)


class ExpectVisible(StepBase):
    action: Literal["expect_visible"] = "expect_visible"
    selector: Selector


class ExpectUrl(StepBase):
    action: Literal["expect_url"] = "expect_url"
    url: str = Field(min_length=1, description="URL or glob pattern (`**/done`).")


class Screenshot(StepBase):
    action: Literal["screenshot"] = "screenshot"
    name: str | None = Field(None, description="File name (without extension) and label.")
    full_page: bool = False
    selector: Selector | None = None


class Evaluate(StepBase):
    action: Literal["evaluate"] = "evaluate"
    expression: str = Field(min_length=1, description="JavaScript expression or function.")


class KeyDown(StepBase):
    action: Literal["key_down"] = "key_down"
    key: str = Field(min_length=1)


class KeyUp(StepBase):
    action: Literal["key_up"] = "key_up"
    key: str = Field(min_length=1)


class WaitForExpression(StepBase):
    action: Literal["wait_for_expression"] = "wait_for_expression"
    expression: str = Field(min_length=1, description="JavaScript that becomes truthy.")


class EmulateNetwork(StepBase):
    action: Literal["emulate_network"] = "emulate_network"
    offline: bool = False
    download: float = Field(-1, description="Bytes per second; -1 for no limit.")
    upload: float = Field(-1, description="Bytes per second; -1 for no limit.")
    latency: float = Field(0, ge=0, description="Added round-trip latency in ms.")


class SetViewport(StepBase):
    action: Literal["set_viewport"] = "set_viewport"
    width: int = Field(ge=200, le=10_000)
    height: int = Field(ge=200, le=20_000)


class Reload(StepBase):
    action: Literal["reload"] = "reload"


class Back(StepBase):
    action: Literal["back"] = "back"


class Close(StepBase):
    action: Literal["close"] = "close"


STEP_MODELS: tuple[type[StepBase], ...] = (
    Goto, Click, Dblclick, Fill, Change, Type, Press, Select, Check, Uncheck, Hover, Scroll,
    Upload, Wait, WaitFor, WaitForUrl, ExpectText, ExpectVisible, ExpectUrl, Screenshot,
    Evaluate, Reload, Back, Close, KeyDown, KeyUp, WaitForExpression, EmulateNetwork,
    SetViewport,
)  # fmt: skip
STEP_KINDS: dict[str, type[StepBase]] = {
    m.model_fields["action"].default: m for m in STEP_MODELS
}

Step = Annotated[
    Goto | Click | Dblclick | Fill | Change | Type | Press | Select | Check | Uncheck | Hover | Scroll
    | Upload | Wait | WaitFor | WaitForUrl | ExpectText | ExpectVisible | ExpectUrl
    | Screenshot | Evaluate | Reload | Back | Close | KeyDown | KeyUp | WaitForExpression
    | EmulateNetwork | SetViewport,
    Field(discriminator="action"),
]


class Viewport(_Strict):
    width: int = Field(ge=200, le=10_000)
    height: int = Field(ge=200, le=20_000)


Pattern = Annotated[str, AfterValidator(regex)]


class Scenario(_Strict):
    """A steps file: what to open, what to do, and what the user expected."""

    name: str | None = Field(None, description="Short title of the problem.")
    url: str | None = Field(None, description="Base URL; relative goto targets resolve against it.")
    reason: str | None = Field(None, description="Ticket reason (see config `reasons`).")
    expected: str | None = Field(None, description="What the user expected to happen.")
    viewport: Viewport | None = None
    locale: str | None = Field(None, pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")
    timezone: str | None = Field(None, pattern=r"^[A-Za-z_]+(/[A-Za-z0-9_+\-]+)*$")
    timeout: Milliseconds | None = Field(None, description="Default step timeout in ms.")
    fail_on: Literal["error", "warning", "never"] | None = Field(
        None, description="Overrides the config's fail_on for this scenario."
    )
    ignore: list[Pattern] = Field(
        default_factory=list, description="Extra ignore patterns (regex or substring)."
    )
    expect: list[Pattern] = Field(
        default_factory=list, description="Errors that must occur (regex or substring)."
    )
    secrets: list[Annotated[str, Field(pattern=ENV_NAME.pattern)]] = Field(
        default_factory=list,
        description="Environment variables substituted as ${NAME}; their values are redacted.",
    )
    # Empty only when it comes from an empty Recorder flow; a steps file needs one.
    steps: list[Step]

    def resolve_url(self, target: str, base: str | None = None) -> str:
        """Resolve a goto/expect URL against ``base`` (or the scenario's ``url``)."""
        base = base or self.url
        if is_absolute(target) or not base:
            return target
        return urljoin(base, target)


# Every model by its class name: what a recording is mapped onto (collector.recorder).
_MAPPED: tuple[type[_Strict], ...] = (*STEP_MODELS, Offset, Viewport, Scenario)
MODELS: dict[str, type[_Strict]] = {m.__name__: m for m in _MAPPED}


def load_scenario(
    path: str | os.PathLike[str],
    *,
    env: Mapping[str, str] | None = None,
    base_url: str | None = None,
) -> Scenario:
    """Read and validate a steps file; raise ScenarioError with FILE:LINE: path: message.

    ``env`` is checked for every declared secret (default ``os.environ``);
    ``base_url`` stands in for the scenario's ``url`` when resolving relative targets.
    """
    label = str(path)
    file = Path(path)
    text = read_text(file, label)
    doc = parse_document(text, label, is_json=file.suffix.lower() == ".json")
    return scenario_from_document(doc, env=os.environ if env is None else env, base_url=base_url)


def scenario_from_document(
    doc: SourceDocument, *, env: Mapping[str, str] | None, base_url: str | None = None
) -> Scenario:
    """Validate parsed data. ``env=None`` skips the check that secrets are set."""
    return check_document(
        doc,
        shape=format_shape(),
        validate=Scenario.model_validate,
        validation_error=ValidationError,
        env=env,
        base_url=base_url,
    )


def format_shape() -> FormatShape:
    """The field names of the models, as the checks of a steps file name them."""
    return FormatShape(
        scenario=tuple(Scenario.model_fields),
        viewport=tuple(Viewport.model_fields),
        steps={k: tuple(f for f in m.model_fields if f != "action") for k, m in STEP_KINDS.items()},
        required={
            k: tuple(n for n, f in m.model_fields.items() if f.is_required())
            for k, m in STEP_KINDS.items()
        },
    )


def substitute_secrets(scenario: Scenario, env: Mapping[str, str]) -> Scenario:
    """A copy of the scenario with every ``${NAME}`` replaced by its environment value."""

    def sub(value: Any) -> Any:
        if isinstance(value, str):
            return SECRET_REF.sub(lambda m: env[m.group(1)], value)
        if isinstance(value, list):
            return [sub(v) for v in value]
        if isinstance(value, dict):
            return {k: sub(v) for k, v in value.items()}
        return value

    missing = [name for name in scenario.secrets if name not in env]
    if missing:
        raise ScenarioError(f"environment variable {missing[0]} is not set (declared secret)")
    return Scenario.model_validate(sub(scenario.model_dump(mode="python")))


def secret_values(scenario: Scenario, env: Mapping[str, str]) -> list[str]:
    """The values of the declared secrets that are set, for the redactor."""
    return [env[name] for name in scenario.secrets if env.get(name)]


def scenario_to_data(scenario: Scenario) -> dict[str, Any]:
    """The scenario as file data again, steps in shorthand where they allow it."""
    return scenario_text.scenario_to_data(scenario, _dump)


def step_to_data(step: StepBase) -> str | dict[str, Any]:
    """A step as written by hand: shorthand where it allows, `name` etc. beside the kind."""
    return scenario_text.step_to_data(step, _dump)


def _dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="python", exclude_defaults=True)


def scenario_to_yaml(scenario: Scenario, comments: Mapping[int, list[str]] | None = None) -> str:
    """The scenario as YAML; ``comments[i]`` are written as ``#`` lines before step ``i``
    (0-based; ``len(steps)`` after the last), e.g. actions a recording could not express."""
    return scenario_text.data_to_yaml(scenario_to_data(scenario), comments)


def scenario_json_schema() -> dict[str, Any]:
    """JSON Schema of the file format as written (``{kind: args}`` steps), for editors."""
    step_schemas = []
    defs: dict[str, Any] = {}
    for kind, model in STEP_KINDS.items():
        schema = model.model_json_schema(ref_template="#/$defs/{model}")
        defs.update(schema.pop("$defs", {}))
        schema["properties"].pop("action", None)
        if "required" in schema:
            schema["required"] = [r for r in schema["required"] if r != "action"]
        args_options: list[dict[str, Any]] = [schema]
        if kind in SHORTHAND_FIELD:
            args_options.append(schema["properties"][SHORTHAND_FIELD[kind]])
        if kind in NO_ARGUMENT_KINDS:
            args_options.append({"type": "null"})
        common = {k: StepBase.model_json_schema()["properties"][k] for k in sorted(COMMON_KEYS)}
        step_schemas.append(
            {
                "type": "object",
                "title": kind,
                "properties": {kind: {"anyOf": args_options}, **common},
                "required": [kind],
                "additionalProperties": False,
            }
        )
        if kind in NO_ARGUMENT_KINDS:
            step_schemas.append({"const": kind})
    top = Scenario.model_json_schema(ref_template="#/$defs/{model}")
    defs.update(top.pop("$defs", {}))
    top["properties"]["steps"] = {"type": "array", "minItems": 1, "items": {"anyOf": step_schemas}}
    top["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    top["$id"] = "collector/scenario@1"
    step_model_names = {m.__name__ for m in STEP_MODELS}
    top["$defs"] = {k: v for k, v in defs.items() if k not in step_model_names}
    return top
