"""Embedded backend speed: ms per frame for the 8 main annotators, split into cast and post-processing.

Scenes: the sample warehouse (DriverCam) and a generated scene of ~100 labeled mesh prims with
~500k triangles. For each scene and resolution (512², 1024²) it prints, as the minimum (or, with
``--median``, the median) over jittered camera poses, so no frame reuses the previous cast:

* ``floor``: the raw Embree cast of the same primary rays (``EmbreeScene.run`` on prepared arrays,
  split over the same threads) -- the physical floor of this approach;
* ``embree frame``: a full ``EmbeddedBackend.render`` of the 8 annotators, split into the primary
  cast and everything else (post-processing, including the per-object "rendered alone" casts that
  occlusion ratios need);
* ``numpy frame``: the same render with the numpy rasterizer;
* ratios to the floor and to the rasterizer, and Python heap peaks (tracemalloc) per frame.

Targets (issue 4): at 512² all 8 annotators in <= 100 ms, post-processing <= 1.5x the cast.
Run: ``python benchmarks/render_bench.py [--frames N] [--quick]``. Not run by pytest.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time
import tracemalloc
from collections.abc import Callable

import numpy as np
from pxr import Gf, Usd, UsdGeom, UsdSemantics, Vt
from rich.console import Console
from rich.table import Table

from omni.sdg_studio.backends.embedded import EmbeddedBackend
from omni.sdg_studio.backends.embedded.camera import read_camera
from omni.sdg_studio.backends.embedded.engines import RasterEngine
from omni.sdg_studio.backends.embedded.engines.embree import EmbreeEngine
from omni.sdg_studio.core.stage_io import open_stage
from omni.sdg_studio.resources import SAMPLE_SCENE

MAIN_ANNOTATORS = (
    "rgb",
    "distance_to_camera",
    "distance_to_image_plane",
    "semantic_segmentation",
    "instance_segmentation",
    "bounding_box_2d_tight",
    "bounding_box_3d",
    "normals",
)
console = Console(width=200)


class TimedEngine:
    """Wraps an engine; accumulates seconds spent in primary casts and in per-object casts."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name = inner.name
        self.primary = 0.0
        self.objects = 0.0

    def load(self, meshes) -> None:
        self.inner.load(meshes)

    def cast(self, camera, pixels=None, only=None):
        start = time.perf_counter()
        hits = self.inner.cast(camera, pixels, only)
        elapsed = time.perf_counter() - start
        if pixels is None and only is None:
            self.primary += elapsed
        else:
            self.objects += elapsed
        return hits

    def covers(self, camera, groups, group_of_ray, pixels):
        start = time.perf_counter()
        found = self.inner.covers(camera, groups, group_of_ray, pixels)
        self.objects += time.perf_counter() - start
        return found


