"""The engine: reproducible by seed in any frame order, edits only an anonymous session sublayer, and each
randomizer does what its keys say."""

from __future__ import annotations

import hashlib
import itertools
import json

import numpy as np
import pytest
from pxr import Gf, Sdf, Usd, UsdGeom, UsdLux, UsdSemantics, UsdShade

from omni.sdg_studio.core.randomize import RandomizationEngine, load_scenario
from omni.sdg_studio.core.randomize.geometry import homogeneous, prim_box
from omni.sdg_studio.core.recorder.config import CameraJitter
from omni.sdg_studio.core.recorder.randomization import camera_jitter_scenario
from omni.sdg_studio.core.stage_io import open_stage
from tests.randomize_stages import engine, world, yard

SAMPLE = "config/scenarios/warehouse_offline.yaml"

EVERYTHING = """\
randomizers:
  - type: pose
    select: /World/Truck
    position: {uniform: [[-6, -2, 0], [-4, 2, 0]]}
    rotation: {yaw: {uniform: [-40, 40]}}
  - type: pose
    select: /World/Pallet
    position: {relative_to: /World/Truck, offset: [{uniform: [3.5, 4.5]}, 0, 0]}
    rotation: {relative_to: /World/Truck, yaw: 0}
  - type: scatter
    select: {glob: "Box_*"}
    surface: /World/Pallet
  - type: pose
    every: 2
    select: /World/Cone
    position: {relative_to: /World/Truck, corner: bottom, bbox_scale: [1.2, 1.2, 1]}
  - type: camera
    select: /World/Cameras/Side
    orbit: {distance: {uniform: [4, 6]}, elevation: {uniform: [10, 40]}}
    look_at: /World/Pallet
    focal_length: {choice: [18, 24, 35]}
  - type: color
    select: {glob: "Box_*"}
    rgb: {uniform: [[0, 0, 0], [1, 1, 1]]}
  - type: light
    select: {regex: ".*Light", on: type}
    intensity: {normal: [1000, 100]}
  - type: visibility
    select: /World/Cone
    p: 0.5
"""


def frame_layer(bound: RandomizationEngine) -> Sdf.Layer:
    """The engine's frame layer (after an ``apply``)."""
    layer = bound.frame_layer
    assert layer is not None
    return layer


def state(stage: Usd.Stage) -> dict[str, object]:
    """Composed values that matter: world transforms, colors, visibility, focal lengths, light intensities."""
    out: dict[str, object] = {}
    cache = UsdGeom.XformCache()
    for prim in stage.Traverse():
        key = str(prim.GetPath())
        if prim.IsA(UsdGeom.Xformable):
            out[key] = np.round(np.array(cache.GetLocalToWorldTransform(prim)), 9).tolist()
        for name in ("primvars:displayColor", "visibility", "focalLength", "inputs:intensity"):
            attr = prim.GetAttribute(name)
            if attr and attr.HasValue():
                out[f"{key}.{name}"] = str(attr.Get())
    return out


def test_same_seed_same_frame_identical_across_engines_and_runs():
    first, second = yard(), yard()
    a, b = engine(first, EVERYTHING, seed=9), engine(second, EVERYTHING, seed=9)
    for frame in (0, 1, 7):
        ra, rb = a.apply(frame), b.apply(frame)
        assert json.dumps(ra.to_json()) == json.dumps(rb.to_json())
        assert frame_layer(a).ExportToString() == frame_layer(b).ExportToString()
        assert state(first) == state(second)


def test_any_frame_order_gives_the_same_frame():
    stage = yard()
    bound = engine(stage, EVERYTHING, seed=3)
    fresh = bound.apply(5)
    layer, values, record = frame_layer(bound).ExportToString(), state(stage), json.dumps(fresh.to_json())
    for history in ([3], [3, 4, 0], [9, 2, 6]):
        for frame in history:
            bound.apply(frame)
        again = bound.apply(5)
        assert frame_layer(bound).ExportToString() == layer
        assert state(stage) == values
        assert json.dumps(again.to_json()) == record


def test_consecutive_frames_differ_and_seeds_differ():
    stage = yard()
    bound = engine(stage, EVERYTHING, seed=3)
    seen = []
    for frame in range(6):
        bound.apply(frame)
        seen.append(state(stage))
    for before, after in itertools.pairwise(seen):
        assert before["/World/Truck"] != after["/World/Truck"]
        assert before["/World/Cameras/Side"] != after["/World/Cameras/Side"]
    other = engine(yard(), EVERYTHING, seed=4)
    other.apply(0)
    assert state(other.stage)["/World/Truck"] != seen[0]["/World/Truck"]


