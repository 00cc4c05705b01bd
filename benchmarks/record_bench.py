"""Recording speed and memory: render-only vs render+write, on the embedded backend.

Sample scene, its 3 cameras at 512x512 (jittered per frame so every frame casts new rays), BasicWriter
with rgb, both depths, semantic, instance, bbox 2D tight, bbox 3D and normals. Rounds alternate
render-only (the same annotators rendered, handed to a writer that drops them) and render+write
(the real BasicWriter through a RecorderJob, manifest included), so both see the same machine load.
Then one long render+write run samples the process RSS to show memory stays flat.

    python benchmarks/record_bench.py [--frames 20] [--rounds 3] [--memory-frames 500]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from omni.sdg_studio.core.recorder.backend_session import BackendCaptureSession
from omni.sdg_studio.core.recorder.camera_jitter import CameraJitterRandomizer
from omni.sdg_studio.core.recorder.config import BASIC_WRITER_FLAGS, CameraJitter, OutputPolicy, RecorderConfig
from omni.sdg_studio.core.recorder.job import FrameProgress
from omni.sdg_studio.core.recorder.recording import default_backend, prepare_recording
from omni.sdg_studio.core.render_backend import RenderProduct
from omni.sdg_studio.core.stage_io import open_stage
from omni.sdg_studio.core.writers.base import AnnotatorRequest, FrameBatch
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


def render_only(frames: int, start: int, annotators: tuple[AnnotatorRequest, ...]) -> tuple[float, float]:
    """Frames per second and process CPU seconds per frame rendering the annotators without writing."""
    stage = open_stage(SAMPLE_SCENE)
    products = [RenderProduct(c, 512, 512) for c in CAMERAS]
    session = BackendCaptureSession(
        default_backend(stage),
        DroppingWriter(annotators, Path(".")),
        products,
        randomizers=[CameraJitterRandomizer(stage, CAMERAS, JITTER, 1)],
    )
    session.capture(start)  # warm-up: scene extraction and ray-engine build
    began, cpu = time.perf_counter(), time.process_time()
    for index in range(start + 1, start + 1 + frames):
        session.capture(index)
    elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
    session.close(True)
    return frames / elapsed, cpu / frames


def render_and_write(frames: int, out: Path) -> tuple[float, float, tuple[AnnotatorRequest, ...]]:
    """Frames per second and process CPU seconds per frame of a full recording (job, BasicWriter, manifest,
    the writer's flush at the end included), warm-up frame excluded."""
    recording = prepare_recording(SAMPLE_SCENE, bench_config(out, frames + 1))
    marks: list[tuple[float, float]] = []
    recording.job.subscribe_progress(lambda p: marks.append((time.perf_counter(), time.process_time())))
    recording.job.run()
    end = (time.perf_counter(), time.process_time())
    return frames / (end[0] - marks[0][0]), (end[1] - marks[0][1]) / frames, recording.writer.annotators


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def memory_run(frames: int, out: Path) -> list[tuple[int, float]]:
    """RSS (MB) sampled every tenth of the run during a long render+write recording."""
    recording = prepare_recording(SAMPLE_SCENE, bench_config(out, frames))
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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="record_bench_") as tmp:
        out = Path(tmp) / "out"
        write_fps: list[float] = []
        render_fps: list[float] = []
        write_cpu: list[float] = []
        render_cpu: list[float] = []
        for round_ in range(args.rounds):
            fps, cpu, annotators = render_and_write(args.frames, out)
            write_fps.append(fps)
            write_cpu.append(cpu)
            fps, cpu = render_only(args.frames, 1000 * (round_ + 1), annotators)
            render_fps.append(fps)
            render_cpu.append(cpu)
            print(
                f"round {round_ + 1}: render-only {render_fps[-1]:.2f} fps ({render_cpu[-1] * 1000:.0f} ms CPU/frame), "
                f"render+write {write_fps[-1]:.2f} fps ({write_cpu[-1] * 1000:.0f} ms CPU/frame)"
            )
        render_median, write_median = statistics.median(render_fps), statistics.median(write_fps)
        cpu_render, cpu_write = statistics.median(render_cpu), statistics.median(write_cpu)
        print(f"3 cameras at 512x512, {len(ANNOTATORS)} annotators, {args.frames} frames x {args.rounds} rounds")
        print(f"render-only  : {render_median:.2f} frames/s, {cpu_render * 1000:.0f} ms CPU/frame (medians)")
        print(f"render+write : {write_median:.2f} frames/s, {cpu_write * 1000:.0f} ms CPU/frame (medians)")
        print(
            f"writing costs {(render_median / write_median - 1) * 100:+.1f}% wall time and "
            f"{(cpu_write / cpu_render - 1) * 100:+.1f}% CPU time over render-only (target <= +15%)"
        )
        if args.memory_frames:
            samples = memory_run(args.memory_frames, out)
            print("RSS over the run: " + ", ".join(f"frame {f}: {mb:.0f} MB" for f, mb in samples))
            first = next(mb for f, mb in samples if f >= args.memory_frames // 10)
            print(f"growth from frame {args.memory_frames // 10} to {samples[-1][0]}: {samples[-1][1] - first:+.0f} MB")


if __name__ == "__main__":
    main()
