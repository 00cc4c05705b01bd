"""Every save is atomic: a write that fails leaves the earlier file as it was and no temporary file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from safety_recordings import RASTER, SCENE, make_config, record

import omni.sdg_studio.core.atomic as atomic
from omni.sdg_studio.core.recorder.job import JobState
from omni.sdg_studio.core.recorder.recording import prepare_recording
from omni.sdg_studio.core.writers.kitti_writer import ADDED_LABELS_FILE


def failing_replace_after(monkeypatch: pytest.MonkeyPatch, good: int) -> None:
    """``os.replace`` (the rename that publishes a file) works ``good`` times, then the disk is full."""
    real, calls = atomic.os.replace, []

    def replace(src, dst):
        calls.append(dst)
        if len(calls) > good:
            raise OSError(28, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(atomic.os, "replace", replace)


def test_render_overwrite_that_fails_keeps_the_earlier_files(capsys, monkeypatch, tmp_path: Path):
    from omni.sdg_studio.cli import main

    monkeypatch.chdir(tmp_path)
    args = ["render", str(SCENE), "-c", "/World/Cameras/TopCam", "-r", "16x12", "-o", "r"]
    assert main(args) == 0
    before = {p.name: p.read_bytes() for p in (tmp_path / "r").iterdir()}
    failing_replace_after(monkeypatch, 1)
    assert main([*args, "-r", "24x18", "--overwrite"]) == 2
    err = capsys.readouterr().err
    assert "the disk is full" in err and "Traceback" not in err
    after = {p.name: p.read_bytes() for p in (tmp_path / "r").iterdir()}
    assert set(after) == set(before)  # no temporary file left
    assert sum(after[n] != before[n] for n in before) == 1  # the one file renamed before the disk filled


def test_a_resumed_recording_on_a_full_disk_keeps_its_manifest_and_bookkeeping(monkeypatch, tmp_path: Path):
    out = tmp_path / "out"
    record(make_config(out, 2, writer="KittiWriter"))
    manifest, labels = (out / "sdg_manifest.json").read_bytes(), (out / ADDED_LABELS_FILE).read_bytes()
    failing_replace_after(monkeypatch, 0)
    recording = prepare_recording(SCENE, make_config(out, 4, writer="KittiWriter"), RASTER, resume=True)
    assert recording.job.run() is JobState.FAILED and "the disk is full" in recording.job.message
    assert (out / "sdg_manifest.json").read_bytes() == manifest and (out / ADDED_LABELS_FILE).read_bytes() == labels
    assert len(json.loads(manifest)["frames"]) == 2 and json.loads(labels)
    assert not list(out.rglob(f"{atomic.TEMP_PREFIX}*"))
