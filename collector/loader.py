"""Read any steps file: a collector scenario (YAML/JSON) or a Chrome Recorder export.

The models (pydantic) and the Recorder mapping are imported only by what needs
them, so ``check_steps`` (``collector validate``) starts without them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from collector.yamlsource import SourceDocument, parse_document, read_text

if TYPE_CHECKING:
    from collector.recorder import Conversion
    from collector.scenario import Scenario


@dataclass
class Checked:
    """What ``collector validate`` reports of a valid file."""

    steps: int
    warnings: list[str] = field(default_factory=list)


def load_steps(
    path: str | os.PathLike[str],
    *,
    env: Mapping[str, str] | None = None,
    base_url: str | None = None,
) -> Conversion:
    """The scenario in ``path`` (recognising Recorder exports by shape), with any warnings."""
    from collector.recorder import Conversion, convert_recording, is_recording
    from collector.scenario import scenario_from_document

    doc = _read(path)
    if is_recording(doc.data):
        return convert_recording(doc)
    scenario = scenario_from_document(
        doc, env=os.environ if env is None else env, base_url=base_url
    )
    return Conversion(scenario)


def check_steps(
    path: str | os.PathLike[str],
    *,
    env: Mapping[str, str] | None = None,
    base_url: str | None = None,
) -> Checked:
    """Validate ``path`` as ``load_steps`` does (a steps file or a Recorder export), with
    pydantic-core's validator of the shipped schema where it can (collector.coreschema),
    so the models are not built."""
    from collector.recorder_shape import is_recording

    doc = _read(path)
    env = os.environ if env is None else env
    if is_recording(doc.data):
        checked = _check_recording(doc)
    else:
        checked = _check_scenario(doc, env, base_url)
    if checked is not None:
        return checked
    loaded = load_steps(path, env=env, base_url=base_url)
    return Checked(len(loaded.scenario.steps), loaded.warnings)


def _check_recording(doc: SourceDocument) -> Checked | None:
    from pydantic_core import ValidationError

    from collector.coreschema import shipped
    from collector.recorder import map_recording

    core = shipped("scenario")
    if core is None:
        return None
    scenario, warnings = map_recording(doc, core.make, ValidationError)
    return Checked(len(scenario.steps), warnings)


def _check_scenario(
    doc: SourceDocument, env: Mapping[str, str], base_url: str | None
) -> Checked | None:
    from pydantic_core import ValidationError

    from collector.coreschema import shipped
    from collector.scenario_check import FormatShape, check_document

    core = shipped("scenario")
    if core is None:
        return None
    shape = core.extra["shape"]
    scenario = check_document(
        doc,
        shape=FormatShape(
            scenario=tuple(shape["scenario"]),
            viewport=tuple(shape["viewport"]),
            steps={k: tuple(v) for k, v in shape["steps"].items()},
            required={k: tuple(v) for k, v in shape["required"].items()},
        ),
        validate=core.validator.validate_python,
        validation_error=ValidationError,
        env=env,
        base_url=base_url,
    )
    return Checked(len(scenario.steps))


def recording_to_yaml(doc: SourceDocument) -> tuple[str, list[str]]:
    """A Recorder export as a steps file (YAML), and what could not be carried over;
    mapped with the shipped schema's validator where it can (collector.coreschema)."""
    from collector.coreschema import shipped
    from collector.recorder import map_recording
    from collector.scenario_text import data_to_yaml, scenario_to_data

    core = shipped("scenario")
    if core is None:
        from collector.recorder import convert_recording
        from collector.scenario import scenario_to_yaml

        converted = convert_recording(doc)
        return scenario_to_yaml(converted.scenario), converted.warnings
    from pydantic_core import ValidationError

    scenario, warnings = map_recording(doc, core.make, ValidationError)
    return data_to_yaml(scenario_to_data(scenario, core.dump)), warnings


def _read(path: str | os.PathLike[str]) -> SourceDocument:
    label = str(path)
    file = Path(path)
    return parse_document(read_text(file, label), label, is_json=file.suffix.lower() == ".json")


def load_any(
    path: str | os.PathLike[str],
    *,
    env: Mapping[str, str] | None = None,
    base_url: str | None = None,
) -> Scenario:
    return load_steps(path, env=env, base_url=base_url).scenario
