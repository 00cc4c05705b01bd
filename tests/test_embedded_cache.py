"""The scene cache under a randomizer's edits (an anonymous sublayer of the session layer), and frames as
pure functions of the stage: nothing kept between render calls changes what a call returns."""

from __future__ import annotations

import numpy as np
import pytest
from embedded_stages import add_camera, add_cube, label_prim, new_stage
from pxr import Gf, Sdf, Usd, UsdGeom, UsdLux, UsdShade

from omni.sdg_studio.backends.embedded import EmbeddedBackend

CAMERA = "/World/Camera"
ANNOTATORS = ["rgb", "distance_to_camera", "instance_id_segmentation", "bounding_box_2d_tight", "occlusion"]


def boxes_stage(count: int = 6) -> Usd.Stage:
    """A row of labeled cubes 5 m in front of the camera, under a sun and a dome."""
    stage = new_stage()
    add_camera(stage)
    for k in range(count):
        add_cube(stage, f"/World/Box_{k}", 0.6, (-2.0 + 0.8 * k, 0.0, -5.0), label=f"box{k % 2}")
    sun = UsdLux.DistantLight.Define(stage, "/World/Sun")
    sun.AddRotateXYZOp().Set(Gf.Vec3f(30, 20, 0))
    UsdLux.DomeLight.Define(stage, "/World/Dome")
    return stage


class Randomizer:
    """Edits authored in an anonymous sublayer of the session layer, in one change block each."""

    def __init__(self, stage: Usd.Stage) -> None:
        self.stage = stage
        self.layer = Sdf.Layer.CreateAnonymous("test_randomizer")
        stage.GetSessionLayer().subLayerPaths.insert(0, self.layer.identifier)

    def edit(self, change, batched: bool = True) -> None:
        """Run ``change(stage)`` with edits going to the sublayer, in one change block when ``batched``
        (prims cannot be defined inside one)."""
        with Usd.EditContext(self.stage, Usd.EditTarget(self.layer)):
            if batched:
                with Sdf.ChangeBlock():
                    change(self.stage)
            else:
                change(self.stage)


def box_of(frame, path):
    boxes = frame["bounding_box_2d_tight"]
    row = boxes["info"]["primPaths"].index(path)
    data = boxes["data"][row]
    return int(data["x_min"]), int(data["y_min"]), int(data["x_max"]), int(data["y_max"])


def render(backend):
    return backend.render(CAMERA, (96, 64), ANNOTATORS)


@pytest.fixture
def scene():
    stage = boxes_stage()
    backend = EmbeddedBackend(stage)
    render(backend)
    randomizer = Randomizer(stage)
    render(backend)  # the new (empty) layer is seen once
    counts = (backend._scene.extractions, backend.tessellations)
    return stage, backend, randomizer, counts


def test_moving_prims_in_a_session_sublayer_moves_depth_and_boxes_without_extraction(scene):
    stage, backend, randomizer, counts = scene
    before = render(backend)

    def move(stage):
        for k in range(6):  # as a randomizer moves many prims in one frame
            UsdGeom.Xformable(stage.GetPrimAtPath(f"/World/Box_{k}")).GetOrderedXformOps()[0].Set(
                Gf.Vec3d(-2.0 + 0.8 * k, 0.5, -7.0)
            )

    randomizer.edit(move)
    after = render(backend)
    assert (backend._scene.extractions, backend.tessellations) == counts
    assert np.nanmin(after["distance_to_camera"]) > np.nanmin(before["distance_to_camera"]) + 1.5
    x0, _y0, x1, y1 = box_of(before, "/World/Box_0")
    a0, _b0, a1, b1 = box_of(after, "/World/Box_0")
    assert a1 - a0 < x1 - x0  # farther away: smaller
    assert b1 < y1  # moved up (+Y): rows go up
    fresh = EmbeddedBackend(stage)
    assert_frames_equal(after, render(fresh))


def test_frames_over_many_random_moves_equal_a_fresh_backends(scene):
    """Frame after frame of moved and turned boxes (the engine rewrites their vertices in place, the triangle
    table is updated row by row): every annotator as a backend that reads the stage afresh renders it."""
    stage, backend, randomizer, counts = scene
    rng = np.random.default_rng(3)
    annotators = [*ANNOTATORS, "bounding_box_2d_loose", "bounding_box_3d", "normals", "instance_segmentation"]
    for _ in range(4):
        moved = rng.choice(6, size=3, replace=False)

        def move(stage, moved=moved):
            for k in moved:
                prim = stage.GetPrimAtPath(f"/World/Box_{k}")
                xformable = UsdGeom.Xformable(prim)
                xformable.GetOrderedXformOps()[0].Set(Gf.Vec3d(*rng.uniform([-2, -1, -7], [2, 1, -3])))
                rotate = prim.GetAttribute("xformOp:rotateXYZ")
                op = UsdGeom.XformOp(rotate) if rotate else xformable.AddRotateXYZOp()
                op.Set(Gf.Vec3f(*rng.uniform(0, 360, 3)))

        randomizer.edit(move, batched=False)
        ours = backend.render(CAMERA, (96, 64), annotators)
        assert_frames_equal(ours, EmbeddedBackend(stage).render(CAMERA, (96, 64), annotators))
    assert backend.tessellations == counts[1]


