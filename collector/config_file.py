"""Where the configuration is, and what a ticket needs of it, without its models.

``find_config`` finds collector.toml (or ``[tool.collector]`` in pyproject.toml);
collector.config validates it with pydantic. ``desk_settings`` gives the ticket its
few settings and validates only when there is a file to validate, so that `collector
ticket` starts without pydantic where no configuration is written.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from collector.errors import ConfigError

CONFIG_FILE = "collector.toml"
DEFAULT_REASONS = ("technical", "billing", "account", "other")


@dataclass(frozen=True)
class DeskSettings:
    """What a ticket takes from the configuration (collector.config.Config's fields)."""

    lang: str
    reasons: list[str]
    support_address: str | None
    support_url: str | None
    source: str | None


def desk_settings(start: Path | None = None) -> DeskSettings:
    """The ticket's settings in force here: Config's defaults when there is no config
    file (a test compares them with ``Config()``), else the validated file's."""
    if find_config(start) is None:
        return DeskSettings("en", list(DEFAULT_REASONS), None, None, None)
    from collector.config import load_config

    config = load_config(start)
    return DeskSettings(
        config.lang, config.reasons, config.support_address, config.support_url, config.source
    )


def find_config(start: Path | None = None) -> tuple[Path, dict[str, Any]] | None:
    """The nearest collector.toml, or pyproject.toml with [tool.collector], upwards."""
    folder = (start or Path.cwd()).resolve()
    for directory in (folder, *folder.parents):
        candidate = directory / CONFIG_FILE
        if candidate.is_file():
            return candidate, _read_toml(candidate)
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file():
            data = _read_toml(pyproject)
            tool = data.get("tool", {})
            section = tool.get("collector") if isinstance(tool, dict) else None
            if section is not None and not isinstance(section, dict):
                line = line_of_key(pyproject, "collector", section="tool")
                raise ConfigError(f"{pyproject}:{line}: tool.collector: must be a table")
            if isinstance(section, dict):
                return pyproject, section
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        where = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise ConfigError(f"{path}:{where.group(1) if where else 1}: {message}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


def line_of_key(path: Path, key: str, section: str | None = None) -> int:
    """The line where ``key =`` is set, inside ``[section]`` when one is given."""
    if not key:
        return 1
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    header = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]")
    inside = section is None
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return 1
    for number, line in enumerate(lines, 1):
        match = header.match(line)
        if match:
            name = match.group(1)
            inside = section is None or name == section or name.startswith(f"{section}.")
            if section is None and name.split(".")[0] == key:
                return number  # [[ignore]] tables name the key in their header
            if section and name == f"{section}.{key}":
                return number
            continue
        if inside and pattern.match(line):
            return number
    return 1