def test_every_n_holds_values_for_n_frames():
    stage = yard()
    bound = engine(stage, EVERYTHING, seed=1)
    corners = [bound.apply(f).randomizers[3].values["corner"][0] for f in range(6)]
    frames = [bound.apply(f).randomizers[3].frame for f in range(6)]
    assert frames == [0, 0, 2, 2, 4, 4]
    assert corners[0] == corners[1] and corners[2] == corners[3] and corners[4] == corners[5]


def test_edits_live_only_in_a_session_sublayer_and_restore_removes_them(sample_scene):
    before = hashlib.sha256(sample_scene.read_bytes()).hexdigest()
    stage = open_stage(sample_scene)
    root_text = stage.GetRootLayer().ExportToString()
    scene = state(stage)
    bound = RandomizationEngine(stage, load_scenario(SAMPLE))
    for frame in (0, 1, 2):
        bound.apply(frame)
        assert stage.GetSessionLayer().subLayerPaths == [frame_layer(bound).identifier]
        assert frame_layer(bound).anonymous
        assert not stage.GetRootLayer().dirty
        assert stage.GetEditTarget().GetLayer() == stage.GetRootLayer()
    assert state(stage) != scene
    bound.restore()
    assert stage.GetSessionLayer().subLayerPaths == []
    assert state(stage) == scene
    assert stage.GetRootLayer().ExportToString() == root_text
    assert hashlib.sha256(sample_scene.read_bytes()).hexdigest() == before
    bound.apply(1)  # usable again after restore
    assert state(stage) != scene


def test_pose_relative_to_a_prim_and_at_a_bottom_corner():
    stage = yard()
    bound = engine(stage, EVERYTHING, seed=2)
    for frame in range(10):
        record = bound.apply(frame)
        truck, pallet = np.array(world(stage, "/World/Truck")), np.array(world(stage, "/World/Pallet"))
        ahead = (pallet[3, :3] - truck[3, :3]) @ truck[0, :3]
        assert 3.5 <= ahead < 4.5
        assert abs((pallet[3, :3] - truck[3, :3]) @ truck[1, :3]) < 1e-9  # straight ahead
        assert np.allclose(pallet[:3, :3], truck[:3, :3])  # turned like the truck
        assert record.randomizers[1].values["position"][0] == pytest.approx(pallet[3, :3])
        box = prim_box(stage.GetPrimAtPath("/World/Truck"), UsdGeom.XformCache(), Usd.TimeCode.Default())
        assert (
            box is not None
            and box.min(axis=0) == pytest.approx([-2, -1, 0])
            and box.max(axis=0) == pytest.approx([2, 1, 2])
        )
        center = box.mean(axis=0)
        corners = homogeneous(center + (box - center) * [1.2, 1.2, 1.0], truck)
        bottom = corners[np.argsort(corners[:, 2], kind="stable")[:4]]
        cone = np.array(world(stage, "/World/Cone"))[3, :3]
        assert np.isclose(np.linalg.norm(bottom - cone, axis=1), 0.0, atol=1e-9).sum() == 1
        assert cone[2] == pytest.approx(0.0, abs=1e-9)


def test_settle_rests_prims_on_what_is_below():
    stage = yard()
    stack = """\
randomizers:
  - type: pose
    select: /World/Pallet
    position: [0, 0, 3]
    settle: true
  - type: pose
    select: {regex: "Box_0[0-2]"}
    position: {uniform: [[-0.02, -0.02, 2], [0.02, 0.02, 6]]}
    rotation: {yaw: {uniform: [0, 90]}}
    settle: true
"""
    bound = engine(stage, stack)
    record = bound.apply(0)
    assert world(stage, "/World/Pallet").ExtractTranslation()[2] == pytest.approx(0.0, abs=1e-6)
    assert record.randomizers[0].values["settle_drop"][0] == pytest.approx(3.0, abs=1e-6)
    heights = sorted(world(stage, f"/World/Boxes/Box_0{i}").ExtractTranslation()[2] for i in range(3))
    # the boxes (0.2 high, centered on their origin) stack on the 0.15 deck, each on the one below
    assert heights == pytest.approx([0.25, 0.45, 0.65], abs=1e-6)


