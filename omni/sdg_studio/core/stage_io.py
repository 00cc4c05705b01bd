"""Open USD stages with one clear error line instead of a traceback."""

from __future__ import annotations

import re
from pathlib import Path

from pxr import Sdf, Tf, Usd

from omni.sdg_studio.core.errors import SdgStudioError

USD_SUFFIXES = (".usd", ".usda", ".usdc", ".usdz")


class StageError(SdgStudioError):
    """A stage cannot be opened or used; the message names the file."""


def open_stage(path: str | Path, load_all: bool = True) -> Usd.Stage:
    """Open ``path`` as a ``Usd.Stage``; raise :class:`StageError` naming the file on any failure."""
    path = Path(path)
    if not path.exists():
        raise StageError(f"{path}: no such file")
    if path.is_dir():
        raise StageError(f"{path}: is a directory, expected a USD file ({', '.join(USD_SUFFIXES)})")
    if path.suffix.lower() not in USD_SUFFIXES:
        raise StageError(f"{path}: not a USD file (expected {', '.join(USD_SUFFIXES)})")
    try:
        layer = Sdf.Layer.FindOrOpen(str(path))
        if layer is None:
            raise StageError(f"{path}: cannot be read as a USD layer")
        load = Usd.Stage.LoadAll if load_all else Usd.Stage.LoadNone
        stage = Usd.Stage.Open(layer, load)
    except Tf.ErrorException as exc:
        found = re.findall(r": '(.+?)'\s*$", str(exc), flags=re.MULTILINE)
        detail = found[-1] if found else ""
        raise StageError(f"{path}: cannot be read as a USD layer{': ' + detail if detail else ''}") from None
    if stage is None:
        raise StageError(f"{path}: cannot be opened as a USD stage")
    return stage
