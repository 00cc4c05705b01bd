"""Analytic scenes with answers computed here, independently of the backend, for both engines."""

from __future__ import annotations

import math

import numpy as np
import pytest
from embedded_stages import (
    APERTURE,
    FOCAL,
    add_camera,
    add_cube,
    label_prim,
    legacy_label,
    new_stage,
    pixel_span,
    project_x,
    project_y,
)
from pxr import Gf, UsdGeom

from omni.sdg_studio.backends.embedded import EmbeddedBackend
from omni.sdg_studio.core.annotators import check_annotator_output

ENGINES = ("embree", "numpy")
CAMERA = "/World/Camera"


def render(stage, engine, annotators, resolution=(200, 200), **kwargs):
    backend = EmbeddedBackend(stage, engine=engine)
    try:
        frame = backend.render(CAMERA, resolution, annotators, **kwargs)
    finally:
        backend.close()
    for name, value in frame.items():
        check_annotator_output(name, value)
    return frame


@pytest.mark.parametrize("engine", ENGINES)
def test_unit_cube_depth_and_box_are_exact(engine):
    stage = new_stage()
    add_camera(stage)
    add_cube(stage, "/World/Cube", 1.0, (0.0, 0.0, -5.0), label="cube")
    width = height = 200
    frame = render(
        stage,
        engine,
        [
            "distance_to_image_plane",
            "distance_to_camera",
            "bounding_box_2d_tight",
            "bounding_box_2d_loose",
            "semantic_segmentation",
        ],
    )
    # The front face (z = -4.5) is nearest; its corners project to the extreme columns and rows.
    x_lo, x_hi = pixel_span(project_x(-0.5, 4.5, width), project_x(0.5, 4.5, width))
    y_lo, y_hi = pixel_span(project_y(0.5, 4.5, width, height), project_y(-0.5, 4.5, width, height))
    plane = frame["distance_to_image_plane"]
    inside = np.zeros_like(plane, bool)
    inside[y_lo : y_hi + 1, x_lo : x_hi + 1] = True
    assert np.all(np.abs(plane[inside] - 4.5) <= 4.5e-4)
    assert np.all(np.isinf(plane[~inside]))
    # distance_to_camera = image-plane depth / cos(angle to the axis), from the pixel centers.
    cols = (np.arange(width) + 0.5) / width - 0.5
    rows = 0.5 - (np.arange(height) + 0.5) / height
    slope_x = cols * APERTURE / FOCAL
    slope_y = rows * APERTURE / FOCAL
    expected = 4.5 * np.sqrt(1 + slope_x[None, :] ** 2 + slope_y[:, None] ** 2)
    assert np.allclose(frame["distance_to_camera"][inside], expected[inside], rtol=1e-4)
    for name in ("bounding_box_2d_tight", "bounding_box_2d_loose"):
        (row,) = frame[name]["data"]
        assert (row["x_min"], row["y_min"], row["x_max"], row["y_max"]) == (x_lo, y_lo, x_hi, y_hi)
        assert row["occlusionRatio"] == pytest.approx(0.0)
        assert frame[name]["info"]["primPaths"] == ["/World/Cube"]
    seg = frame["semantic_segmentation"]
    cube_id = next(int(k) for k, v in seg["info"]["idToLabels"].items() if v == {"class": "cube"})
    assert np.array_equal(seg["data"] == cube_id, inside)


