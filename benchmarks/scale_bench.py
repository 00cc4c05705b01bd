"""Scale-out: frames/s of one recording process against W shards, as processes or Ray tasks, in one run.

Sample scene, its 3 cameras (jittered per frame), BasicWriter with the recorder's default annotators (rgb,
2D boxes, semantic segmentation, depth, camera parameters). Every configuration records the same frames with
the same seed, timed from start until the dataset is complete:

* baseline: one ``sdg-studio record`` process (its renderer uses every core);
* ``processes``: W ``sdg-studio record --shard k/W`` processes at once, each pinned to its share of the cores
  (the renderer sizes its thread pool from the process's CPU affinity), then ``merge`` (hard links);
* ``ray``: ``record_on_ray`` with W workers on a local Ray started once for the run (its start-up is printed
  apart; each task gets cores / W CPUs and renders with that many threads).

Printed per configuration: median seconds over the repeats, frames/s, speedup over the baseline and scaling
efficiency (speedup / W); with ``--one-core``, also one process pinned to one core and each configuration's
per-core efficiency (frames/s over cores used x the one-core frames/s: 100% is perfect use of the cores the
configuration holds, whatever W); and whether the merged dataset is byte-identical to the baseline's (manifest aside).

    python benchmarks/scale_bench.py [--engine processes,ray] [--workers 1,2] [--frames 24]
        [--resolution 320x240] [--repeat 1] [--out DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from omni.sdg_studio.core.recorder.config import CameraJitter, RecorderConfig
from omni.sdg_studio.core.recorder.isaac_format import save_isaac_config
from omni.sdg_studio.core.recorder.merge import merge_shards
from omni.sdg_studio.core.recorder.output_policy import MANIFEST_NAME
from omni.sdg_studio.core.render_backend import RenderProduct
from omni.sdg_studio.resources import SAMPLE_SCENE

CAMERAS = ["/World/Cameras/TopCam", "/World/Cameras/DriverCam", "/World/Cameras/PalletCam"]
CLI = [sys.executable, "-m", "omni.sdg_studio.cli"]


def bench_config(frames: int, size: tuple[int, int]) -> RecorderConfig:
    """The recording every configuration makes (the default preset's annotators)."""
    config = RecorderConfig(render_products=[RenderProduct(c, *size) for c in CAMERAS], frames=frames, seed=7)
    config.camera_jitter = CameraJitter(position=0.1, rotation=1.0)
    for flag in ("bounding_box_2d_tight", "semantic_segmentation", "distance_to_image_plane", "camera_params"):
        config.basic_writer_params[flag] = True
    return config


def digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != MANIFEST_NAME
    }


def core_sets(workers: int) -> list[set[int]]:
    """This process's cores split into ``workers`` equal groups (one core each, shared, beyond the count)."""
    cores = sorted(os.sched_getaffinity(0))
    if workers >= len(cores):
        return [{cores[k % len(cores)]} for k in range(workers)]
    share = len(cores) // workers
    return [set(cores[k * share : (k + 1) * share]) for k in range(workers)]


