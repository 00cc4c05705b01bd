"""Save a composed grid as PNG without leaving half-written files or overwriting unasked."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from omni.sdg_studio.core.atomic import atomic_path
from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.visualize.layout import to_image


def check_png_target(path: Path, *, overwrite: bool = False) -> None:
    """Refuse ``path`` as an output before any work: not a ``.png``, or an existing file without ``overwrite``."""
    if path.suffix.lower() != ".png":
        raise SdgStudioError(f"{path}: the output must be a .png file")
    if path.exists() and not overwrite:
        raise SdgStudioError(f"{path}: already exists; pass --overwrite to replace it")


def save_png(image: np.ndarray, path: Path, *, overwrite: bool = False) -> Path:
    """Write ``image`` (H, W, 4 uint8) to ``path`` through a temporary file in the same folder."""
    check_png_target(path, overwrite=overwrite)
    with atomic_path(path, durable=False) as temporary:
        to_image(image).save(temporary, format="PNG")
    return path
