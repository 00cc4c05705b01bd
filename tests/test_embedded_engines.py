"""Ray engines across moves and the coverage of labeled objects: an engine that only rewrites the vertices
of moved meshes answers as one loaded afresh, ``meets`` is what rendering a group alone finds, and
occlusion statistics of a cluttered scene (boxes crossing the near plane, nested labels) equal brute-force
renders of every object alone."""

from __future__ import annotations

import numpy as np
import pytest
from embedded_stages import add_camera, label_prim, new_stage
from pxr import Gf, Usd, UsdGeom

from omni.sdg_studio.backends.embedded import EmbeddedBackend, tessellate
from omni.sdg_studio.backends.embedded.camera import read_camera
from omni.sdg_studio.backends.embedded.engines import WorldMesh, make_engine
from omni.sdg_studio.backends.embedded.frame import FrameData
from omni.sdg_studio.backends.embedded.lighting import Lighting
from omni.sdg_studio.backends.embedded.vectors import transform3
from omni.sdg_studio.backends.embedded.world import transform_many

ENGINES = ["embree", "numpy"]
CAMERA = "/World/Camera"
SIZE = (64, 48)


def _pose(rng: np.random.Generator) -> np.ndarray:
    """A random rigid transform (row-vector convention) placing a unit shape 2 to 8 m before the camera."""
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    matrix = np.eye(4)
    matrix[:3, :3] = q * rng.uniform(0.3, 0.8)
    matrix[3, :3] = [rng.uniform(-2, 2), rng.uniform(-1.5, 1.5), rng.uniform(-8, -2)]
    return matrix


def _placed(points: np.ndarray, triangles: np.ndarray, matrix: np.ndarray) -> WorldMesh:
    return WorldMesh(transform3(points, matrix[:3, :3], matrix[3, :3]).astype(np.float32), triangles)


@pytest.fixture
def camera():
    stage = new_stage()
    add_camera(stage)
    return read_camera(stage, CAMERA, SIZE, Usd.TimeCode.Default())


def test_many_transforms_at_once_equal_one_at_a_time():
    rng = np.random.default_rng(4)
    points = rng.normal(size=(50, 3)) * 10
    matrices = np.stack([_pose(rng) for _ in range(7)])
    together = transform_many(points, matrices)
    for k, matrix in enumerate(matrices):
        assert together[k].tobytes() == transform3(points, matrix[:3, :3], matrix[3, :3]).tobytes()


@pytest.mark.parametrize("engine_name", ENGINES)
def test_moving_meshes_answers_as_a_fresh_load(camera, engine_name):
    rng = np.random.default_rng(1)
    points, triangles = tessellate.cube(1.0)
    first = [_placed(points, triangles, _pose(rng)) for _ in range(12)]
    moved = list(first)
    for k in (2, 5, 11):
        moved[k] = _placed(points, triangles, _pose(rng))
    engine = make_engine(engine_name)
    engine.load(first)
    before = getattr(engine, "_loaded", None)
    engine.load(moved)
    if engine_name == "embree":
        assert getattr(engine, "_loaded") is before  # noqa: B009 - vertices rewritten in place, nothing made again
    fresh = make_engine(engine_name)
    fresh.load(moved)
    for only in (None, [5], [0, 11]):
        ours, theirs = engine.cast(camera, only=only), fresh.cast(camera, only=only)
        assert (ours.geometry >= 0).any()
        for name in ("distance", "geometry", "triangle"):
            assert getattr(ours, name).tobytes() == getattr(theirs, name).tobytes()


