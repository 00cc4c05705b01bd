"""One frame's variation as a USD file: the frame layer's opinions over a sublayer of the stage.

The file opens in any USD viewer (and in Isaac Sim): it sublayers the stage by a path relative to
itself, carries the stage's root metadata (up axis, units, default prim), and asset paths of spawned
references are made relative to it where they can be. It is written atomically.
"""

from __future__ import annotations

import os
from pathlib import Path

from pxr import Sdf, UsdUtils

from omni.sdg_studio.core.atomic import atomic_path
from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.semantics.layers import copy_root_metadata


def _relative(path: str, folder: Path) -> str:
    """``path`` relative to ``folder`` (POSIX separators) when both are on one drive, else as given."""
    if not os.path.isabs(path):
        return path
    try:
        return Path(os.path.relpath(path, folder)).as_posix()
    except ValueError:  # another drive on Windows
        return path


def export_frame(frame_layer: Sdf.Layer, stage_path: str | Path, out: str | Path, comment: str = "") -> Path:
    """Write ``frame_layer``'s content to ``out`` as a layer that sublayers ``stage_path``."""
    out, stage_path = Path(out).resolve(), Path(stage_path).resolve()
    root = Sdf.Layer.FindOrOpen(str(stage_path))
    if root is None:
        raise SdgStudioError(f"{stage_path}: cannot be read as a USD layer")
    layer = Sdf.Layer.CreateAnonymous(out.suffix or ".usda")
    layer.TransferContent(frame_layer)
    copy_root_metadata(root, layer)
    if comment:
        layer.comment = comment
    UsdUtils.ModifyAssetPaths(layer, lambda asset: _relative(asset, out.parent))
    layer.subLayerPaths = [_relative(str(stage_path), out.parent)]
    with atomic_path(out) as temporary:
        if not layer.Export(str(temporary)):
            raise SdgStudioError(f"{out}: could not be written")
    return out
