"""The Recorder window's Randomization section, on the host-neutral RecorderModel: load / save, preview, record."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pytest
from pxr import UsdGeom
from test_recorder_model import make_model, make_stage

from omni.sdg_studio.core.config_document import ConfigError
from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.recorder.frame_records import RECORDS_NAME
from omni.sdg_studio.core.recorder.job import JobState

SCENARIO = """\
seed: 4
randomizers:
  - type: pose
    select: /World/Box
    position: {uniform: [[-1, -1, 0], [1, 1, 0]]}
  - type: camera
    select: /World/CamA
    position: {uniform: [[-3, -3, 2], [3, 3, 4]]}
    look_at: /World/Box
"""


def box_position(stage) -> tuple[float, ...]:
    return tuple(
        UsdGeom.Xformable(stage.GetPrimAtPath("/World/Box")).ComputeLocalToWorldTransform(0).ExtractTranslation()
    )


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(SCENARIO)
    return path


def test_load_save_and_clear_a_scenario(tmp_path: Path, scenario_file: Path):
    model, _ = make_model(tmp_path)
    assert model.scenario is None and model.scenario_text() == "no scenario"
    model.load_scenario(scenario_file)
    assert model.scenario_text() == f"{scenario_file} (2 randomizers)"
    bad = tmp_path / "bad.yaml"
    bad.write_text(SCENARIO.replace("[[-1, -1, 0], [1, 1, 0]]", "[[1, 1, 0], [-1, -1, 0]]"))
    with pytest.raises(ConfigError, match=r"bad\.yaml:5:.*inverted range"):
        model.load_scenario(bad)
    assert model.scenario is not None and model.scenario.path == scenario_file  # the good one is kept
    original = model.scenario
    saved = model.save_scenario(tmp_path / "copy.yaml")
    assert model.scenario.path == saved.resolve()
    model.clear_scenario()
    model.load_scenario(saved)
    assert model.scenario == original  # the saved file reads back as the same scenario
    model.clear_scenario()
    with pytest.raises(SdgStudioError, match="no scenario to save"):
        model.save_scenario(tmp_path / "none.yaml")
    # a recorder config that names the scenario loads it; saving the config keeps the file's path
    model.load_scenario(scenario_file)
    model.save_config(tmp_path / "recorder.json")
    assert json.loads((tmp_path / "recorder.json").read_text())["sdg_studio"]["randomization"] == str(scenario_file)
    model.clear_scenario()
    model.load_config(tmp_path / "recorder.json")
    assert model.scenario is not None and model.scenario.path == scenario_file


def test_preview_shows_a_frame_in_a_session_sublayer_and_clears(tmp_path: Path, scenario_file: Path):
    stage = make_stage()
    root = stage.GetRootLayer().ExportToString()
    model, _ = make_model(tmp_path, stage=stage)
    with pytest.raises(SdgStudioError, match="nothing to preview"):
        model.preview(0)
    model.load_scenario(scenario_file)
    record = model.preview(3)
    assert model.previewing and model.preview_frame == 3
    assert "previewing frame 3 (seed 4)" in model.message
    moved = box_position(stage)
    assert np.allclose(moved, record.randomizers[0].values["position"][0])
    assert len(stage.GetSessionLayer().subLayerPaths) == 1 and stage.GetRootLayer().ExportToString() == root
    model.preview(1)  # another frame replaces the first (one sublayer)
    assert len(stage.GetSessionLayer().subLayerPaths) == 1 and box_position(stage) != moved
    model.preview(3)
    assert box_position(stage) == moved  # frame 3 again: the same values
    model.clear_preview()
    assert not model.previewing and len(stage.GetSessionLayer().subLayerPaths) == 0
    assert box_position(stage) == (0.0, 0.0, 0.0)
    model.preview(2)
    model.stop()  # stop (and stage close, window close: the host and window call clear_preview) clears it
    assert len(stage.GetSessionLayer().subLayerPaths) == 0
    model.preview(2)
    model.load_scenario(scenario_file)  # another scenario clears the preview of the old one
    assert not model.previewing and len(stage.GetSessionLayer().subLayerPaths) == 0


def test_record_applies_the_scenario_and_writes_records(tmp_path: Path, scenario_file: Path):
    stage = make_stage()
    root = stage.GetRootLayer().ExportToString()
    model, factory = make_model(tmp_path, stage=stage)
    model.load_scenario(scenario_file)
    model.preview(1)
    assert asyncio.run(model.start_async()) is JobState.FINISHED
    assert not model.previewing  # Record took the preview off first
    assert factory.randomizations[0] is not None and factory.configs[0].seed == 4  # the scenario's seed
    out = tmp_path / "out"
    rgb = [np.load(out / "a" / f"rgb_{i:04d}.npy") for i in range(3)]
    assert not np.array_equal(rgb[0], rgb[1]) and not np.array_equal(rgb[1], rgb[2])
    lines = [json.loads(line) for line in (out / RECORDS_NAME).read_text().splitlines()]
    assert [(r["seed"], r["frame"]) for r in lines] == [(4, 0), (4, 1), (4, 2)]
    manifest = json.loads((out / "sdg_manifest.json").read_text())
    assert manifest["randomization"]["scenario"] == str(scenario_file) and RECORDS_NAME in manifest["end_files"]
    assert manifest["config"]["sdg_studio"]["randomization"]["seed"] == 4  # the content as run
    assert len(stage.GetSessionLayer().subLayerPaths) == 0 and stage.GetRootLayer().ExportToString() == root


def test_a_scenario_the_stage_does_not_fit_records_nothing(tmp_path: Path, scenario_file: Path):
    model, factory = make_model(tmp_path)
    scenario_file.write_text(SCENARIO.replace("look_at: /World/Box", "look_at: /World/Gone"))
    model.load_scenario(scenario_file)
    with pytest.raises(ConfigError, match=r"scenario\.yaml:9:.*look_at.*/World/Gone"):
        asyncio.run(model.start_async())
    assert not factory.writers and not (tmp_path / "out").exists()
    with pytest.raises(ConfigError, match="/World/Gone"):
        model.preview(0)
    assert not model.previewing