def uv_sphere(rings: int, segments: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
    points, counts, indices = uv_sphere(side, side)
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


def jitter(stage: Usd.Stage, camera: str, rng: np.random.Generator) -> Callable[[], None]:
    """A function moving the camera by a few centimeters each call (as the recorder does)."""
    xformable = UsdGeom.Xformable(stage.GetPrimAtPath(camera))
    base = xformable.GetLocalTransformation()
    op = xformable.AddTransformOp(opSuffix="benchJitter") if not xformable.GetOrderedXformOps() else None

    def move() -> None:
        offset = Gf.Matrix4d().SetTranslate(Gf.Vec3d(*rng.uniform(-0.03, 0.03, 3)))
        if op is not None:
            op.Set(base * offset)
        else:
            xformable.ClearXformOpOrder()
            xformable.AddTransformOp(opSuffix="benchJitter").Set(base * offset)

    return move


def floor_timer(stage: Usd.Stage, camera: str, size: tuple[int, int], engine: EmbreeEngine) -> Callable[[], float]:
    """A function timing one bare Embree cast of the camera's primary rays (arrays prepared beforehand)."""
    cam = read_camera(stage, camera, size, Usd.TimeCode.Default())
    scene = engine._scene(None).scene
    dirs, cos = cam.world_rays()
    start = (cam.near / cos).astype(np.float32)
    origins = np.ascontiguousarray(cam.position.astype(np.float32) + dirs * start[:, None])
    dirs = np.ascontiguousarray(dirs)
    limit = (cam.far / cos - start).astype(np.float32)
    count, threads = len(dirs), engine.threads
    step = -(-count // threads)
    bounds = [(lo, min(lo + step, count)) for lo in range(0, count, step)]

    def run(lo: int, hi: int, limits: np.ndarray) -> None:
        scene.run(origins[lo:hi], dirs[lo:hi], dists=limits, output=1)

    def timed() -> float:
        chunks = [limit[lo:hi].copy() for lo, hi in bounds]
        t0 = time.perf_counter()
        if engine._pool is None or threads == 1:
            run(0, count, chunks[0])
        else:
            list(engine._pool.map(lambda b: run(b[0][0], b[0][1], b[1]), zip(bounds, chunks, strict=True)))
        return time.perf_counter() - t0

    return timed


def measure(
    stage, camera, size, engine, frames, floor: Callable[[], float] | None = None, pick: Callable = min
) -> dict[str, float]:
    """``pick`` (min or median) over ``frames`` jittered frames: frame / cast / object-cast seconds, heap peak.

    With ``floor``, the bare cast is timed right before every frame (interleaved, so load changes on a
    shared machine hit both alike).
    """
    timed = TimedEngine(engine)
    backend = EmbeddedBackend(stage, engine=timed)
    move = jitter(stage, camera, np.random.default_rng(1))
    backend.render(camera, size, MAIN_ANNOTATORS)  # warm-up: extraction, BVH build, caches
    totals, primaries, objects, peaks, floors = [], [], [], [], []
    for _ in range(frames):
        move()
        if floor is not None:
            floors.append(floor())
        timed.primary = timed.objects = 0.0
        tracemalloc.start()
        t0 = time.perf_counter()
        backend.render(camera, size, MAIN_ANNOTATORS)
        totals.append(time.perf_counter() - t0)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        primaries.append(timed.primary)
        objects.append(timed.objects)
    backend.close()
    return {
        "frame": pick(totals),
        "cast": pick(primaries),
        "objects": pick(objects),
        "post": pick([t - p for t, p in zip(totals, primaries, strict=True)]),
        "floor": pick(floors) if floors else float("nan"),
        "peak_mb": max(peaks) / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=7, help="timed frames per configuration")
    parser.add_argument("--quick", action="store_true", help="512² only, 3 frames")
    parser.add_argument("--median", action="store_true", help="report medians instead of minimums")
    args = parser.parse_args()
    statistic = "median" if args.median else "min"
    pick = statistics.median if args.median else min
    frames = 3 if args.quick else args.frames
    sizes = [(512, 512)] if args.quick else [(512, 512), (1024, 1024)]
    console.print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    t0 = time.perf_counter()
    scenes = [
        ("warehouse", open_stage(SAMPLE_SCENE), "/World/Cameras/DriverCam"),
        ("generated", generated_stage(), "/World/Camera"),
    ]
    console.print(f"scenes ready in {time.perf_counter() - t0:.1f} s")
    table = Table(
        "scene",
        "size",
        "tris",
        "floor ms",
        "embree frame ms",
        "cast ms",
        "post ms",
        "(obj casts)",
        "frame/floor",
        "post/cast",
        "numpy frame ms",
        "embree/numpy",
        "heap MB",
        title=f"8 main annotators per frame ({statistic} over jittered frames)",
    )
    verdicts = []
    for name, stage, camera in scenes:
        for size in sizes:
            embree = EmbreeEngine()
            warm = EmbeddedBackend(stage, engine=embree)
            warm.render(camera, size, ["distance_to_camera"])  # builds the scene the floor timer casts into
            warm.close()
            em = measure(stage, camera, size, embree, frames, floor_timer(stage, camera, size, embree), pick)
            floor = em["floor"]
            nu = measure(stage, camera, size, RasterEngine(), max(2, frames // 2), pick=pick)
            tris = int(embree._scene(None).index.size and sum(len(m.triangles) for m in embree._meshes))
            table.add_row(
                name,
                f"{size[0]}²",
                f"{tris:,}",
                f"{floor * 1e3:.1f}",
                f"{em['frame'] * 1e3:.1f}",
                f"{em['cast'] * 1e3:.1f}",
                f"{em['post'] * 1e3:.1f}",
                f"{em['objects'] * 1e3:.1f}",
                f"{em['frame'] / floor:.2f}",
                f"{em['post'] / em['cast']:.2f}",
                f"{nu['frame'] * 1e3:.1f}",
                f"{em['frame'] / nu['frame']:.2f}",
                f"{em['peak_mb']:.0f}",
            )
            if size == (512, 512):
                ok = em["frame"] <= 0.100 and em["post"] <= 1.5 * em["cast"]
                verdicts.append(
                    f"{name} 512²: frame {em['frame'] * 1e3:.0f} ms (target <= 100), "
                    f"post/cast {em['post'] / em['cast']:.2f} (target <= 1.5): {'PASS' if ok else 'MISS'}"
                )
    console.print(table)
    for line in verdicts:
        console.print(line)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    console.print(f"threads: {EmbreeEngine().threads}; process peak RSS {peak:.0f} MB")
    console.print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
