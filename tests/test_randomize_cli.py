"""``sdg-studio randomize``: one frame as a USD layer over the stage, opened here with usd-core."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pxr import Usd, UsdGeom

from omni.sdg_studio.cli import main
from omni.sdg_studio.core.randomize import RandomizationEngine, load_scenario
from omni.sdg_studio.core.stage_io import open_stage

SAMPLE = Path("config/scenarios/warehouse_offline.yaml")


def run(args: list[str]) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-c", "import sys; from omni.sdg_studio.cli import main; sys.exit(main())", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def transforms(stage: Usd.Stage) -> dict[str, list[list[float]]]:
    cache = UsdGeom.XformCache()
    return {
        str(p.GetPath()): np.array(cache.GetLocalToWorldTransform(p)).round(9).tolist()
        for p in stage.Traverse()
        if p.IsA(UsdGeom.Xformable)
    }


def test_frame_layer_opens_and_shows_the_frame(tmp_path, sample_scene, repo_root):
    out = tmp_path / "frames" / "frame_3.usda"
    result = run(
        ["randomize", str(sample_scene), "--scenario", str(repo_root / SAMPLE), "--frame", "3", "-o", str(out)]
    )
    assert result.returncode == 0, result.stderr
    assert "frame 3 (seed 42)" in result.stdout and str(out) in result.stdout
    assert not [p for p in out.parent.iterdir() if p.name != out.name]  # no temporary file left
    opened = Usd.Stage.Open(str(out))
    assert [Path(out.parent, p).resolve() for p in opened.GetRootLayer().subLayerPaths] == [sample_scene.resolve()]
    assert UsdGeom.GetStageUpAxis(opened) == UsdGeom.Tokens.z
    assert opened.GetDefaultPrim().GetPath() == "/World"
    # The same frame applied in memory gives the same transforms as the file shows.
    stage = open_stage(sample_scene)
    engine = RandomizationEngine(stage, load_scenario(repo_root / SAMPLE))
    engine.apply(3)
    assert transforms(opened) == transforms(stage)
    engine.restore()
    forklift = "/World/Forklift"
    assert transforms(opened)[forklift] != transforms(stage)[forklift]  # and it differs from the scene


def test_json_record_and_seed(tmp_path, sample_scene, repo_root):
    out = tmp_path / "f.usda"
    args = [
        "randomize",
        str(sample_scene),
        "--scenario",
        str(repo_root / SAMPLE),
        "--frame",
        "2",
        "-o",
        str(out),
        "--json",
    ]
    first = run([*args, "--seed", "5"])
    assert first.returncode == 0, first.stderr
    record = json.loads(first.stdout)
    assert record["seed"] == 5 and record["frame"] == 2
    assert [r["index"] for r in record["randomizers"]] == list(range(10))
    forklift = record["randomizers"][0]["values"]["position"][0]
    placed = Usd.Stage.Open(str(out))
    translation = UsdGeom.Xformable(placed.GetPrimAtPath("/World/Forklift")).ComputeLocalToWorldTransform(0)
    assert list(translation.ExtractTranslation()) == pytest.approx(forklift, abs=1e-6)
    again = run([*args, "--seed", "5", "--overwrite"])
    assert json.loads(again.stdout) == record


def test_refuses_to_overwrite_and_bad_input_is_one_line(tmp_path, sample_scene, repo_root, capsys):
    out = tmp_path / "f.usda"
    out.write_text("keep me")
    scenario = str(repo_root / SAMPLE)
    assert main(["randomize", str(sample_scene), "--scenario", scenario, "-o", str(out)]) == 2
    assert "already exists; pass --overwrite" in capsys.readouterr().err
    assert out.read_text() == "keep me"
    bad = tmp_path / "bad.yaml"
    bad.write_text("randomizers:\n  - type: pose\n    select: /World/Forklift\n    scale: {uniform: [2, 1]}\n")
    assert main(["randomize", str(sample_scene), "--scenario", str(bad), "-o", str(out), "--overwrite"]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:4:" in err and "randomizers[0].scale.uniform: inverted range" in err
    assert "Traceback" not in err and out.read_text() == "keep me"
    assert main(["randomize", str(sample_scene), "--scenario", scenario, "-o", str(tmp_path / "f.png")]) == 2
    assert "must be a USD layer" in capsys.readouterr().err
