"""Bounds of dataclass fields, held by the type instead of checked by every reader and form.

A dataclass deriving from :class:`Bounded` lists ``minimums = {"width": 1}`` (and, where a value
has a sane ceiling, ``maximums``): constructing it or assigning a value out of bounds or NaN (to
any element, for a tuple) raises :class:`InvalidValue` naming the field; ``None`` stands for
"unset" and passes. Config readers locate the error at the field's place in the file with
:meth:`FieldReader.at <omni.sdg_studio.core.fields.FieldReader.at>`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from omni.sdg_studio.core.errors import InvalidValue


def check_bounds(field: str, value: Any, minimum: float | None, maximum: float | None = None) -> None:
    """Raise :class:`InvalidValue` if ``value`` (or an element of a tuple ``value``) is NaN or out of bounds."""
    parts = enumerate(value) if isinstance(value, tuple) else [(None, value)]
    for index, part in parts:
        if part is None:
            continue
        if part != part:
            raise InvalidValue(field, "must be a number, got NaN", index)
        if minimum is not None and part < minimum:
            raise InvalidValue(field, f"must be >= {minimum}, got {part}", index)
        if maximum is not None and part > maximum:
            raise InvalidValue(field, f"must be <= {maximum:g}, got {part:g}", index)


class Bounded:
    """Mixin for dataclasses whose fields named in :attr:`minimums` / :attr:`maximums` must stay in bounds."""

    minimums: ClassVar[Mapping[str, float]] = {}
    maximums: ClassVar[Mapping[str, float]] = {}

    def __post_init__(self) -> None:
        for name in {**self.minimums, **self.maximums}:
            check_bounds(name, getattr(self, name), self.minimums.get(name), self.maximums.get(name))

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self.minimums or name in self.maximums:
            check_bounds(name, value, self.minimums.get(name), self.maximums.get(name))
        super().__setattr__(name, value)
