"""A validated scenario written back as a steps file (YAML, shorthand where it allows).

The models' values without their defaults come from a ``dump`` function, so the
same writing serves pydantic's models (``model_dump(exclude_defaults=True)``) and
the objects of the shipped schema (collector.coreschema), which `collector
convert` writes without importing pydantic.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import yaml

from collector.scenario_check import COMMON_KEYS, NO_ARGUMENT_KINDS, SHORTHAND_FIELD

# A model's fields and values, those equal to their defaults left out.
Dump = Callable[[Any], dict[str, Any]]


def scenario_to_data(scenario: Any, dump: Dump) -> dict[str, Any]:
    """The scenario as file data again, steps in shorthand where they allow it."""
    data = {k: v for k, v in dump(scenario).items() if k != "steps"}
    data["steps"] = [step_to_data(step, dump) for step in scenario.steps]
    return data


def step_to_data(step: Any, dump: Dump) -> str | dict[str, Any]:
    """A step as written by hand: shorthand where it allows, `name` etc. beside the kind."""
    args = {k: v for k, v in dump(step).items() if k != "action"}
    kind: str = step.action
    common = {k: args.pop(k) for k in list(args) if k in COMMON_KEYS and kind != "screenshot"}
    short = SHORTHAND_FIELD.get(kind)
    if not args and kind in NO_ARGUMENT_KINDS:
        return {kind: None, **common} if common else kind
    if short and list(args) == [short]:
        return {kind: args[short], **common}
    return {kind: args, **common}


def data_to_yaml(data: dict[str, Any], comments: Mapping[int, list[str]] | None = None) -> str:
    """Scenario data as YAML; ``comments[i]`` are written as ``#`` lines before step ``i``
    (0-based; ``len(steps)`` after the last), e.g. actions a recording could not express."""
    if not comments:
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    data = dict(data)
    steps = data.pop("steps")
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100) if data else ""
    lines = [text.rstrip("\n")] if text else []
    lines.append("steps:")
    for index in range(len(steps) + 1):
        for comment in comments.get(index, []):
            lines.append(f"  # {' '.join(comment.split())}")
        if index < len(steps):
            item = yaml.safe_dump([steps[index]], sort_keys=False, allow_unicode=True, width=100)
            lines.extend("  " + line for line in item.rstrip("\n").splitlines())
    return "\n".join(lines) + "\n"
