"""Recording speed and memory: render-only vs render+write, on the embedded backend.

Sample scene, its 3 cameras at 512x512 (jittered per frame so every frame casts new rays), BasicWriter
with rgb, both depths, semantic, instance, bbox 2D tight, bbox 3D and normals. Each round runs
render-only (the same annotators rendered, handed to a writer that drops them) and render+write
(the real BasicWriter through a RecorderJob, manifest included), in turn, so both see about the
same machine load; the cost of writing is taken per round and its median and spread printed.
A render+write round is timed from the moment the warm-up frame is on disk until every file of the
round is on disk (the job has finished), so the write queue cannot hide frames still being written.
Each round also reports the process CPU time per frame (all threads): on a loaded machine the wall
clock mostly measures the other processes, the CPU time what writing really costs.
Then one long render+write run samples the process RSS to show memory stays flat.

    python benchmarks/record_bench.py [--frames 20] [--rounds 3] [--memory-frames 500] [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from omni.sdg_studio.commands.record import EMBEDDED
from omni.sdg_studio.core.randomize import RandomizationEngine
from omni.sdg_studio.core.recorder.backend_session import BackendCaptureSession
from omni.sdg_studio.core.recorder.config import BASIC_WRITER_FLAGS, CameraJitter, OutputPolicy, RecorderConfig
from omni.sdg_studio.core.recorder.job import FrameProgress
from omni.sdg_studio.core.recorder.randomization import RecordingRandomization, camera_jitter_scenario
from omni.sdg_studio.core.recorder.recording import prepare_recording
from omni.sdg_studio.core.render_backend import RenderProduct
from omni.sdg_studio.core.stage_io import open_stage
from omni.sdg_studio.core.writers.base import AnnotatorRequest, FrameBatch
from omni.sdg_studio.core.writers.basic_writer import BasicWriter
from omni.sdg_studio.core.writers.file_writer import FileWriter
from omni.sdg_studio.resources import SAMPLE_SCENE

CAMERAS = ["/World/Cameras/TopCam", "/World/Cameras/DriverCam", "/World/Cameras/PalletCam"]
ANNOTATORS = (
    "rgb",
    "distance_to_camera",
    "distance_to_image_plane",
    "semantic_segmentation",
    "instance_segmentation",
    "bounding_box_2d_tight",
    "bounding_box_3d",
    "normals",
)
JITTER = CameraJitter(position=0.1, rotation=1.0)


def bench_config(out: Path, frames: int) -> RecorderConfig:
    config = RecorderConfig(
        render_products=[RenderProduct(c, 512, 512) for c in CAMERAS], frames=frames, seed=1, camera_jitter=JITTER
    )
    config.basic_writer_params = {flag: flag in ANNOTATORS for flag in BASIC_WRITER_FLAGS}
    config.output.folder = str(out)
    config.output.policy = OutputPolicy.OVERWRITE
    return config


class DroppingWriter:
    """Asks for the same annotators as the BasicWriter and writes nothing (render-only baseline)."""

    name = "DroppingWriter"

    def __init__(self, annotators: tuple[AnnotatorRequest, ...], output_dir: Path) -> None:
        self._annotators = annotators
        self.output_dir = output_dir

    @property
    def annotators(self) -> tuple[AnnotatorRequest, ...]:
        return self._annotators

    def write(self, batch: FrameBatch) -> list[Path]:
        return []

    def finish(self) -> list[Path]:
        return []


@dataclass(frozen=True)
class Rate:
    """Frames per second and process CPU milliseconds per frame over a timed stretch."""

    fps: float
    cpu_ms: float

    @classmethod
    def measure(cls, frames: int, wall: float, cpu: float) -> Rate:
        return cls(frames / wall, cpu / frames * 1000)


def render_only(frames: int, start: int, annotators: tuple[AnnotatorRequest, ...]) -> Rate:
    """Rendering the annotators without writing."""
    stage = open_stage(SAMPLE_SCENE)
    products = [RenderProduct(c, 512, 512) for c in CAMERAS]
    session = BackendCaptureSession(
        EMBEDDED.create(stage),
        DroppingWriter(annotators, Path(".")),
        products,
        randomization=RecordingRandomization(
            RandomizationEngine(stage, camera_jitter_scenario(JITTER, CAMERAS), seed=1)
        ),
    )
    session.capture(start)  # warm-up: scene extraction and ray-engine build
    began, cpu = time.perf_counter(), time.process_time()
    for index in range(start + 1, start + 1 + frames):
        session.capture(index)
    rate = Rate.measure(frames, time.perf_counter() - began, time.process_time() - cpu)
    session.close(True)
    return rate


def render_and_write(frames: int, out: Path) -> Rate:
    """A full recording (job, BasicWriter, manifest) after a warm-up frame, until all files are on disk."""
    recording = prepare_recording(SAMPLE_SCENE, bench_config(out, frames + 1), EMBEDDED)
    writer = recording.writer
    assert isinstance(writer, FileWriter)
    began: list[float] = []

    def start_clock(progress: FrameProgress) -> None:
        if progress.done == 1:  # the warm-up frame: wait until it is written, then start timing
            writer.flush()
            began.extend((time.perf_counter(), time.process_time()))

    recording.job.subscribe_progress(start_clock)
    recording.job.run()
    return Rate.measure(frames, time.perf_counter() - began[0], time.process_time() - began[1])


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def memory_run(frames: int, out: Path) -> list[tuple[int, float]]:
    """RSS (MB) sampled every tenth of the run during a long render+write recording."""
    recording = prepare_recording(SAMPLE_SCENE, bench_config(out, frames), EMBEDDED)
    samples: list[tuple[int, float]] = []
    every = max(1, frames // 10)

    def sample(progress: FrameProgress) -> None:
        if progress.done == 1 or progress.done % every == 0:
            samples.append((progress.done, rss_mb()))

    recording.job.subscribe_progress(sample)
    recording.job.run()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20, help="frames per timed round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--memory-frames", type=int, default=500, help="frames of the memory run (0 = skip)")
    parser.add_argument("--out", type=Path, help="folder to write into (default: a temporary folder, see TMPDIR)")
    args = parser.parse_args()
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="record_bench_", dir=args.out) as tmp:
        out = Path(tmp) / "out"
        annotators = BasicWriter(out, **bench_config(out, 1).basic_writer_params).annotators
        wall_costs: list[float] = []
        cpu_costs: list[float] = []
        for round_ in range(args.rounds):  # the two runs of a round swap order each round
            if round_ % 2:
                render = render_only(args.frames, 1000 * (round_ + 1), annotators)
                write = render_and_write(args.frames, out)
            else:
                write = render_and_write(args.frames, out)
                render = render_only(args.frames, 1000 * (round_ + 1), annotators)
            wall_costs.append(render.fps / write.fps - 1)
            cpu_costs.append(write.cpu_ms / render.cpu_ms - 1)
            print(
                f"round {round_ + 1}: render-only {render.fps:.2f} fps ({render.cpu_ms:.0f} CPU ms/frame), "
                f"render+write {write.fps:.2f} fps ({write.cpu_ms:.0f} CPU ms/frame): "
                f"writing costs {wall_costs[-1] * 100:+.1f}% wall, {cpu_costs[-1] * 100:+.1f}% CPU"
            )
        print(f"3 cameras at 512x512, {len(ANNOTATORS)} annotators, {args.frames} frames x {args.rounds} rounds")
        print(f"written under {tmp}")
        for what, costs in (("wall time", wall_costs), ("CPU time", cpu_costs)):
            print(
                f"writing costs {statistics.median(costs) * 100:+.1f}% {what} over render-only "
                f"(median of rounds; {min(costs) * 100:+.1f}% .. {max(costs) * 100:+.1f}%; target <= +15%)"
            )
        if args.memory_frames:
            samples = memory_run(args.memory_frames, out)
            print("RSS over the run: " + ", ".join(f"frame {f}: {mb:.0f} MB" for f, mb in samples))
            first = next(mb for f, mb in samples if f >= args.memory_frames // 10)
            print(f"growth from frame {args.memory_frames // 10} to {samples[-1][0]}: {samples[-1][1] - first:+.0f} MB")
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
            print(f"peak RSS: {max(mb for _, mb in samples):.0f} MB sampled in the run, {peak:.0f} MB for the process")


if __name__ == "__main__":
    main()
