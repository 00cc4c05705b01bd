"""Writer throughput and overhead on the render loop (not run by pytest).

BasicWriter with rgb, both depths, semantic, instance, bbox 2D tight, bbox 3D and normals for 3
render products at 512x512, fed with synthetic Replicator-format frames. A stand-in renderer
sleeps ``--render-ms`` per step (a real renderer releases the GIL while it casts rays), so the
run shows how much the write pool slows the loop compared with rendering alone, measured in the
same run, plus the cost of encoding on the render thread instead, the CPU time writing takes
per step, and memory over the run.

    python benchmarks/writer_bench.py [--frames 500] [--render-ms 100]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from frames import make_frame

from omni.sdg_studio.core.render_backend import RenderProduct
from omni.sdg_studio.core.writers import BasicWriter, FrameBatch

FLAGS = {
    "rgb": True,
    "distance_to_camera": True,
    "distance_to_image_plane": True,
    "semantic_segmentation": True,
    "instance_segmentation": True,
    "bounding_box_2d_tight": True,
    "bounding_box_3d": True,
    "normals": True,
}
RPS = ("TopView", "DriverView", "PalletView")


def rss_mib() -> float:
    """Current resident memory of this process."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20


def textured_batches(size: int) -> list[FrameBatch]:
    """Four distinct steps at ``size``x``size`` with textured rgb and smooth normals (reused in turn)."""
    yy, xx = np.mgrid[0:size, 0:size]
    batches = []
    for index in range(4):
        products = {}
        for rp in RPS:
            frame = make_frame(width=size, height=size)
            rgb = np.stack(
                [(xx // 2 + index) % 256, (yy // 2) % 256, ((xx + yy) // 4) % 256, np.full_like(xx, 255)], -1
            )
            frame["rgb"] = rgb.astype(np.uint8)
            normals = np.stack([np.sin(xx / 50.0), np.cos(yy / 70.0), np.ones_like(xx), np.zeros_like(xx)], -1)
            frame["normals"] = normals.astype(np.float32)
            products[rp] = frame
        batches.append(FrameBatch(index, products, {rp: RenderProduct(f"/World/{rp}", size, size, rp) for rp in RPS}))
    return batches


def run(
    frames: int, render_s: float, batches: list[FrameBatch], out: Path, write: bool
) -> tuple[float, float, list[float]]:
    """Frames per second of the render loop, process CPU ms per frame, and memory samples every 50 frames."""
    writer = BasicWriter(out, **FLAGS) if write else None
    memory = []
    start, cpu = time.perf_counter(), time.process_time()
    for index in range(frames):
        time.sleep(render_s)  # stand-in renderer
        if writer is not None:
            batch = batches[index % len(batches)]
            batch.index = index
            writer.write(batch)
            writer.completed_frames()
        if index % 50 == 49:
            memory.append(rss_mib())
    if writer is not None:
        writer.finish()
    return frames / (time.perf_counter() - start), (time.process_time() - cpu) / frames * 1000, memory


def inline_encode_ms(batches: list[FrameBatch], out: Path, repeats: int = 8) -> tuple[float, float]:
    """Per-step wall and CPU milliseconds to encode and write everything, one file at a time (no overlap)."""
    writer = BasicWriter(out, **FLAGS, workers=1, max_frames_in_flight=1)
    start, cpu = time.perf_counter(), time.process_time()
    for index in range(repeats):
        batch = batches[index % len(batches)]
        batch.index = index
        writer.write(batch)
        writer.flush()
    writer.finish()
    return (time.perf_counter() - start) / repeats * 1000, (time.process_time() - cpu) / repeats * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=500)
    parser.add_argument("--render-ms", type=float, default=100.0)
    parser.add_argument("--size", type=int, default=512)
    args = parser.parse_args()
    batches = textured_batches(args.size)
    with tempfile.TemporaryDirectory() as tmp:
        encode_ms, encode_cpu_ms = inline_encode_ms(batches, Path(tmp) / "inline")
        render_fps, _, _ = run(args.frames, args.render_ms / 1000, batches, Path(tmp) / "none", write=False)
        write_fps, write_cpu_ms, memory = run(
            args.frames, args.render_ms / 1000, batches, Path(tmp) / "pool", write=True
        )
        files = sum(1 for p in (Path(tmp) / "pool").rglob("*") if p.is_file())
    print(f"{len(RPS)} render products at {args.size}x{args.size}, {len(FLAGS)} annotators, {args.frames} steps")
    print(f"encode+write one step, one file at a time:   {encode_ms:7.1f} ms ({encode_cpu_ms:.1f} ms CPU)")
    print(f"render only (stand-in {args.render_ms:.0f} ms/step):         {render_fps:7.2f} steps/s")
    print(f"render + BasicWriter on the write pool:       {write_fps:7.2f} steps/s  ({files} files)")
    print(f"CPU per step on the write pool (the stand-in renderer sleeps): {write_cpu_ms:.1f} ms")
    print(f"writing overhead: {100 * (render_fps / write_fps - 1):.1f}% (target <= 15%)")
    print(f"inline-encoding overhead would be: {100 * encode_ms / args.render_ms:.1f}%")
    if memory:
        print(f"RSS every 50 steps (MiB): first {memory[0]:.0f}, max {max(memory):.0f}, last {memory[-1]:.0f}")


if __name__ == "__main__":
    main()
