"""prepare_recording: render products from the stage, policies before anything is created, resume checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pxr import Usd, UsdGeom
from recorder_doubles import NpyWriter, PoseBackend

from omni.sdg_studio.core.recorder.config import CameraJitter, OutputPolicy, RecorderConfig
from omni.sdg_studio.core.recorder.job import JobState
from omni.sdg_studio.core.recorder.output_policy import OutputFolderError
from omni.sdg_studio.core.recorder.precheck import PrecheckError
from omni.sdg_studio.core.recorder.recording import (
    RecordingBackend,
    RecordingSetupError,
    WriterRequest,
    prepare_recording,
)
from omni.sdg_studio.core.render_backend import RenderProduct

SCENE_CAMERAS = ["/World/Cameras/TopCam", "/World/Cameras/DriverCam", "/World/Cameras/PalletCam"]


def npy_factory(requests: list[WriterRequest], annotators=("rgb", "distance_to_camera")):
    def make(request: WriterRequest) -> NpyWriter:
        requests.append(request)
        return NpyWriter(request.output_dir, annotators)

    return make


def config_for(out: Path, frames: int = 2, **kw) -> RecorderConfig:
    config = RecorderConfig(frames=frames, resolution=(8, 6), **kw)
    config.output.folder = str(out)
    return config


def prepare(stage: Path, config: RecorderConfig, requests=None, **kw):
    requests = [] if requests is None else requests
    kw.setdefault("writer_factory", npy_factory(requests))
    return prepare_recording(stage, config, RecordingBackend(PoseBackend), manifest_interval=0.0, **kw)


def test_all_stage_cameras_when_the_config_names_none(sample_scene: Path, tmp_path: Path):
    requests: list[WriterRequest] = []
    recording = prepare(sample_scene, config_for(tmp_path / "out", seed=5), requests)
    assert [p.camera for p in recording.config.render_products] == SCENE_CAMERAS
    assert {(p.width, p.height) for p in recording.config.render_products} == {(8, 6)}
    assert requests[0].seed == 5 and requests[0].name == "BasicWriter" and requests[0].resume is False
    assert recording.job.run() is JobState.FINISHED
    manifest = json.loads((tmp_path / "out" / "sdg_manifest.json").read_text())
    assert manifest["seed"] == 5 and manifest["stage"] == str(sample_scene.resolve())
    assert [rp["name"] for rp in manifest["render_products"]] == ["Replicator", "Replicator_01", "Replicator_02"]
    assert manifest["config"]["rp_data"] == [[c, 8, 6, ""] for c in SCENE_CAMERAS]


def test_a_seed_is_drawn_and_recorded_when_none_is_given(sample_scene: Path, tmp_path: Path):
    recording = prepare(sample_scene, config_for(tmp_path / "out"))
    assert isinstance(recording.config.seed, int)
    assert recording.manifest.seed == recording.config.seed


def test_nothing_is_created_when_a_check_fails(sample_scene: Path, tmp_path: Path):
    out = tmp_path / "never"
    stage = Usd.Stage.CreateNew(str(tmp_path / "bare.usda"))
    UsdGeom.Camera.Define(stage, "/Cam")
    UsdGeom.Cube.Define(stage, "/Box")
    stage.Save()
    labels = npy_factory([], annotators=("rgb", "semantic_segmentation"))
    with pytest.raises(PrecheckError, match="no prim on the stage carries semantic labels"):
        prepare(tmp_path / "bare.usda", config_for(out), writer_factory=labels, strict=True)
    assert not out.exists()
    # without --strict the issue is reported and the recording goes ahead
    recording = prepare(tmp_path / "bare.usda", config_for(out), writer_factory=labels)
    assert [i.kind.value for i in recording.report.issues] == ["unlabeled_stage"]

    bad_camera = config_for(tmp_path / "never2", render_products=[RenderProduct("/World/Looks", 8, 8)])
    with pytest.raises(PrecheckError, match="nothing to record"):
        prepare(sample_scene, bad_camera)
    assert not (tmp_path / "never2").exists()


def test_invalid_cameras_are_skipped_and_reported(sample_scene: Path, tmp_path: Path):
    products = [RenderProduct("/OmniverseKit_Persp", 8, 8), RenderProduct(SCENE_CAMERAS[0], 8, 8, "top")]
    recording = prepare(sample_scene, config_for(tmp_path / "o", render_products=products))
    assert recording.config.render_products == products[1:]
    assert "exist only inside Kit" in str(recording.report.issues[0])
    with pytest.raises(PrecheckError):
        prepare(sample_scene, config_for(tmp_path / "o2", render_products=products), strict=True)


def test_policies_apply_before_writing(sample_scene: Path, tmp_path: Path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    with pytest.raises(OutputFolderError, match="not empty"):
        prepare(sample_scene, config_for(out))
    config = config_for(out)
    config.output.policy = OutputPolicy.INCREMENT
    recording = prepare(sample_scene, config)
    assert recording.output_dir == tmp_path / "out_0001"
    assert (out / "keep.txt").read_text() == "precious"


def test_resume_checks_it_continues_the_same_recording(sample_scene: Path, tmp_path: Path):
    out = tmp_path / "out"
    first = prepare(sample_scene, config_for(out, frames=4, seed=3))
    first.job.subscribe_progress(lambda p: first.job.stop() if p.index == 1 else None)
    assert first.job.run() is JobState.STOPPED

    with pytest.raises(RecordingSetupError, match="seed 3"):
        prepare(sample_scene, config_for(out, frames=4, seed=4), resume=True)
    jittered = config_for(out, frames=4, camera_jitter=CameraJitter(0.1, 0.0))
    with pytest.raises(RecordingSetupError, match="camera_jitter differs"):
        prepare(sample_scene, jittered, resume=True)
    with pytest.raises(RecordingSetupError, match=r"writer parameters differ \(rgb\)"):
        changed = config_for(out, frames=4)
        changed.basic_writer_params["rgb"] = False
        prepare(sample_scene, changed, resume=True)
    with pytest.raises(Exception, match="no manifest"):
        prepare(sample_scene, config_for(tmp_path / "elsewhere", frames=4), resume=True)

    requests: list[WriterRequest] = []
    resumed = prepare(sample_scene, config_for(out, frames=4), requests, resume=True)
    assert requests[0].resume is True and requests[0].seed == 3 and resumed.resumed_frames == 2
    assert resumed.job.run() is JobState.FINISHED
    assert resumed.writer.batches == [2, 3]


def test_an_unwritable_output_folder_is_a_clear_error(sample_scene: Path, tmp_path: Path, monkeypatch):
    from omni.sdg_studio.core.recorder import manifest

    def read_only(path, text, durable=False):
        raise OSError(30, "Read-only file system", str(path))

    monkeypatch.setattr(manifest, "atomic_write_text", read_only)
    with pytest.raises(OutputFolderError, match="the file system is read-only"):
        prepare(sample_scene, config_for(tmp_path / "ro"))


def test_kit_only_settings_are_refused_outside_kit(sample_scene: Path, tmp_path: Path):
    with pytest.raises(RecordingSetupError, match="S3Backend needs Replicator"):
        prepare(sample_scene, config_for(tmp_path / "a", storage="S3Backend"))
    with pytest.raises(RecordingSetupError, match="runs inside Isaac Sim"):
        prepare(sample_scene, config_for(tmp_path / "a", backend="replicator"))


def test_writer_requests_carry_the_effective_params(sample_scene: Path, tmp_path: Path):
    requests: list[WriterRequest] = []
    config = config_for(tmp_path / "k", writer_name="KittiWriter", writer_params={"bbox_height_threshold": 5})
    prepare(sample_scene, config, requests)
    assert requests[0].name == "KittiWriter" and requests[0].params == {"bbox_height_threshold": 5}
