"""Training-stream throughput of the embedded backend: frames per second with 1 and with N worker processes.

Each worker process opens the scene, renders with one thread (``EmbeddedBackend(threads=1)``), warms up
(extraction, BVH), waits for the others, then renders for ``--seconds`` the training stream's annotators
(``rgb, instance_segmentation, bounding_box_2d_tight`` by default) from the scene's cameras in turn,
moving the camera before every frame (a few cm, up to a degree); ``--move-objects K`` also moves K
labeled prims per frame through an anonymous sublayer of the session layer, as a randomizer does.
Processes are started with ``spawn`` and pinned to no core; the machine should be otherwise idle.

Prints one table: processes, frames, frames/s, frames/s per process, frames per CPU-second (what one
core would give if it ran nothing else: the number to read on a shared machine), and the target
(>= 4 frames/s per core at 512x512, i.e. >= 60 frames/s on 16 cores).

Run: ``python benchmarks/render_throughput.py [--processes N] [--seconds 20] [--resolution 512]
[--scene warehouse] [--annotators rgb,instance_segmentation,bounding_box_2d_tight] [--move-objects 0]``.
N defaults to ``os.cpu_count()``. Not run by pytest.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TRAINING_ANNOTATORS = "rgb,instance_segmentation,bounding_box_2d_tight"
#: Target frames per second per core at 512x512 (issue 11).
TARGET_PER_CORE = 4.0


def _worker(args: tuple, start, results) -> None:
    """One process: warm up, wait for ``start``, render for ``seconds``, report (frames, seconds)."""
    scene_name, resolution, annotators, seconds, move_objects, seed = args
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = "1"
    sys.path.insert(0, str(HERE))
    import numpy as np
    from bench_scenes import camera_mover, object_mover, scene

    from omni.sdg_studio.backends.embedded import EmbeddedBackend

    stage, cameras = scene(scene_name)
    rng = np.random.default_rng(seed)
    movers = [camera_mover(stage, camera, rng) for camera in cameras]
    move_objects_now = object_mover(stage, move_objects, rng) if move_objects else None
    backend = EmbeddedBackend(stage, engine="embree", threads=1)
    size = (resolution, resolution)
    for camera in cameras:  # warm-up: extraction, BVH builds, caches
        backend.render(camera, size, annotators)
    start.wait()
    frames, t0, cpu0 = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - t0 < seconds:
        k = frames % len(cameras)
        movers[k]()
        if move_objects_now is not None:
            move_objects_now()
        backend.render(cameras[k], size, annotators)
        frames += 1
    results.put((frames, time.perf_counter() - t0, time.process_time() - cpu0))


def run(processes: int, args: tuple) -> tuple[int, float, float]:
    """Frames rendered by ``processes`` workers together, the longest worker's seconds, and CPU seconds."""
    context = mp.get_context("spawn")
    start = context.Barrier(processes + 1)
    results = context.Queue()
    workers = [
        context.Process(target=_worker, args=((*args[:-1], args[-1] + k), start, results)) for k in range(processes)
    ]
    for worker in workers:
        worker.start()
    start.wait()
    done = [results.get() for _ in workers]
    for worker in workers:
        worker.join()
    return sum(d[0] for d in done), max(d[1] for d in done), sum(d[2] for d in done)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1, help="workers of the second run")
    parser.add_argument("--seconds", type=float, default=20.0, help="rendering time per run")
    parser.add_argument("--resolution", type=int, default=512, help="image side")
    parser.add_argument("--scene", default="warehouse", help="warehouse, clutter or generated")
    parser.add_argument("--annotators", default=TRAINING_ANNOTATORS, help="comma-separated annotator names")
    parser.add_argument("--move-objects", type=int, default=0, help="labeled prims moved per frame")
    args = parser.parse_args()
    annotators = [a.strip() for a in args.annotators.split(",") if a.strip()]
    spec = (args.scene, args.resolution, annotators, args.seconds, args.move_objects, 1)
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}; cores: {os.cpu_count()}")
    rows = []
    for count in dict.fromkeys([1, args.processes]):
        frames, seconds, cpu = run(count, spec)
        rows.append((count, frames, seconds, frames / seconds, frames / cpu))
    target = TARGET_PER_CORE * args.processes
    print()
    print(f"{args.scene}, {args.resolution}x{args.resolution}, {','.join(annotators)}, camera moving every frame"
          + (f", {args.move_objects} objects moved per frame" if args.move_objects else ""))  # fmt: skip
    print(f"{'processes':>9} {'frames':>8} {'seconds':>8} {'frames/s':>9} {'per process':>12} {'per CPU-second':>15}")
    for count, frames, seconds, rate, per_cpu in rows:
        print(f"{count:>9} {frames:>8} {seconds:>8.1f} {rate:>9.2f} {rate / count:>12.2f} {per_cpu:>15.2f}")
    best = rows[-1]
    verdict = "PASS" if best[3] >= target else "MISS"
    print(f"target: >= {TARGET_PER_CORE:g} frames/s per core = {target:g} frames/s on {args.processes} processes: "
          f"{best[3]:.1f} frames/s, {verdict}")  # fmt: skip
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
