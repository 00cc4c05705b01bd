"""A killed run's complete-but-unlisted frame files: journaled while pending, deleted when resuming."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import test_recorder_cli
from test_recorder_cli import files_under

from omni.sdg_studio.core.recorder.manifest import Manifest
from omni.sdg_studio.core.recorder.pending_files import PENDING_NAME, PendingFrameFiles

pytest.importorskip("omni.sdg_studio.backends.embedded")

run = test_recorder_cli.run
CAMERA = ["--camera", "/World/Cameras/TopCam:40x30", "--annotators", "rgb,bounding_box_2d_tight"]


def record(run, stage: Path, cwd: Path, frames: int, *extra: str) -> Path:
    args = ["record", str(stage), "--out", "rec", "--frames", str(frames), "--seed", "3", *CAMERA, *extra]
    code, _, err = run(args, cwd)
    assert code == 0, err
    return cwd / "rec"


def test_a_finished_run_leaves_no_journal(run, sample_scene: Path, tmp_path: Path):
    folder = record(run, sample_scene, tmp_path, 3)
    assert not (folder / PENDING_NAME).exists()


def test_resume_deletes_files_of_frames_the_manifest_never_listed(run, sample_scene: Path, tmp_path: Path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    reference = record(run, sample_scene, tmp_path / "a", 3)
    folder = record(run, sample_scene, tmp_path / "b", 5)
    # As a kill leaves it: frames 3 and 4 on disk and journaled, the last saved manifest lists 0..2 only.
    manifest_path = folder / "sdg_manifest.json"
    data = json.loads(manifest_path.read_text())
    unlisted = [f for f in data["frames"] if f["index"] >= 3]
    data["frames"] = [f for f in data["frames"] if f["index"] < 3]
    data["state"] = "running"
    manifest_path.write_text(json.dumps(data))
    journal = "".join(json.dumps({"frame": f["index"], "files": f["files"]}) + "\n" for f in unlisted)
    (folder / PENDING_NAME).write_text(journal + '{"frame": 9, "fil')  # a last line cut short by the kill
    strays = {name for f in unlisted for name in f["files"]}
    assert strays and all((folder / name).is_file() for name in strays)

    code, _, err = run(["record", str(sample_scene), "--out", "rec", "--resume", "--frames", "3"], tmp_path / "b")
    assert code == 0, err
    assert not any((folder / name).exists() for name in strays)
    assert not (folder / PENDING_NAME).exists()
    assert files_under(folder) == files_under(reference)
    for name in files_under(reference) - {"sdg_manifest.json"}:
        assert (folder / name).read_bytes() == (reference / name).read_bytes(), name


def test_sweep_keeps_files_listed_frames_or_end_files_own_and_stays_inside_the_folder(tmp_path: Path):
    folder = tmp_path / "rec"
    folder.mkdir()
    outside = tmp_path / "keep.txt"
    for name in ("shared.txt", "end.json", "mine.png", "listed.png"):
        (folder / name).write_text(name)
    outside.write_text("not ours")
    manifest = Manifest.__new__(Manifest)
    manifest.output_dir, manifest.frames, manifest.end_files = folder, {0: ["listed.png", "shared.txt"]}, ["end.json"]
    journal = PendingFrameFiles(manifest)
    journal.path.write_text(
        json.dumps({"frame": 0, "files": ["listed.png"]})
        + "\n"
        + json.dumps({"frame": 1, "files": ["mine.png", "shared.txt", "end.json", "../keep.txt", "gone.png"]})
        + "\n"
    )
    removed = journal.sweep()
    assert removed == [folder / "mine.png"]
    assert sorted(p.name for p in folder.iterdir()) == ["end.json", "listed.png", "shared.txt"]
    assert outside.read_text() == "not ours"


def test_the_journal_holds_only_frames_a_saved_manifest_does_not_list(tmp_path: Path):
    folder = tmp_path / "rec"
    folder.mkdir()
    manifest = Manifest.__new__(Manifest)
    manifest.output_dir, manifest.frames = folder, {}
    journal = PendingFrameFiles(manifest)
    journal.add(0, [folder / "rgb_0.png", folder / ".coco_journal"])
    journal.add(1, [folder / "rgb_1.png"])
    lines = [json.loads(line) for line in journal.path.read_text().splitlines()]
    assert lines == [{"frame": 0, "files": ["rgb_0.png"]}, {"frame": 1, "files": ["rgb_1.png"]}]
    manifest.frames[0] = ["rgb_0.png"]
    journal.listed()
    assert [json.loads(line)["frame"] for line in journal.path.read_text().splitlines()] == [1]
    manifest.frames[1] = ["rgb_1.png"]
    journal.listed()
    assert not journal.path.exists()


def test_resume_for_fewer_frames_than_finished_is_refused_and_deletes_nothing(run, sample_scene: Path, tmp_path):
    folder = record(run, sample_scene, tmp_path, 5)
    before = {name: (folder / name).read_bytes() for name in files_under(folder)}
    code, _, err = run(["record", str(sample_scene), "--out", "rec", "--resume", "--frames", "3"], tmp_path)
    assert code == 2
    assert "already holds frames up to 4; resume for 5 frames or more" in err
    assert {name: (folder / name).read_bytes() for name in files_under(folder)} == before
