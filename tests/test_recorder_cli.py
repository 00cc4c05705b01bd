"""``sdg-studio record`` end to end on the sample scene: layout, policies, configs, Ctrl+C and --resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("omni.sdg_studio.backends.embedded")
pytest.importorskip("omni.sdg_studio.core.writers.registry")

TOP, DRIVER, PALLET = "/World/Cameras/TopCam", "/World/Cameras/DriverCam", "/World/Cameras/PalletCam"
FLAGS = [
    "rgb",
    "bounding_box_2d_tight",
    "bounding_box_2d_loose",
    "semantic_segmentation",
    "colorize_semantic_segmentation",
    "instance_id_segmentation",
    "colorize_instance_id_segmentation",
    "instance_segmentation",
    "colorize_instance_segmentation",
    "distance_to_camera",
    "distance_to_image_plane",
    "colorize_depth",
    "bounding_box_3d",
    "occlusion",
    "normals",
    "motion_vectors",
    "camera_params",
    "pointcloud",
    "pointcloud_include_unlabelled",
    "skeleton_data",
]


def sdg(args: list[str], cwd: Path, **popen) -> subprocess.Popen:
    cmd = [sys.executable, "-c", "import sys; from omni.sdg_studio.cli import main; sys.exit(main())", *args]
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


@pytest.fixture
def run(capsys, monkeypatch):
    """Run ``sdg-studio`` in this process from a folder; returns (exit code, stdout, stderr)."""
    from omni.sdg_studio.cli import main

    def invoke(args: list[str], cwd: Path) -> tuple[int, str, str]:
        monkeypatch.chdir(cwd)
        code = main(args)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return invoke


def files_under(folder: Path) -> set[str]:
    """Files of a recording (hidden bookkeeping files of the writers excluded)."""
    found = {p.relative_to(folder) for p in folder.rglob("*") if p.is_file()}
    return {p.as_posix() for p in found if not any(part.startswith(".") for part in p.parts)}


def check_manifest_consistent(folder: Path) -> dict:
    """Every file on disk is listed once in the manifest, every listed file exists and loads."""
    manifest = json.loads((folder / "sdg_manifest.json").read_text())
    listed = [p for f in manifest["frames"] for p in f["files"]] + manifest["end_files"]
    assert len(listed) == len(set(listed))
    assert set(listed) == files_under(folder) - {"sdg_manifest.json"}
    for rel in listed:
        path = folder / rel
        if path.suffix == ".png":
            Image.open(path).load()
        elif path.suffix == ".npy":
            np.load(path, allow_pickle=False)
        elif path.suffix == ".json":
            json.loads(path.read_text())
        else:
            path.read_text()
    assert [f["index"] for f in manifest["frames"]] == sorted(f["index"] for f in manifest["frames"])
    return manifest


def test_records_the_basic_writer_layout(sample_scene: Path, tmp_path: Path, run):
    args = ["record", str(sample_scene), "--camera", f"{TOP}:64x48:top", "--camera", f"{DRIVER}:48x32"]
    args += ["--frames", "2", "--annotators", "rgb,distance_to_image_plane,camera_params", "--out", "o", "--seed", "9"]
    code, out, err = run(args, tmp_path)
    assert code == 0, err
    assert "finished: 2/2 frames" in out
    expected = {"metadata.txt"}
    for rp in ("top", "Replicator"):
        for i in range(2):
            expected |= {
                f"{rp}/rgb/rgb_{i:04d}.png",
                f"{rp}/distance_to_image_plane/distance_to_image_plane_{i:04d}.npy",
                f"{rp}/camera_params/camera_params_{i:04d}.json",
            }
    assert files_under(tmp_path / "o") - {"sdg_manifest.json"} == expected
    assert Image.open(tmp_path / "o" / "top" / "rgb" / "rgb_0001.png").size == (64, 48)
    assert np.load(
        tmp_path / "o" / "Replicator" / "distance_to_image_plane" / "distance_to_image_plane_0000.npy"
    ).shape == (32, 48)
    manifest = check_manifest_consistent(tmp_path / "o")
    assert manifest["seed"] == 9 and manifest["state"] == "finished"
    assert json.loads((tmp_path / "o" / "metadata.txt").read_text())["replicator_global_seed:"] == 9

    # the same folder again: refused, untouched; increment picks a new folder
    code, _, err = run(args, tmp_path)
    assert code == 2 and "not empty" in err and "increment" in err
    code, out, err = run([*args, "--policy", "increment"], tmp_path)
    assert code == 0, err
    assert (tmp_path / "o_0001" / "top" / "rgb" / "rgb_0000.png").is_file()


def isaac_config(tmp_path: Path, **changes) -> Path:
    """A recorder config as Isaac Sim's window saves it, with legacy 3-element rows and use_s3."""
    config = {
        "writer_name": "BasicWriter",
        "custom_writer_name": "MyCustomWriter",
        "num_frames": 0,
        "rt_subframes": 0,
        "control_timeline": False,
        "out_working_dir": str(tmp_path),
        "out_dir": "isaac_out",
        "use_s3": False,
        "backend_params": {},
        "basic_writer_params": {f: f in ("rgb", "semantic_segmentation", "bounding_box_2d_tight") for f in FLAGS},
        "rp_data": [[TOP, 64, 48], [PALLET, 40, 30, "pallet"]],
        "sdg_studio": {"camera_jitter": {"position": 0.1, "rotation": 1.5}, "seed": 4},
    }
    config.update(changes)
    path = tmp_path / "recorder.json"
    path.write_text(json.dumps(config, indent=4))
    return path


