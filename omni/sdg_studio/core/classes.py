"""Label classes with stable ids and colors, shared by the rules file, writers and visualizer.

A label keeps the same color in every frame and every run: from the rules file's ``classes``
when it is listed there, else a color derived from a hash of the label text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from omni.sdg_studio.core.colors import RESERVED_COLORS, RGBA, stable_color


@dataclass(frozen=True)
class LabelClass:
    """One class of the allow-list: name, integer id and display color."""

    name: str
    id: int
    color: RGBA


@dataclass
class ClassTable:
    """Maps labels to ids and colors; unknown labels get the next free id and a hashed color."""

    classes: list[LabelClass] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_name = {c.name: c for c in self.classes}
        ids = [c.id for c in self.classes]
        if len(set(ids)) != len(ids):
            raise ValueError(f"class ids must be unique, got {sorted(ids)}")

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def get(self, name: str) -> LabelClass:
        """The class for ``name``, adding it (next id, hashed color) if it is not listed."""
        found = self._by_name.get(name)
        if found is None:
            next_id = max((c.id for c in self.classes), default=0) + 1
            found = LabelClass(name, next_id, stable_color(name))
            self.classes.append(found)
            self._by_name[name] = found
        return found

    def color(self, name: str) -> RGBA:
        """Display color of ``name``; reserved colors for BACKGROUND and UNLABELLED."""
        reserved = RESERVED_COLORS.get(name)
        return reserved if reserved is not None else self.get(name).color
