"""What a stage holds: prims, cameras, labeled and unlabeled geometry, taxonomies, legacy labels."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from pxr import Usd, UsdGeom

from omni.sdg_studio.core.semantics.schema import direct_labels, inherited_labels, legacy_instances

#: Isaac Sim's default render-product width; the hint keeps the camera aperture's aspect.
DEFAULT_RENDER_WIDTH = 1280


@dataclass(frozen=True)
class CameraInfo:
    """A ``UsdGeom.Camera`` as the recorder will see it."""

    path: str
    focal_length: float
    horizontal_aperture: float
    vertical_aperture: float
    clipping_range: tuple[float, float]
    resolution_hint: tuple[int, int]


@dataclass
class StageInfo:
    """Counts over one stage. Geometry counts include instance proxies (they are rendered)."""

    path: str
    prim_count: int
    up_axis: str
    meters_per_unit: float
    cameras: list[CameraInfo] = field(default_factory=list)
    gprim_count: int = 0
    gprims_labeled: int = 0
    unlabeled_gprims: list[str] = field(default_factory=list)
    taxonomies: list[str] = field(default_factory=list)
    label_histogram: dict[str, dict[str, int]] = field(default_factory=dict)
    legacy_prims: list[str] = field(default_factory=list)

    @property
    def gprims_unlabeled(self) -> int:
        return len(self.unlabeled_gprims)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (``sdg-studio info --json``)."""
        out = asdict(self)
        out["gprims_unlabeled"] = self.gprims_unlabeled
        return out


def camera_info(camera: UsdGeom.Camera) -> CameraInfo:
    """Intrinsics of ``camera`` at the default time, with a resolution hint from its aperture aspect."""
    h_ap = float(camera.GetHorizontalApertureAttr().Get())
    v_ap = float(camera.GetVerticalApertureAttr().Get())
    near_far = camera.GetClippingRangeAttr().Get()
    aspect = v_ap / h_ap if h_ap > 0 else float("nan")
    height = max(1, round(DEFAULT_RENDER_WIDTH * aspect)) if math.isfinite(aspect) else DEFAULT_RENDER_WIDTH
    return CameraInfo(
        path=str(camera.GetPath()),
        focal_length=float(camera.GetFocalLengthAttr().Get()),
        horizontal_aperture=h_ap,
        vertical_aperture=v_ap,
        clipping_range=(float(near_far[0]), float(near_far[1])),
        resolution_hint=(DEFAULT_RENDER_WIDTH, height),
    )


def stage_info(stage: Usd.Stage, path: str = "") -> StageInfo:
    """Count prims, cameras, labeled / unlabeled gprims, taxonomies, direct labels and legacy prims."""
    info = StageInfo(
        path=path or stage.GetRootLayer().identifier,
        prim_count=0,
        up_axis=str(UsdGeom.GetStageUpAxis(stage)),
        meters_per_unit=float(UsdGeom.GetStageMetersPerUnit(stage)),
    )
    histogram: dict[str, Counter[str]] = {}
    info.prim_count = sum(1 for _ in stage.Traverse())
    for prim in Usd.PrimRange.Stage(stage, Usd.TraverseInstanceProxies(Usd.PrimDefaultPredicate)):
        if prim.IsA(UsdGeom.Camera):
            info.cameras.append(camera_info(UsdGeom.Camera(prim)))
        for taxonomy, labels in direct_labels(prim).items():
            histogram.setdefault(taxonomy, Counter()).update(labels)
        if legacy_instances(prim):
            info.legacy_prims.append(str(prim.GetPath()))
        if prim.IsA(UsdGeom.Gprim):
            info.gprim_count += 1
            if inherited_labels(prim):
                info.gprims_labeled += 1
            else:
                info.unlabeled_gprims.append(str(prim.GetPath()))
    info.taxonomies = sorted(histogram)
    info.label_histogram = {tax: dict(sorted(counts.items())) for tax, counts in sorted(histogram.items())}
    return info