def wait_for_frames(folder: Path, count: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        try:
            if json.loads((folder / "sdg_manifest.json").read_text())["frames_done"] >= count:
                return
        except (FileNotFoundError, json.JSONDecodeError, KeyError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"fewer than {count} frames after {timeout} s")


def test_ctrl_c_stops_cleanly_and_resume_completes_the_same_data(sample_scene: Path, tmp_path: Path, run):
    config = isaac_config(tmp_path)  # num_frames 0: records until stopped
    folder = tmp_path / "isaac_out"
    proc = sdg(["record", str(sample_scene), "--config", str(config)], tmp_path)
    wait_for_frames(folder, 3, proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "stopping after the frame in flight" in err and "--resume" in out
    stopped = check_manifest_consistent(folder)
    assert stopped["state"] == "stopped"
    done = [f["index"] for f in stopped["frames"]]
    assert done == list(range(len(done))) and len(done) >= 3
    total = len(done) + 3
    # metadata.txt is rewritten (same content) by every run; frame files must not be touched
    stamps = {
        rel: (folder / rel).stat().st_mtime_ns
        for frame in stopped["frames"]
        for rel in frame["files"]
        if rel != "metadata.txt"
    }

    code, out, err = run(
        ["record", str(sample_scene), "--out", str(folder), "--resume", "--frames", str(total)], tmp_path
    )
    assert code == 0, err
    resumed = check_manifest_consistent(folder)
    assert resumed["state"] == "finished" and [f["index"] for f in resumed["frames"]] == list(range(total))
    assert [r["state"] for r in resumed["runs"]] == ["stopped", "finished"]
    for frame in resumed["frames"][: len(done)]:  # finished frames were not rewritten
        assert frame in stopped["frames"]
    assert {rel: (folder / rel).stat().st_mtime_ns for rel in stamps} == stamps

    # byte for byte what one uninterrupted run writes (same seed, same jitter)
    whole = isaac_config(tmp_path, out_dir="whole", num_frames=total)
    code, _, err = run(["record", str(sample_scene), "--config", str(whole)], tmp_path)
    assert code == 0, err
    names = files_under(folder) - {"sdg_manifest.json"}
    assert names == files_under(tmp_path / "whole") - {"sdg_manifest.json"}
    for rel in sorted(names):
        assert (folder / rel).read_bytes() == (tmp_path / "whole" / rel).read_bytes(), rel
    jittered = [np.asarray(Image.open(folder / "Replicator" / "rgb" / f"rgb_{i:04d}.png")) for i in (0, 1)]
    assert not np.array_equal(*jittered)


def test_isaac_default_config_needs_a_camera_outside_kit(sample_scene: Path, tmp_path: Path, run):
    default = {
        "writer_name": "BasicWriter",
        "custom_writer_name": "MyCustomWriter",
        "num_frames": 0,
        "rt_subframes": 0,
        "control_timeline": False,
        "out_working_dir": "",
        "out_dir": "_out_sdrec",
        "backend_type": "DiskBackend",
        "backend_params": {},
        "basic_writer_params": {f: f == "rgb" for f in FLAGS},
        "rp_data": [["/OmniverseKit_Persp", 1280, 720, ""]],
    }
    (tmp_path / "default_config.json").write_text(json.dumps(default, indent=4))
    code, _, err = run(["record", str(sample_scene), "--config", "default_config.json", "--frames", "1"], tmp_path)
    assert code == 2 and "nothing to record" in err and "exist only inside Kit" in err
    assert not (tmp_path / "_out_sdrec").exists()
    args = ["record", str(sample_scene), "--config", "default_config.json", "--frames", "1", "--camera", f"{TOP}:32x24"]
    code, _out, err = run(args, tmp_path)
    assert code == 0, err
    assert files_under(tmp_path / "_out_sdrec") == {"rgb_0000.png", "metadata.txt", "sdg_manifest.json"}


OFFLINE = {
    "config_basic_writer.yaml": (
        "launch_config: {renderer: RealTimePathTracing, headless: false}\nresolution: [32, 24]\n"
        'env_url: "/Isaac/Environments/Grid/default_environment.usd"\nrt_subframes: 32\nwriter: BasicWriter\n'
        "backend_type: DiskBackend\nbackend_params: {output_dir: _out_basicwriter}\nwriter_config: {rgb: true}\n",
        "_out_basicwriter",
    ),
    "config_kitti_writer.yaml": (
        "launch_config: {renderer: RealTimePathTracing, headless: true}\nresolution: [64, 48]\nnum_frames: 5\n"
        "clear_previous_semantics: false\nwriter: KittiWriter\nbackend_type: null\nwriter_config:\n"
        "  output_dir: _out_kitti\n  colorize_instance_segmentation: true\n"
        "  mapping_dict: {forklift: [11, 110, 223, 255], pallet: [211, 210, 223, 255]}\n",
        "_out_kitti",
    ),
    "config_coco_writer.yaml": (
        "launch_config: {renderer: RealTimePathTracing, headless: true}\nresolution: [64, 48]\nnum_frames: 5\n"
        "clear_previous_semantics: true\nbackend_type: null\nwriter: CocoWriter\nwriter_config:\n"
        "  output_dir: _out_coco\n  coco_categories:\n"
        "    forklift: {name: forklift, id: 333, supercategory: warehouse, color: [211, 111, 211], isthing: 1}\n"
        "    pallet: {name: pallet, id: 313, supercategory: warehouse, color: [141, 111, 131], isthing: 1}\n",
        "_out_coco",
    ),
}


@pytest.mark.parametrize("name", sorted(OFFLINE))
def test_offline_generation_configs_record(sample_scene: Path, tmp_path: Path, name: str, run):
    text, out_dir = OFFLINE[name]
    (tmp_path / name).write_text(text)
    code, _out, err = run(["record", str(sample_scene), "--config", name, "--frames", "2"], tmp_path)
    assert code == 0, err
    manifest = check_manifest_consistent(tmp_path / out_dir)
    assert manifest["state"] == "finished" and manifest["frames_done"] == 2
    assert [rp["camera"] for rp in manifest["render_products"]] == [TOP, DRIVER, PALLET]
    assert manifest["config"]["writer_name"] == name.split("_")[1].capitalize() + "Writer"


def test_strict_fails_before_writing_on_an_unlabeled_stage(tmp_path: Path, run, caplog):
    from pxr import Usd, UsdGeom

    stage = Usd.Stage.CreateNew(str(tmp_path / "bare.usda"))
    UsdGeom.Camera.Define(stage, "/Cam").AddTranslateOp().Set((0, 0, 5))
    UsdGeom.Cube.Define(stage, "/Box")
    stage.Save()
    args = ["record", "bare.usda", "--frames", "1", "--camera", "/Cam:16x16", "--out", "o"]
    args += ["--annotators", "rgb,semantic_segmentation"]
    code, _, err = run([*args, "--strict"], tmp_path)
    assert code == 2 and "no prim on the stage carries semantic labels" in err and "sdg-studio label" in err
    assert not (tmp_path / "o").exists()
    code, _, err = run(args, tmp_path)
    assert code == 0 and "sdg-studio label" in err
    # The backend's warning is printed once, as one plain line (no Python warning format, no source line).
    assert err.count("warning: no prim carries labels of type class") == 1
    assert "RenderWarning" not in err and ".py:" not in err


def test_option_errors(sample_scene: Path, tmp_path: Path, capsys, monkeypatch):
    from omni.sdg_studio.cli import main

    monkeypatch.chdir(tmp_path)
    cases = [
        (["--camera", "World/Cam:1x1"], "--camera 'World/Cam:1x1'"),
        (["--writer", "KittiWriter", "--annotators", "rgb"], "fixed set of annotators"),
        (["--annotators", "rgb,semantic"], "unknown 'semantic'"),
        (["--resume"], "--resume needs --out"),
        (["--frames", "-1"], "--frames -1: must be >= 0"),
    ]
    for args, needle in cases:
        assert main(["record", str(sample_scene), *args]) == 2, args
        assert needle in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_bad_writer_parameters_name_the_file_line_and_field(sample_scene: Path, tmp_path: Path, run):
    config = isaac_config(tmp_path, sdg_studio={"writer_params": {"frame_pading": 3}})
    code, _, err = run(["record", str(sample_scene), "--config", str(config), "--frames", "1"], tmp_path)
    assert code == 2
    assert f"{config}:" in err and "sdg_studio.writer_params.frame_pading" in err and "frame_padding" in err
    assert not (tmp_path / "isaac_out").exists()
    text = OFFLINE["config_kitti_writer.yaml"][0].replace(
        "colorize_instance_segmentation: true", "colorize_instance_segmentation: 3"
    )
    (tmp_path / "kitti.yaml").write_text(text)
    code, _, err = run(["record", str(sample_scene), "--config", "kitti.yaml", "--frames", "1"], tmp_path)
    assert code == 2 and "kitti.yaml:9:35:" in err and "writer_config.colorize_instance_segmentation" in err


def test_classes_from_a_rules_file_fix_coco_ids_and_colors(sample_scene: Path, repo_root: Path, tmp_path: Path, run):
    import yaml

    rules = repo_root / "config" / "rules" / "warehouse.yaml"
    expected = {name: (c["id"], c["color"]) for name, c in yaml.safe_load(rules.read_text())["classes"].items()}
    args = ["record", str(sample_scene), "--writer", "CocoWriter", "--classes", str(rules), "--frames", "1"]
    code, _, err = run([*args, "--camera", f"{TOP}:96x72", "--out", "coco"], tmp_path)
    assert code == 0, err
    (annotations,) = (tmp_path / "coco").glob("coco_annotations_*.json")
    categories = json.loads(annotations.read_text())["categories"]
    assert {c["name"]: (c["id"], c["color"]) for c in categories if c["name"] in expected} == expected
    manifest = check_manifest_consistent(tmp_path / "coco")
    assert manifest["config"]["sdg_studio"]["classes"] == str(rules)
    code, _, err = run([*args[:-2], "--classes", "missing.yaml", "--out", "x"], tmp_path)
    assert code == 2 and "missing.yaml" in err
