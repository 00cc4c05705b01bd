"""Load YAML / JSON config files keeping line numbers, so every error names file, line and field."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from omni.sdg_studio.core.errors import SdgStudioError

FieldPath = tuple[str | int, ...]


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


def _collect_marks(node: yaml.Node, path: FieldPath, marks: dict[FieldPath, tuple[int, int]]) -> None:
    marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            _collect_marks(value_node, (*path, key_node.value), marks)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _collect_marks(item, (*path, index), marks)


def parse_document(text: str, path: str | Path | None = None) -> ConfigDocument:
    """Parse YAML (JSON is accepted: it is YAML) into a :class:`ConfigDocument`."""
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise ConfigError(f"not valid YAML/JSON: {problem}", file=path, line=line, column=column) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML/JSON: {exc}", file=path) from None
    marks: dict[FieldPath, tuple[int, int]] = {}
    if node is not None:
        _collect_marks(node, (), marks)
    return ConfigDocument(data=data, path=Path(path) if path is not None else None, marks=marks)


def load_document(path: str | Path) -> ConfigDocument:
    """Read and parse a YAML or JSON file; a missing or unreadable file is a :class:`ConfigError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", file=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read file: {exc}", file=path) from None
    return parse_document(text, path)
