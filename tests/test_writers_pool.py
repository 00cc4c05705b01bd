"""Atomic writes, the bounded write pool, and write errors surfacing with the file named."""

from __future__ import annotations

import errno
import os
import threading
import time
from pathlib import Path

import pytest
from frames import make_batch

from omni.sdg_studio.core import atomic
from omni.sdg_studio.core.atomic import TEMP_PREFIX, WriteError, atomic_write_bytes, sweep_temp_files
from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.writers.basic_writer import BasicWriter
from omni.sdg_studio.core.writers.pool import WritePool


def failing_replace(code: int):
    def replace(src, dst):
        raise OSError(code, os.strerror(code), str(dst))

    return replace


def test_atomic_write_creates_folders_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "a" / "b" / "file.bin"
    atomic_write_bytes(target, b"hello")
    assert target.read_bytes() == b"hello"
    assert [p.name for p in target.parent.iterdir()] == ["file.bin"]


def test_atomic_write_respects_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        atomic_write_bytes(tmp_path / "f", b"x")
    finally:
        os.umask(old)
    assert (tmp_path / "f").stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize(
    ("code", "reason"),
    [(errno.ENOSPC, "the disk is full"), (errno.EROFS, "read-only"), (errno.EACCES, "permission denied")],
)
def test_failed_write_names_the_file_keeps_the_old_one_and_cleans_up(tmp_path, monkeypatch, code, reason):
    target = tmp_path / "labels.json"
    target.write_bytes(b"old")
    monkeypatch.setattr(atomic.os, "replace", failing_replace(code))
    with pytest.raises(WriteError, match=rf"cannot write {target}: .*{reason}") as caught:
        atomic_write_bytes(target, b"new")
    assert isinstance(caught.value, SdgStudioError)
    assert target.read_bytes() == b"old"
    assert not any(p.name.startswith(TEMP_PREFIX) for p in tmp_path.iterdir())


def test_a_file_in_place_of_a_folder_is_reported(tmp_path):
    (tmp_path / "rgb").write_text("not a folder")
    with pytest.raises(WriteError, match="rgb"):
        atomic_write_bytes(tmp_path / "rgb" / "rgb_0000.png", b"x")


def test_pool_reports_frames_once_all_their_jobs_are_done(tmp_path):
    pool = WritePool(workers=2, max_frames=4)
    gate = threading.Event()

    def slow(path: Path) -> Path:
        gate.wait(5)
        path.write_text("x")
        return path

    pool.begin_frame(0)
    pool.submit(lambda: slow(tmp_path / "a"), frame=0)
    pool.submit(lambda: slow(tmp_path / "b"), frame=0)
    pool.end_frame(0)
    time.sleep(0.05)
    assert pool.take_completed() == []  # jobs still blocked
    gate.set()
    pool.drain()
    (done,) = pool.take_completed()
    assert done.index == 0 and sorted(p.name for p in done.files) == ["a", "b"]
    pool.shutdown()


def test_pool_bounds_the_frames_in_flight():
    pool = WritePool(workers=1, max_frames=2)
    gate = threading.Event()
    for index in (0, 1):
        pool.begin_frame(index)
        pool.submit(lambda: gate.wait(5) and None, frame=index)
        pool.end_frame(index)
    started = threading.Event()
    opened = threading.Event()

    def third() -> None:
        started.set()
        pool.begin_frame(2)
        opened.set()

    thread = threading.Thread(target=third)
    thread.start()
    started.wait(5)
    assert not opened.wait(0.2)  # the producer waits: two frames are in flight
    gate.set()
    assert opened.wait(5)
    thread.join()
    pool.end_frame(2)
    pool.drain()
    assert sorted(f.index for f in pool.take_completed()) == [0, 1, 2]
    pool.shutdown()


def test_pool_surfaces_the_first_error_and_drops_later_jobs():
    pool = WritePool(workers=1, max_frames=4)
    ran: list[int] = []

    def boom():
        raise WriteError(Path("/out/rgb_0001.png"), OSError(errno.ENOSPC, "No space left on device"))

    pool.begin_frame(1)
    pool.submit(boom, frame=1)
    pool.submit(lambda: ran.append(1), frame=1)
    pool.end_frame(1)
    with pytest.raises(WriteError, match=r"rgb_0001\.png: the disk is full"):
        pool.drain()
    with pytest.raises(WriteError):
        pool.begin_frame(2)
    assert ran == [] and pool.take_completed() == []
    pool.shutdown()


def test_writer_stops_on_a_full_disk_with_a_clear_message(tmp_path, monkeypatch):
    writer = BasicWriter(tmp_path, rgb=True, workers=1, max_frames_in_flight=1)
    writer.write(make_batch(0))
    writer.flush()  # frame 0 is on disk before the disk fills up
    assert [f.index for f in writer.completed_frames()] == [0]
    monkeypatch.setattr(atomic.os, "replace", failing_replace(errno.ENOSPC))
    writer.write(make_batch(1))
    with pytest.raises(WriteError, match=r"cannot write .*rgb_0001\.png: the disk is full"):
        for index in range(2, 10):  # the error surfaces at the latest on the next write or finish
            writer.write(make_batch(index))
        writer.finish()
    writer.close()
    assert writer.completed_frames() == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metadata.txt", "rgb_0000.png"]


def test_writer_returns_before_files_are_written_and_finish_drains(tmp_path, monkeypatch):
    gate = threading.Event()
    real = atomic.os.replace

    def gated_replace(src, dst):
        gate.wait(5)
        real(src, dst)

    monkeypatch.setattr(atomic.os, "replace", gated_replace)
    writer = BasicWriter(tmp_path, rgb=True, max_frames_in_flight=8)
    paths = [p for index in range(3) for p in writer.write(make_batch(index))]
    assert not any(p.exists() for p in paths)  # rendering went on while nothing was on disk
    gate.set()
    writer.finish()
    assert all(p.exists() for p in paths)
    assert sorted(f.index for f in writer.completed_frames()) == [0, 1, 2]


def test_temporary_files_of_an_interrupted_run_are_swept(tmp_path):
    atomic_write_bytes(tmp_path / "rgb" / "rgb_0000.png", b"done")
    leftover = tmp_path / "rgb" / f"{TEMP_PREFIX}abc-rgb_0001.png"
    leftover.write_bytes(b"half")
    assert sweep_temp_files(tmp_path) == [leftover]
    assert sorted(p.name for p in (tmp_path / "rgb").iterdir()) == ["rgb_0000.png"]


def test_a_frame_sealed_after_its_job_failed_is_never_reported_written():
    """The worker fails a frame's job (and skips the next) before the frame is sealed: it must not complete."""
    pool = WritePool(workers=1, max_frames=4)
    both_queued, ran = threading.Event(), []

    def boom():
        both_queued.wait(5)
        raise WriteError(Path("/out/rgb_0001.png"), OSError(errno.ENOSPC, "No space left on device"))

    pool.begin_frame(1)
    pool.submit(boom, frame=1)
    pool.submit(lambda: ran.append(1), frame=1)
    both_queued.set()
    deadline = time.monotonic() + 5
    while pool.error is None or pool._busy():  # both jobs done (the second one skipped)
        assert time.monotonic() < deadline
        time.sleep(0.01)
    pool.end_frame(1)
    assert pool.take_completed() == [] and ran == []
    pool.shutdown()
