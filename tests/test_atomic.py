"""The one atomic-write module: a target is the old file or the complete new one, never half-written."""

from __future__ import annotations

import errno

import pytest

from omni.sdg_studio.core.atomic import TEMP_PREFIX, WriteError, atomic_path


def test_atomic_path_renames_what_the_block_wrote(tmp_path):
    target = tmp_path / "sub" / "layer.usda"
    with atomic_path(target) as temporary:
        assert temporary.parent == target.parent and temporary.suffix == ".usda"
        temporary.write_text("#usda 1.0\n")
    assert target.read_text() == "#usda 1.0\n"
    assert [p.name for p in target.parent.iterdir()] == ["layer.usda"]


def test_atomic_path_keeps_the_old_file_when_the_block_fails(tmp_path):
    target = tmp_path / "scene.usda"
    target.write_text("old")
    with pytest.raises(WriteError, match=r"scene\.usda: the disk is full"), atomic_path(target) as temporary:
        temporary.write_text("half")
        raise OSError(errno.ENOSPC, "No space left on device")
    assert target.read_text() == "old"
    assert not any(p.name.startswith(TEMP_PREFIX) for p in tmp_path.iterdir())


def test_atomic_path_refuses_a_block_that_wrote_nothing(tmp_path):
    target = tmp_path / "scene.usda"
    target.write_text("old")
    with pytest.raises(WriteError, match="nothing was written"), atomic_path(target):
        pass
    assert target.read_text() == "old"


def test_atomic_path_lets_other_errors_through_and_cleans_up(tmp_path):
    target = tmp_path / "x.png"
    with pytest.raises(ValueError), atomic_path(target) as temporary:
        temporary.write_bytes(b"partial")
        raise ValueError("encoder failed")
    assert list(tmp_path.iterdir()) == []
