"""Read any steps file: a collector scenario (YAML/JSON) or a Chrome Recorder export."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from collector.recorder import Conversion, convert_recording, is_recording
from collector.scenario import Scenario, scenario_from_document
from collector.yamlsource import parse_document, read_text


def load_steps(
    path: str | os.PathLike[str],
    *,
    env: Mapping[str, str] | None = None,
    base_url: str | None = None,
) -> Conversion:
    """The scenario in ``path`` (recognising Recorder exports by shape), with any warnings."""
    label = str(path)
    file = Path(path)
    text = read_text(file, label)
    doc = parse_document(text, label, is_json=file.suffix.lower() == ".json")
    if is_recording(doc.data):
        return convert_recording(doc)
    scenario = scenario_from_document(
        doc, env=os.environ if env is None else env, base_url=base_url
    )
    return Conversion(scenario)


def load_any(
    path: str | os.PathLike[str],
    *,
    env: Mapping[str, str] | None = None,
    base_url: str | None = None,
) -> Scenario:
    return load_steps(path, env=env, base_url=base_url).scenario
