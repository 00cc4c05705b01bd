"""Exclusive output folders: one run per folder (an OS lock held for the run, gone with a dead run), and
``--policy increment`` claims its folder atomically; the races run as two real processes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from safety_recordings import RASTER, SCENE, make_config, record

from omni.sdg_studio.core.recorder.config import OutputPolicy
from omni.sdg_studio.core.recorder.folder_lock import LOCK_NAME, FolderLock, FolderLockedError
from omni.sdg_studio.core.recorder.output_policy import claim_output_folder
from omni.sdg_studio.core.recorder.recording import prepare_recording

#: Imports first, then wait for the agreed moment, then run the command.
_AT_THE_SAME_MOMENT = (
    "import sys, time\n"
    "from omni.sdg_studio.cli import main\n"
    "time.sleep(max(0.0, float(sys.argv[1]) - time.time()))\n"
    "sys.exit(main(sys.argv[2:]))\n"
)


def start_together(cwd: Path, *commands: list[str]) -> list[tuple[int, str]]:
    """Run ``sdg-studio`` commands in parallel processes that start them at the same moment."""
    moment = time.time() + 5.0  # time for both interpreters to import
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _AT_THE_SAME_MOMENT, str(moment), *args],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "COLUMNS": "200"},
        )
        for args in commands
    ]
    results = []
    for process in processes:
        _, err = process.communicate(timeout=300)
        results.append((process.returncode, err))
    return results


def record_args(out: str, seed: int, *extra: str) -> list[str]:
    return ["record", str(SCENE), "-r", "8x6", "--frames", "40", "--out", out, "--seed", str(seed), *extra]


def manifest(folder: Path) -> dict:
    return json.loads((folder / "sdg_manifest.json").read_text())


def test_two_runs_started_together_on_one_folder_one_is_refused_naming_the_other(tmp_path: Path):
    results = start_together(tmp_path, record_args("out", 1), record_args("out", 2))
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    winner = 1 if results[0][0] == 0 else 2
    refused = next(err for code, err in results if code == 2)
    lines = [line for line in refused.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in refused
    assert "another recording is writing into this folder (pid " in lines[0] and socket.gethostname() in lines[0]
    data = manifest(tmp_path / "out")
    assert data["seed"] == winner and data["state"] == "finished" and len(data["frames"]) == 40
    listed = {f for frame in data["frames"] for f in frame["files"]} | set(data["end_files"])
    on_disk = {p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*") if p.is_file()}
    assert on_disk == listed | {"sdg_manifest.json"}  # no file of the refused run, no lock left behind


def test_two_increment_runs_started_together_take_two_folders(tmp_path: Path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "earlier.txt").write_text("an earlier run")
    results = start_together(
        tmp_path, record_args("out", 1, "--policy", "increment"), record_args("out", 2, "--policy", "increment")
    )
    assert [code for code, _ in results] == [0, 0], results
    folders = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("out_"))
    assert folders == ["out_0001", "out_0002"]
    assert sorted(manifest(tmp_path / name)["seed"] for name in folders) == [1, 2]
    assert all(len(manifest(tmp_path / name)["frames"]) == 40 for name in folders)


def test_a_second_lock_in_the_same_process_is_refused_and_names_the_holder(tmp_path: Path):
    with FolderLock.acquire(tmp_path / "out"):
        with pytest.raises(FolderLockedError, match=f"pid {os.getpid()} on {socket.gethostname()}"):
            FolderLock.acquire(tmp_path / "out")
        assert FolderLock.holder(tmp_path / "out") == f"pid {os.getpid()} on {socket.gethostname()}"
    assert FolderLock.holder(tmp_path / "out") is None
    assert not (tmp_path / "out" / LOCK_NAME).exists()  # removed on release


def test_a_lock_file_left_by_a_dead_run_does_not_block(tmp_path: Path):
    folder = tmp_path / "out"
    folder.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (folder / LOCK_NAME).write_text(json.dumps({"pid": int(dead.stdout), "host": socket.gethostname()}))
    assert FolderLock.holder(folder) is None
    with claim_output_folder(folder, OutputPolicy.REFUSE) as lock:  # the lock file alone does not make it busy
        assert json.loads((folder / LOCK_NAME).read_text())["pid"] == os.getpid()
        assert lock.folder == folder


def test_a_recording_holds_its_folder_until_its_job_ends(tmp_path: Path):

    config = make_config(tmp_path / "out", 2)
    recording = prepare_recording(SCENE, config, RASTER)
    with pytest.raises(FolderLockedError):
        prepare_recording(SCENE, make_config(tmp_path / "out", 2), RASTER, resume=True)
    recording.job.run()
    assert recording.lock is not None and not recording.lock.held
    record(make_config(tmp_path / "out", 3), resume=True)  # free again
    assert len(manifest(tmp_path / "out")["frames"]) == 3


def test_overwrite_empties_the_folder_under_the_lock(tmp_path: Path):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "old.txt").write_text("old")
    config = make_config(folder, 1)
    config.output.policy = OutputPolicy.OVERWRITE
    record(config)
    assert not (folder / "old.txt").exists() and manifest(folder)["state"] == "finished"
    assert not (folder / LOCK_NAME).exists()