def test_camera_looks_at_its_target_from_its_orbit():
    stage = yard()
    bound = engine(stage, EVERYTHING, seed=5)
    for frame in range(5):
        values = bound.apply(frame).randomizers[4].values
        camera = np.array(world(stage, "/World/Cameras/Side"))
        target = np.asarray(values["target"])
        view = target - camera[3, :3]
        assert np.linalg.norm(view) == pytest.approx(values["distance"][0])
        assert -camera[2, :3] @ view / np.linalg.norm(view) == pytest.approx(1.0)
        assert camera[0, :3] @ [0, 0, 1] == pytest.approx(0.0, abs=1e-9)  # level horizon
        focal = UsdGeom.Camera(stage.GetPrimAtPath("/World/Cameras/Side")).GetFocalLengthAttr().Get()
        assert focal in (18.0, 24.0, 35.0) and focal == values["focal_length"][0]


def gf_jittered(base: Gf.Matrix4d, offset) -> Gf.Matrix4d:
    """The camera jitter computed independently with Gf: ``base`` turned about its own origin by (rx, ry, rz)
    degrees (X, then Y, then Z) and moved by (dx, dy, dz) parent units."""
    dx, dy, dz, rx, ry, rz = (float(v) for v in offset)
    turn = Gf.Rotation(Gf.Vec3d(1, 0, 0), rx) * Gf.Rotation(Gf.Vec3d(0, 1, 0), ry) * Gf.Rotation(Gf.Vec3d(0, 0, 1), rz)
    out = Gf.Matrix4d().SetRotate(turn) * base
    out.SetTranslateOnly(base.ExtractTranslation() + Gf.Vec3d(dx, dy, dz))
    return out


def test_the_recorders_camera_jitter_is_a_camera_randomizer():
    stage = yard()
    cameras = ["/World/Cameras/Top", "/World/Cameras/Side"]
    base = {p: UsdGeom.Xformable(stage.GetPrimAtPath(p)).GetLocalTransformation() for p in cameras}
    bound = RandomizationEngine(stage, camera_jitter_scenario(CameraJitter(0.15, 2.0), cameras), seed=7)
    for frame in range(4):
        record = bound.apply(frame).randomizers[0]
        offsets = record.values["jitter"]
        assert np.abs(offsets[:, :3]).max() <= 0.15 and np.abs(offsets[:, 3:]).max() <= 2.0
        for path, offset in zip(record.prims, offsets, strict=True):
            got = UsdGeom.Xformable(stage.GetPrimAtPath(path)).GetLocalTransformation()
            assert np.allclose(np.array(got), np.array(gf_jittered(base[path], offset)), atol=1e-12)
    assert camera_jitter_scenario(CameraJitter(0.0, 0.0), cameras).randomizers == ()


def test_color_material_light_and_visibility():
    stage = yard()
    body = """\
randomizers:
  - type: material
    select: /World/Truck
    materials: {sequence: [/World/Looks/Red, /World/Looks/Blue]}
  - type: color
    select: /World/Truck
    rgb: [0.1, 0.2, 0.3]
  - type: light
    select: /World/Lights/Sun
    intensity: {uniform: [10, 20]}
    temperature: 4000
    direction: {elevation: 90}
  - type: light
    select: /World/Lights/Dome
    dome_rotation: 90
  - type: visibility
    select: {glob: "Box_*"}
    p: 0.0
"""
    bound = engine(stage, body)
    body_prim = stage.GetPrimAtPath("/World/Truck/Body")
    for frame, material in ((0, "/World/Looks/Red"), (1, "/World/Looks/Blue"), (2, "/World/Looks/Red")):
        bound.apply(frame)
        bound_material = UsdShade.MaterialBindingAPI(body_prim).ComputeBoundMaterial()[0]
        assert str(bound_material.GetPath()) == material
        shader = UsdShade.Shader(stage.GetPrimAtPath(f"{material}/Surface"))
        assert shader.GetInput("diffuseColor").Get() == Gf.Vec3f(0.1, 0.2, 0.3)
        assert list(UsdGeom.Gprim(body_prim).GetDisplayColorAttr().Get()) == [Gf.Vec3f(0.1, 0.2, 0.3)]
    sun = UsdLux.DistantLight(stage.GetPrimAtPath("/World/Lights/Sun"))
    assert 10 <= sun.GetIntensityAttr().Get() < 20
    assert sun.GetEnableColorTemperatureAttr().Get() and sun.GetColorTemperatureAttr().Get() == 4000
    shines = np.array(world(stage, "/World/Lights/Sun"))[2, :3]  # local +Z: toward the light
    assert shines == pytest.approx([0, 0, 1], abs=1e-9)
    dome = np.array(world(stage, "/World/Lights/Dome"))
    assert dome[0, :3] == pytest.approx([0, 1, 0], abs=1e-9)
    for i in range(4):
        box = UsdGeom.Imageable(stage.GetPrimAtPath(f"/World/Boxes/Box_{i:02d}"))
        assert box.ComputeVisibility() == UsdGeom.Tokens.invisible
    bound.restore()
    assert UsdShade.MaterialBindingAPI(body_prim).ComputeBoundMaterial()[0].GetPath() == Sdf.Path.emptyPath


