"""Limits and one-line errors: memory never depends on the requested frame count, nothing is created
before the inputs are checked, a full disk says so, and unreadable stages say why (with USD's line)."""

from __future__ import annotations

import errno
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from safety_recordings import SCENE, make_config, record, run_command

from omni.sdg_studio.core.atomic import write_error_reason
from omni.sdg_studio.core.recorder.job import JobState
from omni.sdg_studio.core.stage_io import StageError, open_stage
from omni.sdg_studio.core.writers.encode import write_npy

HUGE = 10**12


@pytest.fixture
def sdg(capsys, monkeypatch):
    """Run ``sdg-studio`` in this process from a folder; returns (exit code, stderr)."""
    return lambda args, cwd: run_command(args, cwd, capsys, monkeypatch)


def one_error(err: str) -> str:
    assert "Traceback" not in err
    (line,) = [line for line in err.splitlines() if line.startswith("error:")]
    return line


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (3 * 1024**3, resource.RLIM_INFINITY))


# ---- memory and the requested frame count --------------------------------------------------------
def test_a_huge_frame_count_stopped_early_ends_cleanly_in_this_process(tmp_path: Path):
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    used = int(Path("/proc/self/statm").read_text().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (used + 2 * 1024**3, hard))  # set(range(10**12)) needs far more
    try:
        recording = record(make_config(tmp_path / "out", HUGE), stop_after=2)
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    assert recording.job.state is JobState.STOPPED and len(recording.manifest.frames) == 2
    assert json.loads((tmp_path / "out" / "sdg_manifest.json").read_text())["frames_requested"] == HUGE


def test_ctrl_c_on_a_huge_frame_count_stops_within_a_memory_cap(tmp_path: Path):
    """``--frames 10**12`` and Ctrl+C, under a 3 GiB address-space cap: exit 130, manifest ``stopped``."""
    code = "import sys; from omni.sdg_studio.cli import main; sys.exit(main())"
    args = ["record", str(SCENE), "-r", "8x6", "--frames", str(HUGE), "--out", "out"]
    process = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=tmp_path,
        preexec_fn=_cap_memory,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    manifest = tmp_path / "out" / "sdg_manifest.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if json.loads(manifest.read_text())["frames"]:
                break
        except (OSError, ValueError):
            pass
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130 and "Traceback" not in err and "MemoryError" not in err
    assert json.loads(manifest.read_text())["state"] == "stopped"


# ---- nothing is created before the inputs are checked ---------------------------------------------
@pytest.mark.parametrize(
    ("options", "config", "expected"),
    [
        (["-r", "20000x20000"], None, "resolution 20000x20000: too large"),
        ([], {"basic_writer_params": {"rgb": False}}, "basic_writer_params: every annotator is off"),
        ([], {"sdg_studio": {"camera_jitter": {"position": 1.0e308}}}, "position: must be <= 1e+09"),
        ([], {"sdg_studio": {"camera_jitter": {"rotation": float("nan")}}}, "rotation: "),
        (["--writer", "NoSuchWriter"], None, "unknown writer 'NoSuchWriter'"),
        (["--classes", "missing.yaml"], None, "missing.yaml"),
    ],
)
def test_bad_inputs_are_one_line_and_create_nothing(sdg, tmp_path: Path, options, config, expected):
    args = ["record", str(SCENE), "--frames", "1", "--out", "out", *options]
    if config is not None:
        (tmp_path / "rec.json").write_text(json.dumps({"rp_data": [["/World/Cameras/TopCam", 8, 6]], **config}))
        args += ["--config", "rec.json"]
    code, err = sdg(args, tmp_path)
    assert code == 2 and expected in one_error(err)
    assert not (tmp_path / "out").exists()


