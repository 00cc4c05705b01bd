"""What every render backend offers the recorder and the visualizer.

The embedded backend (usd-core + ray caster) implements :class:`RenderBackend`; inside Kit the
Replicator driver produces the same annotator dicts through ``omni.replicator.core``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from omni.sdg_studio.core.bounds import Bounded
from omni.sdg_studio.core.errors import InvalidValue
from omni.sdg_studio.core.path_names import name_problem

#: Annotator outputs keyed by Replicator annotator name, each in Replicator's ``get_data()`` layout.
Frame = dict[str, Any]

#: The camera name that asks a backend for a camera framing the whole stage (for stages without cameras).
AUTO_CAMERA = "auto"


@dataclass(frozen=True)
class RenderProduct(Bounded):
    """A camera rendered at a resolution (width and height at least 1), named like Replicator's render
    product (``name`` or camera name). The name becomes a folder of the output, so it must be a plain
    file name (no separators, ``..``, control characters)."""

    minimums: ClassVar = {"width": 1, "height": 1}

    camera: str
    width: int
    height: int
    name: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        problem = name_problem(self.name) if self.name else None
        if problem is not None:
            raise InvalidValue("name", problem)

    @property
    def resolution(self) -> tuple[int, int]:
        return (self.width, self.height)


class RenderBackend(Protocol):
    """Renders annotators of one camera at one time code."""

    def render(
        self,
        camera: str,
        resolution: tuple[int, int],
        annotators: Sequence[str],
        *,
        time: float | None = None,
        semantic_types: Sequence[str] = ("class",),
        colorize: bool = False,
    ) -> Frame:
        """Return ``{annotator_name: data}`` for ``camera`` (a prim path, or :data:`AUTO_CAMERA`) at ``resolution``."""
        ...
