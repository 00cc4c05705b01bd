"""Recorder configs: Isaac Sim's recorder JSON and the offline-generation YAML / JSON load, validate and save."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from omni.sdg_studio.core.config_document import ConfigError
from omni.sdg_studio.core.recorder.config import BASIC_WRITER_FLAGS, OutputPolicy, RecorderConfig
from omni.sdg_studio.core.recorder.isaac_format import config_to_isaac, save_isaac_config
from omni.sdg_studio.core.recorder.loading import ConfigFormat, load_recorder_config
from omni.sdg_studio.core.render_backend import RenderProduct

#: The shape of isaacsim.replicator.synthetic_recorder's data/default_config.json (keys and values).
ISAAC_DEFAULT = {
    "writer_name": "BasicWriter",
    "custom_writer_name": "MyCustomWriter",
    "num_frames": 0,
    "rt_subframes": 0,
    "control_timeline": False,
    "out_working_dir": "",
    "out_dir": "_out_sdrec",
    "backend_type": "DiskBackend",
    "backend_params": {},
    "basic_writer_params": {flag: flag == "rgb" for flag in BASIC_WRITER_FLAGS},
    "rp_data": [["/OmniverseKit_Persp", 1280, 720, ""]],
}


def write(tmp_path: Path, name: str, text_or_data) -> Path:
    path = tmp_path / name
    path.write_text(text_or_data if isinstance(text_or_data, str) else json.dumps(text_or_data, indent=4))
    return path


def test_isaac_default_config_loads_every_key(tmp_path: Path):
    loaded = load_recorder_config(write(tmp_path, "default_config.json", ISAAC_DEFAULT))
    config = loaded.config
    assert loaded.format is ConfigFormat.RECORDER and loaded.warnings == []
    assert config.render_products == [RenderProduct("/OmniverseKit_Persp", 1280, 720, None)]
    assert config.frames == 0 and config.rt_subframes == 0 and config.control_timeline is False
    assert config.writer_name == "BasicWriter" and config.custom_writer_name == "MyCustomWriter"
    assert config.output.folder == "_out_sdrec" and config.output.working_dir == ""
    assert config.storage == "DiskBackend"
    assert [k for k, v in config.basic_writer_params.items() if v] == ["rgb"]
    assert list(config.basic_writer_params) == list(ISAAC_DEFAULT["basic_writer_params"])
    assert config.output.policy is OutputPolicy.REFUSE


def test_three_element_rows_and_legacy_use_s3(tmp_path: Path):
    data = {
        "rp_data": [["/World/Cameras/TopCam", 640, 480], ["/World/Cameras/DriverCam", 320, 240, "driver"]],
        "use_s3": True,
        "s3_params": {"s3_bucket": "bucket-a", "s3_region": "eu-west-1", "s3_endpoint": ""},
        "num_frames": 3,
    }
    config = load_recorder_config(write(tmp_path, "legacy.json", data)).config
    assert config.render_products == [
        RenderProduct("/World/Cameras/TopCam", 640, 480, None),
        RenderProduct("/World/Cameras/DriverCam", 320, 240, "driver"),
    ]
    assert config.storage == "S3Backend" and config.s3.bucket == "bucket-a" and config.s3.region == "eu-west-1"
    # backend_type wins over use_s3 when it is a known backend
    data["backend_type"] = "DiskBackend"
    assert load_recorder_config(write(tmp_path, "legacy2.json", data)).config.storage == "DiskBackend"
    # S3 fields re-read from backend_params (configs saved with only backend_params)
    hydrated = {"backend_type": "S3Backend", "backend_params": {"bucket": "b2", "endpoint_url": "http://minio:9000"}}
    config = load_recorder_config(write(tmp_path, "s3.json", hydrated)).config
    assert (config.s3.bucket, config.s3.endpoint) == ("b2", "http://minio:9000")


def test_missing_keys_keep_the_window_defaults(tmp_path: Path):
    config = load_recorder_config(write(tmp_path, "partial.json", {"num_frames": 7})).config
    assert config.frames == 7
    assert config.render_products == [RenderProduct("/OmniverseKit_Persp", 1280, 720)]
    assert config.basic_writer_params["rgb"] is True


def test_unknown_keys_warn_with_key_and_line(tmp_path: Path):
    text = '{\n  "num_frames": 2,\n  "rt_subframe": 4,\n  "basic_writer_params": {"rgbb": true}\n}\n'
    loaded = load_recorder_config(write(tmp_path, "typo.json", text))
    messages = [str(w) for w in loaded.warnings]
    assert any("typo.json:3" in m and "'rt_subframe'" in m and "did you mean 'rt_subframes'" in m for m in messages)
    assert any("basic_writer_params.rgbb" in m and "did you mean 'rgb'" in m for m in messages)
    assert loaded.config.rt_subframes == 0


@pytest.mark.parametrize(
    ("data", "field", "needle"),
    [
        ({"num_frames": -1}, "num_frames", "must be >= 0"),
        ({"num_frames": "10"}, "num_frames", "expected an integer"),
        ({"control_timeline": 1}, "control_timeline", "expected true or false"),
        ({"rp_data": [["/Cam", 0, 720, ""]]}, "rp_data[0][1]", "must be >= 1"),
        ({"rp_data": [["/Cam", 1280]]}, "rp_data[0]", "expected [camera_path, width, height(, name)]"),
        ({"rp_data": [["Cam", 64, 64]]}, "rp_data[0][0]", "must be absolute"),
        ({"basic_writer_params": {"rgb": "yes"}}, "basic_writer_params.rgb", "expected true or false"),
        ({"rp_data": [], "sdg_studio": {"policy": "incremnt"}}, "sdg_studio.policy", "did you mean 'increment'"),
    ],
)
def test_invalid_values_name_file_line_and_field(tmp_path: Path, data, field, needle):
    path = write(tmp_path, "bad.json", data)
    with pytest.raises(ConfigError) as info:
        load_recorder_config(path)
    assert info.value.field == field
    assert info.value.file == str(path) and info.value.line is not None
    assert needle in str(info.value)


def test_save_writes_the_recorder_keys_in_its_order(tmp_path: Path):
    config = RecorderConfig(
        render_products=[RenderProduct("/World/Cameras/TopCam", 640, 480, "top")], frames=5, rt_subframes=2
    )
    config.output.working_dir = "/data"
    config.output.folder = "run"
    config.seed = 42
    config.classes = "rules/warehouse.yaml"
    path = save_isaac_config(config, tmp_path / "cfg" / "saved.json")
    text = path.read_text()
    saved = json.loads(text)
    assert text.startswith('{\n    "num_frames": 5,')  # indent=4 like the window
    assert list(saved) == [
        "num_frames",
        "rt_subframes",
        "control_timeline",
        "rp_data",
        "writer_name",
        "out_working_dir",
        "out_dir",
        "s3_params",
        "basic_writer_params",
        "backend_type",
        "backend_params",
        "custom_writer_name",
        "config_file",
        "sdg_studio",
    ]
    assert saved["rp_data"] == [["/World/Cameras/TopCam", 640, 480, "top"]]
    assert saved["backend_params"] == {"output_dir": "/data/run"}
    assert saved["s3_params"] == {"s3_bucket": "", "s3_region": "", "s3_endpoint": ""}
    assert saved["sdg_studio"] == {
        "policy": "refuse",
        "backend": "embedded",
        "seed": 42,
        "classes": "rules/warehouse.yaml",
    }
    again = load_recorder_config(path)
    assert again.warnings == []
    assert config_to_isaac(again.config) == saved


def test_isaac_default_round_trips(tmp_path: Path):
    first = load_recorder_config(write(tmp_path, "d.json", ISAAC_DEFAULT)).config
    path = save_isaac_config(first, tmp_path / "again.json")
    second = load_recorder_config(path).config
    assert second == first


def test_custom_writer_params_from_file_or_block(tmp_path: Path):
    write(tmp_path, "kitti_params.json", {"mapping_dict": {"forklift": [11, 110, 223, 255]}})
    data = {"writer_name": "KittiWriter", "custom_params_path": "kitti_params.json"}
    config = load_recorder_config(write(tmp_path, "k.json", data)).config
    assert config.writer_name == "KittiWriter"
    assert config.effective_writer_params() == {"mapping_dict": {"forklift": [11, 110, 223, 255]}}
    data["sdg_studio"] = {"writer_params": {"bbox_height_threshold": 10}}
    config = load_recorder_config(write(tmp_path, "k2.json", data)).config
    assert config.effective_writer_params() == {"bbox_height_threshold": 10}
    data = {"writer_name": "KittiWriter", "custom_params_path": "missing.json"}
    with pytest.raises(ConfigError, match=r"custom_params_path: writer parameters file 'missing\.json' not found"):
        load_recorder_config(write(tmp_path, "k3.json", data))


def test_stale_disk_output_dir_warns(tmp_path: Path):
    data = {"out_dir": "mine", "backend_params": {"output_dir": "elsewhere", "bucket": "x"}}
    loaded = load_recorder_config(write(tmp_path, "stale.json", data))
    fields = {w.field for w in loaded.warnings}
    assert fields == {"backend_params.output_dir", "backend_params.bucket"}
    assert loaded.config.output.path == Path("mine")


# Offline generation (scene_based_sdg) configs, written as Isaac Sim ships them.
BASIC_YAML = """\
launch_config:
  renderer: RealTimePathTracing
  headless: false
