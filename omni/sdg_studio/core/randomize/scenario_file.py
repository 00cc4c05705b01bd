"""Read and validate a scenario file (YAML, or JSON) into a :class:`Scenario`.

All parsing of scenario files lives here (on the project's typed field reader), so the reader can be
re-pointed in one place. Every error is one :class:`ConfigError` line naming the file, line, column
and field (``randomizers[2].position.uniform``), hence the randomizer's index.
"""

from __future__ import annotations

import glob
import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast

import numpy as np
from pxr import Sdf

from omni.sdg_studio.core.config_document import ConfigDocument, FieldPath, load_document, parse_document
from omni.sdg_studio.core.fields import FieldReader
from omni.sdg_studio.core.randomize.distributions import (
    Choice,
    Components,
    Constant,
    Distribution,
    Normal,
    Sequence,
    Uniform,
    UniformInt,
)
from omni.sdg_studio.core.randomize.scenario import (
    COLOR_TARGETS,
    CORNER_SETS,
    Anchor,
    CameraSpec,
    ColorSpec,
    JitterSpec,
    LightSpec,
    MaterialSpec,
    OrbitSpec,
    Placement,
    PoseSpec,
    PositionSpec,
    RandomizerSpec,
    RotationMode,
    RotationSpec,
    ScatterSpec,
    Scenario,
    Selection,
    Selector,
    SpawnSpec,
    VisibilitySpec,
)
from omni.sdg_studio.core.semantics.rules import (
    MATCH_FIELDS,
    MATCH_KINDS,
    TEMPLATE_FILTERS,
    LabelTemplate,
    Match,
    MatchField,
    MatchKind,
)
from omni.sdg_studio.core.semantics.schema import label_problem, taxonomy_problem