def test_color_light_and_material_edits_change_rgb_without_extraction(scene):
    stage, backend, randomizer, counts = scene
    before = render(backend)["rgb"]
    column = lambda frame, k: frame[32, int(48 + (-2.0 + 0.8 * k) * 24 / 20.955 / 5 * 96)]  # noqa: E731
    randomizer.edit(lambda s: UsdGeom.Gprim(s.GetPrimAtPath("/World/Box_1")).CreateDisplayColorAttr([(1, 0, 0)]))
    red = render(backend)["rgb"]
    assert column(red, 1)[0] > column(before, 1)[0] and column(red, 1)[1] < column(before, 1)[1]
    assert np.array_equal(column(red, 2), column(before, 2))

    def bind(stage):
        material = UsdShade.Material.Define(stage, "/World/Looks/Blue")
        shader = UsdShade.Shader.Define(stage, "/World/Looks/Blue/Surface")
        shader.CreateIdAttr("UsdPreviewSurface")
        shader.CreateInput("diffuseColor", Sdf.ValueTypeNames.Color3f).Set(Gf.Vec3f(0.0, 0.0, 1.0))
        material.CreateSurfaceOutput().ConnectToSource(shader.ConnectableAPI(), "surface")
        UsdShade.MaterialBindingAPI.Apply(stage.GetPrimAtPath("/World/Box_2")).Bind(material)

    randomizer.edit(bind, batched=False)
    blue = render(backend)["rgb"]
    assert column(blue, 2)[2] > column(blue, 2)[0]
    randomizer.edit(
        lambda s: UsdShade.Shader(s.GetPrimAtPath("/World/Looks/Blue/Surface")).GetInput("diffuseColor").Set((0, 1, 0))
    )
    green = render(backend)["rgb"]
    assert column(green, 2)[1] > column(green, 2)[2]
    randomizer.edit(lambda s: UsdLux.DistantLight(s.GetPrimAtPath("/World/Sun")).CreateIntensityAttr(0.0))
    dome_only = render(backend)["rgb"]  # exposed anew: every face now gets the same (dome) light
    assert len({tuple(column(dome_only, k)[:3]) for k in (0, 4)}) == 1
    assert not np.array_equal(column(dome_only, 3), column(green, 3))
    # Only the newly bound box was read again (its binding API was applied), no mesh was tessellated.
    assert backend.tessellations == counts[1]
    assert backend._scene.extractions <= counts[0] + 1
    assert_frames_equal(render(backend), render(EmbeddedBackend(stage)))


def test_hiding_and_showing_a_prim_needs_no_extraction(scene):
    stage, backend, randomizer, counts = scene
    before = render(backend)
    randomizer.edit(lambda s: UsdGeom.Imageable(s.GetPrimAtPath("/World/Box_3")).MakeInvisible())
    hidden = render(backend)
    assert "/World/Box_3" not in hidden["bounding_box_2d_tight"]["info"]["primPaths"]
    assert_frames_equal(hidden, render(EmbeddedBackend(stage)))
    randomizer.edit(lambda s: UsdGeom.Imageable(s.GetPrimAtPath("/World/Box_3")).MakeVisible())
    assert_frames_equal(render(backend), before)
    assert (backend._scene.extractions, backend.tessellations) == counts


def test_spawned_references_extract_only_the_new_prims(scene):
    stage, backend, randomizer, counts = scene

    def spawn(stage):
        for k in range(3):
            prim = stage.DefinePrim(f"/World/Spawned_{k}")
            prim.GetReferences().AddInternalReference("/World/Box_0")
            UsdGeom.Xformable(prim).GetOrderedXformOps()[0].Set(Gf.Vec3d(-1.0 + k, -1.0, -4.0))

    randomizer.edit(spawn, batched=False)
    frame = render(backend)
    assert backend._scene.extractions == counts[0] + 3
    assert backend.tessellations == counts[1]  # a copy of an asset already seen is not tessellated again
    assert {f"/World/Spawned_{k}" for k in range(3)} <= set(frame["bounding_box_2d_tight"]["info"]["primPaths"])
    assert_frames_equal(frame, render(EmbeddedBackend(stage)))


