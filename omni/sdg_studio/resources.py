"""Where the files that ship beside the package live (sample scenes, config presets)."""

from __future__ import annotations

from pathlib import Path

from omni.sdg_studio.core.errors import SdgStudioError

#: The repository / extension root: the folder holding ``extension.toml``, ``data/`` and ``config/``.
ROOT = Path(__file__).resolve().parents[2]
SAMPLE_SCENE = ROOT / "data" / "scenes" / "warehouse.usda"
CONFIG_DIR = ROOT / "config"


def shipped_file(path: Path) -> Path:
    """``path`` if it exists, else an error saying the package was installed without its data."""
    if not path.exists():
        raise SdgStudioError(
            f"{path}: not found. The sample data ships with the source tree; install it with "
            "'pip install -e .' from a clone, or pass your own stage."
        )
    return path
