"""The shipped scenario schema (collector validate, collector convert) says what the models say.

`validate` and `convert` check steps with pydantic-core's validator of the schema
shipped in collector/schemas/scenario.core.json instead of building the pydantic
models; every case here runs both ways and asserts the same error line or the
same YAML, byte for byte. Pure logic, in this process: about 1 CPU-second.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pydantic_core
import pytest
from pydantic._internal._validators import min_length_validator
from test_scenario import BAD_SCENARIOS

from collector import coreschema
from collector.errors import ScenarioError
from collector.loader import check_steps, load_steps, recording_to_yaml
from collector.recorder import convert_recording
from collector.scenario import scenario_to_yaml
from collector.scenario_check import scenario_strings
from collector.yamlsource import SourceDocument, parse_document, read_text

RECORDINGS = sorted((Path(__file__).parent / "recordings").rglob("*.json"))
NAV = '{"type": "navigate", "url": "http://127.0.0.1:1/"}'


def outcome(call: Any) -> Any:
    try:
        return call()
    except ScenarioError as exc:
        return f"Error: {exc}"


def models_yaml(doc: SourceDocument) -> tuple[str, list[str]]:
    converted = convert_recording(doc)
    return scenario_to_yaml(converted.scenario), converted.warnings


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda p: p.name)
def test_convert_writes_what_the_models_write(path: Path) -> None:
    doc = parse_document(read_text(path, path.name), path.name, is_json=True)
    written = recording_to_yaml(doc)
    assert written == models_yaml(doc)
    assert written[0].startswith("name: ")
    loaded = load_steps(path)
    checked = check_steps(path)
    assert (checked.steps, checked.warnings) == (len(loaded.scenario.steps), loaded.warnings)


# Recordings that the Recorder mapping accepts but a model refuses.
BAD_MODELS = [
    pytest.param(f'{{"type": "setViewport", "width": 100, "height": 700}}, {NAV}',
                 id="first-viewport"),
    pytest.param(f'{NAV}, {{"type": "setViewport", "width": 900, "height": 70000}}',
                 id="later-viewport"),
    pytest.param(f'{NAV}, {{"type": "click", "selectors": [["#a"]], "duration": 70000}}',
                 id="click-delay"),
    pytest.param(f'{NAV}, {{"type": "waitForElement", "selectors": [["#a"]], "count": -1}}',
                 id="wait-count"),
    pytest.param(f'{NAV}, {{"type": "emulateNetworkConditions", "latency": -5}}',
                 id="latency"),
]  # fmt: skip


@pytest.mark.parametrize("steps", BAD_MODELS)
def test_convert_refuses_what_the_models_refuse(steps: str) -> None:
    doc = parse_document(f'{{"title": "t",\n "steps": [{steps}]}}', "rec.json", is_json=True)
    refused = outcome(lambda: recording_to_yaml(doc))
    assert refused == outcome(lambda: models_yaml(doc))
    assert refused.startswith("Error: rec.json:")


MORE_BAD_SCENARIOS = [
    "url: http://a/\nsteps:\n  - click: ''\n",
    "url: http://a/\nsteps:\n  - click: []\n",
    "url: http://a/\nsteps:\n  - click: ['']\n",
    "url: http://a/\nsteps:\n  - fill: {selector: [], value: x}\n",
    "url: http://a/\nsteps:\n  - click: {selector: '#a', offset: {x: 1}}\n",
    "url: http://a/\nviewport: {width: 10, height: 10}\nsteps:\n  - goto: /\n",
    "url: http://a/\nignore: ['(']\nsteps:\n  - goto: /\n",
    "url: http://a/\nsteps:\n  - wait_for: {selector: a, attributes: {k: 1}}\n",
    "url: http://a/\nsecrets: [P]\nsteps:\n  - fill: {selector: a, value: '${Q}'}\n",
]


@pytest.mark.parametrize(("name", "content", "expected"), BAD_SCENARIOS)
def test_validate_refuses_as_the_models_do(
    tmp_path: Path, name: str, content: bytes | str | None, expected: str
) -> None:
    path = tmp_path / name
    if content == "DIR":
        path.mkdir()
    elif isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    elif content is not None:
        path.write_bytes(content)
    checked = outcome(lambda: check_steps(path, env={}))
    assert checked == outcome(lambda: load_steps(path, env={}))
    assert checked.startswith("Error: ")


@pytest.mark.parametrize("content", MORE_BAD_SCENARIOS)
def test_validate_refuses_selectors_and_nested_values_as_the_models_do(
    tmp_path: Path, content: str
) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(content, encoding="utf-8")
    checked = outcome(lambda: check_steps(path, env={"P": "x"}))
    assert checked == outcome(lambda: load_steps(path, env={"P": "x"}))
    assert checked.startswith("Error: ")


def test_a_valid_scenario_has_the_same_steps_and_strings(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "url: http://127.0.0.1:1/\nviewport: {width: 800, height: 600}\nsecrets: [P]\n"
        "steps:\n  - goto: /\n  - click: {selector: ['#a', '#b'], offset: {x: 1, y: 2}}\n"
        "  - fill: {selector: '#p', value: '${P}', name: password}\n  - reload\n",
        encoding="utf-8",
    )
    core = coreschema.shipped("scenario")
    assert core is not None
    doc = parse_document(path.read_text(encoding="utf-8"), "s.yaml")
    fields = {k: tuple(v) for k, v in core.extra["shape"]["steps"].items()}
    assert fields["click"][-1] == "offset"  # the shape is the models' own field order
    steps = [
        {"action": "goto", "url": "/"},
        {"action": "click", "selector": ["#a", "#b"], "offset": {"x": 1.0, "y": 2.0}},
        {"action": "fill", "selector": "#p", "value": "${P}", "name": "password"},
        {"action": "reload"},
    ]
    shipped = core.validator.validate_python({**doc.data, "steps": steps})
    models = load_steps(path, env={"P": "x"}).scenario
    assert list(scenario_strings(shipped)) == list(scenario_strings(models))
    assert check_steps(path, env={"P": "x"}).steps == len(models.steps) == 4


def test_another_pydantic_core_uses_the_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shipped schema is written for one pydantic-core; any other gets the models."""
    recording = RECORDINGS[0]
    doc = parse_document(read_text(recording, recording.name), recording.name, is_json=True)
    path = tmp_path / "s.yaml"
    path.write_text("url: http://a/\nsteps:\n  - click: ''\n", encoding="utf-8")
    shipped_error = outcome(lambda: check_steps(path, env={}))
    monkeypatch.setattr(pydantic_core, "__version__", "0.0.0")
    assert coreschema.shipped("scenario") is None
    assert recording_to_yaml(doc) == models_yaml(doc)
    assert outcome(lambda: check_steps(path, env={})) == shipped_error


@pytest.mark.parametrize("value", ["", "a", [], ["a"]])
def test_min_length_is_pydantics(value: Any) -> None:
    def run(check: Any) -> Any:
        try:
            return check(value, min_length=1)
        except pydantic_core.PydanticKnownError as exc:
            return (exc.type, exc.message())

    assert run(coreschema.min_length) == run(min_length_validator)
