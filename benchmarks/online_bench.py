"""Online generation speed: the stream's samples/s, where a sample's time goes, and whether it keeps a GPU busy.

On the sample warehouse (labeled here), every camera, camera jitter as the scenario, Mask R-CNN's targets
(boxes + masks):

1. ``stream``: samples/s of ``SyntheticStream`` through a ``DataLoader`` with 0 workers (the main process)
   and with ``--workers`` W, after a warm-up (stage opening excluded); the ratio W / 1.
2. ``cost``: per sample, measured in this process: render (the backend, all cameras / cameras), targets
   (``frame_targets``), tensors (``to_tensors``), collate (``detection_collate``) and, on a GPU, transfer
   (``.to(device)`` of a batch), with the renderer on all cores and one torch thread (as in a worker).
3. ``train`` (with CUDA and torchvision): Mask R-CNN (``weights=None``) training images/s on cached batches
   (the same batches over and over, already on the GPU: the GPU-bound rate), then fed by the stream with W
   workers, in the same run; the ratio is the share of its cached-batch rate the stream keeps the GPU at.
   Target (issue 10): >= 0.90 at 512x512, batch 8, one H200, 16 cores.

Run: ``python benchmarks/online_bench.py [--workers 15] [--resolution 512x512] [--seconds 60]``. Not run by pytest.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import torch
from torch.utils.data import DataLoader

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
import train_maskrcnn_online as example  # pyright: ignore[reportMissingImports]

from omni.sdg_studio.backends.embedded import EmbeddedBackend
from omni.sdg_studio.core.randomize import RandomizationEngine
from omni.sdg_studio.core.stage_io import open_stage
from omni.sdg_studio.core.targets import frame_targets, target_annotators
from omni.sdg_studio.torch import SyntheticStream, detection_collate, to_tensors

TARGETS = ("boxes", "masks")


def make_stream(stage: Path, args: argparse.Namespace, seed: int) -> SyntheticStream:
    return SyntheticStream(
        stage,
        scenario=example.JITTER_SCENARIO,
        cameras=example.CAMERAS,
        resolution=args.size,
        targets=TARGETS,
        seed=seed,
        classes=example.TargetClasses.of_rules(example.RULES),
        min_pixels=16,
    )


def loader_for(stream: SyntheticStream, workers: int, batch_size: int) -> DataLoader:
    return DataLoader(
        stream,
        batch_size=batch_size,
        num_workers=workers,
        collate_fn=detection_collate,
        pin_memory=torch.cuda.is_available(),
        prefetch_factor=4 if workers else None,
        persistent_workers=workers > 0,
    )


def stream_rate(stage: Path, args: argparse.Namespace, workers: int) -> tuple[float, float]:
    """(samples/s after warm-up, seconds until the first batch) of the stream with ``workers`` workers."""
    loader = loader_for(make_stream(stage, args, seed=workers), workers, args.batch_size)
    batches: Iterator = iter(loader)
    start = time.perf_counter()
    next(batches)
    first = time.perf_counter() - start
    for _ in range(max(1, workers)):  # every worker past its stage opening
        next(batches)
    # workers deliver in waves (each its own batch at about the same moment): time several waves, not a part of one
    wanted = max(args.samples, 4 * max(1, workers) * args.batch_size)
    count, start = 0, time.perf_counter()
    while count < wanted:
        images, _ = next(batches)
        count += len(images)
    rate = count / (time.perf_counter() - start)
    del batches, loader
    return rate, first


def per_sample_costs(stage_path: Path, args: argparse.Namespace, device: torch.device) -> dict[str, float]:
    """Median seconds per sample of each step, in this process (all cores for the renderer, one torch thread as
    in a DataLoader worker)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    stage = open_stage(stage_path)
    scenario = RandomizationEngine(stage, example.JITTER_SCENARIO, seed=0)
    backend = EmbeddedBackend(stage)
    classes = example.TargetClasses.of_rules(example.RULES)
    annotators = target_annotators(TARGETS)
    steps: dict[str, list[float]] = {"render": [], "targets": [], "tensors": [], "collate": [], "transfer": []}
    samples = []
    for index in range(args.cost_frames):
        scenario.apply(index)
        start = time.perf_counter()
        frames = [backend.render(camera, args.size, annotators) for camera in example.CAMERAS]
        steps["render"].append((time.perf_counter() - start) / len(frames))
        for frame in frames:
            start = time.perf_counter()
            targets = frame_targets(frame, classes, TARGETS, min_pixels=16)
            middle = time.perf_counter()
            samples.append(to_tensors(targets, index))
            steps["targets"].append(middle - start)
            steps["tensors"].append(time.perf_counter() - middle)
    scenario.restore()
    for start_index in range(0, len(samples) - args.batch_size + 1, args.batch_size):
        batch = samples[start_index : start_index + args.batch_size]
        start = time.perf_counter()
        images, targets = detection_collate(batch)
        steps["collate"].append((time.perf_counter() - start) / len(batch))
        if device.type == "cuda":
            images = [image.pin_memory() for image in images]
            targets = [{k: v.pin_memory() for k, v in t.items()} for t in targets]
            torch.cuda.synchronize()
            start = time.perf_counter()
            moved = [image.to(device, non_blocking=True) for image in images]
            moved_targets = [{k: v.to(device, non_blocking=True) for k, v in t.items()} for t in targets]
            torch.cuda.synchronize()
            steps["transfer"].append((time.perf_counter() - start) / len(batch))
            del moved, moved_targets
    torch.set_num_threads(threads)
    return {name: statistics.median(values) if values else 0.0 for name, values in steps.items()}


