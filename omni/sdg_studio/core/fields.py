"""Typed reads of config values: every bad value is one line naming file, line, column and field.

One reader serves every file SDG Studio reads: recorder configs, rules files, writer parameters
and scenario files. Parse the file with :func:`~omni.sdg_studio.core.config_document.load_document`
(it keeps the line of every value), then read each value through a :class:`FieldReader` at its
field path. A wrong type or value raises :class:`ConfigError`; an unknown key is an error
(:meth:`FieldReader.check_keys`) or a warning (:meth:`FieldReader.warn_unknown_keys`), both
suggesting the closest known key. A reader for a new file format, e.g. a scenario file (this very
example is ``tests/test_fields.py``'s first test)::

    from omni.sdg_studio.core.config_document import load_document
    from omni.sdg_studio.core.fields import FieldReader

    doc = load_document("scenario.yaml")
    read = FieldReader(doc)
    top = read.as_mapping((), doc.data)
    read.check_keys((), top, ("frames", "lights"))
    frames = read.as_int(("frames",), top.get("frames", 10), minimum=1)
    for index, item in enumerate(read.as_list(("lights",), top.get("lights", []))):
        light = read.as_mapping(("lights", index), item)
        kind = read.as_choice(("lights", index, "kind"), light.get("kind"), ("dome", "sphere"))

    # With scenario.yaml holding
    #   frames: 4
    #   lights:
    #     - kind: dome
    #     - kind: spere
    # this raises ConfigError:
    #   scenario.yaml:4:11: lights[1].kind: 'spere' is not one of dome, sphere; did you mean 'sphere'?

Values that come without a file (writer keyword arguments from Python) are checked with the same
``expect_*`` functions, which raise :class:`ValueProblem` with the message alone. Bounds of a typed
value (a width of at least 1) live on its dataclass (:mod:`omni.sdg_studio.core.bounds`) and raise
:class:`~omni.sdg_studio.core.errors.InvalidValue`; build the value inside :meth:`FieldReader.at` to
locate that error in the file too.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from omni.sdg_studio.core.config_document import ConfigDocument, ConfigError, FieldPath, format_field, located
from omni.sdg_studio.core.errors import InvalidValue

C = TypeVar("C", bound=str)


class ValueProblem(ValueError):
    """A value has the wrong type or range; the message says what was expected and what came."""


def did_you_mean(word: object, known: Iterable[str], *, list_known: bool = False) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``known``, else ``"; known: a, b"`` (``list_known``) or ``""``."""
    known = list(known)
    close = difflib.get_close_matches(str(word), known, n=1)
    if close:
        return f"; did you mean '{close[0]}'?"
    return f"; known: {', '.join(known)}" if list_known and known else ""


