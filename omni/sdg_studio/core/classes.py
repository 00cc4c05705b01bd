"""Label classes with stable ids and colors, shared by the rules file, writers and visualizer.

A label keeps the same color in every frame and every run: from the rules file's ``classes``
when it is listed there, else a color derived from a hash of the label text.
"""

from __future__ import annotations

import colorsys
import hashlib
from dataclasses import dataclass, field

RGBA = tuple[int, int, int, int]

BACKGROUND = "BACKGROUND"
UNLABELLED = "UNLABELLED"
#: Replicator's colors for the two reserved classes (golden semantic_segmentation_labels json).
BACKGROUND_COLOR: RGBA = (0, 0, 0, 0)
UNLABELLED_COLOR: RGBA = (0, 0, 0, 255)


def stable_color(key: str) -> RGBA:
    """A bright, deterministic RGBA color for ``key`` (same in every process and platform)."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    hue = int.from_bytes(digest[:4], "little") / 2**32
    saturation = 0.55 + 0.45 * digest[4] / 255
    value = 0.65 + 0.35 * digest[5] / 255
    r, g, b = colorsys.hsv_to_rgb(hue, saturation, value)
    return (round(r * 255), round(g * 255), round(b * 255), 255)


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
        if name == BACKGROUND:
            return BACKGROUND_COLOR
        if name == UNLABELLED:
            return UNLABELLED_COLOR
        return self.get(name).color