def train_rate(model: torch.nn.Module, batches: Iterator, device: torch.device, seconds: float, warmup: float) -> float:
    """Training images/s of ``model`` on ``batches`` over ``seconds``, after ``warmup`` seconds (time-based: by then
    a stream's workers are past their start and the batches they buffered at once are used up)."""
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=0.005, momentum=0.9, weight_decay=1e-4)
    began = time.perf_counter()
    start: float | None = None
    images = 0
    for batch, targets in batches:
        if start is None and time.perf_counter() - began >= warmup:
            torch.cuda.synchronize()
            start, images = time.perf_counter(), 0
        batch = [image.to(device, non_blocking=True) for image in batch]
        targets = [{k: v.to(device, non_blocking=True) for k, v in t.items()} for t in targets]
        loss = torch.stack(list(model(batch, targets).values())).sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        images += len(batch)
        if start is not None and time.perf_counter() - start >= seconds:
            break
    torch.cuda.synchronize()
    assert start is not None
    return images / (time.perf_counter() - start)


def cached(batches: list, device: torch.device) -> Iterator:
    """The same batches, already on the GPU, over and over."""
    on_device = [
        ([image.to(device) for image in images], [{k: v.to(device) for k, v in t.items()} for t in targets])
        for images, targets in batches
    ]
    while True:
        yield from on_device


def main() -> None:
    parser = argparse.ArgumentParser(description="SyntheticStream speed and GPU feeding.")
    parser.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) - 1))
    parser.add_argument("--resolution", default="512x512")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument(
        "--samples", type=int, default=96, help="samples timed per stream measurement (at least 4 batches a worker)"
    )
    parser.add_argument("--cost-frames", type=int, default=8, help="frames for the per-step costs")
    parser.add_argument("--seconds", type=float, default=60.0, help="training time per rate")
    parser.add_argument("--warmup", type=float, default=30.0, help="seconds of stream-fed training before timing")
    parser.add_argument("--skip-train", action="store_true", help="no training measurement even with a GPU")
    parser.add_argument("--stage", type=Path, help="labeled stage (default: the sample warehouse, labeled here)")
    args = parser.parse_args()
    width, _, height = args.resolution.partition("x")
    args.size = (int(width), int(height))
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    stage = args.stage or example.labeled_warehouse(Path(tempfile.mkdtemp(prefix="online_bench_")))
    shm = shutil.disk_usage("/dev/shm").total / 2**30 if os.path.isdir("/dev/shm") else 0.0
    print(
        f"online_bench: {args.size[0]}x{args.size[1]}, batch {args.batch_size}, {os.cpu_count()} cores, "
        f"{torch.cuda.get_device_name() if device.type == 'cuda' else 'no GPU'}, torch {torch.__version__}, "
        f"/dev/shm {shm:.0f} GiB"
    )

    one, first_one = stream_rate(stage, args, 0)
    many, first_many = stream_rate(stage, args, args.workers)
    print("\n== stream (samples/s after warm-up)")
    print(f"0 workers (main process): {one:8.2f}   first batch after {first_one:.1f} s")
    print(f"{args.workers} workers:{'':14}{many:8.2f}   first batch after {first_many:.1f} s")
    print(f"ratio {args.workers} workers / main process: {many / one:.2f}x")

    costs = per_sample_costs(stage, args, device)
    produce = costs["render"] + costs["targets"] + costs["tensors"]
    print("\n== cost per sample (median ms, this process)")
    for name, seconds in costs.items():
        print(f"{name:10s} {seconds * 1000:8.1f}")
    shares = ", ".join(f"{name} {costs[name] / produce:.0%}" for name in ("render", "targets", "tensors"))
    print(f"a sample takes {produce * 1000:.1f} ms to produce here (rendering on all cores): {shares}")

    if device.type != "cuda" or args.skip_train:
        print("\n== train: skipped (needs CUDA and torchvision)" if not args.skip_train else "")
        return
    model = example.build_model(example.TargetClasses.of_rules(example.RULES).num_classes, args.size).to(device)
    warm = loader_for(make_stream(stage, args, seed=123), args.workers, args.batch_size)
    store = []
    for batch in warm:
        store.append(batch)
        if len(store) == 8:
            break
    del warm
    gpu_bound = train_rate(model, cached(store, device), device, args.seconds, warmup=10.0)
    feed = iter(loader_for(make_stream(stage, args, 7), args.workers, args.batch_size))
    fed = train_rate(model, feed, device, args.seconds, warmup=args.warmup)
    print("\n== train: Mask R-CNN images/s")
    print(f"cached batches (GPU-bound): {gpu_bound:8.2f}")
    print(f"stream, {args.workers} workers:      {fed:8.2f}")
    print(f"ratio stream / cached: {fed / gpu_bound:.2f} (target >= 0.90); GPU idle about {1 - fed / gpu_bound:.0%}")
    if fed / gpu_bound < 0.9:
        print(
            f"short of the target: the stream gives {many:.1f} samples/s where the GPU takes {gpu_bound:.1f}; "
            f"producing a sample is {shares}"
        )


if __name__ == "__main__":
    main()
