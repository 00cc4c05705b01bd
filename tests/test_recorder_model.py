"""RecorderModel, the host-neutral state of the Synthetic Data Recorder window, driven as the window would."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pxr import Usd, UsdGeom, UsdSemantics
from recorder_doubles import AsyncBackendSession, NpyWriter, PoseBackend

from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.recorder.backend_session import BackendCaptureSession
from omni.sdg_studio.core.recorder.config import BASIC_WRITER_FLAGS, OutputPolicy, RecorderConfig
from omni.sdg_studio.core.recorder.job import JobState
from omni.sdg_studio.core.recorder.model import RecorderModel
from omni.sdg_studio.core.recorder.output_policy import OutputFolderError
from omni.sdg_studio.core.recorder.randomization import RecordingRandomization
from omni.sdg_studio.core.render_backend import RenderProduct
from omni.sdg_studio.core.writers.registry import WRITERS


def make_stage(labeled: bool = True) -> Usd.Stage:
    stage = Usd.Stage.CreateInMemory()
    UsdGeom.Camera.Define(stage, "/World/CamA").AddTranslateOp().Set((0, 0, 4))
    UsdGeom.Camera.Define(stage, "/World/CamB").AddTranslateOp().Set((1, 0, 4))
    box = UsdGeom.Cube.Define(stage, "/World/Box").GetPrim()
    if labeled:
        UsdSemantics.LabelsAPI.Apply(box, "class").CreateLabelsAttr(["box"])
    return stage


class Factory:
    """Builds embedded-style sessions (pose-encoding backend, npy writer) and remembers them."""

    def __init__(self) -> None:
        self.writers: list[NpyWriter] = []
        self.configs: list[RecorderConfig] = []
        self.randomizations: list[RecordingRandomization | None] = []

    def __call__(
        self, config: RecorderConfig, output_dir: Path, stage: Usd.Stage, randomization: RecordingRandomization | None
    ) -> AsyncBackendSession:
        self.configs.append(config)
        self.randomizations.append(randomization)
        writer = NpyWriter(output_dir, ("rgb",))
        self.writers.append(writer)
        session = BackendCaptureSession(PoseBackend(stage), writer, config.render_products, randomization=randomization)
        return AsyncBackendSession(session)


def make_model(tmp_path: Path, stage: Usd.Stage | None = None, **kw) -> tuple[RecorderModel, Factory]:
    stage = stage or make_stage()
    factory = Factory()
    model = RecorderModel(factory, lambda: stage, last_config_path=tmp_path / "cfg" / "last_config.json", **kw)
    model.config.render_products = [RenderProduct("/World/CamA", 8, 6, "a"), RenderProduct("/World/CamB", 4, 4)]
    model.set_output(folder=str(tmp_path / "out"))
    model.set_control(frames=3)
    return model, factory


def test_starts_like_isaac_sims_recorder(tmp_path: Path):
    model = RecorderModel(Factory(), make_stage)
    assert model.render_products == [RenderProduct("/OmniverseKit_Persp", 1280, 720)]
    assert [f for f, on in model.basic_flags.items() if on] == ["rgb"]
    assert model.config.output.folder == "_out_sdrec" and model.config.output.policy is OutputPolicy.REFUSE
    buttons = model.buttons()
    assert (buttons.start_stop, buttons.pause_resume, buttons.pause_enabled) == ("Start", "Pause", False)


def test_render_product_table(tmp_path: Path):
    model, _ = make_model(tmp_path)
    model.config.render_products = []
    added = model.add_cameras(["/World/CamB", "/World/Box", "/World/CamA"], viewport_camera="/OmniverseKit_Persp")
    assert added == ["/World/CamB", "/World/CamA"]  # only Camera prims from the selection
    assert model.add_cameras([], viewport_camera="/OmniverseKit_Persp") == ["/OmniverseKit_Persp"]
    model.add_render_product("/World/CamA", 64, 32, "wide")  # the same camera twice is fine
    model.update_render_product(0, width=320, height=240, name="b")
    model.remove_render_product(2)
    assert model.render_products == [
        RenderProduct("/World/CamB", 320, 240, "b"),
        RenderProduct("/World/CamA", 1280, 720),
        RenderProduct("/World/CamA", 64, 32, "wide"),
    ]
    assert model.render_product_names() == ["b", "Replicator", "wide"]
    with pytest.raises(SdgStudioError, match="width: must be >= 1, got 0"):
        model.update_render_product(0, width=0)
    with pytest.raises(SdgStudioError, match="frames: must be >= 0, got -1"):
        model.set_control(frames=-1)
    assert model.render_products[0].width == 320 and model.config.frames == 3  # refused values change nothing


def test_writer_choice_flags_and_typed_params(tmp_path: Path):
    @dataclass
    class Spec:
        name: str
        kind: str
        default: Any
        help: str = ""
        compat: bool = False

        def parse(self, text: str, writer: str) -> Any:
            return int(text) if self.kind == "int" else text

    specs = {
        "KittiWriter": [Spec("bbox_height_threshold", "int", 25)],
        "BasicWriter": [
            Spec("rgb", "bool", False),
            Spec("frame_padding", "int", 4),
            Spec("s3_bucket", "str", None, compat=True),
        ],
    }
    model, _ = make_model(tmp_path, param_specs=lambda name: specs.get(name, []), writer_names=lambda: ["MyWriter"])
    assert model.writer_names() == ["BasicWriter", "KittiWriter", "CocoWriter", "MyWriter"]
    assert [s.name for s in model.param_specs()] == ["frame_padding"]  # flags have their checkboxes
    model.set_param("frame_padding", "6")
    model.select_all()
    assert all(model.basic_flags.values())
    model.set_flag("rgb", False)
    model.toggle_all()
    assert [f for f, on in model.basic_flags.items() if on] == ["rgb"]
    model.set_writer("KittiWriter")
    assert model.config.writer_params == {} and model.param_text("bbox_height_threshold") == "25"
    model.set_param("bbox_height_threshold", "10")
    assert model.config.effective_writer_params() == {"bbox_height_threshold": 10}
    model.set_writer("BasicWriter")
    assert model.config.writer_params == {"frame_padding": 6}
    model.set_writer("KittiWriter")
    assert model.config.writer_params == {"bbox_height_threshold": 10}
    model.set_param("bbox_height_threshold", "")
    assert model.config.writer_params == {}
    with pytest.raises(SdgStudioError, match="no parameter 'nope'"):
        model.set_param("nope", "1")


def test_typed_params_from_the_writer_registry(tmp_path: Path):
    model, _ = make_model(tmp_path, param_specs=lambda name: WRITERS.get(name).params)
    shown = [s.name for s in model.param_specs()]
    assert "frame_padding" in shown and "rgb" not in shown and "s3_bucket" not in shown
    model.set_param("semantic_types", "class,category")
    model.set_writer("KittiWriter")
    model.set_param("bbox_height_threshold", "10")
    model.set_param("omit_semantic_type", "true")
    assert model.config.effective_writer_params() == {"bbox_height_threshold": 10, "omit_semantic_type": True}
    with pytest.raises(SdgStudioError, match="bbox_height_threshold"):
        model.set_param("bbox_height_threshold", "ten")
    model.set_writer("BasicWriter")
    assert model.config.writer_params == {"semantic_types": ["class", "category"]}


def test_control_validation(tmp_path: Path):
    model, _ = make_model(tmp_path)
    model.set_control(frames=0, rt_subframes=8, control_timeline=True)
    assert (model.config.frames, model.config.rt_subframes, model.config.control_timeline) == (0, 8, True)
    with pytest.raises(SdgStudioError):
        model.set_control(frames=-1)
    with pytest.raises(SdgStudioError):
        model.set_control(rt_subframes=-2)


def test_save_and_load_recorder_json(tmp_path: Path):
    model, _ = make_model(tmp_path)
    model.set_flag("distance_to_camera", True)
    path = model.save_config(tmp_path / "mine.json")
    saved = json.loads(path.read_text())
    assert saved["rp_data"] == [["/World/CamA", 8, 6, "a"], ["/World/CamB", 4, 4, ""]]
    assert saved["basic_writer_params"]["distance_to_camera"] is True
    other, _ = make_model(tmp_path)
    other.load_config(path)
    assert other.config == model.config
    (tmp_path / "bad.json").write_text('{"num_frames": -3}')
    with pytest.raises(SdgStudioError, match="num_frames"):
        other.load_config(tmp_path / "bad.json")
    assert other.config == model.config  # a bad file changes nothing


def test_recording_reports_progress_buttons_and_manifest(tmp_path: Path, caplog):
    caplog.set_level(logging.INFO, logger="omni.sdg_studio.core.recorder.model")
    model, factory = make_model(tmp_path)
    seen: list[tuple[str, str, str]] = []
    model.subscribe(lambda: seen.append((model.state.value, model.buttons().start_stop, model.progress_text)))
    assert asyncio.run(model.start_async()) is JobState.FINISHED
    assert factory.writers[0].batches == [0, 1, 2]
    assert ("running", "Stop", "") in seen
    assert any(state == "running" and text.startswith("2/3 frames") for state, _, text in seen)
    assert model.progress_fraction == 1.0 and model.buttons().start_stop == "Start"
    assert model.message == f"finished: 3 frames in {tmp_path / 'out'}"
    assert [r.getMessage() for r in caplog.records] == ["recording running", "recording finished"]
    manifest = json.loads((tmp_path / "out" / "sdg_manifest.json").read_text())
    assert manifest["state"] == "finished" and manifest["frames_done"] == 3
    assert isinstance(factory.configs[0].seed, int) and model.config.seed is None  # the run's seed, not the form's
    # the config used is remembered for the next session and "Record N Frames"
    assert json.loads((tmp_path / "cfg" / "last_config.json").read_text())["num_frames"] == 3


def test_stop_and_pause_from_the_buttons(tmp_path: Path):
    model, factory = make_model(tmp_path)
    model.set_control(frames=0)
    labels: list[str] = []

    def on_change() -> None:
        progress = model.progress
        if progress is None:
            return
        if progress.done == 1 and model.state is JobState.RUNNING and not labels:
            model.pause()
            labels.append(model.buttons().pause_resume)
            asyncio.get_running_loop().call_later(0.05, model.resume)
        elif progress.done == 4 and model.running:
            model.stop()

    model.subscribe(on_change)
    assert asyncio.run(model.start_async()) is JobState.STOPPED
    assert labels == ["Resume"] and factory.writers[0].batches == [0, 1, 2, 3]
    assert model.message.startswith("stopped: 4 frames")


def test_pre_record_issues_are_asked_before_starting(tmp_path: Path, caplog):
    model, factory = make_model(tmp_path, stage=make_stage(labeled=False))
    model.set_flag("semantic_segmentation", True)
    assert asyncio.run(model.start_async()) is JobState.IDLE
    assert not factory.writers and not (tmp_path / "out").exists()
    assert "no prim on the stage carries semantic labels" in str(model.pending_issues[0])
    assert asyncio.run(model.start_async(confirmed=True)) is JobState.FINISHED
    assert model.pending_issues == []
    assert any(r.levelname == "WARNING" and "semantic labels" in r.getMessage() for r in caplog.records)


def test_output_policy_applies_to_gui_recordings(tmp_path: Path):
    model, _ = make_model(tmp_path)
    asyncio.run(model.start_async())
    with pytest.raises(OutputFolderError, match="not empty"):
        asyncio.run(model.start_async())
    model.set_output(policy=OutputPolicy.INCREMENT)
    asyncio.run(model.start_async())
    assert model.output_dir == tmp_path / "out_0001"


def test_record_n_frames_uses_the_last_config(tmp_path: Path):
    model, _ = make_model(tmp_path)
    model.set_control(frames=2)
    model.set_output(policy=OutputPolicy.INCREMENT)
    model.save_last_config()
    fresh, factory = make_model(tmp_path)  # a new session: the form shows other values
    fresh.config = RecorderConfig()
    assert asyncio.run(fresh.record_last_config_async()) is JobState.FINISHED
    assert factory.configs[0].frames == 2 and factory.writers[0].batches == [0, 1]
    assert [p.camera for p in factory.configs[0].render_products] == ["/World/CamA", "/World/CamB"]


def test_a_damaged_last_config_is_reported_not_fatal(tmp_path: Path, caplog):
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "last_config.json").write_text('{"num_frames": "many"}')
    model = RecorderModel(Factory(), make_stage, last_config_path=tmp_path / "cfg" / "last_config.json")
    assert model.config.frames == 0
    assert any(r.levelname == "WARNING" and "num_frames" in r.getMessage() for r in caplog.records)


def test_flags_listed_are_isaacs(tmp_path: Path):
    model, _ = make_model(tmp_path)
    assert list(model.basic_flags) == list(BASIC_WRITER_FLAGS)