@pytest.mark.parametrize("engine_name", ENGINES)
def test_meets_is_rendering_the_group_alone(camera, engine_name):
    rng = np.random.default_rng(2)
    points, triangles = tessellate.sphere(1.0)
    engine = make_engine(engine_name)
    engine.load([_placed(points, triangles, _pose(rng)) for _ in range(10)])
    groups = [np.array([0]), np.array([1, 4, 7]), np.array([2, 3]), np.arange(10)]
    pixels = np.arange(SIZE[0] * SIZE[1])
    group = np.repeat(np.arange(len(groups)), len(pixels))
    met = engine.meets(camera, np.tile(pixels, len(groups)), group, groups)
    for k, members in enumerate(groups):
        alone = engine.cast(camera, only=members.tolist()).geometry >= 0
        assert alone.any()
        assert np.array_equal(met[group == k], alone)


def _no_lighting() -> Lighting:
    raise AssertionError("object statistics need no lighting")


def clutter_stage(count: int = 30, seed: int = 5) -> Usd.Stage:
    """Labeled cubes, spheres and cones at random poses, some crossing the camera's near plane, and a
    labeled parent holding two labeled children."""
    stage = new_stage()
    camera = add_camera(stage)
    camera.GetClippingRangeAttr().Set(Gf.Vec2f(0.5, 1000.0))
    rng = np.random.default_rng(seed)
    kinds = ("Cube", "Sphere", "Cone")
    for n in range(count):
        prim = stage.DefinePrim(f"/World/Obj_{n:02d}", kinds[n % 3])
        xformable = UsdGeom.Xformable(prim)
        side, depth = (0.35, rng.uniform(-0.9, -0.4)) if n < 2 else (1.5, rng.uniform(-7, -1.5))
        xformable.AddTranslateOp().Set(Gf.Vec3d(rng.uniform(-side, side), rng.uniform(-side, side) / 1.5, depth))
        xformable.AddRotateXYZOp().Set(Gf.Vec3f(*rng.uniform(0, 360, 3)))
        xformable.AddScaleOp().Set(Gf.Vec3f(*rng.uniform(0.2, 0.6, 3)))
        label_prim(prim, kinds[n % 3].lower())
    parent = UsdGeom.Xform.Define(stage, "/World/Cart")
    parent.AddTranslateOp().Set(Gf.Vec3d(0.3, -0.2, -4.0))
    label_prim(parent.GetPrim(), "cart")
    for k, x in enumerate((-0.4, 0.4)):
        wheel = UsdGeom.Cylinder.Define(stage, f"/World/Cart/Wheel_{k}")
        wheel.AddTranslateOp().Set(Gf.Vec3d(x, 0, 0))
        label_prim(wheel.GetPrim(), "wheel")
    UsdGeom.Cube.Define(stage, "/World/Cart/Body").AddScaleOp().Set(Gf.Vec3f(0.6, 0.3, 0.2))
    return stage


@pytest.mark.parametrize("engine_name", ENGINES)
def test_occlusion_of_clutter_matches_brute_force_alone_renders(engine_name):
    stage = clutter_stage()
    backend = EmbeddedBackend(stage, engine=engine_name)
    state = backend._sync(Usd.TimeCode.Default())
    tables = backend._label_tables(state, ("class",))
    camera = read_camera(stage, CAMERA, SIZE, Usd.TimeCode.Default())
    frame = FrameData(camera, backend._cast(camera, state), state, tables, _no_lighting, False, backend.workers)
    stats = frame.object_stats
    hidden = 0
    for index, obj in enumerate(tables.objects):
        alone = backend.engine.cast(camera, only=obj.geometries).geometry >= 0
        assert stats.covered[index] == alone.sum(), obj.path
        hidden += stats.covered[index] > stats.visible[index]
        if alone.any():
            rows, cols = np.nonzero(alone.reshape(SIZE[1], SIZE[0]))
            assert list(stats.loose[index]) == [cols.min(), rows.min(), cols.max(), rows.max()], obj.path
    assert hidden >= 5  # the scene does hide objects behind others
    near = [i for i, o in enumerate(tables.objects) if o.path in ("/World/Obj_00", "/World/Obj_01")]
    assert any(stats.covered[i] for i in near)  # and cuts some at the near plane
    backend.close()
