"""Typed reads of config values: a bad value is a ConfigError naming file, line and field; an unknown key a warning."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from omni.sdg_studio.core.config_document import ConfigDocument, FieldPath, format_field


@dataclass(frozen=True)
class ConfigWarning:
    """Something in a config that is ignored; ``str()`` reads ``file:line:col: field: message``."""

    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = self.file or "<config>"
        if self.line is not None:
            where += f":{self.line}" + (f":{self.column}" if self.column is not None else "")
        return f"{where}: {self.field + ': ' if self.field else ''}{self.message}"


class FieldReader:
    """Reads values of one :class:`ConfigDocument`, collecting warnings."""

    def __init__(self, doc: ConfigDocument) -> None:
        self.doc = doc
        self.warnings: list[ConfigWarning] = []

    def warn(self, path: FieldPath, message: str) -> None:
        line, column = self.doc.location(path)
        file = str(self.doc.path) if self.doc.path is not None else None
        self.warnings.append(ConfigWarning(message, file, line, column, format_field(path) or None))

    def warn_unknown_keys(self, path: FieldPath, mapping: Mapping[str, Any], known: Iterable[str]) -> None:
        """One warning per key of ``mapping`` not in ``known``, suggesting the closest known key."""
        known = list(known)
        for key in mapping:
            if key in known:
                continue
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            self.warn((*path, key), f"unknown key '{key}' is ignored{hint}")

    def as_mapping(self, path: FieldPath, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.doc.error(path, f"expected a mapping, got {_kind(value)}")
        return value

    def as_list(self, path: FieldPath, value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise self.doc.error(path, f"expected a list, got {_kind(value)}")
        return value

    def as_int(self, path: FieldPath, value: Any, minimum: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.doc.error(path, f"expected an integer, got {_kind(value)}")
        if minimum is not None and value < minimum:
            raise self.doc.error(path, f"must be >= {minimum}, got {value}")
        return value

    def as_number(self, path: FieldPath, value: Any, minimum: float | None = None) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.doc.error(path, f"expected a number, got {_kind(value)}")
        if minimum is not None and value < minimum:
            raise self.doc.error(path, f"must be >= {minimum}, got {value}")
        return float(value)

    def as_bool(self, path: FieldPath, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self.doc.error(path, f"expected true or false, got {_kind(value)}")
        return value

    def as_str(self, path: FieldPath, value: Any) -> str:
        if not isinstance(value, str):
            raise self.doc.error(path, f"expected a string, got {_kind(value)}")
        return value

    def as_choice(self, path: FieldPath, value: Any, choices: Iterable[str]) -> str:
        choices = list(choices)
        text = self.as_str(path, value)
        if text not in choices:
            close = difflib.get_close_matches(text, choices, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise self.doc.error(path, f"'{text}' is not one of {', '.join(choices)}{hint}")
        return text

    def as_resolution(self, path: FieldPath, value: Any) -> tuple[int, int]:
        items = self.as_list(path, value)
        if len(items) != 2:
            raise self.doc.error(path, f"expected [width, height], got {len(items)} values")
        return (self.as_int((*path, 0), items[0], minimum=1), self.as_int((*path, 1), items[1], minimum=1))


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"number {value}"
    if isinstance(value, str):
        return f"string '{value}'"
    return {dict: "a mapping", list: "a list"}.get(type(value), type(value).__name__)
