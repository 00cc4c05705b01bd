"""RecorderJob: states, events, frame counting, stop / pause / resume, failure on a full disk, manifest."""

from __future__ import annotations

import asyncio
import errno
import json
import threading
from pathlib import Path

import numpy as np
import pytest
from pxr import Usd, UsdGeom
from recorder_doubles import DiskFullWriter, NpyWriter, PoseBackend

from omni.sdg_studio.core.randomize import RandomizationEngine
from omni.sdg_studio.core.recorder.backend_session import BackendCaptureSession, FrameTimeline, render_product_names
from omni.sdg_studio.core.recorder.config import CameraJitter
from omni.sdg_studio.core.recorder.job import FrameProgress, JobState, JobStateError, RecorderJob
from omni.sdg_studio.core.recorder.manifest import Manifest
from omni.sdg_studio.core.recorder.randomization import RecordingRandomization, camera_jitter_scenario
from omni.sdg_studio.core.render_backend import RenderProduct

PRODUCTS = [RenderProduct("/World/CamA", 8, 6, "front"), RenderProduct("/World/CamB", 4, 4)]


def make_stage() -> Usd.Stage:
    stage = Usd.Stage.CreateInMemory()
    for name, x in (("CamA", 1.0), ("CamB", -2.0)):
        camera = UsdGeom.Camera.Define(stage, f"/World/{name}")
        camera.AddTranslateOp().Set((x, 0.5, 3.0))
    stage.SetStartTimeCode(0)
    stage.SetEndTimeCode(100)
    return stage


def make_manifest(out: Path, frames: int) -> Manifest:
    out.mkdir(parents=True, exist_ok=True)
    return Manifest(out, "mem.usda", {"num_frames": frames}, 7, "test", [], frames)


def make_job(
    out: Path, frames: int, writer=None, manifest: Manifest | None = None, jitter: bool = False, stage=None
) -> tuple[RecorderJob, NpyWriter]:
    stage = stage or make_stage()
    writer = writer or NpyWriter(out)
    scenario = camera_jitter_scenario(CameraJitter(0.2, 3.0), [p.camera for p in PRODUCTS])
    randomization = RecordingRandomization(RandomizationEngine(stage, scenario, seed=7)) if jitter else None
    session = BackendCaptureSession(PoseBackend(stage), writer, PRODUCTS, randomization=randomization)
    manifest = manifest if manifest is not None else make_manifest(out, frames)
    return RecorderJob(session, frames, manifest, manifest_interval=0.0), writer


def files_on_disk(out: Path) -> list[str]:
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("*.npy"))


def expected_files(indices) -> list[str]:
    names = render_product_names(PRODUCTS)
    return sorted(f"{rp}/{a}_{i:04d}.npy" for i in indices for rp in names for a in ("rgb", "distance_to_camera"))


def test_render_product_names_follow_replicator():
    products = [RenderProduct("/a", 1, 1, "my_rp"), RenderProduct("/b", 1, 1), RenderProduct("/c", 1, 1)]
    products.append(RenderProduct("/d", 1, 1, "my_rp"))
    assert render_product_names(products) == ["my_rp", "Replicator", "Replicator_01", "my_rp_01"]


def test_records_n_frames_counting_steps_across_render_products(tmp_path: Path):
    job, writer = make_job(tmp_path, 5)
    states: list[JobState] = []
    progress: list[FrameProgress] = []
    job.subscribe_state(states.append)
    job.subscribe_progress(progress.append)
    assert job.run() is JobState.FINISHED
    assert states == [JobState.RUNNING, JobState.FINISHED]
    # one frame = one step on both render products
    assert [p.done for p in progress] == [1, 2, 3, 4, 5] and {p.total for p in progress} == {5}
    assert [p.index for p in progress] == writer.batches == [0, 1, 2, 3, 4]
    assert progress[-1].fraction == 1.0 and progress[-1].eta == 0
    assert files_on_disk(tmp_path) == expected_files(range(5))
    saved = json.loads((tmp_path / "sdg_manifest.json").read_text())
    assert saved["state"] == "finished" and saved["frames_done"] == 5
    assert [f["index"] for f in saved["frames"]] == [0, 1, 2, 3, 4]
    listed = sorted(p for f in saved["frames"] for p in f["files"])
    assert listed == expected_files(range(5))
    assert saved["end_files"] == ["frames.txt"] and writer.finished