# ---- writes that fail ---------------------------------------------------------------------------
def test_render_into_an_unwritable_folder_is_one_line(sdg, tmp_path: Path):
    (tmp_path / "a_file").write_text("")
    args = ["render", str(SCENE), "-c", "/World/Cameras/TopCam", "-r", "16x12", "-o", "a_file/render"]
    code, err = sdg(args, tmp_path)
    assert code == 2 and "a_file/render: cannot create the output folder: a parent path is a file" in one_error(err)


def test_view_refuses_an_existing_png_before_reading_anything(sdg, tmp_path: Path):
    (tmp_path / "grid.png").write_bytes(b"mine")
    code, err = sdg(["view", "no_such_dataset", "-o", "grid.png"], tmp_path)
    assert code == 2 and "grid.png: already exists; pass --overwrite" in one_error(err)
    assert (tmp_path / "grid.png").read_bytes() == b"mine"


class _FullDisk:
    """A file whose disk fills after ``room`` bytes, as a real file reports it."""

    def __init__(self, room: int) -> None:
        self.room = room

    def write(self, data: bytes) -> int:
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= len(data)
        return len(data)


def test_npy_files_report_a_full_disk_as_a_full_disk():
    with pytest.raises(OSError) as info:
        write_npy(_FullDisk(1000), np.zeros((480, 640), np.float32))  # type: ignore[arg-type]
    assert info.value.errno == errno.ENOSPC
    # numpy's tofile reports a short write without an errno; it still reads as a full disk
    assert write_error_reason(OSError("307200 requested and 178144 written")).startswith("the disk is full")


def _small_tmpfs(folder: Path) -> bool:
    folder.mkdir()
    if os.geteuid() != 0:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(folder)], capture_output=True)
    return done.returncode == 0


def test_a_disk_filling_up_mid_recording_says_the_disk_is_full(sdg, tmp_path: Path, monkeypatch):
    disk = tmp_path / "disk"
    mounted = _small_tmpfs(disk)
    if not mounted:  # no tmpfs here: the disk fills at the third file written, through the real write path
        import omni.sdg_studio.core.atomic as atomic

        real_fdopen, opened = os.fdopen, []

        def filling_fdopen(fd, *args, **kwargs):
            handle = real_fdopen(fd, *args, **kwargs)
            opened.append(fd)
            if len(opened) >= 3:
                handle.write = _FullDisk(100).write  # type: ignore[method-assign]
            return handle

        monkeypatch.setattr(atomic.os, "fdopen", filling_fdopen)
    try:
        args = ["record", str(SCENE), "-r", "320x240", "--frames", "20", "--out", str(disk / "rec")]
        code, err = sdg(args, tmp_path)
    finally:
        if mounted:
            subprocess.run(["umount", str(disk)], check=False)
    assert code == 2 and "the disk is full" in one_error(err)


# ---- stages that cannot be read -------------------------------------------------------------------
def test_a_usd_syntax_error_names_the_line(tmp_path: Path):
    path = tmp_path / "bad.usda"
    path.write_text('#usda 1.0\n\ndef Xform "A"\n{\n    double3 xformOp:translate = (1, 2\n}\n')
    with pytest.raises(StageError) as info:
        open_stage(path)
    assert str(info.value).startswith(f"{path}:6:1: cannot be read as a USD layer: parse error")
    assert "pxrInternal" not in str(info.value) and "\n" not in str(info.value)


def test_symbolic_link_loops_and_broken_links_are_named_as_such(tmp_path: Path):
    (tmp_path / "a.usda").symlink_to(tmp_path / "b.usda")
    (tmp_path / "b.usda").symlink_to(tmp_path / "a.usda")
    (tmp_path / "broken.usda").symlink_to(tmp_path / "gone.usda")
    with pytest.raises(StageError, match="a loop of symbolic links"):
        open_stage(tmp_path / "a.usda")
    with pytest.raises(StageError, match="a broken symbolic link"):
        open_stage(tmp_path / "broken.usda")
    with pytest.raises(StageError, match="no such file"):
        open_stage(tmp_path / "nothing.usda")
