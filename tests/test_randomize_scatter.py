"""Scatter: over 1,000 placements no two footprints overlap (checked by polygon clipping, independently of
the engine's separating-axis test), every footprint stays on the surface, and what did not fit is reported."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from pxr import Gf, Usd, UsdGeom

from tests.randomize_stages import cube, engine, ground, world


def field_of_boxes(count: int, plate: float) -> Usd.Stage:
    """``count`` boxes (0.2 x 0.3 x 0.2) and a square plate of side ``plate`` (a two-triangle mesh) at z = 1."""
    stage = Usd.Stage.CreateInMemory()
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    plate_prim = ground(stage, "/Plate", plate / 2)
    UsdGeom.Xformable(plate_prim).AddTranslateOp().Set(Gf.Vec3d(0, 0, 1))
    UsdGeom.Xform.Define(stage, "/Boxes")
    for i in range(count):
        cube(stage, f"/Boxes/Box_{i:04d}", (0.2, 0.3, 0.2), (100.0 + i, 0.0, 0.0))
    return stage


def footprints(stage: Usd.Stage, paths: list[str]) -> list[np.ndarray]:
    """Each box's footprint (4 corners, counter-clockwise) from its composed world transform."""
    out = []
    for path in paths:
        matrix = np.array(world(stage, path))
        corners = np.array([[-1, -1, 0, 1], [1, -1, 0, 1], [1, 1, 0, 1], [-1, 1, 0, 1]], float) @ matrix
        out.append(corners[:, :2])
    return out


def clip(subject: np.ndarray, window: np.ndarray) -> np.ndarray:
    """Sutherland-Hodgman: the part of convex polygon ``subject`` inside convex ``window`` (both CCW)."""
    output = list(subject)
    for a, b in zip(window, np.roll(window, -1, axis=0), strict=True):
        edge = b - a
        inside = [edge[0] * (p[1] - a[1]) - edge[1] * (p[0] - a[0]) >= 0 for p in output]
        points, output = output, []
        for k, p in enumerate(points):
            q, q_in, p_in = points[k - 1], inside[k - 1], inside[k]
            if p_in != q_in:
                d = p - q
                t = (edge[0] * (q[1] - a[1]) - edge[1] * (q[0] - a[0])) / (edge[1] * d[0] - edge[0] * d[1])
                output.append(q + t * d)
            if p_in:
                output.append(p)
        if not output:
            return np.zeros((0, 2))
    return np.array(output)


def area(polygon: np.ndarray) -> float:
    if len(polygon) < 3:
        return 0.0
    x, y = polygon[:, 0], polygon[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def overlapping_pairs(polygons: list[np.ndarray]) -> list[tuple[int, int]]:
    centers = np.array([p.mean(axis=0) for p in polygons])
    pairs = []
    for i in range(len(polygons)):
        near = np.flatnonzero(np.linalg.norm(centers[i + 1 :] - centers[i], axis=1) < 0.37) + i + 1
        pairs += [(i, int(j)) for j in near if area(clip(polygons[i], polygons[j])) > 1e-9]
    return pairs


SCATTER = """\
randomizers:
  - type: scatter
    select: {{glob: "Box_*"}}
    surface: /Plate
    rotation: {{yaw: {{uniform: [0, 360]}}}}
    collisions: {collisions}
    max_attempts: {attempts}
    retries: 0
"""


def test_clipping_check_finds_overlaps():
    square = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], float)
    assert area(clip(square, square + 0.5)) == pytest.approx(0.25)
    assert area(clip(square, square + np.array([1.0, 0.0]))) == 0.0  # touching edges share no area


def test_a_thousand_placements_never_overlap():
    stage = field_of_boxes(1000, 20.0)
    record = engine(stage, SCATTER.format(collisions="true", attempts=100), seed=4).apply(0).randomizers[0]
    assert record.values["placed"].all()
    polygons = footprints(stage, list(record.prims))
    assert overlapping_pairs(polygons) == []
    corners = np.concatenate(polygons)
    assert np.abs(corners).max() <= 10.0 + 1e-9  # every corner over the plate
    heights = [world(stage, p).ExtractTranslation()[2] for p in record.prims]
    assert heights == pytest.approx([1.1] * 1000)  # resting on the plate (z = 1), box half height 0.1
    # Without collisions the same layout problem overlaps: the check above can fail.
    loose = field_of_boxes(1000, 20.0)
    engine(loose, SCATTER.format(collisions="false", attempts=100), seed=4).apply(0)
    assert len(overlapping_pairs(footprints(loose, list(record.prims)))) > 10


def test_what_does_not_fit_is_reported_hidden_and_never_overlaps(caplog):
    stage = field_of_boxes(300, 3.0)  # 300 x 0.06 m2 = 18 m2 of boxes for a 9 m2 plate
    with caplog.at_level(logging.WARNING):
        record = engine(stage, SCATTER.format(collisions="true", attempts=32), seed=8).apply(0).randomizers[0]
    placed = record.values["placed"]
    assert 30 < placed.sum() < 300
    assert f"placed {placed.sum()} of 300 prims on /Plate" in record.notes[0]
    assert record.notes[0] in caplog.text
    shown = [p for p, ok in zip(record.prims, placed, strict=True) if ok]
    hidden = [p for p, ok in zip(record.prims, placed, strict=True) if not ok]
    assert all(UsdGeom.Imageable(stage.GetPrimAtPath(p)).ComputeVisibility() == "invisible" for p in hidden)
    assert all(UsdGeom.Imageable(stage.GetPrimAtPath(p)).ComputeVisibility() == "inherited" for p in shown)
    polygons = footprints(stage, shown)
    assert overlapping_pairs(polygons) == []
    assert np.abs(np.concatenate(polygons)).max() <= 1.5 + 1e-9
