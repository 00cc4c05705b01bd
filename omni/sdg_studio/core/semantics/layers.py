"""Labels in their own layer: compose a ``*_labels.usda`` layer above a stage without editing it.

Layout (the default of ``sdg-studio label`` and what the demo writes)::

    warehouse_labeled.usda    small root: stage metadata + subLayers = [labels, stage]
      warehouse_labels.usda   only label opinions (``over`` prims); stronger than the stage
      warehouse.usda          the asset, untouched

The labels layer is the strongest sublayer, so it can also upgrade or remove labels the asset
authors. Opening the small root (or adding the labels layer as the first sublayer of any root)
shows the labels; deleting the labels file reverts them all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pxr import Sdf, Tf, Usd

from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.stage_io import USD_SUFFIXES, StageError, open_stage

#: Root-layer metadata a stage reads only from its root layer (up axis, units, default prim, time).
_ROOT_ONLY_KEYS = ("subLayers", "subLayerOffsets", "primChildren")


class LabelLayerError(SdgStudioError):
    """A labels layer or labeled root cannot be opened or written."""


@dataclass
class LabeledStage:
    """A stage opened under an in-memory root whose strongest sublayer receives the labels."""

    stage: Usd.Stage
    root_layer: Sdf.Layer
    labels_layer: Sdf.Layer
    stage_path: Path
    labels_path: Path | None


def copy_root_metadata(source: Sdf.Layer, target: Sdf.Layer) -> None:
    """Copy the layer metadata a stage takes from its root (defaultPrim, upAxis, metersPerUnit, ...)."""
    for key in source.pseudoRoot.ListInfoKeys():
        if key not in _ROOT_ONLY_KEYS:
            target.pseudoRoot.SetInfo(key, source.pseudoRoot.GetInfo(key))


def _usd_path(path: Path, what: str) -> Path:
    if path.suffix.lower() not in USD_SUFFIXES:
        raise LabelLayerError(f"{path}: the {what} must be a USD file ({', '.join(USD_SUFFIXES)})")
    return path.resolve()


def open_labeled(stage_path: str | Path, labels_path: str | Path | None = None) -> LabeledStage:
    """Open ``stage_path`` with ``labels_path`` (opened if it exists, else new) as its strongest sublayer.

    Without ``labels_path`` the in-memory root itself receives the labels (for ``-o OUT.usda``).
    Nothing is written to disk until :func:`save_labels_layer` / :func:`save_labeled_root`.
    """
    stage_file = _usd_path(Path(stage_path), "stage")
    base = open_stage(stage_file).GetRootLayer()
    root = Sdf.Layer.CreateAnonymous("labeled_root.usda")
    copy_root_metadata(base, root)
    labels_file = None
    labels = root
    if labels_path is not None:
        labels_file = _usd_path(Path(labels_path), "labels layer")
        if labels_file == stage_file:
            raise LabelLayerError(f"{labels_file}: the labels layer cannot be the stage itself (use --in-place)")
        if labels_file.exists():
            try:
                labels = Sdf.Layer.FindOrOpen(str(labels_file))
            except Tf.ErrorException as exc:  # multi-line message
                raise LabelLayerError(f"{labels_file}: cannot be read as a USD layer: {exc}") from None
            if labels is None:
                raise LabelLayerError(f"{labels_file}: cannot be read as a USD layer")
        else:
            labels = Sdf.Layer.CreateAnonymous(labels_file.name)
        root.subLayerPaths.append(labels.identifier)
    root.subLayerPaths.append(str(stage_file))
    try:
        stage = Usd.Stage.Open(root)
    except Tf.ErrorException as exc:
        raise StageError(f"{stage_file}: cannot be opened with its labels layer: {exc}") from None
    return LabeledStage(stage, root, labels, stage_file, labels_file)


def export_layer(layer: Sdf.Layer, path: str | Path) -> Path:
    """Write ``layer`` to ``path`` through a temporary file renamed into place (never half-written)."""
    path = Path(path).resolve()
    temp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    try:
        if not layer.Export(str(temp)):
            raise LabelLayerError(f"{path}: could not be written")
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return path


def save_labels_layer(labeled: LabeledStage) -> Path:
    """Write the labels layer to its file (a new file atomically, an opened one with ``Save``)."""
    if labeled.labels_path is None:
        raise LabelLayerError("this stage has no labels file; use save_labeled_root")
    layer = labeled.labels_layer
    if layer.anonymous:
        return export_layer(layer, labeled.labels_path)
    if not layer.Save():
        raise LabelLayerError(f"{labeled.labels_path}: could not be saved")
    return labeled.labels_path


def labeled_root_text(labeled: LabeledStage, root_path: str | Path) -> str:
    """The small root file's text: stage metadata, sublayers relative to ``root_path``, and (without
    a labels file) the label opinions themselves."""
    folder = Path(root_path).resolve().parent
    out = Sdf.Layer.CreateAnonymous("labeled_root.usda")
    out.TransferContent(labeled.root_layer)
    sublayers = [labeled.labels_path] if labeled.labels_path is not None else []
    sublayers.append(labeled.stage_path)
    out.subLayerPaths.clear()
    for sublayer in sublayers:
        out.subLayerPaths.append(Path(os.path.relpath(sublayer, folder)).as_posix())
    return out.ExportToString()


def save_labeled_root(labeled: LabeledStage, root_path: str | Path, overwrite: bool = False) -> bool:
    """Write the small root; ``False`` when an identical file is already there.

    An existing, different file is only replaced with ``overwrite``.
    """
    path = Path(root_path).resolve()
    text = labeled_root_text(labeled, path)
    if path.exists():
        if path.read_text(encoding="utf-8") == text:
            return False
        if not overwrite:
            raise LabelLayerError(f"{path}: exists and differs; pass --force to overwrite it")
    temp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    try:
        temp.write_text(text, encoding="utf-8")
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return True


def insert_sublayer(stage: Usd.Stage, path: str | Path) -> Sdf.Layer:
    """Open (or create) ``path`` and make it the strongest sublayer of the stage's root layer.

    This is Kit's Layer-panel convention: the root layer's own opinions stay stronger, and saving
    the stage saves the sublayer. Returns the layer (unchanged if it is already in the stack).
    """
    file = _usd_path(Path(path), "labels sublayer")
    existing = Sdf.Layer.Find(str(file))
    if existing is not None and existing in stage.GetLayerStack(includeSessionLayers=False):
        return existing
    try:
        layer = Sdf.Layer.FindOrOpen(str(file)) if file.exists() else Sdf.Layer.CreateNew(str(file))
    except Tf.ErrorException as exc:
        raise LabelLayerError(f"{file}: cannot be opened or created: {exc}") from None
    if layer is None:
        raise LabelLayerError(f"{file}: cannot be opened or created")
    root = stage.GetRootLayer()
    entry = str(file)
    if not root.anonymous and root.realPath:
        entry = Path(os.path.relpath(file, Path(root.realPath).parent)).as_posix()
    root.subLayerPaths.insert(0, entry)
    return layer