resolution: [512, 512]
env_url: "/Isaac/Environments/Grid/default_environment.usd"
rt_subframes: 32
writer: BasicWriter
backend_type: DiskBackend
backend_params:
  output_dir: _out_basicwriter
writer_config:
  rgb: true
"""
KITTI_YAML = """\
launch_config:
  renderer: RealTimePathTracing
  headless: true
resolution: [512, 512]
num_frames: 5
clear_previous_semantics: false
writer: KittiWriter
backend_type: null
writer_config:
  output_dir: _out_kitti
  colorize_instance_segmentation: true
  mapping_dict:
    forklift: [11, 110, 223, 255]
    pallet: [211, 210, 223, 255]
"""
COCO_YAML = """\
launch_config: {renderer: RealTimePathTracing, headless: true}
resolution: [512, 512]
num_frames: 5
clear_previous_semantics: true
backend_type: null
writer: CocoWriter
writer_config:
  output_dir: _out_coco
  coco_categories:
    forklift: {name: forklift, id: 333, supercategory: warehouse, color: [211, 111, 211], isthing: 1}
    pallet: {name: pallet, id: 313, supercategory: warehouse, color: [141, 111, 131], isthing: 1}
"""
DEFAULT_JSON = {
    "launch_config": {"renderer": "RealTimePathTracing", "headless": False},
    "resolution": [512, 512],
    "backend_type": "DiskBackend",
    "backend_params": {"output_dir": "_out_defaultwriter"},
    "writer_config": {"rgb": True, "instance_segmentation": True},
}


def test_offline_basic_writer_yaml(tmp_path: Path):
    loaded = load_recorder_config(write(tmp_path, "config_basic_writer.yaml", BASIC_YAML))
    config = loaded.config
    assert loaded.format is ConfigFormat.OFFLINE and loaded.warnings == []
    assert config.resolution == (512, 512) and config.rt_subframes == 32
    assert config.frames == 10  # scene_based_sdg default
    assert config.render_products == []
    assert config.output.path == Path("_out_basicwriter")
    assert [k for k, v in config.effective_writer_params().items() if v] == ["rgb"]


def test_offline_kitti_yaml_takes_output_dir_from_writer_config(tmp_path: Path):
    config = load_recorder_config(write(tmp_path, "config_kitti_writer.yaml", KITTI_YAML)).config
    assert config.writer_name == "KittiWriter" and config.frames == 5
    assert config.output.path == Path("_out_kitti")
    assert config.effective_writer_params() == {
        "colorize_instance_segmentation": True,
        "mapping_dict": {"forklift": [11, 110, 223, 255], "pallet": [211, 210, 223, 255]},
    }


def test_offline_coco_yaml_and_default_json(tmp_path: Path):
    config = load_recorder_config(write(tmp_path, "config_coco_writer.yaml", COCO_YAML)).config
    assert config.writer_name == "CocoWriter" and config.output.path == Path("_out_coco")
    assert config.effective_writer_params()["coco_categories"]["pallet"]["id"] == 313
    config = load_recorder_config(write(tmp_path, "config_default_writer.json", DEFAULT_JSON)).config
    assert config.output.path == Path("_out_defaultwriter")
    assert {k for k, v in config.effective_writer_params().items() if v} == {"rgb", "instance_segmentation"}


def test_offline_pre_6_output_dir_in_writer_config(tmp_path: Path):
    text = "resolution: [320, 240]\nnum_frames: 2\nwriter: BasicWriter\n"
    text += "writer_config:\n  output_dir: old\n  rgb: true\n"
    config = load_recorder_config(write(tmp_path, "old.yaml", text)).config
    # backend_type defaults to DiskBackend with its own output_dir, so the writer's old key is ignored
    assert config.output.path == Path("_out_scene_based_sdg")
    text += "backend_type: null\n"
    assert load_recorder_config(write(tmp_path, "old2.yaml", text)).config.output.path == Path("old")


def test_offline_unknown_keys_warn_assets_do_not(tmp_path: Path):
    text = BASIC_YAML + "forklift:\n  url: /Isaac/forklift.usd\n  class: forklift\nnum_frame: 3\n"
    loaded = load_recorder_config(write(tmp_path, "extra.yaml", text))
    assert [(w.field, w.line) for w in loaded.warnings] == [("num_frame", 16)]
    assert "did you mean 'num_frames'" in str(loaded.warnings[0])


def test_offline_bad_values(tmp_path: Path):
    with pytest.raises(ConfigError, match=r"bad.yaml:1:19: resolution\[1\]: must be >= 1"):
        load_recorder_config(write(tmp_path, "bad.yaml", "resolution: [512, 0]\nwriter: BasicWriter\n"))
    with pytest.raises(ConfigError, match="backend_type: 'Disk' is not one of DiskBackend, S3Backend"):
        load_recorder_config(write(tmp_path, "bad2.yaml", "writer: BasicWriter\nbackend_type: Disk\n"))


def test_mixed_formats_and_empty_file_are_errors(tmp_path: Path):
    with pytest.raises(ConfigError, match="mixes recorder-config keys"):
        load_recorder_config(write(tmp_path, "mixed.json", {"rp_data": [], "writer": "BasicWriter"}))
    with pytest.raises(ConfigError, match="empty"):
        load_recorder_config(write(tmp_path, "empty.yaml", ""))
