"""A scenario as typed data: which randomizers run, on which prims, drawing from which distributions.

``scenario_file.py`` builds a :class:`Scenario` from YAML / JSON; ``engine.py`` binds it to a stage.
Every spec keeps ``at``, its field path in the file, so errors found later (a prim that does not
exist, a surface without upward faces) still name the file, line and randomizer index.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal

from omni.sdg_studio.core.config_document import ConfigDocument, ConfigError, FieldPath, format_field
from omni.sdg_studio.core.randomize.distributions import Distribution
from omni.sdg_studio.core.semantics.rules import LabelTemplate, Match

RotationMode = Literal["yaw", "euler", "so3"]
#: Named corner sets of a bounding box: a random one of its 4 bottom / 4 top / 8 corners.
CORNER_SETS = ("bottom", "top", "any")
#: What a ``color`` randomizer writes.
COLOR_TARGETS = ("display_color", "diffuse_color")


@dataclass(frozen=True)
class Selector:
    """One selector: every ``matches`` clause holds and the prim carries every ``labels`` entry."""

    matches: tuple[Match, ...] = ()
    labels: tuple[tuple[str | None, str], ...] = ()  # (taxonomy or None for any, label)


@dataclass(frozen=True)
class Selection:
    """The prims a randomizer edits: those any of ``selectors`` picks (prims inside another picked prim dropped)."""

    selectors: tuple[Selector, ...]
    text: str  # as written, for messages
    at: FieldPath


@dataclass(frozen=True)
class Anchor:
    """The frame a relative position is given in: ``prim``'s, based at its origin or at a corner of its box."""

    prim: str
    corner: str | Distribution | None = None  # a CORNER_SETS name, or corner indices 0..7 (bits: +x 1, +y 2, +z 4)
    bbox_scale: tuple[float, float, float] = (1.0, 1.0, 1.0)  # the box scaled about its center first
    at: FieldPath = ()


@dataclass(frozen=True)
class PositionSpec:
    """World position (``anchor`` None), or an offset in the anchor's frame (rotation, no scale)."""

    value: Distribution
    anchor: Anchor | None = None
    at: FieldPath = ()


@dataclass(frozen=True)
class RotationSpec:
    """World orientation: ``yaw`` about the up axis, XYZ ``euler`` degrees or uniform ``so3``; composed
    with ``relative_to``'s orientation when given."""

    mode: RotationMode
    angles: Distribution | None = None
    relative_to: str | None = None
    at: FieldPath = ()


@dataclass(frozen=True)
class RandomizerSpec:
    """What every randomizer has: its index in the file, its field path and how often it draws."""

    TYPE: ClassVar[str] = ""
    index: int
    at: FieldPath
    every: int = 1

    @property
    def type(self) -> str:
        return self.TYPE


@dataclass(frozen=True)
class PoseSpec(RandomizerSpec):
    """Move, turn and scale prims; ``settle`` lowers each onto the geometry below it."""

    TYPE: ClassVar[str] = "pose"
    select: Selection | None = None
    position: PositionSpec | None = None
    rotation: RotationSpec | None = None
    scale: Distribution | None = None  # multiplies the scale the scene gives the prim
    settle: bool = False


@dataclass(frozen=True)
class ScatterSpec(RandomizerSpec):
    """Place prims on the upward faces of ``surface`` (resting on it), without overlaps when ``collisions``."""

    TYPE: ClassVar[str] = "scatter"
    select: Selection | None = None
    surface: str = ""
    collisions: bool = True
    rotation: RotationSpec | None = None
    max_slope: float = 30.0  # degrees from the up axis a face may tilt and still count as upward
    max_attempts: int = 100  # draws per prim before it counts as not fitting
    retries: int = 10  # whole new layouts tried when not every prim fit (the fullest one is kept)
    settle: bool = False


Placement = PoseSpec | ScatterSpec


@dataclass(frozen=True)
class SpawnSpec(RandomizerSpec):
    """Add ``count`` references to assets drawn from ``assets``, labelled, placed by ``placement``."""

    TYPE: ClassVar[str] = "spawn"
    assets: tuple[str, ...] = ()
    count: Distribution | None = None
    labels: tuple[tuple[str, LabelTemplate], ...] = ()
    parent: str | None = None  # default: <default prim>/Spawned_<index>
    placement: Placement | None = None


@dataclass(frozen=True)
class ColorSpec(RandomizerSpec):
    """One color per selected prim: ``primvars:displayColor`` of its gprims and/or the bound
    ``UsdPreviewSurface``'s ``diffuseColor``."""

    TYPE: ClassVar[str] = "color"
    select: Selection | None = None
    rgb: Distribution | None = None
    targets: tuple[str, ...] = COLOR_TARGETS


@dataclass(frozen=True)
class MaterialSpec(RandomizerSpec):
    """Bind one of ``materials`` (material prim paths) to each selected prim."""

    TYPE: ClassVar[str] = "material"
    select: Selection | None = None
    materials: Distribution | None = None
    stronger_than_descendants: bool = True


@dataclass(frozen=True)
class LightSpec(RandomizerSpec):
    """Light intensity, exposure, color or temperature, distant-light direction, dome rotation."""

    TYPE: ClassVar[str] = "light"
    select: Selection | None = None
    intensity: Distribution | None = None
    exposure: Distribution | None = None
    color: Distribution | None = None
    temperature: Distribution | None = None
    elevation: Distribution | None = None  # distant lights: where the light comes from, degrees above the horizon
    azimuth: Distribution | None = None  # ... and degrees around the up axis from the first horizontal axis
    dome_rotation: Distribution | None = None  # dome lights: degrees about the up axis


@dataclass(frozen=True)
class OrbitSpec:
    """A camera position on a sphere around its ``look_at`` target."""

    distance: Distribution
    azimuth: Distribution
    elevation: Distribution


@dataclass(frozen=True)
class JitterSpec:
    """Small random offsets of a camera's pose: up to ``position`` units and ``rotation`` degrees per axis."""

    position: float = 0.0
    rotation: float = 0.0


@dataclass(frozen=True)
class CameraSpec(RandomizerSpec):
    """Camera pose (position or orbit, look-at, roll), focal length and jitter."""

    TYPE: ClassVar[str] = "camera"
    select: Selection | None = None
    position: PositionSpec | None = None
    orbit: OrbitSpec | None = None
    look_at: str | tuple[float, float, float] | None = None
    roll: Distribution | None = None
    focal_length: Distribution | None = None
    jitter: JitterSpec | None = None


@dataclass(frozen=True)
class VisibilitySpec(RandomizerSpec):
    """Show each selected prim with probability ``p`` (else make it invisible)."""

    TYPE: ClassVar[str] = "visibility"
    select: Selection | None = None
    p: float = 0.5


@dataclass(frozen=True)
class Scenario:
    """A validated scenario file: an optional seed and the randomizers in file order."""

    randomizers: tuple[RandomizerSpec, ...] = ()
    seed: int | None = None
    doc: ConfigDocument | None = field(default=None, compare=False, repr=False)

    def error(self, at: FieldPath, message: str) -> ConfigError:
        """A :class:`ConfigError` naming the file, line and field of ``at``."""
        if self.doc is None:
            return ConfigError(message, field=format_field(at) or None)
        return self.doc.error(at, message)

    def where(self, at: FieldPath) -> str:
        """``file:line: field`` of ``at``, for warnings."""
        error = self.error(at, "")
        return str(error).rstrip(": ")