def test_stop_finishes_the_frame_in_flight_then_resume_records_the_rest(tmp_path: Path):
    job, _ = make_job(tmp_path / "a", 6)
    job.subscribe_progress(lambda p: job.stop() if p.index == 2 else None)
    assert job.run() is JobState.STOPPED
    assert files_on_disk(tmp_path / "a") == expected_files(range(3))
    manifest = Manifest.load(tmp_path / "a")
    assert manifest.state == "stopped" and manifest.done_indices() == {0, 1, 2}

    resumed, writer = make_job(tmp_path / "a", 6, manifest=manifest)
    assert resumed.frames_done == 3
    assert resumed.run() is JobState.FINISHED
    assert writer.batches == [3, 4, 5]  # no finished frame is written again
    assert files_on_disk(tmp_path / "a") == expected_files(range(6))
    final = Manifest.load(tmp_path / "a")
    assert final.state == "finished" and len(final.runs) == 2 and final.done_indices() == set(range(6))

    # the interrupted + resumed run holds the same data as an uninterrupted one
    whole, _ = make_job(tmp_path / "b", 6)
    whole.run()
    for rel in expected_files(range(6)):
        assert np.array_equal(np.load(tmp_path / "a" / rel), np.load(tmp_path / "b" / rel)), rel


def test_pause_and_resume_keep_numbering(tmp_path: Path):
    job, writer = make_job(tmp_path, 4)
    states: list[JobState] = []
    job.subscribe_state(states.append)

    def on_frame(progress: FrameProgress) -> None:
        if progress.index == 1:
            job.pause()
            threading.Timer(0.2, job.resume).start()

    job.subscribe_progress(on_frame)
    assert job.run() is JobState.FINISHED
    assert states == [JobState.RUNNING, JobState.PAUSED, JobState.RUNNING, JobState.FINISHED]
    assert writer.batches == [0, 1, 2, 3]
    with pytest.raises(JobStateError, match="cannot resume a finished recording"):
        job.resume()
    with pytest.raises(JobStateError, match="cannot start again"):
        job.run()
    assert job.state is JobState.FINISHED


def test_until_stopped_runs_until_stop(tmp_path: Path):
    job, writer = make_job(tmp_path, 0)
    job.subscribe_progress(lambda p: job.stop() if p.done == 4 else None)
    seen: list[FrameProgress] = []
    job.subscribe_progress(seen.append)
    assert job.run() is JobState.STOPPED
    assert writer.batches == [0, 1, 2, 3] and seen[-1].total is None and seen[-1].eta is None


def test_full_disk_fails_with_message_and_valid_manifest(tmp_path: Path):
    writer = DiskFullWriter(tmp_path, fail_at=3)
    job, _ = make_job(tmp_path, 6, writer=writer)
    assert job.run() is JobState.FAILED
    assert "the disk is full" in job.message and str(tmp_path) in job.message
    saved = Manifest.load(tmp_path)
    assert saved.state == "failed" and "the disk is full" in saved.message
    assert saved.done_indices() == {0, 1, 2}
    assert not list(tmp_path.rglob("*.tmp"))
    # resume after freeing space: frame 3 on are recorded, 0-2 are not rewritten
    resumed, writer = make_job(tmp_path, 6, manifest=saved)
    assert resumed.run() is JobState.FINISHED and writer.batches == [3, 4, 5]


def test_read_only_failure_message(tmp_path: Path):
    job, _ = make_job(tmp_path, 3, writer=DiskFullWriter(tmp_path, fail_at=0, error=errno.EROFS))
    assert job.run() is JobState.FAILED
    assert "the file system is read-only" in job.message
    assert Manifest.load(tmp_path).done_indices() == set()


