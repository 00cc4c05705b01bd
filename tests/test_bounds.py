"""Bounds held by the types (render product size, frames, seed, jitter), and where readers report them."""

import json
from pathlib import Path

import pytest

from omni.sdg_studio.core.config_document import ConfigError
from omni.sdg_studio.core.errors import InvalidValue
from omni.sdg_studio.core.recorder.cli_options import OptionError, RecordOptions, parse_camera
from omni.sdg_studio.core.recorder.config import CameraJitter, RecorderConfig
from omni.sdg_studio.core.recorder.loading import load_recorder_config
from omni.sdg_studio.core.render_backend import RenderProduct


def test_a_render_product_is_at_least_one_pixel():
    assert RenderProduct("/Cam", 1, 1).resolution == (1, 1)
    with pytest.raises(InvalidValue, match=r"^height: must be >= 1, got 0$") as caught:
        RenderProduct("/Cam", 4, 0)
    assert (caught.value.field, caught.value.index) == ("height", None)


def test_a_config_refuses_bad_values_on_assignment_and_keeps_the_old_one():
    config = RecorderConfig(frames=5, seed=None)
    for name, value in (("frames", -1), ("rt_subframes", -3), ("seed", -7)):
        with pytest.raises(InvalidValue, match=rf"^{name}: must be >= 0, got {value}$"):
            setattr(config, name, value)
    with pytest.raises(InvalidValue, match=r"^resolution\[0\]: must be >= 1, got 0$"):
        config.resolution = (0, 720)
    assert (config.frames, config.rt_subframes, config.seed, config.resolution) == (5, 0, None, (1280, 720))
    with pytest.raises(InvalidValue, match=r"^rotation: must be >= 0.0"):
        CameraJitter(position=1.0, rotation=-2.0)


def test_config_files_locate_a_broken_bound_at_its_field(tmp_path: Path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"num_frames": 2, "sdg_studio": {"camera_jitter": {"position": -0.5}}}, indent=1))
    with pytest.raises(ConfigError) as caught:
        load_recorder_config(path)
    assert caught.value.field == "sdg_studio.camera_jitter.position" and caught.value.line == 5
    assert "must be >= 0.0, got -0.5" in str(caught.value)


def test_command_line_options_name_the_option():
    with pytest.raises(OptionError, match=r"^--camera '/Cam:0x5': width: must be >= 1, got 0$"):
        parse_camera("/Cam:0x5", (8, 8))
    with pytest.raises(OptionError, match=r"^--seed -1: must be >= 0, got -1$"):
        RecordOptions(seed=-1).apply(RecorderConfig())