@pytest.mark.parametrize("engine", ENGINES)
def test_sphere_silhouette_is_the_analytic_disc(engine):
    stage = new_stage()
    add_camera(stage)
    sphere = UsdGeom.Sphere.Define(stage, "/World/Ball")
    sphere.CreateRadiusAttr(1.0)
    sphere.AddTranslateOp().Set(Gf.Vec3d(0.0, 0.0, -10.0))
    label_prim(sphere.GetPrim(), "ball")
    width = height = 256
    frame = render(stage, engine, ["instance_id_segmentation", "distance_to_image_plane"], (width, height))
    mask = frame["instance_id_segmentation"]["data"] > 0
    # Silhouette cone: half-angle asin(r / d); image radius in pixels = f_px * tan(asin(r / d)).
    f_px = FOCAL / APERTURE * width
    radius = f_px * math.tan(math.asin(1.0 / 10.0))
    yy, xx = np.mgrid[0:height, 0:width] + 0.5
    disc = (xx - width / 2) ** 2 + (yy - height / 2) ** 2 <= radius**2
    iou = (mask & disc).sum() / (mask | disc).sum()
    assert iou >= 0.98
    assert mask.sum() == pytest.approx(math.pi * radius**2, rel=0.01)
    center = frame["distance_to_image_plane"][height // 2 - 1 : height // 2 + 1, width // 2 - 1 : width // 2 + 1]
    assert np.allclose(center, 9.0, atol=2e-3)


@pytest.mark.parametrize("engine", ENGINES)
def test_half_hidden_box_has_occlusion_one_half(engine):
    stage = new_stage()
    add_camera(stage)
    add_cube(stage, "/World/Target", 2.0, (0.0, 0.0, -10.0), label="target")
    # An unlabeled wall in front covering every x < 0: exactly the left half of the target's image.
    wall = UsdGeom.Cube.Define(stage, "/World/Wall")
    wall.AddTranslateOp().Set(Gf.Vec3d(-2.0, 0.0, -5.0))
    wall.AddScaleOp().Set(Gf.Vec3f(2.0, 3.0, 0.1))
    width = 200
    frame = render(stage, engine, ["bounding_box_2d_tight", "bounding_box_2d_loose", "bounding_box_3d", "occlusion"])
    (tight,) = frame["bounding_box_2d_tight"]["data"]
    (loose,) = frame["bounding_box_2d_loose"]["data"]
    assert tight["occlusionRatio"] == pytest.approx(0.5, abs=0.02)
    assert loose["occlusionRatio"] == pytest.approx(0.5, abs=0.02)
    assert frame["occlusion"]["data"][0]["occlusionRatio"] == pytest.approx(0.5, abs=0.02)
    x_lo, x_hi = pixel_span(project_x(-1.0, 9.0, width), project_x(1.0, 9.0, width))
    assert (loose["x_min"], loose["x_max"]) == (x_lo, x_hi)
    assert (tight["x_min"], tight["x_max"]) == (width // 2, x_hi)
    (box3d,) = frame["bounding_box_3d"]["data"]
    assert [box3d[k] for k in ("x_min", "y_min", "z_min", "x_max", "y_max", "z_max")] == pytest.approx(
        [-1, -1, -1, 1, 1, 1], abs=1e-5
    )
    assert box3d["transform"][3, :3] == pytest.approx([0.0, 0.0, -10.0])


@pytest.mark.parametrize("engine", ENGINES)
def test_labeled_parent_covers_unlabeled_children_and_nests_labeled_ones(engine):
    stage = new_stage()
    add_camera(stage)
    robot = UsdGeom.Xform.Define(stage, "/World/Robot")
    robot.AddTranslateOp().Set(Gf.Vec3d(0.0, 0.0, -8.0))
    label_prim(robot.GetPrim(), "robot")
    add_cube(stage, "/World/Robot/Body", 1.0, (-1.0, 0.0, 0.0))
    add_cube(stage, "/World/Robot/Arm", 0.5, (0.0, 0.0, 0.0))
    hand = add_cube(stage, "/World/Robot/Hand", 0.5, (1.0, 0.0, 0.0))
    legacy_label(hand.GetPrim(), "hand")
    frame = render(
        stage,
        engine,
        ["semantic_segmentation", "instance_segmentation", "instance_id_segmentation", "bounding_box_2d_tight"],
    )
    semantics = sorted(v["class"] for v in frame["semantic_segmentation"]["info"]["idToLabels"].values())
    assert semantics == ["BACKGROUND", "robot", "robot,hand"]
    instances = frame["instance_segmentation"]["info"]
    assert sorted(instances["idToLabels"].values()) == ["/World/Robot", "/World/Robot/Hand", "BACKGROUND"]
    body_and_arm = next(k for k, v in instances["idToLabels"].items() if v == "/World/Robot")
    assert instances["idToSemantics"][body_and_arm] == {"class": "robot"}
    leaf_paths = set(frame["instance_id_segmentation"]["info"]["idToLabels"].values())
    assert leaf_paths == {"INVALID", "/World/Robot/Body", "/World/Robot/Arm", "/World/Robot/Hand"}
    boxes = frame["bounding_box_2d_tight"]
    by_path = dict(zip(boxes["info"]["primPaths"], boxes["data"], strict=True))
    assert by_path["/World/Robot"]["occlusionRatio"] == -1.0  # has a labeled descendant
    assert by_path["/World/Robot/Hand"]["occlusionRatio"] == pytest.approx(0.0)
    # The parent's box spans body to hand.
    assert by_path["/World/Robot"]["x_min"] < by_path["/World/Robot/Hand"]["x_min"]
    assert by_path["/World/Robot"]["x_max"] == by_path["/World/Robot/Hand"]["x_max"]


@pytest.mark.parametrize("engine", ENGINES)
def test_instanceable_copies_are_separate_instances(engine):
    stage = new_stage()
    add_camera(stage)
    stage.CreateClassPrim("/Prototypes")
    proto = UsdGeom.Xform.Define(stage, "/Prototypes/Crate")
    add_cube(stage, "/Prototypes/Crate/Body", 1.0, (0.0, 0.0, 0.0))
    label_prim(proto.GetPrim(), "crate")
    for n, x in enumerate((-2.0, 0.0, 2.0)):
        copy = UsdGeom.Xform.Define(stage, f"/World/Crate_{n}")
        copy.AddTranslateOp().Set(Gf.Vec3d(x, 0.0, -8.0))
        copy.GetPrim().GetReferences().AddInternalReference("/Prototypes/Crate")
        copy.GetPrim().SetInstanceable(True)
    frame = render(stage, engine, ["instance_segmentation", "instance_id_segmentation", "bounding_box_3d"])
    paths = set(frame["instance_segmentation"]["info"]["idToLabels"].values())
    assert paths == {"BACKGROUND", "/World/Crate_0", "/World/Crate_1", "/World/Crate_2"}
    leaves = set(frame["instance_id_segmentation"]["info"]["idToLabels"].values())
    assert {"/World/Crate_0/Body", "/World/Crate_1/Body", "/World/Crate_2/Body"} <= leaves
    boxes = frame["bounding_box_3d"]
    centers = sorted(float(row["transform"][3, 0]) for row in boxes["data"])
    assert centers == pytest.approx([-2.0, 0.0, 2.0])


@pytest.mark.parametrize("engine", ENGINES)
def test_aperture_offset_shifts_the_image_and_the_projection_matrix(engine):
    offset = 2.0  # mm of film
    width = height = 200
    boxes = {}
    params = {}
    for h_offset in (0.0, offset):
        stage = new_stage()
        add_camera(stage, h_offset=h_offset)
        add_cube(stage, "/World/Cube", 1.0, (1.0, 0.5, -6.0), label="cube")
        frame = render(stage, engine, ["bounding_box_2d_loose", "camera_params"])
        (boxes[h_offset],) = frame["bounding_box_2d_loose"]["data"]
        params[h_offset] = frame["camera_params"]
    # Left edge: the far face (x = 0.5, depth 6.5) projects nearer the axis; right edge: the near face.
    x_lo, x_hi = pixel_span(project_x(0.5, 6.5, width, offset), project_x(1.5, 5.5, width, offset))
    assert (boxes[offset]["x_min"], boxes[offset]["x_max"]) == (x_lo, x_hi)
    assert boxes[offset]["x_min"] < boxes[0.0]["x_min"]
    assert (boxes[offset]["y_min"], boxes[offset]["y_max"]) == (boxes[0.0]["y_min"], boxes[0.0]["y_max"])
    # Isaac Sim's writers project with [p, 1] @ view @ projection, then x = (ndc + 1) * W / 2.
    p = params[offset]
    view = np.asarray(p["cameraViewTransform"]).reshape(4, 4)
    proj = np.asarray(p["cameraProjection"]).reshape(4, 4)
    clip = np.array([0.5, 0.5, -5.5, 1.0]) @ view @ proj
    x_px = (clip[0] / clip[3] + 1) * width / 2
    assert x_px == pytest.approx(project_x(0.5, 5.5, width, offset), abs=1e-6)
    assert list(p["renderProductResolution"]) == [width, height]
    assert p["cameraApertureOffset"][0] == pytest.approx(offset)


@pytest.mark.parametrize("engine", ENGINES)
def test_point_instancer_instances_are_rendered_and_separate(engine):
    stage = new_stage()
    add_camera(stage)
    instancer = UsdGeom.PointInstancer.Define(stage, "/World/Boxes")
    label_prim(instancer.GetPrim(), "box")
    UsdGeom.Scope.Define(stage, "/World/Boxes/Prototypes")
    add_cube(stage, "/World/Boxes/Prototypes/Box", 0.5, (0.0, 0.0, 0.0))
    instancer.CreatePrototypesRel().SetTargets(["/World/Boxes/Prototypes/Box"])
    positions = [(-1.5, 0.0, -6.0), (0.0, 0.0, -7.0), (1.5, 0.0, -8.0)]
    instancer.CreatePositionsAttr([Gf.Vec3f(*p) for p in positions])
    instancer.CreateProtoIndicesAttr([0, 0, 0])
    width = height = 200
    frame = render(stage, engine, ["instance_id_segmentation", "distance_to_image_plane", "bounding_box_2d_tight"])
    ids = frame["instance_id_segmentation"]
    assert len([v for v in ids["info"]["idToLabels"].values() if v != "INVALID"]) == 3
    depth = frame["distance_to_image_plane"]
    for x, _, z in positions:
        column = round(project_x(x, -z - 0.25, width))
        assert depth[height // 2, column] == pytest.approx(-z - 0.25, rel=1e-4)
    # The prototype itself sits at the origin around the camera: were it rendered, nothing would be background.
    assert (ids["data"] == 0).mean() > 0.9
    assert len(frame["bounding_box_2d_tight"]["data"]) == 3


@pytest.mark.parametrize("engine", ENGINES)
def test_coplanar_faces_go_to_the_first_prim(engine):
    """Prims with coincident faces z-fight; the first one in stage order wins, on every engine."""
    stage = new_stage()
    add_camera(stage)
    for k in range(6):  # six copies of one box: Embree alone would show several of them
        add_cube(stage, f"/World/Box_{k}", 1.0, (0.0, 0.0, -5.0))
    add_cube(stage, "/World/Side", 1.0, (0.6, 0.0, -5.0))  # shares the front plane, overlaps on the right
    frame = render(stage, engine, ["instance_id_segmentation"])
    ids = frame["instance_id_segmentation"]
    seen = {ids["info"]["idToLabels"][int(i)] for i in np.unique(ids["data"])}
    assert seen == {"INVALID", "/World/Box_0", "/World/Side"}