def test_resume_rerecords_frames_whose_files_went_missing(tmp_path: Path):
    job, _ = make_job(tmp_path, 3)
    job.run()
    (tmp_path / "front" / "rgb_0001.npy").unlink()
    manifest = Manifest.load(tmp_path)
    assert manifest.verify() == [1]
    resumed, writer = make_job(tmp_path, 3, manifest=manifest)
    assert resumed.run() is JobState.FINISHED and writer.batches == [1]
    assert files_on_disk(tmp_path) == expected_files(range(3))


def test_async_run_drives_the_same_states(tmp_path: Path):
    class AsyncSession:
        def __init__(self, inner: BackendCaptureSession) -> None:
            self.inner = inner
            self.idles = 0

        async def open_async(self) -> None:
            self.inner.open()

        async def capture_async(self, index: int) -> list[Path]:
            await asyncio.sleep(0)
            return self.inner.capture(index)

        def completed(self):
            return self.inner.completed()

        def pause(self) -> None: ...

        def resume(self) -> None: ...

        async def idle_async(self) -> None:
            self.idles += 1
            await asyncio.sleep(0.01)

        async def close_async(self, ok: bool) -> list[Path]:
            return self.inner.close(ok)

    stage = make_stage()
    writer = NpyWriter(tmp_path)
    session = AsyncSession(BackendCaptureSession(PoseBackend(stage), writer, PRODUCTS))
    job = RecorderJob(session, 3, make_manifest(tmp_path, 3))
    states: list[JobState] = []
    job.subscribe_state(states.append)

    async def main() -> JobState:
        def on_frame(p: FrameProgress) -> None:
            if p.index == 0:
                job.pause()
                asyncio.get_running_loop().call_later(0.05, job.resume)

        job.subscribe_progress(on_frame)
        return await job.run_async()

    assert asyncio.run(main()) is JobState.FINISHED
    assert states == [JobState.RUNNING, JobState.PAUSED, JobState.RUNNING, JobState.FINISHED]
    assert writer.batches == [0, 1, 2] and session.idles > 0
    with pytest.raises(TypeError, match="use run_async"):
        RecorderJob(session, 1).run()


def test_camera_jitter_differs_per_frame_repeats_per_seed_and_restores(tmp_path: Path):
    stage = make_stage()
    root_before = stage.GetRootLayer().ExportToString()
    job, _ = make_job(tmp_path / "a", 3, jitter=True, stage=stage)
    job.run()
    rgb = [np.load(tmp_path / "a" / "front" / f"rgb_{i:04d}.npy") for i in range(3)]
    assert not np.array_equal(rgb[0], rgb[1]) and not np.array_equal(rgb[1], rgb[2])
    # restored: the camera is back at its authored pose, the scene layer untouched
    assert stage.GetRootLayer().ExportToString() == root_before
    assert len(stage.GetSessionLayer().subLayerPaths) == 0
    pose = UsdGeom.Xformable(stage.GetPrimAtPath("/World/CamA")).GetLocalTransformation()
    assert tuple(pose.ExtractTranslation()) == (1.0, 0.5, 3.0)
    again, _ = make_job(tmp_path / "b", 3, jitter=True)
    again.run()
    assert np.array_equal(np.load(tmp_path / "b" / "front" / "rgb_0002.npy"), rgb[2])


def test_controlled_timeline_renders_each_frame_at_its_time(tmp_path: Path):
    stage = make_stage()
    stage.SetTimeCodesPerSecond(48)
    stage.SetFramesPerSecond(24)
    backend = PoseBackend(stage)
    session = BackendCaptureSession(backend, NpyWriter(tmp_path), PRODUCTS[:1], timeline=FrameTimeline.of_stage(stage))
    RecorderJob(session, 3).run()
    assert [call[3] for call in backend.calls] == [0.0, 2.0, 4.0]
    static = PoseBackend(stage)
    RecorderJob(BackendCaptureSession(static, NpyWriter(tmp_path / "s"), PRODUCTS[:1]), 2).run()
    assert [call[3] for call in static.calls] == [None, None]
