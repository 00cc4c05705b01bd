"""Save a composed grid as PNG without leaving half-written files or overwriting unasked."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.visualize.layout import to_image


def save_png(image: np.ndarray, path: Path, *, overwrite: bool = False) -> Path:
    """Write ``image`` (H, W, 4 uint8) to ``path`` through a temporary file in the same folder."""
    if path.suffix.lower() != ".png":
        raise SdgStudioError(f"{path}: the output must be a .png file")
    if path.exists() and not overwrite:
        raise SdgStudioError(f"{path}: already exists; pass --overwrite to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".png", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            to_image(image).save(stream, format="PNG")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