def describe(value: Any) -> str:
    """A value as an error message names it: ``string 'x'``, ``number 3``, ``boolean true``, ``a list``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"number {value}"
    if isinstance(value, str):
        return f"string '{value}'"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return type(value).__name__


def _expected(what: str, value: Any) -> ValueProblem:
    return ValueProblem(f"expected {what}, got {describe(value)}")


def expect_mapping(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _expected("a mapping", value)
    return value


def expect_list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise _expected("a list", value)
    return value


def expect_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _expected("true or false", value)
    return value


def expect_int(value: Any, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _expected("an integer", value)
    if minimum is not None and value < minimum:
        raise ValueProblem(f"must be >= {minimum}, got {value}")
    return value


def expect_number(value: Any, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _expected("a number", value)
    if minimum is not None and value < minimum:
        raise ValueProblem(f"must be >= {minimum}, got {value}")
    return float(value)


def expect_str(value: Any) -> str:
    if not isinstance(value, str):
        raise _expected("a string", value)
    return value


def expect_choice(value: Any, choices: Sequence[C]) -> C:
    """One of ``choices`` (typed as they are, e.g. a ``Literal``)."""
    text = expect_str(value)
    for choice in choices:
        if choice == text:
            return choice
    raise ValueProblem(f"'{text}' is not one of {', '.join(choices)}{did_you_mean(text, choices)}")


def expect_strings(value: Any, *, allow_single: bool = False) -> list[str]:
    """A list (or tuple) of strings; with ``allow_single`` a lone string counts as a list of one."""
    if allow_single and isinstance(value, str):
        return [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise _expected("a list of strings", value)
    return list(value)


@dataclass(frozen=True)
class ConfigWarning:
    """Something in a config that is ignored; ``str()`` reads ``file:line:col: field: message``."""

    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        return located(self.message, self.file, self.line, self.column, self.field)


class FieldReader:
    """Reads the values of one :class:`ConfigDocument` by field path, collecting warnings."""

    def __init__(self, doc: ConfigDocument) -> None:
        self.doc = doc
        self.warnings: list[ConfigWarning] = []

    def error(self, path: FieldPath, message: str) -> ConfigError:
        """A :class:`ConfigError` located at ``path``."""
        return self.doc.error(path, message)

    def warn(self, path: FieldPath, message: str) -> None:
        line, column = self.doc.location(path)
        file = str(self.doc.path) if self.doc.path is not None else None
        self.warnings.append(ConfigWarning(message, file, line, column, format_field(path) or None))

    def check_keys(self, path: FieldPath, mapping: Mapping[str, Any], known: Iterable[str]) -> None:
        """Refuse the first key of ``mapping`` not in ``known``, suggesting the closest known key."""
        known = list(known)
        for key in mapping:
            if key not in known:
                raise self.error((*path, key), f"unknown key '{key}'{did_you_mean(key, known, list_known=True)}")

    def warn_unknown_keys(self, path: FieldPath, mapping: Mapping[str, Any], known: Iterable[str]) -> None:
        """One warning per key of ``mapping`` not in ``known``, suggesting the closest known key."""
        known = list(known)
        for key in mapping:
            if key not in known:
                self.warn((*path, key), f"unknown key '{key}' is ignored{did_you_mean(key, known)}")

    @contextmanager
    def at(self, path: FieldPath, **parts: str | int) -> Iterator[None]:
        """A :class:`ValueProblem` or :class:`InvalidValue` raised inside becomes a :class:`ConfigError` at
        ``path``; an invalid field named in ``parts`` is located at ``(*path, parts[field])``, and an invalid
        tuple element one step further, e.g. ``with read.at(("rp", 0), width=1): RenderProduct(...)``."""
        try:
            yield
        except ValueProblem as exc:
            raise self.error(path, str(exc)) from None
        except InvalidValue as exc:
            where = path if exc.field not in parts else (*path, parts[exc.field])
            where = where if exc.index is None else (*where, exc.index)
            raise self.error(where, exc.problem) from None

    def as_mapping(self, path: FieldPath, value: Any, *, optional: bool = False) -> Mapping[str, Any]:
        """A mapping; with ``optional`` a missing value (``None``) reads as an empty one."""
        if optional and value is None:
            return {}
        with self.at(path):
            return expect_mapping(value)

    def as_list(self, path: FieldPath, value: Any) -> list[Any]:
        with self.at(path):
            return expect_list(value)

    def as_int(self, path: FieldPath, value: Any, minimum: int | None = None) -> int:
        with self.at(path):
            return expect_int(value, minimum)

    def as_number(self, path: FieldPath, value: Any, minimum: float | None = None) -> float:
        with self.at(path):
            return expect_number(value, minimum)

    def as_bool(self, path: FieldPath, value: Any) -> bool:
        with self.at(path):
            return expect_bool(value)

    def as_str(self, path: FieldPath, value: Any) -> str:
        with self.at(path):
            return expect_str(value)

    def as_choice(self, path: FieldPath, value: Any, choices: Sequence[C]) -> C:
        with self.at(path):
            return expect_choice(value, choices)

    def as_strings(self, path: FieldPath, value: Any, *, allow_single: bool = False) -> list[str]:
        """A list of strings (``allow_single``: a lone string is a list of one)."""
        with self.at(path):
            return expect_strings(value, allow_single=allow_single)

    def as_resolution(self, path: FieldPath, value: Any) -> tuple[int, int]:
        """``[width, height]`` as two integers (their bounds belong to the type that holds them)."""
        items = self.as_list(path, value)
        if len(items) != 2:
            raise self.error(path, f"expected [width, height], got {len(items)} values")
        return (self.as_int((*path, 0), items[0]), self.as_int((*path, 1), items[1]))
