"""Shared fixtures: the repository root and the shipped sample scene."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def sample_scene() -> Path:
    return ROOT / "data" / "scenes" / "warehouse.usda"
