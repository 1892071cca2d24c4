"""A model's pydantic-core schema shipped as data: the same validation without pydantic.

Importing pydantic and building the scenario models costs more than `collector
validate` may take in all. The validation itself is pydantic-core's, and its schema
is plain data apart from a few references, so ``python -m collector.schemas`` writes
it to ``collector/schemas/NAME.core.json`` (a test keeps it equal to what the models
generate) and ``validator`` rebuilds pydantic-core's validator from it: the same
rules, the same error types, locations and messages. What pydantic adds around the
core (model methods, frozen instances) is not there: a validated value is a plain
object whose attributes are the fields.

The schema is written for one pydantic-core version; under any other, ``validator``
returns None and the caller uses the models.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydantic_core
from pydantic_core import PydanticKnownError

from collector.scenario_check import regex

HERE = Path(__file__).parent / "schemas"
# Keys pydantic keeps for itself (JSON Schema hooks, serialisers): the validator reads none.
DROPPED_KEYS = ("metadata", "serialization")
FACTORIES: dict[str, Callable[[], Any]] = {"list": list, "dict": dict}


class ShippedModel:
    """A value the shipped schema validated: its fields are its attributes."""

    # pydantic-core also sets these three on what it validates; as slots they stay out
    # of vars(), which holds the fields alone, as a model's __dict__ does.
    __slots__ = ("__dict__", "__pydantic_extra__", "__pydantic_fields_set__", "__pydantic_private__")

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({fields})"


def min_length(value: Any, min_length: int) -> Any:
    # pydantic's own check of `min_length` on a union (pydantic._internal._validators
    # .min_length_validator), rewritten here because importing it imports pydantic.
    if not (len(value) >= min_length):
        raise PydanticKnownError(
            "too_short",
            {"field_type": "Value", "min_length": min_length, "actual_length": len(value)},
        )
    return value


def encode(schema: Any, core_version: str, extra: dict[str, Any]) -> str:
    """The JSON text of a core schema, references to classes and functions by name."""
    document = {"pydantic_core": core_version, "schema": _encode(schema, None), **extra}
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def _encode(value: Any, key: str | None) -> Any:
    if isinstance(value, dict):
        return {k: _encode(v, k) for k, v in value.items() if k not in DROPPED_KEYS}
    if isinstance(value, list):
        return [_encode(v, key) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        if key in ("ref", "schema_ref") and isinstance(value, str):
            # pydantic appends the class's id() to a reference: different in every process.
            return re.sub(r":\d+$", "", value)
        return value
    if key == "cls" and isinstance(value, type):
        return {"$class": value.__name__}
    if key == "default_factory" and value in FACTORIES.values():
        return {"$factory": value.__name__}
    if key == "default_factory" and isinstance(value, type):
        return {"$default_model": value.__name__}  # `Field(default_factory=Environment)`
    if value is regex:
        return {"$call": "regex"}
    if (
        isinstance(value, functools.partial)
        and getattr(value.func, "__qualname__", "") == "min_length_validator"
        and value.func.__module__ == "pydantic._internal._validators"
        and not value.args
        and set(value.keywords) == {"min_length"}
    ):
        return {"$call": "min_length", "min_length": value.keywords["min_length"]}
    raise ValueError(f"cannot ship {value!r} (key {key!r}) in a core schema")


def _decode(
    value: Any, classes: dict[str, type[ShippedModel]], default: Callable[[str], Any]
) -> Any:
    if isinstance(value, list):
        return [_decode(v, classes, default) for v in value]
    if not isinstance(value, dict):
        return value
    if "$class" in value:
        name = value["$class"]
        if name not in classes:
            classes[name] = type(name, (ShippedModel,), {})
        return classes[name]
    if "$factory" in value:
        return FACTORIES[value["$factory"]]
    if "$default_model" in value:
        return functools.partial(default, value["$default_model"])
    if value.get("$call") == "regex":
        return regex
    if value.get("$call") == "min_length":
        return functools.partial(min_length, min_length=value["min_length"])
    return {k: _decode(v, classes, default) for k, v in value.items()}


@dataclass
class Shipped:
    """pydantic-core's validator of a shipped schema, and what else its file holds."""

    schema: dict[str, Any]
    validator: Any
    extra: dict[str, Any]
    _models: dict[str, Any] = field(default_factory=dict)

    def make(self, name: str, fields: dict[str, Any]) -> Any:
        """The model named ``name`` (a class name of the schema) validated from ``fields``,
        as the model's constructor would; a ValidationError of pydantic-core if invalid."""
        if not self._models:
            self._models.update(_models(self.schema))
        model = self._models[name]
        if not isinstance(model, dict):
            return model.validate_python(fields)
        self._models[name] = pydantic_core.SchemaValidator(model, model.get("config"))
        return self._models[name].validate_python(fields)

    def dump(self, value: ShippedModel) -> dict[str, Any]:
        """Its fields and values, those equal to their defaults left out, as pydantic's
        ``model_dump(exclude_defaults=True)`` (the defaults are shipped in ``extra``)."""
        defaults = self.extra["defaults"].get(type(value).__name__, {})
        return {
            k: self._plain(v)
            for k, v in vars(value).items()
            if not (k in defaults and v == defaults[k])
        }

    def _plain(self, value: Any) -> Any:
        if isinstance(value, ShippedModel):
            return self.dump(value)
        if isinstance(value, list):
            return [self._plain(v) for v in value]
        if isinstance(value, dict):
            return {k: self._plain(v) for k, v in value.items()}
        return value


def _models(value: Any) -> dict[str, Any]:
    """Every model's schema in a decoded schema, by its class name."""
    found: dict[str, Any] = {}
    if isinstance(value, dict):
        if value.get("type") == "model":
            found[value["cls"].__name__] = value
        for v in value.values():
            found.update(_models(v))
    elif isinstance(value, list):
        for v in value:
            found.update(_models(v))
    return found


def shipped(name: str) -> Shipped | None:
    """The shipped schema ``NAME.core.json`` ready to validate, or None when the installed
    pydantic-core is not the one it was written for."""
    document = json.loads((HERE / f"{name}.core.json").read_text("utf-8"))
    if document.pop("pydantic_core") != pydantic_core.__version__:
        return None
    made: list[Shipped] = []  # a model's default is made by the validator being built

    def default(name: str) -> Any:
        return made[0].make(name, {})

    schema = _decode(document.pop("schema"), {}, default)
    made.append(Shipped(schema, pydantic_core.SchemaValidator(schema, schema.get("config")), document))
    return made[0]
