"""Paths are data: render-product names from configs, options and Python are plain names, checked before
anything is created, and every file a writer creates resolves inside its output folder."""

from __future__ import annotations

import json
from typing import cast

import numpy as np
import pytest
from frames import make_frame
from safety_recordings import SCENE, run_command

from omni.sdg_studio.core.errors import InvalidValue
from omni.sdg_studio.core.path_names import UnsafePathError, inside, name_problem
from omni.sdg_studio.core.render_backend import RenderProduct
from omni.sdg_studio.core.writers.base import FrameBatch
from omni.sdg_studio.core.writers.file_writer import FileWriter
from omni.sdg_studio.core.writers.registry import create_writer

HOSTILE = ["../../escape", "/etc", "a/b", "a\\b", "..", ".", "a\x00b", "tab\there", "C:x"]
WRITERS = ["BasicWriter", "KittiWriter", "CocoWriter", "YoloWriter", "WebDatasetWriter"]


@pytest.fixture
def sdg(capsys, monkeypatch):
    """Run ``sdg-studio`` in this process from a folder; returns (exit code, stderr)."""
    return lambda args, cwd: run_command(args, cwd, capsys, monkeypatch)


@pytest.mark.parametrize("name", HOSTILE)
def test_a_config_render_product_name_is_refused_naming_its_place_and_nothing_is_created(sdg, tmp_path, name):
    config = tmp_path / "rec.json"
    config.write_text(json.dumps({"rp_data": [["/World/Cameras/TopCam", 16, 12, name]]}, indent=1))
    code, err = sdg(["record", str(SCENE), "--config", str(config), "--frames", "1", "--out", "out"], tmp_path)
    assert code == 2 and "Traceback" not in err
    assert err.count("error:") == 1 and f"{config}:" in err and "rp_data[0][3]:" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec.json"]


def test_a_camera_option_name_is_refused(sdg, tmp_path):
    code, err = sdg(["record", str(SCENE), "--camera", "/World/Cameras/TopCam:8x8:..", "--out", "out"], tmp_path)
    assert code == 2 and err.count("error:") == 1 and "--camera" in err and "'..'" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", HOSTILE)
def test_the_python_api_refuses_the_name_naming_the_field(name):
    with pytest.raises(InvalidValue) as info:
        RenderProduct("/World/Cameras/TopCam", 8, 8, name)
    assert info.value.field == "name"


def test_plain_names_pass():
    for name in ("Replicator_01", "top", "cam.front", "kamera-ü", "a b"):
        assert name_problem(name) is None
    RenderProduct("/World/Cam", 8, 8, "front")
    RenderProduct("/World/Cam", 8, 8, None)


def hostile_batch(name: str) -> FrameBatch:
    """Two render products (so writers use their names in paths), one with a hostile name."""
    return FrameBatch(0, {name: make_frame(), "fine": make_frame(shift=3)}, {})


@pytest.mark.parametrize("writer", WRITERS)
@pytest.mark.parametrize("name", ["../../escape", "/abs", "a\x00b", "..\\x"])
def test_no_writer_writes_outside_its_folder_whatever_the_render_product_is_called(tmp_path, writer, name):
    out = tmp_path / "a" / "out"
    made = cast(FileWriter, create_writer(writer, out, {"rgb": True} if writer == "BasicWriter" else {}))
    try:
        made.write(hostile_batch(name))
        made.finish()
    except UnsafePathError as exc:
        assert writer in str(exc) and "\n" not in str(exc)
        made.close()
    outside = [p for p in tmp_path.rglob("*") if p.is_file() and not p.is_relative_to(out)]
    assert outside == []


#: Per writer, the first folder (or file) of its layout, replaced by a link to a folder outside.
FIRST_PART = {
    "BasicWriter": "fine",
    "KittiWriter": "fine",
    "CocoWriter": "fine",
    "YoloWriter": "images",
    "WebDatasetWriter": "shards.json",
}


@pytest.mark.parametrize("writer", WRITERS)
def test_a_symbolic_link_inside_the_folder_cannot_lead_a_writer_outside(tmp_path, writer):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / FIRST_PART[writer]).symlink_to(elsewhere / "target" if writer == "WebDatasetWriter" else elsewhere)
    made = cast(FileWriter, create_writer(writer, out, {"rgb": True} if writer == "BasicWriter" else {}))
    with pytest.raises(UnsafePathError, match="outside"):
        made.write(FrameBatch(0, {"other": make_frame(), "fine": make_frame(shift=3)}, {}))
        made.finish()
    made.close()
    assert list(elsewhere.iterdir()) == []


def test_inside_accepts_nested_relative_paths_and_refuses_escapes(tmp_path):
    assert inside(tmp_path, "a/b/c.png") == tmp_path / "a" / "b" / "c.png"
    for bad in ("../x", "a/../../x", "/x", "a//b", "a/\x01", "C:/x"):
        with pytest.raises(UnsafePathError):
            inside(tmp_path, bad)
    assert np.all([name_problem(c) is not None for c in ("\x00", "\x1f", "\x7f")])