def test_changing_a_mesh_retessellates_that_mesh_only():
    stage = boxes_stage(2)
    mesh = UsdGeom.Mesh.Define(stage, "/World/Tri")
    mesh.CreatePointsAttr([(0, 0, -4), (1, 0, -4), (0, 1, -4)])
    mesh.CreateFaceVertexCountsAttr([3])
    mesh.CreateFaceVertexIndicesAttr([0, 1, 2])
    label_prim(mesh.GetPrim(), "tri")
    backend = EmbeddedBackend(stage)
    render(backend)
    before = backend.tessellations
    mesh.GetPointsAttr().Set([(0, 0, -4), (1.5, 0, -4), (0, 1.5, -4)])
    frame = render(backend)
    assert backend.tessellations == before + 1
    assert_frames_equal(frame, render(EmbeddedBackend(stage)))


def assert_frames_equal(a, b):
    assert a.keys() == b.keys()
    for name in a:
        assert _same(a[name], b[name]), name


def _same(x, y) -> bool:
    if isinstance(x, dict):
        return x.keys() == y.keys() and all(_same(x[k], y[k]) for k in x)
    if isinstance(x, np.ndarray):
        return x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()
    if isinstance(x, (list, tuple)):
        return len(x) == len(y) and all(_same(p, q) for p, q in zip(x, y, strict=True))
    return x == y


# ---- frames are pure functions of the stage state ------------------------------------------------
def warehouse_frames(sample_scene, order, threads=None):
    from omni.sdg_studio.core.stage_io import open_stage

    stage = open_stage(sample_scene)
    backend = EmbeddedBackend(stage, threads=threads)
    annotators = ["rgb", "instance_segmentation", "bounding_box_2d_tight", "bounding_box_3d", "occlusion", "normals"]
    out = {}
    for camera, size in order:
        out[camera, size] = backend.render(camera, size, annotators)
    return out


CAMERAS = ["/World/Cameras/TopCam", "/World/Cameras/DriverCam", "/World/Cameras/PalletCam"]


def test_frames_do_not_depend_on_what_was_rendered_before(sample_scene):
    """The same camera frames, rendered in three orders, after other sizes, with 1 and 2 threads: same bytes."""
    sizes = [(120, 90), (64, 64)]
    forward = [(c, s) for c in CAMERAS for s in sizes]
    runs = [
        warehouse_frames(sample_scene, forward),
        warehouse_frames(sample_scene, forward[::-1]),
        warehouse_frames(sample_scene, [forward[k] for k in (3, 0, 5, 1, 4, 2)] + forward, threads=1),
    ]
    for key in forward:
        for other in runs[1:]:
            assert_frames_equal(runs[0][key], other[key])


def test_frames_after_edits_and_undo_match_the_untouched_stage(sample_scene):
    """Moving, recoloring and hiding prims, then removing the layer that did it, leaves no trace."""
    from omni.sdg_studio.core.stage_io import open_stage

    stage = open_stage(sample_scene)
    backend = EmbeddedBackend(stage)
    annotators = ["rgb", "instance_segmentation", "bounding_box_2d_tight", "bounding_box_3d", "occlusion"]
    first = backend.render(CAMERAS[2], (120, 90), annotators)
    randomizer = Randomizer(stage)

    from omni.sdg_studio.core.semantics.schema import direct_labels

    labeled = [p for p in stage.Traverse() if UsdGeom.Xformable(p) and direct_labels(p)]
    bases = [UsdGeom.Xformable(p).GetLocalTransformation() for p in labeled]

    def shuffle(stage):
        for k, (prim, base) in enumerate(zip(labeled, bases, strict=True)):
            shift = Gf.Matrix4d().SetTranslate(Gf.Vec3d(0.3 * (k % 3 - 1), 0.2, 0))
            UsdGeom.Xformable(prim).MakeMatrixXform().Set(base * shift)
            UsdGeom.Gprim(prim).CreateDisplayColorAttr([(k % 2, 0.5, 0.2)]) if prim.IsA(UsdGeom.Gprim) else None
            if k % 4 == 0:
                UsdGeom.Imageable(prim).MakeInvisible()

    randomizer.edit(shuffle)
    moved = backend.render(CAMERAS[2], (120, 90), annotators)
    assert not _same(first["rgb"], moved["rgb"])
    stage.GetSessionLayer().subLayerPaths.remove(randomizer.layer.identifier)
    assert_frames_equal(backend.render(CAMERAS[2], (120, 90), annotators), first)
