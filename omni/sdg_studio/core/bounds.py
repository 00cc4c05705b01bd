"""Lower bounds of dataclass fields, held by the type instead of checked by every reader and form.

A dataclass deriving from :class:`Bounded` lists ``minimums = {"width": 1}``: constructing it or
assigning a smaller value (to any element, for a tuple) raises :class:`InvalidValue` naming the
field; ``None`` stands for "unset" and passes. Config readers locate the error at the field's
place in the file with :meth:`FieldReader.at <omni.sdg_studio.core.fields.FieldReader.at>`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from omni.sdg_studio.core.errors import InvalidValue


def check_minimum(field: str, value: Any, minimum: float) -> None:
    """Raise :class:`InvalidValue` if ``value`` (or an element of a tuple ``value``) is below ``minimum``."""
    parts = enumerate(value) if isinstance(value, tuple) else [(None, value)]
    for index, part in parts:
        if part is not None and part < minimum:
            raise InvalidValue(field, f"must be >= {minimum}, got {part}", index)


class Bounded:
    """Mixin for dataclasses whose fields named in :attr:`minimums` must not go below their bound."""

    minimums: ClassVar[Mapping[str, float]] = {}

    def __post_init__(self) -> None:
        for name, minimum in self.minimums.items():
            check_minimum(name, getattr(self, name), minimum)

    def __setattr__(self, name: str, value: Any) -> None:
        minimum = self.minimums.get(name)
        if minimum is not None:
            check_minimum(name, value, minimum)
        super().__setattr__(name, value)
