"""Read YAML/JSON documents into plain data plus a map from paths to line numbers.

Validation errors must name the line of the offending key, which plain
``yaml.safe_load`` forgets. We compose the node graph and build the data
ourselves, with a budget on nodes so that alias bombs ("billion laughs") and
recursive aliases fail fast instead of exhausting memory.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from collector.errors import ScenarioError

MAX_FILE_BYTES = 5_000_000
MAX_NODES = 200_000

PathKey = tuple[str | int, ...]


@dataclass
class SourceDocument:
    """A parsed document and where each of its parts sits in the file."""

    label: str
    data: Any
    lines: dict[PathKey, int] = field(default_factory=dict)
    # Why there are no line numbers, when the text could not be placed (JSON that no
    # YAML parser reads): errors then point at line 1.
    unplaced: str | None = None

    def line_of(self, path: PathKey) -> int:
        """The line of ``path``, or of its nearest ancestor that exists in the file."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return 1


def read_text(path: Path, label: str) -> str:
    """Read a user-supplied text file, turning every OS/encoding failure into a ScenarioError."""
    if not path.exists():
        raise ScenarioError(f"{label}: file not found")
    if path.is_dir():
        raise ScenarioError(f"{label}: is a directory, expected a scenario file")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ScenarioError(f"{label}: file too large ({size} bytes, limit {MAX_FILE_BYTES})")
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(f"{label}: cannot read file: {exc.strerror or exc}") from None
    if b"\x00" in raw:
        raise ScenarioError(f"{label}: not a text file (contains NUL bytes)")
    try:
        # utf-8-sig drops a byte-order mark that some editors write.
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            f"{label}: not a UTF-8 text file (invalid byte at offset {exc.start})"
        ) from None


def parse_document(text: str, label: str, *, is_json: bool = False) -> SourceDocument:
    """Parse YAML (or JSON) text into data plus line numbers."""
    if not text.strip():
        raise ScenarioError(f"{label}:1: the file is empty")
    if is_json:
        return _parse_json(text, label)
    return _parse_yaml(text, label)


def _parse_json(text: str, label: str) -> SourceDocument:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"{label}:{exc.lineno}: JSON syntax error: {exc.msg}") from None
    except RecursionError:
        raise ScenarioError(f"{label}:1: JSON nested too deeply") from None
    # JSON is (almost always) YAML too; its node marks give us line numbers. The data
    # is json's, so libyaml (PyYAML's C parser, several times faster on a long
    # recording, and reading all the Python parser reads) only has to find lines.
    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return SourceDocument(label, data, _parse_yaml(text, label, loader_class).lines)
    except ScenarioError as exc:
        return SourceDocument(label, data, {}, unplaced=str(exc))


def _parse_yaml(text: str, label: str, loader_class: Any = yaml.SafeLoader) -> SourceDocument:
    # Steps files keep the Python parser: libyaml accepts some files it refuses (a tab
    # after `key:`), and a file valid here must stay valid wherever collector runs.
    try:
        loader = loader_class(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = min(mark.line + 1, max(len(text.splitlines()), 1)) if mark else 1
        problem = "; ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        raise ScenarioError(f"{label}:{line}: YAML syntax error: {problem}") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{label}:1: YAML syntax error: {exc}") from None
    except RecursionError:
        raise ScenarioError(f"{label}:1: YAML nested too deeply") from None
    if node is None:
        raise ScenarioError(f"{label}:1: the file is empty")
    builder = _Builder(label, loader)
    try:
        data = builder.build(node, ())
    except RecursionError:
        raise ScenarioError(f"{label}:1: YAML nested too deeply") from None
    return SourceDocument(label, data, builder.lines)


class _Builder:
    def __init__(self, label: str, loader: yaml.SafeLoader) -> None:
        self.label = label
        self.loader = loader
        self.lines: dict[PathKey, int] = {}
        self.nodes = 0
        self.active: set[int] = set()

    def build(self, node: yaml.Node, path: PathKey) -> Any:
        if id(node) in self.active:
            raise ScenarioError(
                f"{self.label}:{node.start_mark.line + 1}: an alias refers to itself "
                "(recursive YAML alias)"
            )
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ScenarioError(
                f"{self.label}:{node.start_mark.line + 1}: document too large "
                f"(more than {MAX_NODES} values; alias expansion?)"
            )
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            self.active.add(id(node))
            try:
                if isinstance(node, yaml.MappingNode):
                    return self._mapping(node, path)
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            finally:
                self.active.discard(id(node))
        try:
            return self.loader.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, KeyError, AttributeError, TypeError) as exc:
            # Explicit tags (`!!int abc`, `!!python/object`) fail in the constructor.
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise ScenarioError(
                f"{self.label}:{node.start_mark.line + 1}: cannot read value "
                f"{node.value!r} tagged {node.tag}: {problem}"
            ) from None

    def _mapping(self, node: yaml.MappingNode, path: PathKey) -> dict[Any, Any]:
        self.loader.flatten_mapping(node)  # resolves `<<` merge keys
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self.build(key_node, (*path, "<key>"))
            line = key_node.start_mark.line + 1
            if not isinstance(key, str | int | bool) or key is None:
                where = ".".join(str(p) for p in path) or "top level"
                raise ScenarioError(f"{self.label}:{line}: {where}: keys must be plain strings")
            if key in result:
                dotted = ".".join(str(p) for p in (*path, key))
                raise ScenarioError(f"{self.label}:{line}: {dotted}: duplicate key")
            self.lines[(*path, key)] = line
            result[key] = self.build(value_node, (*path, key))
        return result
