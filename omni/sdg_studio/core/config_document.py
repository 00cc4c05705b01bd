"""Load YAML / JSON config files keeping line numbers, so every error names file, line and field.

Parsing is bounded, whatever the file holds: at most :data:`MAX_BYTES`, nesting at most
:data:`MAX_DEPTH` deep, and aliases may add at most :data:`MAX_ALIAS_NODES` nodes to the document
(the few-hundred-byte "billion laughs" bomb and a recursive alias are refused in milliseconds).
A mapping with a key twice is refused, as is JSON that only YAML accepts (a trailing comma) in a
``.json`` file. Numbers follow YAML 1.2 / JSON: ``1e-05`` (as ``json.dumps`` writes it) is a number.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from omni.sdg_studio.core.errors import SdgStudioError

FieldPath = tuple[str | int, ...]

#: Largest config file read (bytes).
MAX_BYTES = 16 * 1024 * 1024
#: Deepest nesting of mappings and lists, aliases followed.
MAX_DEPTH = 100
#: Nodes that aliases may add to a document when expanded.
MAX_ALIAS_NODES = 100_000


class ConfigError(SdgStudioError, ValueError):
    """A config file is invalid; ``str()`` reads ``file:line:col: field: message``."""

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        column: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.column = column
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        return located(self.message, self.file, self.line, self.column, self.field)


def located(message: str, file: str | None, line: int | None, column: int | None, field: str | None) -> str:
    """``file:line:col: field: message`` (the parts that are known)."""
    where = file or "<config>"
    if line is not None:
        where += f":{line}" + (f":{column}" if column is not None else "")
    return f"{where}: {field + ': ' if field else ''}{message}"


def format_field(path: FieldPath) -> str:
    """``("rules", 2, "match")`` -> ``rules[2].match``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass
class ConfigDocument:
    """Parsed config data plus the 1-based line/column of every mapping value and list item."""

    data: Any
    path: Path | None = None
    marks: dict[FieldPath, tuple[int, int]] = field(default_factory=dict)

    def location(self, path: FieldPath) -> tuple[int | None, int | None]:
        """Line and column of ``path``, or of its nearest ancestor that has one."""
        while path:
            if path in self.marks:
                return self.marks[path]
            path = path[:-1]
        return (None, None)

    def error(self, path: FieldPath, message: str) -> ConfigError:
        """A :class:`ConfigError` located at ``path``."""
        line, column = self.location(path)
        return ConfigError(message, file=self.path, line=line, column=column, field=format_field(path) or None)


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with a nesting limit while composing and YAML 1.2 / JSON exponent floats."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0

    def fetch_flow_collection_start(self, TokenClass: type) -> None:  # PyYAML's parameter name
        # Before the scanner tracks thousands of open "[" (it rescans them all at every token).
        if self.flow_level >= MAX_DEPTH:
            mark = self.get_mark()
            raise ConfigError(_too_deep(), line=mark.line + 1, column=mark.column + 1)
        super().fetch_flow_collection_start(TokenClass)

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise ConfigError(_too_deep(), line=mark.line + 1, column=mark.column + 1)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


# ``1e-05``, ``2E+3``: floats for JSON and YAML 1.2, strings for PyYAML's YAML 1.1 resolver.
_BoundedLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def _too_deep() -> str:
    return f"nested more than {MAX_DEPTH} levels deep; config files are not that deep"


def _mark(node: yaml.Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _check_graph(root: yaml.Node, path: str | Path | None) -> None:
    """Refuse recursive aliases, aliases that expand to too much or too deep, and duplicate keys.

    One pass over the distinct nodes (aliases share them), bottom-up, with each node's expanded size
    and depth memoized: linear in the file, whatever the aliases would expand to.
    """
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    distinct = 0
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    active: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        children = _children(node)
        if done:
            active.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in children)
            depth[key] = 1 + max((depth[id(c)] for c in children), default=0)
            if depth[key] > MAX_DEPTH:
                line, column = _mark(node)
                raise ConfigError(
                    f"aliases nest this more than {MAX_DEPTH} levels deep", file=path, line=line, column=column
                )
            continue
        if key in size:
            continue
        if key in active:
            line, column = _mark(node)
            raise ConfigError("a recursive alias (a node that contains itself)", file=path, line=line, column=column)
        active.add(key)
        distinct += 1
        if isinstance(node, yaml.MappingNode):
            _check_keys(node, path)
        stack.append((node, True))
        stack.extend((child, False) for child in children if id(child) not in size)
    if size[id(root)] > distinct + MAX_ALIAS_NODES:
        raise ConfigError(
            f"aliases expand this document to {size[id(root)]} nodes (from {distinct}); "
            f"at most {MAX_ALIAS_NODES} more are allowed",
            file=path,
            line=1,
        )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_keys(node: yaml.MappingNode, path: str | Path | None) -> None:
    """Refuse a key given twice in one mapping (YAML requires unique keys; JSON readers keep the last)."""
    seen: dict[str, int] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
            continue
        line, column = _mark(key_node)
        if key_node.value in seen:
            raise ConfigError(
                f"duplicate key '{key_node.value}' (first given on line {seen[key_node.value]})",
                file=path,
                line=line,
                column=column,
            )
        seen[key_node.value] = line


def _check_json(text: str, path: str | Path) -> None:
    """A ``.json`` file must be JSON, not only YAML (no trailing comma, no comments, quoted keys)."""
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"not valid JSON: {exc.msg}", file=path, line=exc.lineno, column=exc.colno) from None


def _collect_marks(node: yaml.Node, path: FieldPath, marks: dict[FieldPath, tuple[int, int]]) -> None:
    marks[path] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            _collect_marks(value_node, (*path, key_node.value), marks)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _collect_marks(item, (*path, index), marks)


def parse_document(text: str, path: str | Path | None = None) -> ConfigDocument:
    """Parse YAML (JSON is accepted: it is YAML) into a :class:`ConfigDocument`, within the limits above."""
    if len(text) > MAX_BYTES:
        raise ConfigError(f"{len(text)} characters; config files are at most {MAX_BYTES} bytes", file=path)
    try:
        loader = _BoundedLoader(text)
        try:
            node = loader.get_single_node()
            if node is not None:
                _check_graph(node, path)
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except ConfigError as exc:
        if exc.file is None and path is not None:
            raise ConfigError(exc.message, file=path, line=exc.line, column=exc.column, field=exc.field) from None
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise ConfigError(f"not valid YAML/JSON: {problem}", file=path, line=line, column=column) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML/JSON: {exc}", file=path) from None
    if path is not None and Path(path).suffix.lower() == ".json":
        _check_json(text, path)
    marks: dict[FieldPath, tuple[int, int]] = {}
    if node is not None:
        _collect_marks(node, (), marks)
    return ConfigDocument(data=data, path=Path(path) if path is not None else None, marks=marks)


def load_document(path: str | Path) -> ConfigDocument:
    """Read and parse a YAML or JSON file; a missing or unreadable file is a :class:`ConfigError`."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ConfigError(f"{path.stat().st_size} bytes; config files are at most {MAX_BYTES} bytes", file=path)
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", file=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read file: {exc}", file=path) from None
    return parse_document(text, path)
