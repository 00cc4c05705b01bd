"""What the commands print: plain text (never rich markup), and warnings as one clean line, once."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from omni.sdg_studio.cli import main
from omni.sdg_studio.commands.output import console_logging

CURVES_STAGE = """#usda 1.0
(
    upAxis = "Z"
)
def Xform "World"
{
    def Camera "Cam"
    {
        double3 xformOp:translate = (0, 0, 10)
        uniform token[] xformOpOrder = ["xformOp:translate"]
    }
    def Cube "Box" (
        prepend apiSchemas = ["SemanticsLabelsAPI:class"]
    )
    {
        token[] semantics:labels:class = ["box"]
    }
    def BasisCurves "Hair"
    {
        int[] curveVertexCounts = [2]
        point3f[] points = [(0, 0, 0), (1, 1, 1)]
    }
}
"""
CURVES_WARNING = "warning: not rendered by the embedded backend (unsupported prim types): 1 BasisCurves"


def sdg(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real entry point in a fresh process (Python's default warning filters, no pytest capture)."""
    env = {**os.environ, "COLUMNS": "200"}
    cmd = [sys.executable, "-m", "omni.sdg_studio.cli", *args]
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


# ---- plain text ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (
            "bad_color.yaml",
            "version: 1\nrules: []\nclasses:\n  box: {id: 1, color: [1, 2]}\n",
            "a color is [r, g, b] or [r, g, b, a] with integers 0-255, got [1, 2]",
        ),
        (  # a closing tag in a rule id crashed the printer (MarkupError)
            "rule_id.yaml",
            'version: 1\nrules:\n  - id: "[/x]"\n    match: {glob: NoSuchThing*}\n    labels: box\n',
            "rules that matched nothing: [/x]",
        ),
    ],
)
def test_rule_file_texts_print_as_written(sample_scene, tmp_path, capsys, name, text, expected):
    rules = tmp_path / name
    rules.write_text(text)
    main(["label", str(sample_scene), "--rules", str(rules), "--dry-run"])
    captured = capsys.readouterr()
    assert expected in captured.out + captured.err
    assert "Traceback" not in captured.err


def test_config_and_camera_texts_print_as_written(sample_scene, tmp_path, capsys):
    config = tmp_path / "rp.json"
    config.write_text('{"rp_data": [["/World/Cameras/TopCam", 64]], "num_frames": 1}')
    assert main(["record", str(sample_scene), "--config", str(config), "--out", str(tmp_path / "o")]) == 2
    assert "rp_data[0]: expected [camera_path, width, height(, name)], got 2 values" in capsys.readouterr().err
    assert main(["render", str(sample_scene), "-c", "/World/[/x]", "-o", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --camera /World/[/x]: not an absolute prim path") and err.count("\n") == 1


def test_render_product_path_with_markup_is_reported_plainly(sample_scene, tmp_path, capsys):
    args = ["record", str(sample_scene), "-c", "/World/[/x]:8x8", "-c", "/World/Cameras/TopCam:8x8", "-n", "1"]
    assert main([*args, "-a", "rgb", "-o", str(tmp_path / "o")]) == 0
    assert "warning: render product /World/[/x]: no prim at this path; it is skipped" in capsys.readouterr().err


def test_info_says_no_cameras(tmp_path, capsys):
    (tmp_path / "empty.usda").write_text('#usda 1.0\ndef Cube "Box"\n{\n}\n')
    assert main(["info", str(tmp_path / "empty.usda")]) == 0
    out = capsys.readouterr().out
    assert "no cameras on this stage" in out and "Cameras" not in out


def test_refusal_of_a_full_output_folder_names_the_options(sample_scene, tmp_path, capsys):
    out = tmp_path / "o"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    args = ["record", str(sample_scene), "-c", "/World/Cameras/TopCam:8x8", "-n", "1", "-a", "rgb", "-o", str(out)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "not empty (1 entries)" in err and "--policy overwrite|increment|timestamp" in err and "--out" in err
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


# ---- warnings -------------------------------------------------------------------------------------
def test_record_and_render_print_backend_warnings_as_one_clean_line(tmp_path):
    (tmp_path / "curves.usda").write_text(CURVES_STAGE)
    record = sdg(["record", "curves.usda", "-n", "3", "-c", "/World/Cam:16x12", "-a", "rgb", "-o", "rec"], tmp_path)
    render = sdg(["render", "curves.usda", "-r", "16x12", "-o", "ren"], tmp_path)
    for done in (record, render):
        assert done.returncode == 0, done.stderr
        assert done.stderr.count(CURVES_WARNING) == 1, done.stderr
        assert "RenderWarning" not in done.stderr and ".py:" not in done.stderr  # no Python warning format


def test_console_logging_prints_each_message_once_and_restores_warnings(capsys):
    before = warnings.showwarning
    with console_logging():
        for _ in range(3):
            warnings.warn("from warnings [1, 2]", UserWarning, stacklevel=1)
            logging.getLogger("omni.sdg_studio.core.some_module").warning("from logging %s", "[/x]")
        logging.getLogger("omni.sdg_studio").error("broken")
        logging.getLogger("omni.sdg_studio").info("not shown")
        logging.getLogger("somebody.else").warning("not ours")
    err = capsys.readouterr().err.splitlines()
    assert err == ["warning: from warnings [1, 2]", "warning: from logging [/x]", "error: broken"]
    assert warnings.showwarning is before
    assert not logging.getLogger("omni.sdg_studio").handlers
