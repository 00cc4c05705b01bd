"""Stages and camera motion shared by the render benchmarks (not run by pytest).

* ``warehouse``: the sample scene (three cameras);
* ``clutter``: 1,000 labeled implicit prims (cubes, spheres, cylinders, cones, capsules) packed on a
  floor, every one in view of its camera, many partly hidden;
* ``generated``: ~100 labeled sphere meshes of ~5k triangles each (~500k triangles) on a floor.

:func:`camera_mover` moves a camera a few centimeters and up to a degree every call, as a recording
with camera jitter does, so no frame reuses the previous cast.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from pxr import Gf, Usd, UsdGeom, UsdLux, UsdSemantics, Vt

from omni.sdg_studio.core.stage_io import open_stage
from omni.sdg_studio.resources import SAMPLE_SCENE

WAREHOUSE_CAMERAS = ("/World/Cameras/TopCam", "/World/Cameras/DriverCam", "/World/Cameras/PalletCam")


def _camera(stage: Usd.Stage, path: str, position: tuple[float, float, float], rotation: tuple[float, float, float]):
    camera = UsdGeom.Camera.Define(stage, path)
    camera.CreateFocalLengthAttr(18.0)
    camera.CreateHorizontalApertureAttr(20.955)
    camera.CreateVerticalApertureAttr(20.955)
    camera.CreateClippingRangeAttr(Gf.Vec2f(0.01, 1000))
    camera.AddTranslateOp().Set(Gf.Vec3d(*position))
    camera.AddRotateXYZOp().Set(Gf.Vec3f(*rotation))


def clutter_stage(objects: int = 1000, seed: int = 3) -> Usd.Stage:
    """``objects`` labeled prims on a grid with random sizes, poses and colors, a camera seeing them all."""
    stage = Usd.Stage.CreateInMemory()
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    UsdGeom.Xform.Define(stage, "/World")
    rng = np.random.default_rng(seed)
    kinds = ("Cube", "Sphere", "Cylinder", "Cone", "Capsule")
    side = int(np.ceil(np.sqrt(objects)))
    for n in range(objects):
        kind = kinds[n % len(kinds)]
        prim = stage.DefinePrim(f"/World/Clutter/Obj_{n:04d}", kind)
        xformable = UsdGeom.Xformable(prim)
        i, j = divmod(n, side)
        x, y = (i - side / 2) * 0.35 + rng.uniform(-0.1, 0.1), (j - side / 2) * 0.35 + rng.uniform(-0.1, 0.1)
        xformable.AddTranslateOp().Set(Gf.Vec3d(x, y, rng.uniform(0.1, 0.5)))
        xformable.AddRotateXYZOp().Set(Gf.Vec3f(*rng.uniform(0, 360, 3)))
        xformable.AddScaleOp().Set(Gf.Vec3f(*rng.uniform(0.08, 0.2, 3)))
        UsdGeom.Gprim(prim).CreateDisplayColorAttr([Gf.Vec3f(*rng.uniform(0.2, 0.9, 3))])
        UsdSemantics.LabelsAPI.Apply(prim, "class").CreateLabelsAttr([kind.lower()])
    floor = UsdGeom.Cube.Define(stage, "/World/Floor")
    floor.AddTranslateOp().Set(Gf.Vec3d(0, 0, -0.05))
    floor.AddScaleOp().Set(Gf.Vec3f(8, 8, 0.05))
    _camera(stage, "/World/Camera", (0, -9.0, 7.0), (50, 0, 0))
    UsdLux.DistantLight.Define(stage, "/World/Sun").AddRotateXYZOp().Set(Gf.Vec3f(30, 20, 0))
    UsdLux.DomeLight.Define(stage, "/World/Dome")
    return stage


def _uv_sphere(rings: int, segments: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit UV sphere of quads (triangle fans at the poles) as USD mesh arrays."""
    theta = np.linspace(0, 2 * np.pi, segments, endpoint=False)
    phi = np.linspace(-np.pi / 2, np.pi / 2, rings + 1)[1:-1]
    ring = np.stack(
        [np.cos(phi)[:, None] * np.cos(theta), np.cos(phi)[:, None] * np.sin(theta), np.sin(phi)[:, None] + 0 * theta],
        axis=-1,
    ).reshape(-1, 3)
    points = np.concatenate([ring, [[0, 0, -1], [0, 0, 1]]])
    south, north = len(ring), len(ring) + 1
    k, i = np.meshgrid(np.arange(rings - 2), np.arange(segments), indexing="ij")
    a, b = (k * segments + i).ravel(), (k * segments + (i + 1) % segments).ravel()
    quads = np.stack([a, b, b + segments, a + segments], axis=1).ravel()
    i = np.arange(segments)
    top = (rings - 2) * segments
    fans = np.concatenate(
        [
            np.stack([np.full(segments, south), (i + 1) % segments, i], axis=1).ravel(),
            np.stack([np.full(segments, north), top + i, top + (i + 1) % segments], axis=1).ravel(),
        ]
    )
    counts = np.concatenate([np.full(len(quads) // 4, 4), np.full(2 * segments, 3)])
    return points, counts, np.concatenate([quads, fans])


def generated_stage(prims: int = 100, triangles: int = 500_000) -> Usd.Stage:
    """~``prims`` labeled sphere meshes (~``triangles`` in all) on a floor, a camera looking at them."""
    stage = Usd.Stage.CreateInMemory()
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    UsdGeom.Xform.Define(stage, "/World")
    side = int(np.sqrt(triangles / prims / 2))
    points, counts, indices = _uv_sphere(side, side)
    rng = np.random.default_rng(7)
    classes = ("ball", "fruit", "buoy", "lamp", "planet")
    for n in range(prims):
        mesh = UsdGeom.Mesh.Define(stage, f"/World/Obj_{n:03d}")
        mesh.CreatePointsAttr(Vt.Vec3fArray.FromNumpy(points.astype(np.float32)))
        mesh.CreateFaceVertexCountsAttr(Vt.IntArray.FromNumpy(counts.astype(np.int32)))
        mesh.CreateFaceVertexIndicesAttr(Vt.IntArray.FromNumpy(indices.astype(np.int32)))
        x, y = (n % 10) * 1.2 - 5.4, (n // 10) * 1.2
        mesh.AddTranslateOp().Set(Gf.Vec3d(x + rng.uniform(-0.2, 0.2), y, 0.5))
        mesh.AddScaleOp().Set(Gf.Vec3f(*(rng.uniform(0.3, 0.55, 3))))
        mesh.CreateDisplayColorAttr([Gf.Vec3f(*rng.uniform(0.2, 0.9, 3))])
        UsdSemantics.LabelsAPI.Apply(mesh.GetPrim(), "class").CreateLabelsAttr([classes[n % len(classes)]])
    floor = UsdGeom.Cube.Define(stage, "/World/Floor")
    floor.AddTranslateOp().Set(Gf.Vec3d(0, 5, -0.05))
    floor.AddScaleOp().Set(Gf.Vec3f(10, 10, 0.05))
    camera = UsdGeom.Camera.Define(stage, "/World/Camera")
    camera.CreateFocalLengthAttr(18.0)
    camera.CreateHorizontalApertureAttr(20.955)
    camera.CreateClippingRangeAttr(Gf.Vec2f(0.01, 1000))
    camera.AddTranslateOp().Set(Gf.Vec3d(0, -6.5, 4.0))
    camera.AddRotateXYZOp().Set(Gf.Vec3f(62, 0, 0))
    return stage


def scene(name: str) -> tuple[Usd.Stage, tuple[str, ...]]:
    """The stage called ``name`` and its cameras."""
    if name == "warehouse":
        return open_stage(SAMPLE_SCENE), WAREHOUSE_CAMERAS
    if name == "clutter":
        return clutter_stage(), ("/World/Camera",)
    if name == "generated":
        return generated_stage(), ("/World/Camera",)
    raise ValueError(f"unknown scene {name!r}: warehouse, clutter or generated")


def camera_mover(stage: Usd.Stage, camera: str, rng: np.random.Generator) -> Callable[[], None]:
    """A function moving ``camera`` by up to 3 cm and 1 degree from its pose, anew each call."""
    xformable = UsdGeom.Xformable(stage.GetPrimAtPath(camera))
    base = xformable.GetLocalTransformation()
    xformable.ClearXformOpOrder()
    op = xformable.AddTransformOp(opSuffix="benchMotion")

    def move() -> None:
        dx, dy, dz = rng.uniform(-0.03, 0.03, 3)
        rx, ry = rng.uniform(-1.0, 1.0, 2)
        turn = Gf.Matrix4d().SetRotate(Gf.Rotation(Gf.Vec3d(1, 0, 0), rx) * Gf.Rotation(Gf.Vec3d(0, 1, 0), ry))
        op.Set(turn * base * Gf.Matrix4d().SetTranslate(Gf.Vec3d(dx, dy, dz)))

    return move


def object_mover(stage: Usd.Stage, count: int, rng: np.random.Generator) -> Callable[[], None]:
    """A function moving ``count`` labeled prims (in turn) by up to 5 cm, authored in an anonymous sublayer
    of the session layer as a randomizer does."""
    from pxr import Sdf

    from omni.sdg_studio.core.semantics.schema import direct_labels

    prims = [p for p in stage.Traverse() if UsdGeom.Xformable(p) and direct_labels(p)]
    bases = {p.GetPath(): UsdGeom.Xformable(p).GetLocalTransformation() for p in prims}
    layer = Sdf.Layer.CreateAnonymous("bench_objects")
    stage.GetSessionLayer().subLayerPaths.insert(0, layer.identifier)
    turn = [0]

    def move() -> None:
        with Usd.EditContext(stage, Usd.EditTarget(layer)), Sdf.ChangeBlock():
            for k in range(count):
                prim = prims[(turn[0] + k) % len(prims)]
                offset = Gf.Matrix4d().SetTranslate(Gf.Vec3d(*rng.uniform(-0.05, 0.05, 3)))
                UsdGeom.Xformable(prim).MakeMatrixXform().Set(bases[prim.GetPath()] * offset)
        turn[0] += count

    return move
