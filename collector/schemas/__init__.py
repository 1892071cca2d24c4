"""The JSON Schemas of the scenario and report formats, shipped pre-generated.

Generating them means importing pydantic and building every model, which is
most of `collector schema`'s time; the files here are what the models
generate (a test keeps them equal). Regenerate with `python -m collector.schemas`.
``scenario.core.json`` and ``report.core.json`` are the pydantic-core schemas that
`collector validate`, `convert` and `ticket` validate with (see collector.coreschema).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
NAMES = ("scenario", "report", "scenario.core", "report.core")


def shipped(name: str) -> str:
    """The schema text as shipped in the package."""
    return (HERE / f"{name}.json").read_text(encoding="utf-8")


def generate(name: str) -> str:
    """The schema text the models generate now."""
    document: dict[str, Any]
    if name == "scenario.core":
        return _scenario_core()
    if name == "report.core":
        return _report_core()
    if name == "scenario":
        from collector.scenario import scenario_json_schema

        document = scenario_json_schema()
    else:
        from collector.report import report_json_schema

        document = report_json_schema()
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _scenario_core() -> str:
    from dataclasses import asdict

    import pydantic_core

    from collector.coreschema import encode
    from collector.scenario import MODELS, Scenario, format_shape

    shape = asdict(format_shape())
    # What `model_dump(exclude_defaults=True)` leaves out, for collector convert.
    defaults = {
        name: {
            k: f.get_default(call_default_factory=True)
            for k, f in model.model_fields.items()
            if not f.is_required()
        }
        for name, model in MODELS.items()
    }
    extra = {"shape": shape, "defaults": defaults}
    return encode(Scenario.__pydantic_core_schema__, pydantic_core.__version__, extra)


def _report_core() -> str:
    import pydantic_core

    from collector.coreschema import encode
    from collector.report import Report

    return encode(Report.__pydantic_core_schema__, pydantic_core.__version__, {})


def main() -> None:
    for name in NAMES:
        (HERE / f"{name}.json").write_text(generate(name), encoding="utf-8")
        print(HERE / f"{name}.json")


if __name__ == "__main__":
    main()
