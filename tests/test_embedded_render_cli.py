"""``sdg-studio render``: files a person can open, consistent with the backend's data."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from omni.sdg_studio.cli import main
from omni.sdg_studio.commands.options import parse_resolution
from omni.sdg_studio.commands.render import depth_image, to_jsonable
from omni.sdg_studio.core.colors import stable_color

TOP = "/World/Cameras/TopCam"


def test_render_writes_rgb_and_colorized_segmentation(sample_scene, tmp_path):
    out = tmp_path / "out"
    args = ["render", str(sample_scene), "--camera", TOP, "--annotators", "rgb,semantic_segmentation"]
    assert main([*args, "--resolution", "96x64", "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "rgb.png",
        "semantic_segmentation.json",
        "semantic_segmentation.png",
    ]
    rgb = np.asarray(Image.open(out / "rgb.png"))
    assert rgb.shape == (64, 96, 4) and rgb[..., :3].std() > 10  # not a flat image
    seg = np.asarray(Image.open(out / "semantic_segmentation.png"))
    labels = json.loads((out / "semantic_segmentation.json").read_text())["idToLabels"]
    colors = {tuple(c) for c in seg.reshape(-1, 4)}
    for key, value in labels.items():
        color = tuple(int(v) for v in key.strip("()").split(","))
        assert color in colors
        if value["class"] not in ("BACKGROUND", "UNLABELLED"):
            assert color == stable_color(value["class"])
    # Nothing is overwritten without --overwrite.
    assert main([*args, "--resolution", "96x64", "-o", str(out)]) == 2
    assert main([*args, "--resolution", "96x64", "-o", str(out), "--overwrite"]) == 0


def test_render_all_annotators(sample_scene, tmp_path):
    out = tmp_path / "all"
    assert main(["render", str(sample_scene), "-c", TOP, "-a", "all", "-r", "64x48", "-o", str(out)]) == 0
    depth = np.load(out / "distance_to_image_plane.npy")
    assert depth.shape == (48, 64) and depth.dtype == np.float32
    gray = np.asarray(Image.open(out / "distance_to_image_plane.png"))
    assert gray.shape == (48, 64) and gray[np.isfinite(depth)].min() > 0
    boxes = json.loads((out / "bounding_box_2d_tight.json").read_text())
    assert len(boxes["data"]) == len(boxes["info"]["primPaths"]) > 0
    assert set(boxes["data"][0]) == {"semanticId", "x_min", "y_min", "x_max", "y_max", "occlusionRatio"}
    params = json.loads((out / "camera_params.json").read_text())
    assert params["renderProductResolution"] == [64, 48]
    assert (out / "pointcloud.ply").read_text().startswith("ply\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-c", TOP, "-r", "big"], "expected WIDTHxHEIGHT"),
        (["-c", TOP, "-r", "0x10"], "at least 1"),
        (["-c", TOP, "-a", "depth"], "unknown annotator 'depth'"),
        (["-c", "/World/Nope"], "no such prim"),
        ([], "the stage has 3 cameras"),
    ],
)
def test_bad_arguments_print_one_line(sample_scene, tmp_path, capsys, args, message):
    assert main(["render", str(sample_scene), *args, "-o", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "x").exists() or not any((tmp_path / "x").iterdir())


def test_helpers():
    assert parse_resolution("640x480") == (640, 480)
    depth = np.array([[1.0, 10.0], [np.inf, 100.0]], np.float32)
    gray = depth_image(depth)
    assert gray[0, 0] == 255 and gray[1, 0] == 0 and gray[0, 0] > gray[0, 1] > gray[1, 1] > 0
    rows = np.zeros(1, [("a", "<u4"), ("b", "<f4", (2,))])
    assert to_jsonable({1: rows}) == {"1": [{"a": 0, "b": [0.0, 0.0]}]}


def test_demo_step_renders_every_camera(sample_scene, tmp_path):
    from omni.sdg_studio.backends.embedded import SUPPORTED_ANNOTATORS
    from omni.sdg_studio.commands.render import render_every_camera

    written = render_every_camera(sample_scene, tmp_path, width=48)
    for name in ("TopCam", "DriverCam", "PalletCam"):
        assert Image.open(tmp_path / name / "rgb.png").size[0] == 48
        stems = {p.name.split(".")[0] for p in (tmp_path / name).iterdir()}
        assert stems == set(SUPPORTED_ANNOTATORS)  # every annotator, as the demo says
    assert len(written) == sum(len(list((tmp_path / n).iterdir())) for n in ("TopCam", "DriverCam", "PalletCam"))


def test_a_stage_without_camera_renders_from_the_auto_camera(tmp_path, capsys):
    from pxr import Usd, UsdGeom

    stage = Usd.Stage.CreateNew(str(tmp_path / "nocam.usda"))
    UsdGeom.Cube.Define(stage, "/Box")
    stage.Save()
    out = tmp_path / "out"
    assert (
        main(["render", str(tmp_path / "nocam.usda"), "-a", "instance_id_segmentation", "-r", "32x32", "-o", str(out)])
        == 0
    )
    err = capsys.readouterr().err
    assert err.count("the stage has no camera: rendering from --camera auto") == 1
    assert "/Box" in (out / "instance_id_segmentation.json").read_text()
    assert (
        main(["render", str(tmp_path / "nocam.usda"), "--camera", "auto", "-r", "32x32", "-o", str(tmp_path / "o2")])
        == 0
    )


def test_record_accepts_the_auto_camera(sample_scene, tmp_path):
    out = tmp_path / "rec"
    args = ["record", str(sample_scene), "--camera", "auto:32x24", "--frames", "1", "--annotators", "rgb"]
    assert main([*args, "--out", str(out)]) == 0
    manifest = json.loads((out / "sdg_manifest.json").read_text())
    assert manifest["render_products"][0]["camera"] == "auto"
    assert Image.open(next(out.rglob("rgb_*.png"))).size == (32, 24)


def test_render_and_record_report_a_stage_that_did_not_load_fully(tmp_path, capsys):
    """A missing reference is listed as a warning; --strict refuses the stage and writes nothing."""
    from omni.sdg_studio.cli import main

    stage = tmp_path / "broken.usda"
    stage.write_text(
        '#usda 1.0\n(\n    upAxis = "Z"\n)\ndef Cube "Box" (\n    prepend references = @./missing_asset.usda@\n)\n'
        "{\n}\n"
        'def Camera "Cam"\n{\n    double3 xformOp:translate = (0, -8, 0)\n    float3 xformOp:rotateXYZ = (90, 0, 0)\n'
        '    uniform token[] xformOpOrder = ["xformOp:translate", "xformOp:rotateXYZ"]\n}\n'
    )
    out = tmp_path / "render"
    assert main(["render", str(stage), "-c", "/Cam", "-r", "32x24", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"did not load fully (1 unresolved: missing reference: {tmp_path / 'missing_asset.usda'})" in err
    assert main(["render", str(stage), "-c", "/Cam", "-r", "32x24", "-o", str(tmp_path / "strict"), "--strict"]) == 2
    assert "--strict refuses it" in capsys.readouterr().err and not (tmp_path / "strict").exists()
    rec = tmp_path / "rec"
    code = main(["record", str(stage), "-c", "/Cam:32x24", "--frames", "1", "-o", str(rec), "--strict"])
    assert code == 2 and "--strict refuses it" in capsys.readouterr().err and not rec.exists()
