"""Shared fixtures: the repository root and the shipped sample scene."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def sample_scene() -> Path:
    return ROOT / "data" / "scenes" / "warehouse.usda"


@pytest.fixture
def scene(tmp_path, sample_scene) -> Path:
    """A copy of the sample scene in a temporary folder (commands may write beside it)."""
    copy = tmp_path / "warehouse.usda"
    shutil.copy(sample_scene, copy)
    return copy


@pytest.fixture(scope="module")
def label_order_stage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stage whose labels come into view at different frames (tests/shard_stages.py)."""
    from shard_stages import write_label_order_stage

    return write_label_order_stage(tmp_path_factory.mktemp("stage") / "labels.usda")


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """COCO's dates, the only wall-clock values writers put in files, pinned as reproducible builds do."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
