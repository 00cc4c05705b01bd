"""Embedded backend speed per frame, with the camera moving every frame: rgb only vs the 8 main annotators.

For each scene camera (the warehouse's three, the 1,000-object clutter scene, ~500k generated
triangles) and resolution (512², 1024²), a fresh process renders, after a warm-up, ``--frames``
frames of ``rgb`` alone and of the 8 main annotators, in turn, moving the camera before every frame,
and times before every frame the bare Embree cast of the same primary rays (embreex's ``run`` on
prepared arrays, split over the same threads: the floor of this approach). Medians are printed:

* ``cast``: the bare cast; ``rgb`` and ``full``: whole ``EmbeddedBackend.render`` calls;
* ``full/rgb``: target <= 2 on every camera and the clutter scene;
* ``post/cast``: (full - cast) / cast, everything that is not the primary cast; target <= 1.5;
* ``CPU ...``: the same ratios of the process's CPU time (all its threads: with ``--threads 1``, the
  single-thread cost, which the machine's load disturbs less than wall time);
* ``RSS MB``: the process's peak resident memory (stage, scene, engine and frames included).

With ``--baseline DIR`` (a checkout of another version, e.g. ``git archive main | tar -x -C DIR``)
every configuration is also measured with that version's package, in alternating processes, and
``before`` / ``speed-up`` columns compare the full frames.

Run: ``python benchmarks/render_bench.py [--frames 7] [--sizes 512,1024] [--scenes warehouse,clutter]
[--threads N] [--baseline DIR]``. Not run by pytest; timings on a shared machine are noisy (medians).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
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
SCENES = ("warehouse", "clutter", "generated")


def _floor_timer(stage, camera: str, size: tuple[int, int], threads: int):
    """A function timing one bare Embree cast of the camera's primary rays over ``threads`` threads."""
    from concurrent.futures import ThreadPoolExecutor

    import embreex.rtcore_scene as rtcore_scene
    from embreex.mesh_construction import TriangleMesh
    from pxr import Usd

    from omni.sdg_studio.backends.embedded.camera import read_camera
    from omni.sdg_studio.backends.embedded.scene import extract

    geometries = [g for g in extract(stage, Usd.TimeCode.Default()) if len(g.triangles)]
    counts = np.array([len(g.points) for g in geometries])
    vertices = np.concatenate([g.world_points() for g in geometries]).astype(np.float32)
    base = np.repeat(np.cumsum(counts) - counts, [len(g.triangles) for g in geometries])
    triangles = (np.concatenate([g.triangles for g in geometries]) + base[:, None]).astype(np.int32)
    scene = rtcore_scene.EmbreeScene()
    TriangleMesh(scene, vertices, triangles)
    pool = ThreadPoolExecutor(threads)

    def timed() -> tuple[float, float]:
        cam = read_camera(stage, camera, size, Usd.TimeCode.Default())
        dirs, cos = cam.world_rays()
        start = (cam.near / cos).astype(np.float32)
        origins = np.ascontiguousarray(cam.position.astype(np.float32) + dirs * start[:, None])
        dirs = np.ascontiguousarray(dirs, np.float32)
        limit = (cam.far / cos - start).astype(np.float32)
        step = -(-len(dirs) // threads)
        parts = [(lo, min(lo + step, len(dirs))) for lo in range(0, len(dirs), step)]
        chunks = [limit[lo:hi].copy() for lo, hi in parts]
        t0, c0 = time.perf_counter(), time.process_time()
        list(pool.map(lambda p: scene.run(origins[p[0][0] : p[0][1]], dirs[p[0][0] : p[0][1]], dists=p[1], output=1),
                      zip(parts, chunks, strict=True)))  # fmt: skip
        return time.perf_counter() - t0, time.process_time() - c0

    timed()  # builds the BVH
    return timed


def measure(scene_name: str, camera: str, width: int, frames: int, threads: int) -> dict:
    """Median seconds of the bare cast, rgb-only and full frames for one configuration (this process)."""
    sys.path.insert(0, str(HERE))
    from bench_scenes import camera_mover, scene

    from omni.sdg_studio.backends.embedded import EmbeddedBackend

    stage, _ = scene(scene_name)
    size = (width, width)
    backend = EmbeddedBackend(stage, engine="embree", threads=threads)
    move = camera_mover(stage, camera, np.random.default_rng(1))
    floor = _floor_timer(stage, camera, size, threads)
    for annotators in (["rgb"], MAIN_ANNOTATORS):  # warm-up: extraction, BVH builds, caches
        backend.render(camera, size, list(annotators))
    casts, rgbs, fulls, cpu = [], [], [], {"cast": [], "rgb": [], "full": []}
    boxes = 0
    for _ in range(frames):
        move()
        wall, processor = floor()
        casts.append(wall)
        cpu["cast"].append(processor)
        move()
        t0, c0 = time.perf_counter(), time.process_time()
        backend.render(camera, size, ["rgb"])
        rgbs.append(time.perf_counter() - t0)
        cpu["rgb"].append(time.process_time() - c0)
        move()
        t0, c0 = time.perf_counter(), time.process_time()
        frame = backend.render(camera, size, list(MAIN_ANNOTATORS))
        fulls.append(time.perf_counter() - t0)
        cpu["full"].append(time.process_time() - c0)
        boxes = len(frame["bounding_box_2d_tight"]["data"])
    backend.close()
    return {
        "cast": statistics.median(casts),
        "rgb": statistics.median(rgbs),
        "full": statistics.median(fulls),
        "cpu": {k: statistics.median(v) for k, v in cpu.items()},
        "boxes": boxes,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _ratios(times: dict) -> tuple[float, float]:
    """(full / rgb, (full - cast) / cast) of median seconds."""
    return times["full"] / times["rgb"], (times["full"] - times["cast"]) / times["cast"]


def run_measure(package_root: Path, spec: dict, memory_gb: float) -> dict | str:
    """:func:`measure` in a fresh process importing ``omni.sdg_studio`` from ``package_root``, its address
    space limited to ``memory_gb``; the result, or why it failed."""
    env = dict(os.environ, PYTHONPATH=str(package_root))
    command = [sys.executable, str(Path(__file__).resolve()), "--measure", json.dumps(spec)]
    limit = int(memory_gb * 2**30)

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    done = subprocess.run(
        command, env=env, capture_output=True, text=True, cwd=package_root, check=False, preexec_fn=limited
    )
    if done.returncode != 0:
        if "MemoryError" in done.stderr or "Unable to allocate" in done.stderr or done.returncode == -9:
            return f"out of memory (> {memory_gb:g} GB)"
        return f"failed: {(done.stderr.strip().splitlines() or ['exit ' + str(done.returncode)])[-1]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--frames", type=int, default=7, help="timed frames per configuration")
    parser.add_argument("--sizes", default="512,1024", help="image sides, comma-separated")
    parser.add_argument("--scenes", default=",".join(SCENES), help=f"comma-separated: {', '.join(SCENES)}")
    parser.add_argument("--threads", type=int, default=None, help="render threads (default: one per core)")
    parser.add_argument("--baseline", type=Path, help="a checkout of another version to compare with")
    parser.add_argument("--memory-gb", type=float, default=8.0, help="address-space limit of each measurement")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        spec = json.loads(args.measure)
        print(json.dumps(measure(**spec)))
        return
    from rich.console import Console
    from rich.table import Table

    sys.path.insert(0, str(HERE))
    from bench_scenes import WAREHOUSE_CAMERAS

    from omni.sdg_studio.backends.embedded.workers import cpu_count

    threads = args.threads or cpu_count()
    console = Console(width=200)
    console.print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}; threads {threads}")
    configs = []
    for name in args.scenes.split(","):
        cameras = WAREHOUSE_CAMERAS if name == "warehouse" else ("/World/Camera",)
        configs += [(name, camera) for camera in cameras]
    columns = ["scene", "camera", "size", "boxes", "cast ms", "rgb ms", "full ms", "full/rgb", "post/cast",
               "CPU full/rgb", "CPU post/cast", "RSS MB"]  # fmt: skip
    if args.baseline:
        columns += ["before full ms", "before CPU full/rgb", "before CPU post/cast", "before RSS MB", "speed-up"]
    table = Table(*columns, title=f"8 main annotators vs rgb, camera moving every frame (median of {args.frames})")
    verdicts = []
    for width in (int(s) for s in args.sizes.split(",")):
        for name, camera in configs:
            spec = {"scene_name": name, "camera": camera, "width": width, "frames": args.frames, "threads": threads}
            new = run_measure(ROOT, spec, args.memory_gb)
            if isinstance(new, str):
                table.add_row(name, camera.rsplit("/", 1)[-1], f"{width}²", new)
                verdicts.append(f"{name} {camera.rsplit('/', 1)[-1]} {width}²: {new}")
                continue
            ratio, post = _ratios(new)
            cpu_ratio, cpu_post = _ratios(new["cpu"])
            row = [name, camera.rsplit("/", 1)[-1], f"{width}²", str(new["boxes"]), f"{new['cast'] * 1e3:.1f}",
                   f"{new['rgb'] * 1e3:.1f}", f"{new['full'] * 1e3:.1f}", f"{ratio:.2f}", f"{post:.2f}",
                   f"{cpu_ratio:.2f}", f"{cpu_post:.2f}", f"{new['rss_mb']:.0f}"]  # fmt: skip
            if args.baseline:
                old = run_measure(args.baseline.resolve(), spec, args.memory_gb)
                if isinstance(old, str):
                    row += [old, "", "", "", ""]
                else:
                    old_ratio, old_post = _ratios(old["cpu"])
                    row += [f"{old['full'] * 1e3:.1f}", f"{old_ratio:.2f}", f"{old_post:.2f}", f"{old['rss_mb']:.0f}",
                            f"{old['full'] / new['full']:.2f}x"]  # fmt: skip
            table.add_row(*row)
            verdicts.append(
                f"{name} {camera.rsplit('/', 1)[-1]} {width}²: full/rgb {ratio:.2f} (CPU {cpu_ratio:.2f}; <= 2) "
                f"{'PASS' if max(ratio, cpu_ratio) <= 2 else 'MISS'}, "
                f"post/cast {post:.2f} (CPU {cpu_post:.2f}; <= 1.5) {'PASS' if max(post, cpu_post) <= 1.5 else 'MISS'}"
            )
    console.print(table)
    for line in verdicts:
        console.print(line)
    console.print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
