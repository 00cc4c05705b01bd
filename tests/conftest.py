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
