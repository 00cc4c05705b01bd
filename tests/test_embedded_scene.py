"""Scene extraction, its cache across frames and edits, tessellation, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from embedded_stages import add_camera, add_cube, label_prim, new_stage
from pxr import Gf, Usd, UsdGeom, Vt

from omni.sdg_studio.backends.embedded import EmbeddedBackend, EmbeddedRenderError, tessellate
from omni.sdg_studio.backends.embedded.scene import SceneCache, extract

CAMERA = "/World/Camera"


def one_cube_stage():
    stage = new_stage()
    add_camera(stage)
    add_cube(stage, "/World/Cube", 1.0, (0.0, 0.0, -5.0), label="cube")
    return stage


# ---- tessellation against USD's own extent computation ------------------------------------------
@pytest.mark.parametrize("axis", ["X", "Y", "Z"])
@pytest.mark.parametrize("kind", ["Cube", "Sphere", "Cylinder", "Cone", "Capsule", "Plane"])
def test_implicit_prims_fill_their_usd_extent(kind, axis):
    stage = Usd.Stage.CreateInMemory()
    prim = stage.DefinePrim("/P", kind)
    for name, value in {"size": 1.5, "radius": 0.4, "height": 2.0, "width": 3.0, "length": 1.0}.items():
        if prim.GetAttribute(name):
            prim.GetAttribute(name).Set(value)
    if prim.GetAttribute("axis"):
        prim.GetAttribute("axis").Set(axis)
    expected = np.array(UsdGeom.Boundable.ComputeExtentFromPlugins(UsdGeom.Boundable(prim), Usd.TimeCode.Default()))
    (geometry,) = extract(stage, Usd.TimeCode.Default())
    low, high = geometry.points[geometry.triangles].reshape(-1, 3).min(0), geometry.points.max(0)
    assert low == pytest.approx(expected[0], abs=1e-6)
    assert high == pytest.approx(expected[1], abs=1e-6)


def test_fan_triangulation_and_left_handed_winding():
    tris = tessellate.fan_triangulate(np.array([4, 3]), np.array([0, 1, 2, 3, 4, 5, 6]))
    assert tris.tolist() == [[0, 1, 2], [0, 2, 3], [4, 5, 6]]
    left = tessellate.fan_triangulate(np.array([3]), np.array([0, 1, 2]), left_handed=True)
    assert left.tolist() == [[0, 2, 1]]


def warnings_of(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]


def test_bad_mesh_data_is_dropped_with_one_warning_per_prim(caplog):
    stage = new_stage()
    mesh = UsdGeom.Mesh.Define(stage, "/World/Broken")
    points = [(0, 0, 0), (1, 0, 0), (0, 1, 0), (float("nan"), 0, 0), (2, 2, 2)]
    mesh.CreatePointsAttr(Vt.Vec3fArray([Gf.Vec3f(*p) for p in points]))
    # good triangle, NaN triangle, out-of-range index, a 2-vertex face, a zero-area triangle
    mesh.CreateFaceVertexCountsAttr([3, 3, 3, 2, 3])
    mesh.CreateFaceVertexIndicesAttr([0, 1, 2, 0, 1, 3, 0, 1, 9, 0, 1, 0, 0, 0])
    (geometry,) = extract(stage, Usd.TimeCode.Default())
    assert geometry.triangles.tolist() == [[0, 1, 2]]
    (message,) = warnings_of(caplog)
    assert "/World/Broken" in message
    for part in ("1 faces with fewer than 3", "out-of-range", "NaN", "zero-area"):
        assert part in message


def test_mismatched_face_counts_skip_the_mesh(caplog):
    stage = new_stage()
    mesh = UsdGeom.Mesh.Define(stage, "/World/Odd")
    mesh.CreatePointsAttr([(0, 0, 0), (1, 0, 0), (0, 1, 0)])
    mesh.CreateFaceVertexCountsAttr([4])
    mesh.CreateFaceVertexIndicesAttr([0, 1, 2])
    (geometry,) = extract(stage, Usd.TimeCode.Default())
    assert len(geometry.triangles) == 0
    (message,) = warnings_of(caplog)
    assert "faceVertexCounts sum to 4" in message and "no renderable triangles" in message


def test_invisible_and_guide_prims_are_not_rendered():
    stage = one_cube_stage()
    hidden = add_cube(stage, "/World/Hidden", 1.0, (2.0, 0.0, -5.0))
    hidden.MakeInvisible()
    guide = add_cube(stage, "/World/Guide", 1.0, (-2.0, 0.0, -5.0))
    guide.CreatePurposeAttr(UsdGeom.Tokens.guide)
    assert [g.path for g in extract(stage, Usd.TimeCode.Default())] == ["/World/Cube"]  # visible ones


def test_material_color_wins_over_display_color():
    from pxr import Sdf, UsdShade

    stage = one_cube_stage()
    UsdGeom.Gprim(stage.GetPrimAtPath("/World/Cube")).CreateDisplayColorAttr([Gf.Vec3f(1, 0, 0)])
    material = UsdShade.Material.Define(stage, "/World/Red")
    shader = UsdShade.Shader.Define(stage, "/World/Red/Surface")
    shader.CreateIdAttr("UsdPreviewSurface")
    shader.CreateInput("diffuseColor", Sdf.ValueTypeNames.Color3f).Set(Gf.Vec3f(0.0, 0.25, 1.0))
    material.CreateSurfaceOutput().ConnectToSource(shader.ConnectableAPI(), "surface")
    (geometry,) = extract(stage, Usd.TimeCode.Default())
    assert geometry.color == pytest.approx((1.0, 0.0, 0.0))
    UsdShade.MaterialBindingAPI.Apply(stage.GetPrimAtPath("/World/Cube")).Bind(material)
    (geometry,) = extract(stage, Usd.TimeCode.Default())
    assert geometry.color == pytest.approx((0.0, 0.25, 1.0))


# ---- cache across frames and edits -------------------------------------------------------------
class CountingEngine:
    """Wraps a real engine and counts scene loads."""

    def __init__(self, inner):
        self.inner = inner
        self.name = inner.name
        self.loads = 0

    def load(self, meshes):
        self.loads += 1
        self.inner.load(meshes)

    def cast(self, camera, pixels=None, only=None):
        return self.inner.cast(camera, pixels, only)

    def meets(self, camera, pixels, group, groups):
        return self.inner.meets(camera, pixels, group, groups)

    @property
    def concurrent(self):
        return self.inner.concurrent


def counting_backend(stage):
    from omni.sdg_studio.backends.embedded.engines import make_engine

    engine = CountingEngine(make_engine("numpy"))
    return EmbeddedBackend(stage, engine=engine), engine


def test_moving_the_camera_does_not_reextract_or_reload():
    stage = one_cube_stage()
    backend, engine = counting_backend(stage)
    scene = backend._scene
    first = backend.render(CAMERA, (64, 64), ["distance_to_image_plane"])["distance_to_image_plane"]
    versions = (scene.structure_version, scene.shape_version)
    camera = UsdGeom.Xformable(stage.GetPrimAtPath(CAMERA))
    op = camera.AddTranslateOp()
    for step in range(3):
        op.Set(Gf.Vec3d(0.0, 0.0, float(step + 1)))
        depth = backend.render(CAMERA, (64, 64), ["distance_to_image_plane"])["distance_to_image_plane"]
        assert np.nanmin(depth) == pytest.approx(4.5 + step + 1, rel=1e-4)
    assert (scene.structure_version, scene.shape_version) == versions
    assert engine.loads == 1
    assert np.nanmin(first) == pytest.approx(4.5, rel=1e-4)


def test_moving_an_object_reloads_transforms_only():
    stage = one_cube_stage()
    backend, engine = counting_backend(stage)
    scene = backend._scene
    backend.render(CAMERA, (64, 64), ["distance_to_image_plane"])
    structure_version = scene.structure_version
    cube = UsdGeom.Xformable(stage.GetPrimAtPath("/World/Cube"))
    cube.GetOrderedXformOps()[0].Set(Gf.Vec3d(0.0, 0.0, -9.0))
    depth = backend.render(CAMERA, (64, 64), ["distance_to_image_plane"])["distance_to_image_plane"]
    assert np.nanmin(depth) == pytest.approx(8.5, rel=1e-4)
    assert scene.structure_version == structure_version
    assert backend.tessellations == 1
    assert engine.loads == 2


def test_label_edits_are_seen_on_the_next_frame():
    stage = one_cube_stage()
    backend, _ = counting_backend(stage)
    names = lambda f: {v["class"] for v in f["semantic_segmentation"]["info"]["idToLabels"].values()}  # noqa: E731
    assert "cube" in names(backend.render(CAMERA, (32, 32), ["semantic_segmentation"]))
    label_prim(stage.GetPrimAtPath("/World/Cube"), "box")
    stage.GetPrimAtPath("/World/Cube").GetAttribute("semantics:labels:class").Set(["box"])
    assert "box" in names(backend.render(CAMERA, (32, 32), ["semantic_segmentation"]))


def test_animated_transforms_follow_the_time_code():
    stage = one_cube_stage()
    op = UsdGeom.Xformable(stage.GetPrimAtPath("/World/Cube")).GetOrderedXformOps()[0]
    op.Set(Gf.Vec3d(0.0, 0.0, -5.0), 1.0)
    op.Set(Gf.Vec3d(0.0, 0.0, -15.0), 11.0)
    backend, engine = counting_backend(stage)
    for time, near_face in ((1.0, 4.5), (6.0, 9.5), (11.0, 14.5)):
        depth = backend.render(CAMERA, (32, 32), ["distance_to_image_plane"], time=time)["distance_to_image_plane"]
        assert np.nanmin(depth) == pytest.approx(near_face, rel=1e-4)
    assert backend._scene.structure_version == 1
    assert backend.tessellations == 1
    assert engine.loads == 3


def test_scene_cache_stops_listening_when_closed():
    stage = one_cube_stage()
    cache = SceneCache(stage)
    cache.update(Usd.TimeCode.Default())
    cache.close()
    add_cube(stage, "/World/Other", 1.0, (0.0, 0.0, -3.0))
    cache.update(Usd.TimeCode.Default())
    assert [g.path for g in cache.geometries] == ["/World/Cube"]


# ---- bad input ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("camera", "message"),
    [
        ("/World/Nope", "no such prim; cameras on the stage: /World/Camera"),
        ("/World/Cube", "is a Cube, not a Camera"),
        ("World/Camera", "no such prim"),
    ],
)
def test_bad_camera_paths_are_named(camera, message):
    backend = EmbeddedBackend(one_cube_stage())
    with pytest.raises(EmbeddedRenderError, match=message):
        backend.render(camera, (32, 32), ["rgb"])


@pytest.mark.parametrize(
    ("resolution", "message"),
    [((0, 32), "at least 1"), ((32, -1), "at least 1"), ((100000, 100000), "too large"), ((32,), "expected")],
)
def test_bad_resolutions_are_refused(resolution, message):
    backend = EmbeddedBackend(one_cube_stage())
    with pytest.raises(EmbeddedRenderError, match=message):
        backend.render(CAMERA, resolution, ["rgb"])


def test_unknown_and_unsupported_annotators_are_named():
    backend = EmbeddedBackend(one_cube_stage())
    with pytest.raises(EmbeddedRenderError, match="unknown annotator 'depth'"):
        backend.render(CAMERA, (32, 32), ["depth"])
    with pytest.raises(EmbeddedRenderError, match="motion_vectors not produced by the embedded backend"):
        backend.render(CAMERA, (32, 32), ["motion_vectors"])


def test_empty_stage_warns_and_renders_background(caplog):
    stage = new_stage()
    add_camera(stage)
    backend = EmbeddedBackend(stage)
    frame = backend.render(CAMERA, (16, 16), ["rgb", "distance_to_camera", "instance_id_segmentation"])
    assert any("no renderable geometry" in m for m in warnings_of(caplog))
    assert np.isinf(frame["distance_to_camera"]).all()
    assert (frame["instance_id_segmentation"]["data"] == 0).all()


def test_stage_without_labels_warns_once(caplog):
    stage = new_stage()
    add_camera(stage)
    add_cube(stage, "/World/Cube", 1.0, (0.0, 0.0, -5.0))
    backend = EmbeddedBackend(stage)
    frame = backend.render(CAMERA, (16, 16), ["semantic_segmentation", "bounding_box_2d_tight"])
    assert warnings_of(caplog) == [
        "no prim carries labels of type class: segmentation is all UNLABELLED and there are no boxes"
    ]
    assert len(frame["bounding_box_2d_tight"]["data"]) == 0
    assert set(frame["semantic_segmentation"]["info"]["idToLabels"]) == {"0", "1"}
    caplog.clear()
    backend.render(CAMERA, (16, 16), ["semantic_segmentation"])
    assert warnings_of(caplog) == []


def test_semantic_types_filter_taxonomies():
    stage = one_cube_stage()
    label_prim(stage.GetPrimAtPath("/World/Cube"), "red", taxonomy="color")
    backend = EmbeddedBackend(stage)
    both = backend.render(CAMERA, (32, 32), ["semantic_segmentation"], semantic_types=("class", "color"))
    labels = list(both["semantic_segmentation"]["info"]["idToLabels"].values())
    assert {"class": "cube", "color": "red"} in labels
    only_color = backend.render(CAMERA, (32, 32), ["semantic_segmentation"], semantic_types=("color",))
    assert {"color": "red"} in only_color["semantic_segmentation"]["info"]["idToLabels"].values()


def test_colorized_segmentation_uses_reserved_and_stable_colors():
    from omni.sdg_studio.core.colors import stable_color

    backend = EmbeddedBackend(one_cube_stage())
    frame = backend.render(CAMERA, (32, 32), ["semantic_segmentation", "instance_segmentation"], colorize=True)
    seg = frame["semantic_segmentation"]
    assert seg["data"].dtype == np.uint8 and seg["data"].shape == (32, 32, 4)
    assert seg["info"]["idToLabels"]["(0, 0, 0, 0)"] == {"class": "BACKGROUND"}
    cube_key = str(stable_color("cube"))  # "(r, g, b, a)", Replicator's key spelling
    assert seg["info"]["idToLabels"][cube_key] == {"class": "cube"}
    assert tuple(seg["data"][16, 16]) == stable_color("cube")
    assert all(isinstance(k, str) for k in frame["instance_segmentation"]["info"]["idToSemantics"])


# ---- lighting ----------------------------------------------------------------------------------
def _srgb8(linear: float) -> int:
    encoded = 12.92 * linear if linear <= 0.0031308 else 1.055 * linear ** (1 / 2.4) - 0.055
    return round(min(max(encoded, 0.0), 1.0) * 255)


def white_wall_stage():
    """A white wall facing the camera (normal +Z, toward the camera at the origin)."""
    stage = new_stage()
    add_camera(stage)
    wall = UsdGeom.Plane.Define(stage, "/World/Wall")
    wall.CreateWidthAttr(20.0)
    wall.CreateLengthAttr(20.0)
    wall.AddTranslateOp().Set(Gf.Vec3d(0.0, 0.0, -5.0))
    wall.CreateDisplayColorAttr([Gf.Vec3f(1.0, 1.0, 1.0)])
    return stage


def test_lambert_plus_ambient_from_stage_lights():
    from pxr import UsdLux

    stage = white_wall_stage()
    sun = UsdLux.DistantLight.Define(stage, "/World/Sun")
    sun.CreateIntensityAttr(3000.0)
    sun.AddRotateXOp().Set(60.0)  # light travels along its -Z: 60 degrees off the wall normal
    UsdLux.DomeLight.Define(stage, "/World/Dome").CreateIntensityAttr(1000.0)
    backend = EmbeddedBackend(stage)
    rgb = backend.render(CAMERA, (8, 8), ["rgb"])["rgb"]
    # Exposure maps "every light at full strength" (3000 + 1000) to white.
    assert rgb[4, 4, 0] == _srgb8((1000 + 3000 * np.cos(np.radians(60))) / 4000)
    assert (rgb[..., 3] == 255).all()
    sun.GetIntensityAttr().Set(0.0)  # light edits are seen on the next frame
    rgb = backend.render(CAMERA, (8, 8), ["rgb"])["rgb"]
    assert rgb[4, 4, 0] == _srgb8(1.0)  # only the dome is left, and it is now the reference


def test_stage_without_lights_gets_a_headlight():
    backend = EmbeddedBackend(white_wall_stage())
    rgb = backend.render(CAMERA, (8, 8), ["rgb"])["rgb"]
    assert rgb[4, 4, 0] == _srgb8(1.0)


def test_non_manifold_mesh_renders_without_complaint(caplog):
    """Three triangles sharing one edge (non-manifold) are fine for a ray caster."""
    stage = new_stage()
    add_camera(stage)
    mesh = UsdGeom.Mesh.Define(stage, "/World/Fan")
    mesh.CreatePointsAttr([(0, -1, -5), (0, 1, -5), (-1, 0, -5.5), (1, 0, -5.5), (0, 0, -4.5)])
    mesh.CreateFaceVertexCountsAttr([3, 3, 3])
    mesh.CreateFaceVertexIndicesAttr([0, 1, 2, 0, 1, 3, 0, 1, 4])
    frame = EmbeddedBackend(stage).render(CAMERA, (32, 32), ["instance_id_segmentation"])
    assert (frame["instance_id_segmentation"]["data"] > 0).any()
    assert warnings_of(caplog) == []


@pytest.mark.parametrize(
    ("attribute", "value", "message"),
    [
        ("focalLength", 0.0, "focalLength is 0.0, must be a positive number"),
        ("horizontalAperture", float("nan"), "horizontalAperture is nan"),
        ("clippingRange", Gf.Vec2f(5.0, 1.0), "0 < near < far"),
        ("projection", "orthographic", "orthographic cameras are not supported"),
    ],
)
def test_bad_camera_attributes_are_named(attribute, value, message):
    stage = one_cube_stage()
    stage.GetPrimAtPath(CAMERA).GetAttribute(attribute).Set(value)
    with pytest.raises(EmbeddedRenderError, match=message):
        EmbeddedBackend(stage).render(CAMERA, (16, 16), ["rgb"])


def test_a_dropped_backend_is_freed_and_stops_listening():
    import gc
    import weakref

    stage = one_cube_stage()
    backend = EmbeddedBackend(stage)
    backend.render(CAMERA, (8, 8), ["rgb"])
    cache = weakref.ref(backend._scene)
    del backend
    gc.collect()
    assert cache() is None
    add_cube(stage, "/World/After", 1.0, (0.0, 0.0, -3.0))  # no listener left to fail
