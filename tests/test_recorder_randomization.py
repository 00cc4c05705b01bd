"""Recording with a scenario: byte-identical runs and resumes, per-frame records, scenario in configs and manifest."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest
import test_recorder_cli
from PIL import Image
from test_recorder_cli import FLAGS, check_manifest_consistent, files_under, sdg

from omni.sdg_studio.core.recorder.config import RecorderConfig
from omni.sdg_studio.core.recorder.frame_records import RECORDS_NAME
from omni.sdg_studio.core.recorder.job import JobState
from omni.sdg_studio.core.recorder.loading import load_recorder_config
from omni.sdg_studio.core.recorder.recording import RecordingSetupError, prepare_recording
from omni.sdg_studio.core.stage_io import open_stage

pytest.importorskip("omni.sdg_studio.backends.embedded")
from omni.sdg_studio.commands.record import EMBEDDED

run = test_recorder_cli.run  # the fixture running sdg-studio in this process

TOP, DRIVER, PALLET = "/World/Cameras/TopCam", "/World/Cameras/DriverCam", "/World/Cameras/PalletCam"
CAMERAS = (TOP, DRIVER, PALLET)
ANNOTATORS = "rgb,bounding_box_2d_tight,camera_params"
FRAMES = 6


@pytest.fixture(scope="module")
def scenario(repo_root: Path) -> Path:
    return repo_root / "config" / "scenarios" / "warehouse_offline.yaml"


def record_args(stage: Path, scenario: Path, out: str, *extra: str) -> list[str]:
    args = ["record", str(stage), "--scenario", str(scenario), "--out", out, "--annotators", ANNOTATORS]
    return [*args, *(a for c in CAMERAS for a in ("--camera", f"{c}:48x36")), *extra]


def same_recording(a: Path, b: Path) -> None:
    """The same files with the same bytes (the manifest aside: it holds times and runs)."""
    names = files_under(a) - {"sdg_manifest.json"}
    assert names == files_under(b) - {"sdg_manifest.json"}
    for rel in sorted(names):
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel


def records(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / RECORDS_NAME).read_text().splitlines()]


def digest(paths) -> dict[str, str]:
    return {str(p): hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in paths}


@pytest.fixture(scope="module")
def whole(sample_scene: Path, scenario: Path, tmp_path_factory) -> Path:
    """One uninterrupted recording of the sample scenario (seed 3), the reference of the tests below."""
    from omni.sdg_studio.cli import main

    folder = tmp_path_factory.mktemp("whole")
    stage = open_stage(sample_scene)
    layers = [layer.realPath for layer in stage.GetUsedLayers() if layer.realPath]
    before = digest([*layers, scenario])
    old = Path.cwd()
    os.chdir(folder)
    try:
        assert main(record_args(sample_scene, scenario, "rec", "--frames", str(FRAMES), "--seed", "3")) == 0
    finally:
        os.chdir(old)
    assert digest([*layers, scenario]) == before  # the scene's files (and the scenario) are not touched
    return folder / "rec"


def test_the_same_seed_records_the_same_bytes(sample_scene: Path, scenario: Path, whole: Path, tmp_path: Path, run):
    code, _, err = run(record_args(sample_scene, scenario, "again", "--frames", str(FRAMES), "--seed", "3"), tmp_path)
    assert code == 0, err
    same_recording(whole, tmp_path / "again")
    manifest = check_manifest_consistent(whole)  # the record file is listed (an end file) like every file
    assert RECORDS_NAME in manifest["end_files"] and manifest["seed"] == 3
    assert manifest["randomization"] == {"version": 1, "scenario": str(scenario.resolve()), "records": RECORDS_NAME}
    # the config as run holds the scenario's content, not only its path
    assert manifest["config"]["sdg_studio"]["randomization"]["randomizers"][0]["type"] == "pose"
    assert [r["frame"] for r in records(whole)] == list(range(FRAMES))
    assert {r["seed"] for r in records(whole)} == {3}
    assert [len(r["randomizers"]) for r in records(whole)] == [10] * FRAMES


def test_consecutive_frames_differ_on_every_camera(whole: Path):
    for rp in ("Replicator", "Replicator_01", "Replicator_02"):
        images = [np.asarray(Image.open(whole / rp / "rgb" / f"rgb_{i:04d}.png")) for i in range(FRAMES)]
        for i in range(FRAMES - 1):
            assert not np.array_equal(images[i], images[i + 1]), (rp, i)
    forklift = [r["randomizers"][0]["values"]["position"][0] for r in records(whole)]
    assert len({tuple(p) for p in forklift}) == FRAMES  # the forklift stands somewhere else every frame


@pytest.mark.parametrize("stop_after", [1, 4])
def test_stopped_and_resumed_recording_is_the_uninterrupted_one(
    sample_scene: Path, scenario: Path, whole: Path, tmp_path: Path, stop_after: int, run
):
    folder = tmp_path / "rec"
    code, _, err = run(record_args(sample_scene, scenario, "rec", "--frames", "1", "--seed", "3"), tmp_path)
    assert code == 0, err
    # a second run stopped by the job after ``stop_after`` more frames, as Ctrl+C stops it
    loaded = json.loads((folder / "sdg_manifest.json").read_text())
    assert [f["index"] for f in loaded["frames"]] == [0]
    config = load_from_manifest(folder, frames=FRAMES)
    recording = prepare_recording(sample_scene, config, EMBEDDED, resume=True)
    recording.job.subscribe_progress(lambda p: recording.job.stop() if p.done >= 1 + stop_after else None)
    assert recording.job.run() is JobState.STOPPED
    stopped = check_manifest_consistent(folder)
    assert len(stopped["frames"]) == 1 + stop_after
    assert [r["frame"] for r in records(folder)] == [f["index"] for f in stopped["frames"]]
    code, _, err = run(["record", str(sample_scene), "--out", "rec", "--resume", "--frames", str(FRAMES)], tmp_path)
    assert code == 0, err
    assert check_manifest_consistent(folder)["state"] == "finished"
    same_recording(whole, folder)


def load_from_manifest(folder: Path, frames: int) -> RecorderConfig:
    from omni.sdg_studio.core.config_document import ConfigDocument
    from omni.sdg_studio.core.recorder.loading import parse_recorder_config

    manifest = json.loads((folder / "sdg_manifest.json").read_text())
    config = parse_recorder_config(ConfigDocument(manifest["config"], folder / "sdg_manifest.json")).config
    config.frames = frames
    return config


def test_a_killed_recording_keeps_records_consistent_and_resumes_identically(
    sample_scene: Path, scenario: Path, whole: Path, tmp_path: Path, run
):
    folder = tmp_path / "rec"
    proc = sdg(record_args(sample_scene, scenario, "rec", "--frames", "0", "--seed", "3"), tmp_path)
    deadline = time.monotonic() + 120
    done: list[int] = []
    while time.monotonic() < deadline and len(done) < 3:
        assert proc.poll() is None, proc.communicate()
        with contextlib.suppress(FileNotFoundError, json.JSONDecodeError, KeyError):
            done = [f["index"] for f in json.loads((folder / "sdg_manifest.json").read_text())["frames"]]
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    manifest = json.loads((folder / "sdg_manifest.json").read_text())
    listed = {f["index"] for f in manifest["frames"]}
    lines = (folder / RECORDS_NAME).read_text().split("\n")
    complete = [json.loads(line)["frame"] for line in lines[:-1]]
    assert listed and listed <= set(complete)  # every frame the manifest lists has its record

    frames = max(FRAMES, max(listed) + 1)  # how far the killed run got depends on the machine's speed
    if frames > FRAMES:  # resuming never deletes finished frames: a smaller count is refused
        code, _, err = run(["record", str(sample_scene), "--out", "rec", "--resume", "--frames", "3"], tmp_path)
        assert code == 2 and f"resume for {frames} frames or more" in err, err
    code, _, err = run(["record", str(sample_scene), "--out", "rec", "--resume", "--frames", str(frames)], tmp_path)
    assert code == 0, err
    reference = whole
    if frames > FRAMES:
        (tmp_path / "whole").mkdir()
        args = record_args(sample_scene, scenario, "rec", "--frames", str(frames), "--seed", "3")
        code, _, err = run(args, tmp_path / "whole")
        assert code == 0, err
        reference = tmp_path / "whole" / "rec"
    same_recording(reference, folder)


def test_lost_records_are_remade_on_resume(sample_scene: Path, scenario: Path, whole: Path, tmp_path: Path, run):
    code, _, err = run(record_args(sample_scene, scenario, "rec", "--frames", "3", "--seed", "3"), tmp_path)
    assert code == 0, err
    path = tmp_path / "rec" / RECORDS_NAME
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(lines[2] + lines[0][: len(lines[0]) // 2])  # frame 1 lost, frame 0 cut short, out of order
    code, _, err = run(["record", str(sample_scene), "--out", "rec", "--resume", "--frames", str(FRAMES)], tmp_path)
    assert code == 0, err
    assert "randomization records of frames [0, 1] were lost; remade them" in err
    same_recording(whole, tmp_path / "rec")


def test_resume_refuses_another_scenario_or_a_manifest_from_before_the_engine(
    sample_scene: Path, scenario: Path, tmp_path: Path, run
):
    code, _, err = run(record_args(sample_scene, scenario, "rec", "--frames", "1", "--seed", "3"), tmp_path)
    assert code == 0, err
    other = tmp_path / "other.yaml"
    other.write_text(scenario.read_text().replace("uniform: [2000, 4000]", "uniform: [2000, 4500]"))
    args = record_args(sample_scene, other, "rec", "--frames", "2", "--resume")
    code, _, err = run(args, tmp_path)
    error = err.strip().splitlines()[-1]
    assert code == 2 and error.startswith("error: cannot resume") and "randomization differs" in error, err
    assert f"({scenario.resolve()} (10 randomizers) then, {other} (10 randomizers) now)" in error

    manifest_path = tmp_path / "rec" / "sdg_manifest.json"
    manifest = json.loads(manifest_path.read_text())
    del manifest["randomization"]  # as written before recording randomized through the engine
    manifest_path.write_text(json.dumps(manifest))
    before = digest(p for p in (tmp_path / "rec").rglob("*") if p.is_file())
    code, _, err = run(["record", str(sample_scene), "--out", "rec", "--resume", "--frames", "2"], tmp_path)
    assert code == 2 and "recorded before the randomization engine drew the camera jitter" in err, err
    assert digest(p for p in (tmp_path / "rec").rglob("*") if p.is_file()) == before


def test_a_bad_scenario_is_one_line_and_records_nothing(sample_scene: Path, tmp_path: Path, run):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "randomizers:\n"
        "  - type: light\n    select: /World/Lights/Sun\n    intensity: {uniform: [1, 2]}\n"
        "  - type: pose\n    select: /World/Forklift\n    position: {relative_to: /World/Nowhere}\n"
    )
    code, _, err = run(record_args(sample_scene, bad, "never", "--frames", "2"), tmp_path)
    assert code == 2
    assert err.strip() == (
        f"error: {bad}:7:29: randomizers[1].position.relative_to: relative_to /World/Nowhere is not a prim of the stage"
    )
    bad.write_text("randomizers:\n  - type: light\n    select: /World/Lights/Sun\n    intensity: {uniform: [2, 1]}\n")
    code, _, err = run(record_args(sample_scene, bad, "never", "--frames", "2"), tmp_path)
    assert code == 2 and f"{bad}:4:" in err and "randomizers[0].intensity.uniform: inverted range" in err
    code, _, err = run(record_args(sample_scene, tmp_path / "missing.yaml", "never", "--frames", "1"), tmp_path)
    assert code == 2 and "--scenario" in err and "no such file" in err
    assert not (tmp_path / "never").exists()
    # a select matching nothing is a warning naming the randomizer, an error with --strict
    bad.write_text("randomizers:\n  - type: visibility\n    select: {glob: 'NoSuchThing*'}\n")
    code, _, err = run(record_args(sample_scene, bad, "strict", "--frames", "2", "--strict"), tmp_path)
    assert code == 2 and f"{bad}:3:13: randomizers[0].select:" in err and "matches no prim" in err
    assert not (tmp_path / "strict").exists()
    code, _, err = run(record_args(sample_scene, bad, "warned", "--frames", "2"), tmp_path)
    assert code == 0 and f"{bad}:3:13: randomizers[0].select:" in err and "matches no prim" in err


def recorder_json(tmp_path: Path, randomization, **block) -> Path:
    config = {
        "num_frames": 2,
        "writer_name": "BasicWriter",
        "out_dir": "from_json",
        "basic_writer_params": {f: f == "rgb" for f in FLAGS},
        "rp_data": [[TOP, 32, 24, "top"]],
        "sdg_studio": {"randomization": randomization, **block},
    }
    path = tmp_path / "configs" / "recorder.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(config, indent=4))
    return path


def test_recorder_json_names_a_scenario_file_or_holds_one_inline(
    sample_scene: Path, scenario: Path, tmp_path: Path, run
):
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "s.yaml").write_text(scenario.read_text())
    path = recorder_json(tmp_path, "s.yaml")  # relative to the config's folder
    code, _, err = run(["record", str(sample_scene), "--config", str(path)], tmp_path)
    assert code == 0, err
    by_file = tmp_path / "from_json"
    assert [r["seed"] for r in records(by_file)] == [42, 42]  # no --seed and no config seed: the scenario's

    inline = json.loads(json.dumps(load_recorder_config(path).config.randomization.content))  # type: ignore[union-attr]
    path = recorder_json(tmp_path, inline, seed=42)
    code, _, err = run(["record", str(sample_scene), "--config", str(path), "--out", "inline"], tmp_path)
    assert code == 0, err
    same_recording(by_file, tmp_path / "inline")

    inline["randomizers"][9]["intensity"] = {"uniform": [1500, 500]}
    path = recorder_json(tmp_path, inline)
    code, _, err = run(["record", str(sample_scene), "--config", str(path), "--out", "bad"], tmp_path)
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "1500" in text) - 1
    assert code == 2 and f"{path}:{line}:" in err and "randomizers[9].intensity.uniform: inverted range" in err, err
    assert not (tmp_path / "bad").exists()
    path = recorder_json(tmp_path, "nowhere.yaml")
    code, _, err = run(["record", str(sample_scene), "--config", str(path)], tmp_path)
    assert code == 2 and "sdg_studio.randomization: scenario file not found" in err


def test_seed_precedence_command_line_then_config_then_scenario(sample_scene: Path, scenario: Path, tmp_path: Path):
    config = RecorderConfig(frames=1)
    from omni.sdg_studio.core.randomize import load_scenario_source

    config.randomization = load_scenario_source(scenario)
    assert config.seeded()[1] == 42  # the scenario's
    config.seed = 5
    assert config.seeded()[1] == 5  # the config's (and --seed sets the config's)
    config.randomization = None
    config.seed = None
    assert isinstance(config.seeded()[1], int)


def test_offline_generation_yaml_takes_a_randomization(sample_scene: Path, scenario: Path, tmp_path: Path, run):
    (tmp_path / "offline.yaml").write_text(
        "resolution: [32, 24]\nnum_frames: 2\nwriter: BasicWriter\nwriter_config: {rgb: true}\n"
        f"backend_params: {{output_dir: offline_out}}\nsdg_studio:\n  randomization: {scenario}\n  seed: 9\n"
    )
    code, _, err = run(["record", str(sample_scene), "--config", "offline.yaml", "--camera", TOP], tmp_path)
    assert code == 0, err
    assert [(r["seed"], r["frame"]) for r in records(tmp_path / "offline_out")] == [(9, 0), (9, 1)]


def test_prepare_refuses_to_resume_with_a_scenario_the_recording_did_not_have(
    sample_scene: Path, scenario: Path, tmp_path: Path, run
):
    code, _, err = run(
        ["record", str(sample_scene), "--out", "plain", "--frames", "1", "--camera", f"{TOP}:16x12"], tmp_path
    )
    assert code == 0, err
    assert not (tmp_path / "plain" / RECORDS_NAME).exists()  # nothing varies: no record file
    config = load_from_manifest(tmp_path / "plain", frames=2)
    from omni.sdg_studio.core.randomize import load_scenario_source

    config.randomization = load_scenario_source(scenario)
    with pytest.raises(RecordingSetupError, match=r"randomization differs .*\(None then"):
        prepare_recording(sample_scene, config, EMBEDDED, resume=True)