def run_cli(args: list[str], cores: set[int] | None = None) -> subprocess.Popen[bytes]:
    def pin() -> None:
        if cores is not None:
            os.sched_setaffinity(0, cores)

    return subprocess.Popen([*CLI, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=pin)


def wait_all(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        _, err = process.communicate()
        if process.returncode != 0:
            raise SystemExit(f"a recording process failed ({process.returncode}): {err.decode()[-800:]}")


def timed(action: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[float, Any]:
    """Seconds ``action(*args, **kwargs)`` took, and what it returned."""
    start = time.perf_counter()
    result = action(*args, **kwargs)
    return time.perf_counter() - start, result


def baseline(root: Path, config_file: Path, frames: int, cores: set[int] | None = None) -> Path:
    """One recording process (on ``cores`` only when given)."""
    out = root / "baseline"
    args = ["record", str(SAMPLE_SCENE), "--config", str(config_file), "--frames", str(frames), "--out", str(out)]
    wait_all([run_cli(args, cores)])
    return out


def with_processes(root: Path, config_file: Path, frames: int, workers: int) -> Path:
    common = ["record", str(SAMPLE_SCENE), "--config", str(config_file), "--frames", str(frames)]
    shards = [root / f"shard-{k}" for k in range(workers)]
    wait_all(
        [
            run_cli([*common, "--shard", f"{k}/{workers}", "--out", str(folder)], cores)
            for k, (folder, cores) in enumerate(zip(shards, core_sets(workers), strict=True))
        ]
    )
    merge_shards(shards, root / "merged")
    return root / "merged"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", default="processes,ray", help="processes, ray or both (comma-separated)")
    parser.add_argument("--workers", default="1,2", help="worker counts, comma-separated, e.g. 1,4,8,16")
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--resolution", default="320x240")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="working folder (default: a temporary one)")
    parser.add_argument(
        "--one-core",
        action="store_true",
        help="also time one process pinned to one core, and print each configuration's per-core efficiency "
        "(frames/s over cores used x the one-core frames/s)",
    )
    args = parser.parse_args()
    engines = [e.strip() for e in args.engine.split(",") if e.strip()]
    counts = [int(w) for w in args.workers.split(",")]
    width, height = (int(v) for v in args.resolution.lower().split("x"))
    work = args.out or Path(tempfile.mkdtemp(prefix="scale_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    config = bench_config(args.frames, (width, height))
    config_file = save_isaac_config(config, work / "config.json")
    cores = len(os.sched_getaffinity(0))
    print(
        f"{args.frames} frames x {len(CAMERAS)} cameras at {width}x{height}, {cores} cores, "
        f"load {os.getloadavg()[0]:.1f}"
    )

    if "ray" in engines:
        import ray

        started = time.perf_counter()
        ray.init(num_cpus=cores, include_dashboard=False, log_to_driver=False)
        ray_start = time.perf_counter() - started
        print(f"ray start-up: {ray_start:.1f} s (not counted below)")

    def fresh(name: str) -> Path:
        folder = work / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        return folder

    results: dict[tuple[str, int], list[float]] = {}
    identical: dict[tuple[str, int], bool] = {}
    reference: dict[str, str] = {}
    for _ in range(args.repeat):  # every configuration once per round, so all see about the same load
        seconds, folder = timed(baseline, fresh("base"), config_file, args.frames)
        results.setdefault(("1 process", 1), []).append(seconds)
        reference = digests(folder)
        if args.one_core:
            seconds, folder = timed(baseline, fresh("one-core"), config_file, args.frames, core_sets(cores)[0])
            results.setdefault(("1 core", 1), []).append(seconds)
            identical[("1 core", 1)] = digests(folder) == reference
        for engine in engines:
            for count in counts:
                root = fresh(f"{engine}-{count}")
                if engine == "processes":
                    seconds, folder = timed(with_processes, root, config_file, args.frames, count)
                else:
                    run = config.copy()
                    run.output.folder = str(root / "merged")
                    from omni.sdg_studio.distributed.ray_record import record_on_ray  # Ray only when asked for

                    seconds, _ = timed(record_on_ray, SAMPLE_SCENE, run, workers=count)
                    folder = root / "merged"
                results.setdefault((engine, count), []).append(seconds)
                identical[(engine, count)] = digests(folder) == reference

    base = statistics.median(results[("1 process", 1)])
    one_core = statistics.median(results[("1 core", 1)]) if args.one_core else None
    per_core = f" {'per core':>8}" if one_core else ""
    print(
        f"{'engine':<10} {'W':>3} {'seconds':>8} {'frames/s':>9} {'speedup':>8} {'efficiency':>10}{per_core}  identical"
    )
    for (engine, count), times in results.items():
        seconds = statistics.median(times)
        speedup = base / seconds
        same = "baseline" if engine == "1 process" else ("yes" if identical[(engine, count)] else "NO")
        used = 1 if engine == "1 core" else len(set().union(*core_sets(count))) if engine == "processes" else cores
        core_column = f" {one_core / seconds / used:>8.0%}" if one_core else ""
        print(
            f"{engine:<10} {count:>3} {seconds:>8.2f} {args.frames / seconds:>9.2f} {speedup:>8.2f} "
            f"{speedup / count:>10.0%}{core_column}  {same}"
        )
    if args.out is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