def test_spawn_adds_labelled_references_for_the_frame_only(tmp_path):
    for name, size in (("crate", 0.5), ("barrel", 0.3)):
        asset = Usd.Stage.CreateNew(str(tmp_path / f"{name}.usda"))
        root = UsdGeom.Xform.Define(asset, "/Root")
        asset.SetDefaultPrim(root.GetPrim())
        cube = UsdGeom.Cube.Define(asset, "/Root/Shape")
        cube.CreateSizeAttr(size)
        cube.AddTranslateOp().Set(Gf.Vec3d(0, 0, size / 2))
        asset.Save()
    stage = yard()
    text = f"""\
randomizers:
  - type: spawn
    assets: {{glob: "{tmp_path.as_posix()}/*.usda"}}
    count: {{uniform_int: [2, 6]}}
    labels: {{class: "{{asset_stem}}"}}
    placement: {{type: scatter, surface: /World/Ground}}
"""
    bound = engine(stage, text, seed=1)
    counts = []
    for frame in range(6):
        record = bound.apply(frame).randomizers[0]
        spawned = [stage.GetPrimAtPath(p) for p in record.prims]
        counts.append(len(spawned))
        parent = stage.GetPrimAtPath("/World/Spawned_0")
        assert [c.GetName() for c in parent.GetChildren()] == [f"Spawned_{i:03d}" for i in range(len(spawned))]
        for prim, asset in zip(spawned, record.values["asset"], strict=True):
            assert prim.GetChild("Shape")
            labels = UsdSemantics.LabelsAPI(prim, "class").GetLabelsAttr().Get()
            assert list(labels) == [asset.rsplit("/", 1)[-1].removesuffix(".usda")]
        assert record.values["placed"].all()
    assert len(set(counts)) > 1 and all(2 <= c <= 6 for c in counts)
    bound.restore()
    assert not stage.GetPrimAtPath("/World/Spawned_0")


def test_y_up_stage_uses_y_as_up():
    stage = Usd.Stage.CreateInMemory()
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.y)
    floor = UsdGeom.Cube.Define(stage, "/Floor")
    floor.AddScaleOp().Set(Gf.Vec3f(10, 0.5, 10))
    floor.CreateExtentAttr([(-1, -1, -1), (1, 1, 1)])
    thing = UsdGeom.Cube.Define(stage, "/Thing")
    thing.CreateExtentAttr([(-1, -1, -1), (1, 1, 1)])
    body = "randomizers:\n  - {type: pose, select: /Thing, position: [1, 7, 2], rotation: {yaw: 90}, settle: true}\n"
    engine(stage, body).apply(0)
    placed = world(stage, "/Thing")
    assert placed.ExtractTranslation() == Gf.Vec3d(1, 1.5, 2)  # rests on the floor top (y = 0.5)
    assert np.array(placed)[0, :3] == pytest.approx([0, 0, -1], abs=1e-9)  # yaw turns about +Y


def test_sample_scenario_runs_on_the_sample_scene(sample_scene):
    stage = open_stage(sample_scene)
    bound = RandomizationEngine(stage, load_scenario(SAMPLE))
    assert bound.warnings == []
    scattered = 0
    for frame in range(10):
        record = bound.apply(frame)
        scattered += int(record.randomizers[2].values["placed"].sum())
        assert all(not r.notes for r in record.randomizers if r.type != "scatter")
    assert scattered == 50
