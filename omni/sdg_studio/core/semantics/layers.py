"""Labels in their own layers: compose a ``*_labels.usda`` layer above a stage without editing it.

Layout (the default of ``sdg-studio label`` and what the demo writes)::

    warehouse_labeled.usda    small root: stage metadata + subLayers = [labels, stage]
      warehouse_labels.usda   only label opinions (``over`` prims); stronger than the stage
      warehouse.usda          the asset, untouched

The labels layer is the strongest sublayer, so it can also upgrade or remove labels the asset
authors. Opening the small root (or adding the labels layer as the first sublayer of any root)
shows the labels; deleting the labels file reverts them all. With ``instances: asset`` part labels
also go into ``<asset>_labels.usda`` beside a referenced asset file, which the labels layer
references (:func:`open_asset_labels_layer`).

*One view of the layers*: :func:`open_label_view` is how every command (``labels``, ``label``,
``info``) and the Semantic Schema Editor open a stage: the stage plus, unless asked otherwise, the
sibling ``<stem>_labels.usda`` when it exists; :attr:`LabeledStage.included` says which labels
layers the view holds, so each tool prints the same list.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pxr import Sdf, Tf, Usd

from omni.sdg_studio.core.atomic import TEMP_PREFIX, atomic_write_text
from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.semantics.assets import LABELS_SUFFIX
from omni.sdg_studio.core.stage_io import USD_SUFFIXES, StageError, export_layer_atomically, open_layer, open_stage

#: Root-layer metadata a stage reads only from its root layer (up axis, units, default prim, time).
_ROOT_ONLY_KEYS = ("subLayers", "subLayerOffsets", "primChildren")


class LabelLayerError(SdgStudioError):
    """A labels layer or labeled root cannot be opened or written."""


@dataclass(frozen=True)
class IncludedLayer:
    """A labels layer a view of a stage holds, and why: ``given`` (``--layer``), ``sibling`` (found
    beside the stage) or ``in stage`` (already one of the stage's sublayers)."""

    path: str
    how: str
    exists: bool = True

    def describe(self) -> str:
        return f"{self.path} ({self.how}{'' if self.exists else ', new'})"


@dataclass
class LabeledStage:
    """A stage opened under an in-memory root whose strongest sublayer receives the labels."""

    stage: Usd.Stage
    root_layer: Sdf.Layer
    labels_layer: Sdf.Layer
    stage_path: Path
    labels_path: Path | None
    #: The labels layers this view holds (see :func:`open_label_view`).
    included: list[IncludedLayer] = field(default_factory=list)
    #: The labels layer is already a sublayer of the stage itself (not added again by the root).
    labels_in_stage: bool = False


def sibling_labels_path(stage_path: str | Path) -> Path:
    """``<stem>_labels.usda`` beside the stage: where ``label`` writes by default and what views include."""
    path = Path(stage_path).resolve()
    return path.with_name(f"{path.stem}{LABELS_SUFFIX}")


def labels_layers_in(stage: Usd.Stage) -> list[IncludedLayer]:
    """Labels layers (``*_labels.usda``) that are already sublayers of ``stage`` (or of its session layer)."""
    out = []
    for layer in stage.GetLayerStack(includeSessionLayers=True):
        path = layer.realPath or layer.identifier
        if path.endswith(LABELS_SUFFIX):
            out.append(IncludedLayer(path, "in stage", not layer.anonymous))
    return out


def copy_root_metadata(source: Sdf.Layer, target: Sdf.Layer) -> None:
    """Copy the layer metadata a stage takes from its root (defaultPrim, upAxis, metersPerUnit, ...)."""
    for key in source.pseudoRoot.ListInfoKeys():
        if key not in _ROOT_ONLY_KEYS:
            target.pseudoRoot.SetInfo(key, source.pseudoRoot.GetInfo(key))


def _usd_path(path: Path, what: str) -> Path:
    if path.suffix.lower() not in USD_SUFFIXES:
        raise LabelLayerError(f"{path}: the {what} must be a USD file ({', '.join(USD_SUFFIXES)})")
    return path.resolve()


def _open_or_new(path: Path, fresh: bool = False) -> Sdf.Layer:
    """The layer at ``path``: the one in memory, the file, or a new empty layer named after it (written
    only when saved; relative asset paths in it resolve against ``path`` meanwhile). ``fresh`` ignores
    what the file holds (it is replaced when saved)."""
    found = Sdf.Layer.Find(str(path))
    if found is not None:
        if fresh:
            found.Clear()
        return found
    try:
        if path.exists() and not fresh:
            layer = Sdf.Layer.FindOrOpen(str(path))
        else:
            layer = Sdf.Layer.New(Sdf.FileFormat.FindByExtension("usda"), str(path))
    except Tf.ErrorException as exc:  # a multi-line message
        first = str(exc).strip().splitlines()[-1] if str(exc).strip() else ""
        raise LabelLayerError(f"{path}: cannot be read as a USD layer: {first}") from None
    if layer is None:
        raise LabelLayerError(f"{path}: cannot be read as a USD layer")
    return layer


def open_asset_labels_layer(path: str | Path) -> Sdf.Layer:
    """The labels layer beside an asset (``<asset>_labels.usda``), opened or new in memory."""
    return _open_or_new(Path(path).resolve())


def _stage_layer_files(stage_file: Path) -> set[Path]:
    """Real paths of every layer a stage file uses (its sublayers, references, payloads)."""
    stage = open_stage(stage_file, load_all=True)
    files = set()
    for layer in stage.GetUsedLayers(includeClipLayers=False):
        if not layer.anonymous and layer.realPath:
            files.add(Path(layer.realPath).resolve())
    return files


def check_output(stage_file: Path, output: Path, option: str) -> None:
    """Refuse an output (``-o``, ``--layer``) that is the stage or one of the layers it uses."""
    resolved = output.resolve()
    if resolved == stage_file.resolve():
        raise LabelLayerError(f"{option} {output}: is the stage itself (use --in-place to write into it)")
    if resolved.exists() and resolved in _stage_layer_files(stage_file):  # a missing file is no layer of it
        raise LabelLayerError(f"{option} {output}: is one of the stage's own layers; choose a new file")


def open_labeled(
    stage_path: str | Path,
    labels_path: str | Path | None = None,
    included: list[IncludedLayer] | None = None,
    fresh: bool = False,
) -> LabeledStage:
    """Open ``stage_path`` with ``labels_path`` (opened if it exists, else new) as its strongest sublayer.

    Without ``labels_path`` the in-memory root itself receives the labels (for ``-o OUT.usda``);
    ``fresh`` starts the labels layer empty even when its file exists. ``included`` names the labels
    layers of the view (default: ``labels_path``). Nothing is written to disk until
    :func:`save_labels_layer` / :func:`save_labeled_root`.
    """
    base = open_layer(stage_path)  # names a missing, unreadable or non-USD file
    stage_file = Path(stage_path).resolve()
    root = Sdf.Layer.CreateAnonymous("labeled_root.usda")
    copy_root_metadata(base, root)
    labels_file = None
    labels = root
    in_stage = False
    if labels_path is not None:
        labels_file = _usd_path(Path(labels_path), "labels layer")
        if labels_file == stage_file:
            raise LabelLayerError(f"{labels_file}: the labels layer cannot be the stage itself (use --in-place)")
        labels = _open_or_new(labels_file, fresh)
        in_stage = labels in base_stack(base)
        if not in_stage:
            root.subLayerPaths.append(labels.identifier)
    root.subLayerPaths.append(str(stage_file))
    try:
        stage = Usd.Stage.Open(root)
    except Tf.ErrorException as exc:
        raise StageError(f"{stage_file}: cannot be opened with its labels layer: {exc}") from None
    shown = list(included) if included is not None else []
    if included is None and labels_file is not None:
        shown.append(IncludedLayer(str(labels_file), "given", labels_file.exists()))
    shown += [i for i in labels_layers_in(stage) if i.path != str(labels_file)]
    return LabeledStage(stage, root, labels, stage_file, labels_file, shown, in_stage)


def base_stack(root: Sdf.Layer) -> list[Sdf.Layer]:
    """``root`` and its sublayers, recursively (the layers of a stage opened on it)."""
    out, todo = [], [root]
    while todo:
        layer = todo.pop()
        if layer in out:
            continue
        out.append(layer)
        for sub in layer.subLayerPaths:
            found = Sdf.Layer.FindRelativeToLayer(layer, sub)
            if found is not None:
                todo.append(found)
    return out


def open_label_view(stage_path: str | Path, layer: str | Path | None = None, sibling: bool = True) -> LabeledStage:
    """The stage as the labeling tools see it: with ``layer`` when given, else with the sibling
    ``<stem>_labels.usda`` when ``sibling`` and it exists. ``included`` lists the labels layers held."""
    if layer is not None:
        path = Path(layer).resolve()
        return open_labeled(stage_path, path, [IncludedLayer(str(path), "given", path.exists())])
    found = sibling_labels_path(stage_path)
    if sibling and found.exists():
        return open_labeled(stage_path, found, [IncludedLayer(str(found), "sibling")])
    return open_labeled(stage_path, None, [])


def sweep_stale_temps(targets: Iterable[Path]) -> list[Path]:
    """Remove the temporary files an interrupted write of ``targets`` left beside them.

    A run killed while saving (SIGKILL, power loss) leaves ``.sdg-tmp-<token>-<name>`` next to the file
    it was replacing; the file itself is whole (the old or the new version). The next save of that
    file removes them. Returns the removed files.
    """
    removed = []
    for target in dict.fromkeys(Path(t).resolve() for t in targets):
        pattern = re.compile(re.escape(TEMP_PREFIX) + r"[0-9a-f]+-" + re.escape(target.name))
        if not target.parent.is_dir():
            continue
        for leftover in target.parent.glob(f"{TEMP_PREFIX}*-{target.name}"):
            if pattern.fullmatch(leftover.name) and leftover.is_file():
                leftover.unlink(missing_ok=True)
                removed.append(leftover)
    return removed


def save_labels_layer(labeled: LabeledStage) -> Path:
    """Write the labels layer to its file atomically (the old file stays whole if anything fails)."""
    if labeled.labels_path is None:
        raise LabelLayerError("this stage has no labels file; use save_labeled_root")
    return export_layer_atomically(labeled.labels_layer, labeled.labels_path)


def save_asset_labels_layers(layers: list[Sdf.Layer]) -> list[Path]:
    """Write asset labels layers (``<asset>_labels.usda``, kept in memory by ``apply``) atomically."""
    return [export_layer_atomically(layer, Path(layer.realPath or layer.identifier)) for layer in layers]


def _relative_labels_arcs(layer: Sdf.Layer, folder: Path) -> None:
    """Make the absolute arcs to ``*_labels.usda`` files in ``layer`` relative to ``folder``."""
    for asset in layer.GetCompositionAssetDependencies():
        if asset.endswith(LABELS_SUFFIX) and os.path.isabs(asset):
            relative = Path(os.path.relpath(asset, folder)).as_posix()
            layer.UpdateCompositionAssetDependency(asset, relative if relative.startswith("../") else f"./{relative}")


def labeled_root_text(labeled: LabeledStage, root_path: str | Path) -> str:
    """The small root file's text: stage metadata, sublayers relative to ``root_path``, and (without
    a labels file) the label opinions themselves."""
    folder = Path(root_path).resolve().parent
    out = Sdf.Layer.CreateAnonymous("labeled_root.usda")
    out.TransferContent(labeled.root_layer)
    sublayers = [labeled.labels_path] if labeled.labels_path is not None and not labeled.labels_in_stage else []
    sublayers.append(labeled.stage_path)
    out.subLayerPaths.clear()
    for sublayer in sublayers:
        out.subLayerPaths.append(Path(os.path.relpath(sublayer, folder)).as_posix())
    _relative_labels_arcs(out, folder)
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
            raise LabelLayerError(f"{path}: exists and differs; pass --overwrite to replace it")
    atomic_write_text(path, text, durable=True)
    return True


def include_labels_layer(stage: Usd.Stage, path: str | Path) -> Sdf.Layer:
    """Compose the labels layer at ``path`` above everything the stage file holds, as the CLI's labeled root
    does: as a sublayer of the session layer (the host saves the stage without it; save the labels layer
    itself). Returns the layer (unchanged if the stage already holds it)."""
    file = _usd_path(Path(path), "labels layer")
    layer = _open_or_new(file)
    if layer in stage.GetLayerStack(includeSessionLayers=True):
        return layer
    stage.GetSessionLayer().subLayerPaths.insert(0, layer.identifier)
    return layer


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
