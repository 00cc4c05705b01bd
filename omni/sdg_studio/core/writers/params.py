"""Typed descriptions of a writer's parameters, read from its constructor, and their validation.

A writer's parameters are its constructor's keyword parameters (as Replicator's are those of
``initialize()``), minus ``output_dir`` and the run options every writer shares (seed, classes,
resume, worker settings) which the recorder supplies. Types come from the annotations, help
texts from the ``Args:`` section of the class docstring, and names listed in the class's
``compat_params`` are marked as accepted for Replicator compatibility only. GUI and CLI list them, parse text into
values and validate whole dicts with errors that name the parameter.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import re
import types
import typing
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.fields import (
    ValueProblem,
    did_you_mean,
    expect_bool,
    expect_choice,
    expect_int,
    expect_mapping,
    expect_number,
    expect_str,
    expect_strings,
)

ParamKind = Literal["bool", "int", "float", "str", "str_list", "mapping", "choice"]

#: Keyword-only constructor arguments every file writer takes from the recorder, not from the user.
RUN_OPTIONS: frozenset[str] = frozenset({"seed", "classes", "resume", "workers", "max_frames_in_flight"})
#: Parameters a Replicator config may carry that the recorder resolves itself (output location).
RESERVED_PARAMS: frozenset[str] = frozenset({"output_dir", "backend"})


class WriterParamError(SdgStudioError, ValueError):
    """A writer parameter is unknown or invalid; ``param`` names it."""

    def __init__(self, writer: str, param: str | None, message: str) -> None:
        self.writer = writer
        self.param = param
        self.message = message
        where = f"{writer}: parameter '{param}'" if param else writer
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class WriterParam:
    """One parameter: name, kind, default, whether ``None`` is allowed, choices and help text."""

    name: str
    kind: ParamKind
    default: Any
    nullable: bool = False
    choices: tuple[str, ...] = ()
    help: str = ""
    #: Accepted only so Replicator configs load (e.g. ``s3_bucket``); a GUI can leave it out.
    compat: bool = False

    def check(self, value: Any, writer: str) -> Any:
        """Return ``value`` normalized (tuples to lists, ints to floats), or raise :class:`WriterParamError`."""
        if value is None and self.nullable:
            return None
        try:
            return _EXPECT[self.kind](self, value)
        except ValueProblem as exc:
            note = " (null also allowed)" if self.nullable else ""
            raise WriterParamError(writer, self.name, f"{exc}{note}") from None

    def parse(self, text: str, writer: str) -> Any:
        """Parse a value typed in a GUI field or on the command line (``true``, ``4``, ``a,b``, JSON)."""
        raw = text.strip()
        if self.nullable and raw.lower() in ("", "none", "null"):
            return None
        value: Any = raw
        if self.kind == "bool":
            value = _BOOL_WORDS.get(raw.lower(), raw)
        elif self.kind in ("int", "float"):
            with contextlib.suppress(ValueError):
                value = int(raw) if self.kind == "int" else float(raw)
        elif self.kind == "str_list" and not raw.startswith("["):
            value = [part.strip() for part in raw.split(",") if part.strip()]
        elif self.kind in ("str_list", "mapping"):
            value = _json(raw, self, writer)
        return self.check(value, writer)


#: How each kind of parameter is checked (and normalized).
_EXPECT: dict[ParamKind, Callable[[WriterParam, Any], Any]] = {
    "bool": lambda _, value: expect_bool(value),
    "int": lambda _, value: expect_int(value),
    "float": lambda _, value: expect_number(value),
    "str": lambda _, value: expect_str(value),
    "choice": lambda param, value: expect_choice(value, param.choices),
    "str_list": lambda _, value: expect_strings(value),
    "mapping": lambda _, value: expect_mapping(value),
}
_BOOL_WORDS = {"true": True, "1": True, "yes": True, "on": True, "false": False, "0": False, "no": False, "off": False}


def _json(raw: str, param: WriterParam, writer: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise WriterParamError(writer, param.name, f"is not valid JSON ({exc.msg} at column {exc.colno})") from exc


def _kind_of(annotation: Any) -> tuple[ParamKind, bool, tuple[str, ...]]:
    """Map a type annotation to (kind, nullable, choices)."""
    nullable = False
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        nullable = len(args) < len(typing.get_args(annotation))
        if len(args) != 1:
            raise TypeError(f"unsupported parameter type {annotation!r}")
        annotation = args[0]
        origin = typing.get_origin(annotation)
    if origin is Literal:
        return "choice", nullable, tuple(str(a) for a in typing.get_args(annotation))
    if annotation is bool:
        return "bool", nullable, ()
    if annotation is int:
        return "int", nullable, ()
    if annotation is float:
        return "float", nullable, ()
    if annotation is str:
        return "str", nullable, ()
    if origin in (list, tuple, Sequence) or annotation in (list, tuple):
        return "str_list", nullable, ()
    if origin in (dict, Mapping) or annotation in (dict, Mapping):
        return "mapping", nullable, ()
    raise TypeError(f"unsupported parameter type {annotation!r}")


def docstring_args(doc: str | None) -> dict[str, str]:
    """``{name: text}`` from a Google-style ``Args:`` section (continuation lines joined)."""
    found: dict[str, str] = {}
    if not doc:
        return found
    lines = inspect.cleandoc(doc).splitlines()
    inside = False
    current: str | None = None
    for line in lines:
        if not inside:
            inside = line.strip() == "Args:"
            continue
        if line and not line.startswith(" "):
            break  # next section
        match = re.match(r"^\s{4}(\w+)(?:\s*\([^)]*\))?:\s*(.*)$", line)
        if match:
            current = str(match.group(1))
            found[current] = match.group(2).strip()
        elif current and line.strip():
            found[current] = f"{found[current]} {line.strip()}".strip()
    return found


def describe_params(cls: type, writer: str | None = None) -> tuple[WriterParam, ...]:
    """The user-facing parameters of writer class ``cls``, in constructor order."""
    name = writer or cls.__name__
    signature = inspect.signature(cls.__init__)
    hints = typing.get_type_hints(cls.__init__)
    help_texts = docstring_args(cls.__doc__)
    compat = frozenset(getattr(cls, "compat_params", ()))
    params: list[WriterParam] = []
    for param in list(signature.parameters.values())[1:]:
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if param.name in RUN_OPTIONS or param.name in RESERVED_PARAMS:
            continue
        if param.name not in hints:
            raise TypeError(f"{name}.__init__ parameter '{param.name}' needs a type annotation")
        kind, nullable, choices = _kind_of(hints[param.name])
        default = None if param.default is param.empty else param.default
        help_text = help_texts.get(param.name, "")
        params.append(WriterParam(param.name, kind, default, nullable, choices, help_text, param.name in compat))
    return tuple(params)


#: The kind a parameter without a usable annotation gets from the type of its default value.
KIND_OF_DEFAULT: dict[type, ParamKind] = {
    bool: "bool",
    int: "int",
    float: "float",
    str: "str",
    dict: "mapping",
    list: "str_list",
    tuple: "str_list",
}


def signature_params(function: Callable[..., Any], writer: str, skip: Collection[str] = ()) -> tuple[WriterParam, ...]:
    """Typed parameters of a writer that is not one of ours (a Replicator writer), read from ``function``'s
    signature: the annotation gives the kind where it names a supported type, else the default's type does
    (``str`` when neither tells). Unlike :func:`describe_params` nothing is required of the writer."""
    try:
        hints = typing.get_type_hints(function)
    except Exception:  # annotations naming host types this process cannot resolve (e.g. a backend class)
        hints = {}
    params: list[WriterParam] = []
    for param in inspect.signature(function).parameters.values():
        if param.name == "self" or param.name in skip or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        default = None if param.default is param.empty else param.default
        try:
            kind, nullable, choices = _kind_of(hints[param.name])
        except (KeyError, TypeError):
            kind, nullable, choices = KIND_OF_DEFAULT.get(type(default), "str"), False, ()
        params.append(WriterParam(param.name, kind, default, nullable or default is None, choices))
    return tuple(params)


def declared_params(cls: type, writer: str, skip: Collection[str] = ()) -> tuple[WriterParam, ...]:
    """A foreign writer class's parameters: those of its ``__init__`` (where Replicator writers declare them:
    ``Writer.initialize(**kwargs)`` calls ``self.__init__(**kwargs)``), else those of an ``initialize`` it
    overrides with named parameters."""
    found = signature_params(cls.__init__, writer, skip)
    initialize = getattr(cls, "initialize", None)
    if not found and callable(initialize):
        found = signature_params(initialize, writer, skip)
    return found


def validate_params(writer: str, specs: Sequence[WriterParam], values: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``values`` against ``specs``; return the normalized dict (reserved keys dropped)."""
    by_name = {spec.name: spec for spec in specs}
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key in RESERVED_PARAMS:
            continue
        spec = by_name.get(key)
        if spec is None:
            raise unknown_param(writer, str(key), list(by_name))
        out[key] = spec.check(value, writer)
    return out


def unknown_param(writer: str, name: str, known: Sequence[str]) -> WriterParamError:
    """The error for a parameter ``writer`` does not have, suggesting the closest known name."""
    return WriterParamError(writer, name, f"unknown parameter{did_you_mean(name, known, list_known=True)}")