SUPPORTED_VERSIONS = (1,)
TOP_KEYS = ("version", "seed", "randomizers")
COMMON_KEYS = ("type", "every", "description")
PLACEMENT_KEYS = {
    "pose": ("position", "rotation", "scale", "settle"),
    "scatter": ("surface", "collisions", "rotation", "max_slope", "max_attempts", "retries", "settle"),
}
TYPE_KEYS: dict[str, tuple[str, ...]] = {
    "pose": ("select", *PLACEMENT_KEYS["pose"]),
    "scatter": ("select", *PLACEMENT_KEYS["scatter"]),
    "spawn": ("assets", "count", "labels", "parent", "placement"),
    "color": ("select", "rgb", "apply_to"),
    "material": ("select", "materials", "strength"),
    "light": ("select", "intensity", "exposure", "color", "temperature", "direction", "dome_rotation"),
    "camera": ("select", "position", "orbit", "look_at", "roll", "focal_length", "jitter"),
    "visibility": ("select", "p"),
}
DISTRIBUTION_KINDS = ("uniform", "uniform_int", "normal", "choice", "sequence")
SELECT_KEYS = ("on", "ignore_case", "label", *MATCH_KINDS)
POSITION_KEYS = ("relative_to", "offset", "corner", "bbox_scale")
ROTATION_MODES: tuple[RotationMode, ...] = ("yaw", "euler", "so3")
ROTATION_KEYS = (*ROTATION_MODES, "relative_to")
SPAWN_LABEL_FIELDS = ("asset_stem", "asset_name", "index")
MATERIAL_STRENGTHS = ("stronger_than_descendants", "weaker_than_descendants")


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate the scenario file at ``path``."""
    return parse_scenario(load_document(path))


def parse_scenario_text(text: str, path: str | Path | None = None) -> Scenario:
    """Validate scenario text (YAML or JSON); ``path`` names it in errors and anchors relative asset paths."""
    return parse_scenario(parse_document(text, path))


def parse_scenario(doc: ConfigDocument, base_dir: str | Path | None = None) -> Scenario:
    """Validate a parsed document; relative asset paths are relative to ``base_dir`` (default: the file's folder)."""
    if base_dir is None:
        base_dir = doc.path.parent if doc.path is not None else Path.cwd()
    return _ScenarioReader(doc, Path(base_dir)).scenario()


class _ScenarioReader:
    """Reads one document; ``self.read`` is the project's typed field reader."""

    def __init__(self, doc: ConfigDocument, base_dir: Path) -> None:
        self.doc = doc
        self.read = FieldReader(doc)
        self.base_dir = base_dir

    def check_keys(self, at: FieldPath, mapping: Mapping[str, Any], known: tuple[str, ...]) -> None:
        """Refuse a key of ``mapping`` not in ``known`` (suggesting the closest)."""
        self.read.check_keys(at, mapping, known)

    # -- top level -------------------------------------------------------------------------------------------------
    def scenario(self) -> Scenario:
        data = self.doc.data
        if data is None:
            raise self.doc.error((), "the scenario is empty; it needs a 'randomizers' list")
        data = self.read.as_mapping((), data)
        self.check_keys((), data, TOP_KEYS)
        version = data.get("version", 1)
        if version not in SUPPORTED_VERSIONS:
            raise self.doc.error(("version",), f"version {version!r} is not supported (supported: 1)")
        seed = self.read.as_int(("seed",), data["seed"], minimum=0) if data.get("seed") is not None else None
        if "randomizers" not in data:
            raise self.doc.error((), "the scenario needs a 'randomizers' list")
        items = self.read.as_list(("randomizers",), data["randomizers"])
        randomizers = tuple(self.randomizer(i, item) for i, item in enumerate(items))
        return Scenario(randomizers=randomizers, seed=seed, doc=self.doc)

    def randomizer(self, index: int, value: Any) -> RandomizerSpec:
        at: FieldPath = ("randomizers", index)
        data = self.read.as_mapping(at, value)
        if "type" not in data:
            raise self.doc.error(at, f"randomizer without 'type' (one of {', '.join(TYPE_KEYS)})")
        kind = self.read.as_choice((*at, "type"), data["type"], tuple(TYPE_KEYS))
        self.check_keys(at, data, (*COMMON_KEYS, *TYPE_KEYS[kind]))
        every = self.read.as_int((*at, "every"), data.get("every", 1), minimum=1)
        if kind != "spawn" and "select" not in data:
            raise self.doc.error(at, f"a {kind} randomizer needs 'select' (which prims it changes)")
        common = {"index": index, "at": at, "every": every}
        build: dict[str, Callable[[FieldPath, Mapping[str, Any], dict[str, Any]], RandomizerSpec]] = {
            "pose": self.pose,
            "scatter": self.scatter,
            "spawn": self.spawn,
            "color": self.color,
            "material": self.material,
            "light": self.light,
            "camera": self.camera,
            "visibility": self.visibility,
        }
        return build[kind](at, data, common)

    # -- randomizers -----------------------------------------------------------------------------------------------
    def pose(self, at: FieldPath, data: Mapping[str, Any], common: dict[str, Any]) -> PoseSpec:
        select = self.selection((*at, "select"), data["select"]) if "select" in data else None
        if not any(k in data for k in ("position", "rotation", "scale", "settle")):
            raise self.doc.error(at, "a pose needs at least one of position, rotation, scale, settle")
        return PoseSpec(
            **common,
            select=select,
            position=self.position((*at, "position"), data["position"]) if "position" in data else None,
            rotation=self.rotation((*at, "rotation"), data["rotation"]) if "rotation" in data else None,
            scale=self.distribution((*at, "scale"), data["scale"], (0, 3), minimum=0.0) if "scale" in data else None,
            settle=self.read.as_bool((*at, "settle"), data.get("settle", False)),
        )

    def scatter(self, at: FieldPath, data: Mapping[str, Any], common: dict[str, Any]) -> ScatterSpec:
        if "surface" not in data:
            raise self.doc.error(at, "a scatter needs 'surface' (the prim whose upward faces the prims go on)")
        slope = self.read.as_number((*at, "max_slope"), data.get("max_slope", 30.0), minimum=0.0)
        if not slope < 90.0:
            raise self.doc.error((*at, "max_slope"), f"must be below 90 degrees, got {slope}")
        return ScatterSpec(
            **common,
            select=self.selection((*at, "select"), data["select"]) if "select" in data else None,
            surface=self.prim_path((*at, "surface"), data["surface"]),
            collisions=self.read.as_bool((*at, "collisions"), data.get("collisions", True)),
            rotation=self.rotation((*at, "rotation"), data["rotation"]) if "rotation" in data else None,
            max_slope=slope,
            max_attempts=self.read.as_int((*at, "max_attempts"), data.get("max_attempts", 100), minimum=1),
            retries=self.read.as_int((*at, "retries"), data.get("retries", 10), minimum=0),
            settle=self.read.as_bool((*at, "settle"), data.get("settle", False)),
        )

    def spawn(self, at: FieldPath, data: Mapping[str, Any], common: dict[str, Any]) -> SpawnSpec:
        for key in ("assets", "count"):
            if key not in data:
                raise self.doc.error(at, f"a spawn needs '{key}'")
        count = self.distribution((*at, "count"), data["count"], (0,), minimum=0, integer=True)
        placement = self.placement((*at, "placement"), data["placement"]) if "placement" in data else None
        return SpawnSpec(
            **common,
            assets=self.assets((*at, "assets"), data["assets"]),
            count=count,
            labels=self.spawn_labels((*at, "labels"), data["labels"]) if "labels" in data else (),
            parent=self.prim_path((*at, "parent"), data["parent"]) if "parent" in data else None,
            placement=placement,
        )

    def color(self, at: FieldPath, data: Mapping[str, Any], common: dict[str, Any]) -> ColorSpec:
        if "rgb" not in data:
            raise self.doc.error(at, "a color randomizer needs 'rgb'")
        targets = COLOR_TARGETS
        if "apply_to" in data:
            raw = data["apply_to"]
            items = raw if isinstance(raw, list) else [raw]
            where = (lambda i: (*at, "apply_to", i)) if isinstance(raw, list) else (lambda i: (*at, "apply_to"))
            targets = tuple(self.read.as_choice(where(i), item, COLOR_TARGETS) for i, item in enumerate(items))
            if not targets:
                raise self.doc.error((*at, "apply_to"), f"name at least one of {', '.join(COLOR_TARGETS)}")
        return ColorSpec(
            **common,
            select=self.selection((*at, "select"), data["select"]),
            rgb=self.distribution((*at, "rgb"), data["rgb"], (3,), minimum=0.0),
            targets=targets,
        )

    def material(self, at: FieldPath, data: Mapping[str, Any], common: dict[str, Any]) -> MaterialSpec:
        if "materials" not in data:
            raise self.doc.error(at, "a material randomizer needs 'materials' (material prim paths)")
        materials = self.distribution((*at, "materials"), data["materials"], (0,), text=True)
        strength = self.read.as_choice(
            (*at, "strength"), data.get("strength", MATERIAL_STRENGTHS[0]), MATERIAL_STRENGTHS
        )
        return MaterialSpec(
            **common,
            select=self.selection((*at, "select"), data["select"]),
            materials=materials,
            stronger_than_descendants=strength == MATERIAL_STRENGTHS[0],
        )

    def light(self, at: FieldPath, data: Mapping[str, Any], common: dict[str, Any]) -> LightSpec:
        if not any(k in data for k in TYPE_KEYS["light"][1:]):
            raise self.doc.error(at, f"a light randomizer needs at least one of {', '.join(TYPE_KEYS['light'][1:])}")
        if "color" in data and "temperature" in data:
            raise self.doc.error((*at, "temperature"), "give either 'color' or 'temperature', not both")

        def scalar(key: str, minimum: float | None = None, maximum: float | None = None) -> Distribution | None:
            if key not in data:
                return None
            return self.distribution((*at, key), data[key], (0,), minimum=minimum, maximum=maximum)

        elevation = azimuth = None
        if "direction" in data:
            direction = self.read.as_mapping((*at, "direction"), data["direction"])
            self.check_keys((*at, "direction"), direction, ("elevation", "azimuth"))
            if "elevation" in direction:
                elevation = self.distribution(
                    (*at, "direction", "elevation"), direction["elevation"], (0,), minimum=-90.0, maximum=90.0
                )
            if "azimuth" in direction:
                azimuth = self.distribution((*at, "direction", "azimuth"), direction["azimuth"], (0,))
            if elevation is None and azimuth is None:
                raise self.doc.error((*at, "direction"), "give 'elevation' and/or 'azimuth' (degrees)")
        return LightSpec(
            **common,
            select=self.selection((*at, "select"), data["select"]),
            intensity=scalar("intensity", minimum=0.0),
            exposure=scalar("exposure"),
            color=self.distribution((*at, "color"), data["color"], (3,), minimum=0.0) if "color" in data else None,
            temperature=scalar("temperature", minimum=1000.0, maximum=40000.0),
            elevation=elevation,
            azimuth=azimuth,
            dome_rotation=scalar("dome_rotation"),
        )

    def camera(self, at: FieldPath, data: Mapping[str, Any], common: dict[str, Any]) -> CameraSpec:
        if "position" in data and "orbit" in data:
            raise self.doc.error((*at, "orbit"), "give either 'position' or 'orbit', not both")
        if not any(k in data for k in TYPE_KEYS["camera"][1:]):
            raise self.doc.error(at, f"a camera randomizer needs at least one of {', '.join(TYPE_KEYS['camera'][1:])}")
        look_at: str | tuple[float, float, float] | None = None
        if "look_at" in data:
            value = data["look_at"]
            if isinstance(value, str):
                look_at = self.prim_path((*at, "look_at"), value)
            else:
                x, y, z = (float(v) for v in self.vector((*at, "look_at"), value, 3))
                look_at = (x, y, z)
        orbit = None
        if "orbit" in data:
            if look_at is None:
                raise self.doc.error((*at, "orbit"), "an orbit circles the 'look_at' target; add look_at")
            orbit = self.orbit((*at, "orbit"), data["orbit"])
        jitter = None
        if "jitter" in data:
            raw = self.read.as_mapping((*at, "jitter"), data["jitter"])
            self.check_keys((*at, "jitter"), raw, ("position", "rotation"))
            jitter = JitterSpec(
                position=self.number((*at, "jitter", "position"), raw.get("position", 0.0), minimum=0.0),
                rotation=self.number((*at, "jitter", "rotation"), raw.get("rotation", 0.0), minimum=0.0),
            )
        return CameraSpec(
            **common,
            select=self.selection((*at, "select"), data["select"]),
            position=self.position((*at, "position"), data["position"]) if "position" in data else None,
            orbit=orbit,
            look_at=look_at,
            roll=self.distribution((*at, "roll"), data["roll"], (0,)) if "roll" in data else None,
            focal_length=self.distribution((*at, "focal_length"), data["focal_length"], (0,), minimum=1e-3)
            if "focal_length" in data
            else None,
            jitter=jitter,
        )

    def visibility(self, at: FieldPath, data: Mapping[str, Any], common: dict[str, Any]) -> VisibilitySpec:
        p = self.number((*at, "p"), data.get("p", 0.5), minimum=0.0)
        if p > 1.0:
            raise self.doc.error((*at, "p"), f"a probability is at most 1, got {p}")
        return VisibilitySpec(**common, select=self.selection((*at, "select"), data["select"]), p=p)

    def placement(self, at: FieldPath, value: Any) -> Placement:
        data = self.read.as_mapping(at, value)
        kind = self.read.as_choice((*at, "type"), data.get("type", "pose"), tuple(PLACEMENT_KEYS))
        self.check_keys(at, data, ("type", *PLACEMENT_KEYS[kind]))
        index = at[1] if len(at) > 1 and isinstance(at[1], int) else 0
        common: dict[str, Any] = {"index": index, "at": at}
        return self.pose(at, data, common) if kind == "pose" else self.scatter(at, data, common)

    # -- parts -----------------------------------------------------------------------------------------------------
    def selection(self, at: FieldPath, value: Any) -> Selection:
        items = value if isinstance(value, list) else [value]
        if not items:
            raise self.doc.error(at, "select needs at least one selector")
        where = (lambda i: (*at, i)) if isinstance(value, list) else (lambda i: at)
        selectors = tuple(self.selector(where(i), item) for i, item in enumerate(items))
        return Selection(selectors=selectors, text=_compact(value), at=at)

    def selector(self, at: FieldPath, value: Any) -> Selector:
        if isinstance(value, str):  # shorthand: an absolute path, else a glob on the name
            value = {"glob": value, "on": "path"} if value.startswith("/") else {"glob": value}
        if not isinstance(value, Mapping):
            raise self.doc.error(at, "a selector is a mapping like {glob: 'SM_CardBox*'} or {label: class=cardbox}")
        value = {("on" if key is True else key): item for key, item in value.items()}  # YAML 1.1 reads `on` as true
        self.check_keys(at, value, SELECT_KEYS)
        kinds: list[MatchKind] = [k for k in MATCH_KINDS if k in value]
        if len(kinds) > 1:
            raise self.doc.error(at, f"a selector takes one of {', '.join(MATCH_KINDS)} (got {', '.join(kinds)})")
        if not kinds and "label" not in value:
            raise self.doc.error(at, f"a selector needs one of {', '.join(MATCH_KINDS)} or 'label'")
        matches: tuple[Match, ...] = ()
        if kinds:
            kind = kinds[0]
            pattern = self.read.as_str((*at, kind), value[kind])
            on = cast(MatchField, self.read.as_choice((*at, "on"), value.get("on", "name"), MATCH_FIELDS))
            ignore_case = self.read.as_bool((*at, "ignore_case"), value.get("ignore_case", True))
            try:
                matches = (Match.build(on, kind, pattern, ignore_case),)
            except re.error as exc:
                raise self.doc.error((*at, kind), f"invalid regex {pattern!r}: {exc}") from None
        labels: tuple[tuple[str | None, str], ...] = ()
        if "label" in value:
            text = self.read.as_str((*at, "label"), value["label"]).strip()
            taxonomy, sep, label = text.partition("=")
            labels = ((taxonomy.strip(), label.strip()),) if sep else ((None, text),)
            if not labels[0][1]:
                raise self.doc.error((*at, "label"), f"label {text!r}: expected 'label' or 'taxonomy=label'")
        return Selector(matches=matches, labels=labels)

    def position(self, at: FieldPath, value: Any) -> PositionSpec:
        if isinstance(value, Mapping) and "relative_to" in value:
            self.check_keys(at, value, POSITION_KEYS)
            corner: str | Distribution | None = None
            if "corner" in value:
                raw = value["corner"]
                if isinstance(raw, str):
                    corner = self.read.as_choice((*at, "corner"), raw, CORNER_SETS)
                else:
                    corner = self.distribution((*at, "corner"), raw, (0,), minimum=0, maximum=7, integer=True)
            bbox_scale = (1.0, 1.0, 1.0)
            if "bbox_scale" in value:
                if "corner" not in value:
                    raise self.doc.error((*at, "bbox_scale"), "bbox_scale scales the box a 'corner' is taken from")
                raw = value["bbox_scale"]
                if isinstance(raw, (int, float)) and not isinstance(raw, bool):
                    factor = self.number((*at, "bbox_scale"), raw, minimum=0.0)
                    bbox_scale = (factor, factor, factor)
                else:
                    sx, sy, sz = (float(v) for v in self.vector((*at, "bbox_scale"), raw, 3, minimum=0.0))
                    bbox_scale = (sx, sy, sz)
            offset = value.get("offset", [0.0, 0.0, 0.0])
            anchor = Anchor(
                prim=self.prim_path((*at, "relative_to"), value["relative_to"]),
                corner=corner,
                bbox_scale=bbox_scale,
                at=at,
            )
            return PositionSpec(self.distribution((*at, "offset"), offset, (3,)), anchor, at)
        if isinstance(value, Mapping) and any(k in value for k in POSITION_KEYS):
            raise self.doc.error(at, "offset, corner and bbox_scale go with 'relative_to: PRIM'")
        return PositionSpec(self.distribution(at, value, (3,)), None, at)

    def rotation(self, at: FieldPath, value: Any) -> RotationSpec:
        data = self.read.as_mapping(at, value)
        self.check_keys(at, data, ROTATION_KEYS)
        modes: list[RotationMode] = [k for k in ROTATION_MODES if k in data]
        if len(modes) != 1:
            raise self.doc.error(at, "a rotation takes exactly one of yaw, euler, so3")
        mode = modes[0]
        relative_to = self.prim_path((*at, "relative_to"), data["relative_to"]) if "relative_to" in data else None
        if mode == "so3":
            if data["so3"] != "uniform":
                raise self.doc.error((*at, "so3"), "so3 takes 'uniform' (a uniformly random orientation)")
            return RotationSpec("so3", None, relative_to, at)
        dims = (0,) if mode == "yaw" else (3,)
        return RotationSpec(mode, self.distribution((*at, mode), data[mode], dims), relative_to, at)

    def orbit(self, at: FieldPath, value: Any) -> OrbitSpec:
        data = self.read.as_mapping(at, value)
        self.check_keys(at, data, ("distance", "azimuth", "elevation"))
        if "distance" not in data:
            raise self.doc.error(at, "an orbit needs 'distance'")
        return OrbitSpec(
            distance=self.distribution((*at, "distance"), data["distance"], (0,), minimum=0.0),
            azimuth=self.distribution((*at, "azimuth"), data.get("azimuth", {"uniform": [0, 360]}), (0,)),
            elevation=self.distribution(
                (*at, "elevation"), data.get("elevation", 30.0), (0,), minimum=-90.0, maximum=90.0
            ),
        )

    def assets(self, at: FieldPath, value: Any) -> tuple[str, ...]:
        if isinstance(value, Mapping):
            self.check_keys(at, value, ("glob",))
            if "glob" not in value:
                raise self.doc.error(at, "assets is a list of files or {glob: 'folder/*.usd'}")
            pattern = self.read.as_str((*at, "glob"), value["glob"])
            full = pattern if Path(pattern).is_absolute() else str(self.base_dir / pattern)
            found = sorted(p for p in glob.glob(full, recursive=True) if Path(p).is_file())
            if not found:
                raise self.doc.error((*at, "glob"), f"{full!r} matches no file")
            return tuple(str(Path(p).resolve()) for p in found)
        items = self.read.as_list(at, value)
        if not items:
            raise self.doc.error(at, "assets needs at least one file")
        out = []
        for i, item in enumerate(items):
            text = self.read.as_str((*at, i), item)
            path = Path(text) if Path(text).is_absolute() else self.base_dir / text
            if not path.is_file():
                raise self.doc.error((*at, i), f"asset file not found: {path}")
            out.append(str(path.resolve()))
        return tuple(out)

    def spawn_labels(self, at: FieldPath, value: Any) -> tuple[tuple[str, LabelTemplate], ...]:
        data = self.read.as_mapping(at, value)
        if not data:
            raise self.doc.error(at, "labels map a taxonomy to a label, e.g. {class: '{asset_stem}'}")
        out = []
        for taxonomy, text in data.items():
            problem = taxonomy_problem(str(taxonomy))
            if problem:
                raise self.doc.error((*at, taxonomy), problem)
            text = self.read.as_str((*at, taxonomy), text)
            try:
                template = LabelTemplate.parse(text.strip())
            except ValueError as exc:
                raise self.doc.error((*at, taxonomy), f"label {text!r}: {exc}") from None
            for name in template.fields:
                if name not in SPAWN_LABEL_FIELDS:
                    raise self.doc.error(
                        (*at, taxonomy), f"unknown field {{{name}}} (known: {', '.join(SPAWN_LABEL_FIELDS)})"
                    )
            for name in template.filters:
                if name not in TEMPLATE_FILTERS:
                    raise self.doc.error(
                        (*at, taxonomy), f"unknown filter |{name} (known: {', '.join(TEMPLATE_FILTERS)})"
                    )
            if not template.fields and label_problem(template.text):
                raise self.doc.error((*at, taxonomy), str(label_problem(template.text)))
            out.append((str(taxonomy), template))
        return tuple(out)

    def prim_path(self, at: FieldPath, value: Any) -> str:
        text = self.read.as_str(at, value)
        if not text.startswith("/") or not Sdf.Path.IsValidPathString(text) or not Sdf.Path(text).IsPrimPath():
            raise self.doc.error(at, f"{text!r} is not an absolute prim path like /World/Forklift")
        return text

    # -- numbers and distributions ---------------------------------------------------------------------------------
    def number(self, at: FieldPath, value: Any, minimum: float | None = None) -> float:
        number = self.read.as_number(at, value)
        if not math.isfinite(number):
            raise self.doc.error(at, f"expected a finite number, got {number}")
        if minimum is not None and number < minimum:
            raise self.doc.error(at, f"must be >= {minimum}, got {number}")
        return number

    def vector(self, at: FieldPath, value: Any, size: int, minimum: float | None = None) -> np.ndarray:
        items = self.read.as_list(at, value)
        if len(items) != size:
            raise self.doc.error(at, f"expected {size} numbers, got {len(items)}")
        return np.array([self.number((*at, i), v, minimum) for i, v in enumerate(items)], np.float64)

    def distribution(
        self,
        at: FieldPath,
        value: Any,
        dims: tuple[int, ...],
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        integer: bool = False,
        text: bool = False,
    ) -> Distribution:
        """A distribution whose values have ``dims`` components (0 = scalar, one of several allowed)."""
        shape = _DistributionReader(self, dims, minimum, maximum, integer, text)
        return shape.read(at, value)


class _DistributionReader:
    """Reads one distribution whose values are scalars or vectors of one of ``dims`` sizes."""

    def __init__(
        self,
        owner: _ScenarioReader,
        dims: tuple[int, ...],
        minimum: float | None,
        maximum: float | None,
        integer: bool,
        text: bool,
    ) -> None:
        self.owner, self.doc = owner, owner.doc
        self.dims, self.minimum, self.maximum, self.integer, self.text = dims, minimum, maximum, integer, text

    def read(self, at: FieldPath, value: Any) -> Distribution:
        if isinstance(value, Mapping):
            return self.mapping(at, value)
        if self.text:
            if isinstance(value, list):  # a list of texts: one of them, uniformly
                return Choice(self.options(at, value))
            return Constant(np.array(self.owner.read.as_str(at, value), dtype=object))
        if isinstance(value, list) and any(isinstance(v, Mapping) for v in value):
            self.need_dims(at, len(value))
            parts = []
            for i, item in enumerate(value):
                parts.append(
                    _DistributionReader(self.owner, (0,), self.minimum, self.maximum, self.integer, False).read(
                        (*at, i), item
                    )
                )
            return Components(tuple(parts))
        return Constant(self.constant(at, value))

    def mapping(self, at: FieldPath, value: Mapping[str, Any]) -> Distribution:
        self.owner.check_keys(at, value, (*DISTRIBUTION_KINDS, "weights"))
        kinds = [k for k in DISTRIBUTION_KINDS if k in value]
        if len(kinds) != 1:
            raise self.doc.error(at, f"a distribution takes exactly one of {', '.join(DISTRIBUTION_KINDS)}")
        kind = kinds[0]
        if "weights" in value and kind != "choice":
            raise self.doc.error((*at, "weights"), "weights go with 'choice'")
        where = (*at, kind)
        if self.text and kind not in ("choice", "sequence"):
            raise self.doc.error(where, f"{kind} draws numbers; here use choice, sequence or a constant")
        if kind in ("uniform", "uniform_int"):
            if self.integer and kind == "uniform":
                raise self.doc.error(where, "this takes whole numbers: use uniform_int")
            low, high = self.pair(where, value[kind], integer=kind == "uniform_int")
            for component, (lo, hi) in enumerate(zip(low.reshape(-1), high.reshape(-1), strict=True)):
                if lo > hi:
                    which = f" (component {component})" if low.ndim else ""
                    raise self.doc.error(where, f"inverted range: low {_num(lo)} > high {_num(hi)}{which}")
            self.bounds(where, low, high)
            return Uniform(low, high) if kind == "uniform" else UniformInt(low.astype(np.int64), high.astype(np.int64))
        if kind == "normal":
            if self.integer:
                raise self.doc.error(where, "this takes whole numbers: use uniform_int or choice")
            raw = value[kind]
            if isinstance(raw, Mapping):
                self.owner.check_keys(where, raw, ("mean", "std"))
                if "mean" not in raw or "std" not in raw:
                    raise self.doc.error(where, "normal needs mean and std")
                mean, std = self.constant((*where, "mean"), raw["mean"]), self.constant((*where, "std"), raw["std"])
                if mean.shape != std.shape:
                    raise self.doc.error(where, "mean and std need the same number of components")
            else:
                mean, std = self.pair(where, raw, integer=False, names=("mean", "std"))
            if (std < 0).any():
                raise self.doc.error(where, f"std must be >= 0, got {_num(std.min())}")
            return Normal(mean, std, self.minimum, self.maximum)
        items = self.owner.read.as_list(where, value[kind])
        if not items:
            raise self.doc.error(where, f"{kind} needs at least one item")
        options = self.options(where, items)
        if kind == "sequence":
            return Sequence(options)
        weights = None
        if "weights" in value:
            weights = np.array(
                [
                    self.owner.number((*at, "weights", i), w, minimum=0.0)
                    for i, w in enumerate(self.owner.read.as_list((*at, "weights"), value["weights"]))
                ],
                np.float64,
            )
            if len(weights) != len(options):
                raise self.doc.error((*at, "weights"), f"{len(weights)} weights for {len(options)} choices")
            if weights.sum() <= 0:
                raise self.doc.error((*at, "weights"), "weights must not all be 0")
            weights = weights / weights.sum()
        return Choice(options, weights)

    def options(self, at: FieldPath, items: list[Any]) -> np.ndarray:
        if self.text:
            texts = [self.owner.read.as_str((*at, i), v) for i, v in enumerate(items)]
            return np.array(texts, dtype=object)
        values = [self.constant((*at, i), v) for i, v in enumerate(items)]
        if len({v.shape for v in values}) > 1:
            raise self.doc.error(at, "all items need the same number of components")
        return np.stack(values)

    def pair(
        self, at: FieldPath, value: Any, integer: bool, names: tuple[str, str] = ("low", "high")
    ) -> tuple[np.ndarray, np.ndarray]:
        items = self.owner.read.as_list(at, value)
        if len(items) != 2:
            raise self.doc.error(at, f"expected [{names[0]}, {names[1]}], got {len(items)} values")
        first = self.constant((*at, 0), items[0], integer=integer, check=False)
        second = self.constant((*at, 1), items[1], integer=integer, check=False)
        if first.shape != second.shape:
            raise self.doc.error(at, f"{names[0]} and {names[1]} need the same number of components")
        return first, second

    def constant(self, at: FieldPath, value: Any, integer: bool | None = None, check: bool = True) -> np.ndarray:
        integer = self.integer if integer is None else integer
        if isinstance(value, list):
            self.need_dims(at, len(value))
            out = np.array([self.scalar((*at, i), v, integer) for i, v in enumerate(value)], np.float64)
        else:
            self.need_dims(at, 0)
            out = np.array(self.scalar(at, value, integer), np.float64)
        if check:
            self.bounds(at, out, out)
        return out.astype(np.int64) if integer else out

    def scalar(self, at: FieldPath, value: Any, integer: bool) -> float:
        if integer:
            return float(self.owner.read.as_int(at, value))
        return self.owner.number(at, value)

    def need_dims(self, at: FieldPath, size: int) -> None:
        if size not in self.dims:
            want = " or ".join("a number" if d == 0 else f"{d} numbers" for d in self.dims)
            got = "a number" if size == 0 else f"{size} values"
            raise self.doc.error(at, f"expected {want}, got {got}")

    def bounds(self, at: FieldPath, low: np.ndarray, high: np.ndarray) -> None:
        if self.minimum is not None and (low < self.minimum).any():
            raise self.doc.error(at, f"values must be >= {_num(self.minimum)}, got {_num(low.min())}")
        if self.maximum is not None and (high > self.maximum).any():
            raise self.doc.error(at, f"values must be <= {_num(self.maximum)}, got {_num(high.max())}")


def _num(value: float | np.floating | np.integer) -> str:
    return f"{float(value):g}"


def _compact(value: Any) -> str:
    """A selector as one short line for messages."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k if k is not True else 'on'}: {_compact(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_compact(v) for v in value) + "]"
    return repr(value) if isinstance(value, str) else str(value)
