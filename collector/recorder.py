"""Chrome DevTools Recorder exports -> collector scenarios.

A Recorder JSON export (``{"title": …, "steps": [{"type": "navigate", …}]}``)
is recognised by its shape. Every step type maps onto collector's steps;
selector alternatives become a list tried in order; ``aria/``, ``text/``,
``xpath/`` and ``pierce/`` selectors become Playwright selectors; chained
selectors (through shadow roots or frames) are joined with ``>>``.

Each step is validated as it is mapped, by a ``make`` function that builds the
model of that name from its fields: ``convert_recording`` builds pydantic's
models, and `collector convert` the shipped schema's objects (collector.coreschema),
so that it starts without importing pydantic.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from collector.errors import ScenarioError
from collector.recorder_shape import STEP_TYPES as STEP_TYPES
from collector.recorder_shape import is_recording as is_recording
from collector.yamlsource import PathKey, SourceDocument

if TYPE_CHECKING:
    from collector.scenario import Scenario

# Builds the error naming the recording's line for a path; the caller raises it.
Fail = Callable[[PathKey, str], ScenarioError]
# The validated model named (Click, Offset, Scenario …) with these fields, or the
# validation error of pydantic-core.
Make = Callable[[str, dict[str, Any]], Any]

NEEDS_SELECTORS = {"click", "doubleClick", "change", "hover", "waitForElement"}
BUTTONS = {"primary": "left", "auxiliary": "middle", "secondary": "right", "back": "back",
           "forward": "forward"}  # fmt: skip
MAX_TIMEOUT_MS = 600_000  # the Recorder sets no limit; collector's own for a step
ARIA = re.compile(r'^(?P<name>.*?)(?:\[role="(?P<role>[^"]+)"\])?$', re.S)


@dataclass
class Conversion:
    """The scenario a recording becomes, and what could not be carried over."""

    scenario: Scenario
    warnings: list[str] = field(default_factory=list)


def convert_recording(doc: SourceDocument) -> Conversion:
    """Validate a recording and map it onto a Scenario; ScenarioError names the step."""
    from pydantic import ValidationError

    from collector.scenario import MODELS

    scenario, warnings = map_recording(
        doc, lambda name, fields: MODELS[name].model_validate(fields), ValidationError
    )
    return Conversion(scenario, warnings)


def map_recording(
    doc: SourceDocument, make: Make, validation_error: type[Exception]
) -> tuple[Any, list[str]]:
    """The scenario ``make`` builds of a recording, and what could not be carried over."""
    data = doc.data
    label = doc.label

    def fail(path: PathKey, message: str) -> ScenarioError:
        dotted = ".".join(str(p) for p in path)
        return ScenarioError(f"{label}:{doc.line_of(path)}: {dotted}: {message}")

    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        raise fail(("title",), "Field required (a Recorder export has a title)")
    flow_timeout = _timeout(data.get("timeout"), ("timeout",), fail)
    warnings: list[str] = []
    steps: list[Any] = []
    viewport: Any = None
    left_main = False  # once a step acts on a popup, later main-page steps must say so
    raw_steps: list[Any] = data["steps"]
    i = 0
    while i < len(raw_steps):
        raw = raw_steps[i]
        path: PathKey = ("steps", i)
        kind = raw.get("type")
        if kind not in STEP_TYPES:
            raise fail((*path, "type"), f"unknown Recorder step type {kind!r}")
        common = _common(raw, path, fail)
        if "target" in common:
            left_main = True
        elif left_main:
            common["target"] = "main"
        if kind in NEEDS_SELECTORS and not raw.get("selectors"):
            raise fail(path, f"{kind} step without selectors")
        try:
            if kind == "setViewport":
                if not steps and viewport is None:
                    viewport = make("Viewport", {"width": raw["width"], "height": raw["height"]})
                else:
                    steps.append(
                        make(
                            "SetViewport",
                            {"width": raw["width"], "height": raw["height"], **common},
                        )
                    )
            elif kind == "navigate":
                steps.append(make("Goto", {"url": _required(raw, "url", path, fail), **common}))
            elif kind in ("click", "doubleClick"):
                button = raw.get("button", "primary")
                if button not in BUTTONS:
                    raise fail((*path, "button"), f"unknown mouse button {button!r}")
                mouse: dict[str, Any] = {"button": BUTTONS[button]}
                if raw.get("duration"):
                    mouse["delay"] = int(raw["duration"])
                if "offsetX" in raw or "offsetY" in raw:
                    mouse["offset"] = make(
                        "Offset",
                        {"x": float(raw.get("offsetX", 0)), "y": float(raw.get("offsetY", 0))},
                    )
                model = "Click" if kind == "click" else "Dblclick"
                steps.append(
                    make(model, {"selector": convert_selectors(raw["selectors"]), **mouse, **common})
                )
            elif kind == "change":
                value = raw.get("value")
                if not isinstance(value, str):
                    raise fail((*path, "value"), "change step without a string value")
                selector = convert_selectors(raw["selectors"])
                steps.append(make("Change", {"selector": selector, "value": value, **common}))
            elif kind in ("keyDown", "keyUp"):
                key = _required(raw, "key", path, fail)
                after = raw_steps[i + 1] if i + 1 < len(raw_steps) else None
                paired = (
                    kind == "keyDown"
                    and isinstance(after, dict)
                    and after.get("type") == "keyUp"
                    and after.get("key") == key
                    and after.get("target", "main") == raw.get("target", "main")
                )
                if paired:
                    steps.append(make("Press", {"key": key, **common}))
                    i += 1
                else:
                    key_model = "KeyDown" if kind == "keyDown" else "KeyUp"
                    steps.append(make(key_model, {"key": key, **common}))
            elif kind == "hover":
                steps.append(make("Hover", {"selector": convert_selectors(raw["selectors"]), **common}))
            elif kind == "scroll":
                selectors = raw.get("selectors")
                steps.append(
                    make(
                        "Scroll",
                        {
                            "selector": convert_selectors(selectors) if selectors else None,
                            "x": int(raw.get("x", 0)),
                            "y": int(raw.get("y", 0)),
                            "absolute": True,
                            **common,
                        },
                    )
                )
            elif kind == "waitForElement":
                steps.append(_wait_for_element(raw, common, path, fail, make))
            elif kind == "waitForExpression":
                expression = _required(raw, "expression", path, fail)
                steps.append(make("WaitForExpression", {"expression": expression, **common}))
            elif kind == "close":
                steps.append(make("Close", common))
            elif kind == "emulateNetworkConditions":
                download = float(raw.get("download", -1))
                upload = float(raw.get("upload", -1))
                steps.append(
                    make(
                        "EmulateNetwork",
                        {
                            "offline": download == 0 and upload == 0,
                            "download": download,
                            "upload": upload,
                            "latency": float(raw.get("latency", 0)),
                            **common,
                        },
                    )
                )
            elif kind == "customStep":
                warnings.append(
                    f"steps.{i}: customStep {raw.get('name', '')!r} is not supported; skipped"
                )
        except validation_error as exc:
            err = exc.errors(include_url=False)[0]  # type: ignore[attr-defined]
            where = ".".join(str(p) for p in err["loc"])
            raise fail(path, f"{kind}: {where}: {err['msg']}") from None
        except (TypeError, ValueError, KeyError) as exc:
            raise fail(path, f"{kind}: invalid step ({exc})") from None
        navigation = _asserted_navigation(raw)
        if navigation and kind != "navigate":
            # In the page or frame the step acted on, where the replay library waits.
            where_to = {"target": common.get("target"), "frame": common.get("frame")}
            steps.append(make("WaitForUrl", {"url": navigation, **where_to}))
        i += 1
    if not steps and raw_steps:
        raise fail(("steps",), "the recording has no step collector can run")
    try:
        scenario = make(
            "Scenario",
            {"name": title.strip(), "viewport": viewport, "timeout": flow_timeout, "steps": steps},
        )
    except validation_error as exc:
        err = exc.errors(include_url=False)[0]  # type: ignore[attr-defined]
        raise fail(tuple(err["loc"]), err["msg"]) from None
    return scenario, warnings


def convert_selectors(selectors: Any) -> str | list[str]:
    """Recorder selectors (alternatives, each a string or a chain) -> Playwright selectors."""
    if isinstance(selectors, str):
        selectors = [selectors]
    alternatives: list[str] = []
    for selector in selectors:
        chain = [selector] if isinstance(selector, str) else list(selector)
        if len(chain) == 1:
            candidates = _part_alternatives(str(chain[0]))
        else:
            candidates = [" >> ".join(_part_alternatives(str(part))[0] for part in chain)]
        for candidate in candidates:
            if candidate not in alternatives:
                alternatives.append(candidate)
    return alternatives[0] if len(alternatives) == 1 else alternatives


def _part_alternatives(part: str) -> list[str]:
    if part.startswith("aria/"):
        match = ARIA.match(part[5:])
        name = match.group("name") if match else part[5:]
        role = match.group("role") if match else None
        # ensure_ascii=False: selector engines do not read JSON's \uXXXX escapes.
        quoted = json.dumps(name, ensure_ascii=False)
        if role:
            return [f"role={role}[name={quoted}]"]
        # The element with that accessible name: its aria-label, its <label> or
        # aria-labelledby (Playwright's label engine, exact), else its own text.
        return [
            f"[aria-label={quoted}]",
            f"internal:label={quoted}s",
            f"internal:label={quoted}i",  # a <label> around the control holds its text too
            f"text={quoted}",
        ]
    if part.startswith("text/"):
        return [f"text={part[5:]}"]
    if part.startswith("xpath/"):
        return [f"xpath={part[6:]}"]
    if part.startswith("pierce/"):
        # Playwright's CSS engine already looks inside open shadow roots.
        return [f"css={part[7:]}"]
    return [f"css={part}"]


def _wait_for_element(
    raw: dict[str, Any], common: dict[str, Any], path: PathKey, fail: Fail, make: Make
) -> Any:
    # As the Recorder's replay library checks it: a count of the elements matching
    # (visible or not), their attributes and DOM properties; `visible: false` waits
    # for that check to fail, which for the plain check means no element at all.
    operator = raw.get("operator", ">=")
    count = int(raw.get("count", 1))
    attributes = raw.get("attributes") or None
    properties = raw.get("properties") or None
    if attributes is not None and not (
        isinstance(attributes, dict) and all(isinstance(v, str) for v in attributes.values())
    ):
        raise fail((*path, "attributes"), "attributes must map names to strings")
    if properties is not None and not isinstance(properties, dict):
        raise fail((*path, "properties"), "properties must be an object")
    plain = operator == ">=" and count == 1 and not attributes and not properties
    if raw.get("visible", True) is False:
        if plain:
            selector = convert_selectors(raw["selectors"])
            return make("WaitFor", {"selector": selector, "state": "detached", **common})
        # Waiting for "n <= c" to fail is waiting for "n >= c + 1", and so on.
        inverse = {">=": ("<=", count - 1), "<=": (">=", count + 1)}.get(operator)
        if inverse is None or inverse[1] < 0 or attributes or properties:
            raise fail(
                (*path, "visible"),
                f"visible: false with {operator} {count}"
                f"{' and attributes/properties' if attributes or properties else ''} "
                "cannot be waited for",
            )
        operator, count = inverse
        plain = False
    return make(
        "WaitFor",
        {
            "selector": convert_selectors(raw["selectors"]),
            "state": "attached",
            "count": None if operator == ">=" and count == 1 else count,
            "operator": operator,
            "attributes": attributes,
            "properties": properties,
            **common,
        },
    )


def _common(raw: dict[str, Any], path: PathKey, fail: Fail) -> dict[str, Any]:
    common: dict[str, Any] = {}
    timeout = _timeout(raw.get("timeout"), (*path, "timeout"), fail)
    if timeout is not None:
        common["timeout"] = timeout
    target = raw.get("target")
    if isinstance(target, str) and target != "main":
        common["target"] = target
    frame = raw.get("frame")
    if frame:
        if not (isinstance(frame, list) and all(isinstance(n, int) and n >= 0 for n in frame)):
            raise fail((*path, "frame"), "frame must be a list of child-frame indexes")
        common["frame"] = frame
    return common


def _timeout(value: Any, path: PathKey, fail: Fail) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail(path, f"timeout must be a number of ms, not {value!r}")
    if not 1 <= value <= MAX_TIMEOUT_MS:
        raise fail(path, f"timeout {value} ms is out of range (1-{MAX_TIMEOUT_MS})")
    return int(value)


def _required(raw: dict[str, Any], key: str, path: PathKey, fail: Fail) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        raise fail((*path, key), "Field required")
    return value


def _asserted_navigation(raw: dict[str, Any]) -> str | None:
    for event in raw.get("assertedEvents") or []:
        if isinstance(event, dict) and event.get("type") == "navigation" and event.get("url"):
            return str(event["url"])
    return None
