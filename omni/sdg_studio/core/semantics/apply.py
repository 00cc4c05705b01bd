"""Apply a :class:`LabelPlan` in ``Sdf.ChangeBlock`` blocks, with an exact undo record.

Labels go into the target layer, plus (``instances: asset``) the ``<asset>_labels.usda`` layers of
the assets whose instance parts get labels; DEINSTANCE rows author ``instanceable = false`` and
REFERENCE rows prepend a reference to such a labels layer. Only ``LabelsAPI`` is written
(``SemanticsLabelsAPI:<taxonomy>`` + ``token[] semantics:labels:<taxonomy>``). New label specs go
in blocks of :data:`CHANGE_BLOCK_PRIMS` prims (the stage recomposes once per block), everything else
in one block. Before anything is written the plan is checked against the stage (a changed prim makes the
plan stale) and against stronger layers (an opinion the target layer cannot override); either
problem raises :class:`LabelApplyError` and nothing is written. If writing fails half-way, the
layer is restored before the error propagates.

Removing a label that a weaker layer (a sublayer, a referenced asset) authors deletes the applied
schema with a ``delete apiSchemas`` list op and blocks the attribute in the target layer, so the
label really disappears; :attr:`LabelUndo.hidden` says where that happened.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pxr import Sdf, Usd, Vt

from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.semantics.instances import site_labels
from omni.sdg_studio.core.semantics.layers import open_asset_labels_layer
from omni.sdg_studio.core.semantics.plan import WRITE_ACTIONS, Action, LabelPlan, PlanRow
from omni.sdg_studio.core.semantics.schema import (
    LABELS_API_PREFIX,
    LEGACY_API_PREFIX,
    labels_api_labels,
    labels_api_token,
    labels_attr_name,
    legacy_attr_names,
    legacy_instances,
)

TargetKind = Literal["edit_target", "session", "layer"]


class LabelApplyError(SdgStudioError):
    """A plan cannot be applied as it stands; nothing was written."""


@dataclass(frozen=True)
class LabelTarget:
    """Where labels are written: the stage's edit target, its session layer, or a given layer.

    A given layer must be in the stage's layer stack (a sublayer of the root or session layer);
    see ``layers.py`` for opening a stage with a ``*_labels.usda`` sublayer.
    """

    kind: TargetKind = "edit_target"
    layer: Sdf.Layer | None = None

    @classmethod
    def edit_target(cls) -> LabelTarget:
        return cls("edit_target")

    @classmethod
    def session(cls) -> LabelTarget:
        return cls("session")

    @classmethod
    def of_layer(cls, layer: Sdf.Layer) -> LabelTarget:
        return cls("layer", layer)

    def resolve(self, stage: Usd.Stage) -> Sdf.Layer:
        """The layer to write, checked to be part of ``stage``'s layer stack and editable."""
        if self.kind == "session":
            layer = stage.GetSessionLayer()
        elif self.kind == "layer" and self.layer is not None:
            layer = self.layer
            if layer not in stage.GetLayerStack(includeSessionLayers=True):
                raise LabelApplyError(f"{layer.identifier} is not a layer of this stage; add it as a sublayer first")
        else:
            edit_target = stage.GetEditTarget()
            if not edit_target.GetMapFunction().isIdentity:
                raise LabelApplyError("the stage's edit target maps paths (a variant or reference); pick a layer")
            layer = edit_target.GetLayer()
        if not layer.permissionToEdit:
            raise LabelApplyError(f"{layer.identifier} does not allow edits")
        return layer


#: New label specs written per ``Sdf.ChangeBlock``: the stage recomposes once per block, and a bounded block
#: bounds the change lists USD keeps meanwhile (memory at a million prims).
CHANGE_BLOCK_PRIMS = 50_000
#: Prim metadata apply may write (labels, deinstancing, reference arcs).
_INFO_KEYS = ("apiSchemas", "instanceable", "references")


@dataclass
class PrimSnapshot:
    """What a prim spec of a written layer held, for the fields and properties apply touches."""

    path: Sdf.Path
    infos: dict[str, Any]  # key -> value, or None where the spec did not author it
    properties: dict[str, bool] = field(default_factory=dict)  # name -> existed (copy kept in scratch)


@dataclass
class LabelUndo:
    """Restores every layer :func:`apply` wrote to exactly what it was before.

    ``layer`` is the target layer; ``asset_layers`` the asset labels layers written beside referenced
    assets (``instances: asset``), each with its own record in ``others``. They live in memory until
    saved (``layers.save_asset_labels_layers``).
    """

    layer: Sdf.Layer
    snapshots: list[PrimSnapshot] = field(default_factory=list)
    created: list[Sdf.Path] = field(default_factory=list)
    scratch: Sdf.Layer = field(default_factory=lambda: Sdf.Layer.CreateAnonymous("label_undo"))
    hidden: list[str] = field(default_factory=list)
    written: int = 0
    others: list[LabelUndo] = field(default_factory=list)
    #: Instances made non-instanceable (DEINSTANCE rows written).
    expanded: int = 0

    @property
    def asset_layers(self) -> list[Sdf.Layer]:
        return [other.layer for other in self.others]

    def revert(self) -> None:
        """Undo the apply (one ``Sdf.ChangeBlock``), asset labels layers included."""
        with Sdf.ChangeBlock():
            self._revert()
            for other in self.others:
                other._revert()

    def _revert(self) -> None:
        layer = self.layer
        for snapshot in self.snapshots:
            spec = layer.GetPrimAtPath(snapshot.path)
            if spec is None:
                continue
            for key, value in snapshot.infos.items():
                if value is None:
                    spec.ClearInfo(key)
                else:
                    spec.SetInfo(key, value)
            for name, existed in snapshot.properties.items():
                current = spec.properties.get(name)
                if current is not None:
                    spec.RemoveProperty(current)
                if existed:
                    prop_path = snapshot.path.AppendProperty(name)
                    Sdf.CopySpec(self.scratch, prop_path, layer, prop_path)
        for path in reversed(self.created):
            parent_path = path.GetParentPath()
            parent = layer.pseudoRoot if parent_path.IsAbsoluteRootPath() else layer.GetPrimAtPath(parent_path)
            if parent is not None and path.name in parent.nameChildren:
                del parent.nameChildren[path.name]


@dataclass
class _PrimOps:
    """The merged writes of one prim: final labels per taxonomy, taxonomies to remove, legacy to drop."""

    path: Sdf.Path
    set_labels: dict[str, tuple[str, ...]] = field(default_factory=dict)
    remove: set[str] = field(default_factory=set)
    legacy: list[str] = field(default_factory=list)
    first_rows: dict[str, PlanRow] = field(default_factory=dict)
    hide_tokens: set[str] = field(default_factory=set)
    hide_attrs: set[str] = field(default_factory=set)
    #: The target layer had no spec for this prim (the usual case for a labels layer).
    new: bool = False
    #: ``False`` for a DEINSTANCE row; ``None`` leaves ``instanceable`` alone.
    instanceable: bool | None = None
    #: (labels layer file, prim path) arcs to prepend (REFERENCE rows).
    references: list[tuple[str, str]] = field(default_factory=list)
    #: A stage prim showing the spec's labels (asset labels layer rows; the plan is checked on it).
    stage_prim: Sdf.Path | None = None

    @property
    def labels_only(self) -> bool:
        return not self.remove and not self.legacy and self.instanceable is None and not self.references

    def touched_properties(self) -> list[str]:
        names = [labels_attr_name(t) for t in (*self.set_labels, *self.remove)]
        for instance in self.legacy:
            names.extend(legacy_attr_names(instance))
        return list(dict.fromkeys(names))


def merge_rows(rows: Iterable[PlanRow]) -> dict[str, list[_PrimOps]]:
    """Per layer (``""`` = the target) and prim, the net effect of the write rows (later rows of a taxonomy win)."""
    ops: dict[tuple[str, str], _PrimOps] = {}
    for row in rows:
        if not row.writes:
            continue
        key = (row.layer, row.path)
        op = ops.get(key)
        if op is None:
            op = ops[key] = _PrimOps(row.spec_path)
            if row.prim:
                op.stage_prim = Sdf.Path(row.prim)
        if row.action == Action.DEINSTANCE:
            op.instanceable = False
            continue
        if row.action == Action.REFERENCE:
            arc = (row.arc[0], row.arc[1])
            if arc not in op.references:
                op.references.append(arc)
            continue
        op.first_rows.setdefault(row.taxonomy, row)
        if row.action == Action.REMOVE and not row.after:
            op.set_labels.pop(row.taxonomy, None)
            op.remove.add(row.taxonomy)
        else:
            op.remove.discard(row.taxonomy)
            op.set_labels[row.taxonomy] = row.after
        if row.legacy_instances:
            op.legacy.extend(i for i in row.legacy_instances if i not in op.legacy)
    by_layer: dict[str, list[_PrimOps]] = {}
    for (layer, _), op in ops.items():
        by_layer.setdefault(layer, []).append(op)
    return by_layer


# --- checks before writing -----------------------------------------------------------------------


def _check_current(
    prim: Usd.Prim, op: _PrimOps, expanding: set[Sdf.Path], problems: list[str], site_layer: str = ""
) -> None:
    """Refuse a plan the stage no longer fits: a prim gone, labels changed, an instance no longer one.

    For a spec of an asset labels layer (``site_layer``) the labels are that layer's when it authors them.
    """
    where = op.stage_prim or op.path
    if not prim:
        problems.append(f"{where}: prim is gone")
        return
    if op.instanceable is False and not prim.IsInstance():
        problems.append(f"{where}: is no longer an instance")
    if op.stage_prim is None and prim.IsInstanceProxy() and not any(where.HasPrefix(p) for p in expanding):
        problems.append(f"{where}: instance proxies cannot be written")
        return
    if not op.first_rows and not op.legacy:
        return
    if not site_layer and not op.legacy and not any(row.before for row in op.first_rows.values()):
        tokens = prim.GetPrimTypeInfo().GetAppliedAPISchemas()
        if not any(token.startswith(LABELS_API_PREFIX) for token in tokens):
            return  # the plan expected no labels and the prim applies no LabelsAPI
    current = labels_api_labels(prim)
    if site_layer:
        for taxonomy in op.first_rows:
            held = site_labels(site_layer, op.path, taxonomy)
            if held is not None:
                current[taxonomy] = held
    for taxonomy, row in op.first_rows.items():
        if current.get(taxonomy, ()) != row.before:
            problems.append(
                f"{where}: '{taxonomy}' is {list(current.get(taxonomy, ()))}, the plan expected {list(row.before)}"
            )
    if op.legacy:
        missing = set(op.legacy) - set(legacy_instances(prim))
        if missing:
            problems.append(f"{where}: legacy instances {sorted(missing)} are gone")


def _added(listop: Sdf.TokenListOp | None) -> list[str]:
    return list(listop.GetAddedOrExplicitItems()) if listop is not None else []


def _check_layers(
    prim: Usd.Prim, op: _PrimOps, layer: Sdf.Layer, stronger: Sequence[Sdf.Layer], problems: list[str]
) -> None:
    """Refuse opinions of stronger layers that would hide the write; find weaker ones to hide."""
    if not stronger and not op.remove and not op.legacy:
        return  # nothing can hide the write, and nothing weaker has to be hidden
    names = op.touched_properties()
    for strong in stronger:
        spec = strong.GetPrimAtPath(op.path)
        if spec is None:
            continue
        clash = [n for n in names if n in spec.properties]
        if op.instanceable is not None and spec.HasInfo("instanceable"):
            clash.append("instanceable")
        if op.references and spec.HasInfo("references") and spec.referenceList.isExplicit:
            clash.append("an explicit references list")
        listop = spec.GetInfo("apiSchemas") if spec.HasInfo("apiSchemas") else None
        removing = {labels_api_token(t) for t in op.remove} | {LEGACY_API_PREFIX + i for i in op.legacy}
        clash += [t for t in _added(listop) if t in removing]
        if listop is not None:  # a stronger explicit list or delete would drop the schemas written here
            adding = [labels_api_token(t) for t in op.set_labels]
            kept = set(listop.explicitItems) if listop.isExplicit else set()
            clash += [t for t in adding if t in listop.deletedItems or (listop.isExplicit and t not in kept)]
        if clash:
            problems.append(
                f"{op.path}: the stronger layer {strong.identifier} authors {', '.join(clash)}; "
                "write into that layer (or a stronger one) instead"
            )
    hide_tokens = {labels_api_token(t) for t in op.remove} | {LEGACY_API_PREFIX + i for i in op.legacy}
    hide_attrs = {labels_attr_name(t) for t in op.remove}
    for instance in op.legacy:
        hide_attrs.update(legacy_attr_names(instance))
    if not hide_tokens:
        return
    for spec in prim.GetPrimStack():
        if (spec.layer == layer and spec.path == op.path) or spec.layer in stronger:
            continue
        listop = spec.GetInfo("apiSchemas") if spec.HasInfo("apiSchemas") else None
        op.hide_tokens.update(t for t in _added(listop) if t in hide_tokens)
        op.hide_attrs.update(n for n in hide_attrs if n in spec.properties)


# --- writing -------------------------------------------------------------------------------------


def _with_token(listop: Sdf.TokenListOp, token: str) -> Sdf.TokenListOp:
    if listop.isExplicit:
        items = list(listop.explicitItems)
        return listop if token in items else Sdf.TokenListOp.CreateExplicit([*items, token])
    prepended, appended = list(listop.prependedItems), list(listop.appendedItems)
    deleted = [t for t in listop.deletedItems if t != token]
    if token not in prepended and token not in appended:
        prepended.append(token)
    return Sdf.TokenListOp.Create(prependedItems=prepended, appendedItems=appended, deletedItems=deleted)


def _without_token(listop: Sdf.TokenListOp, token: str, hide: bool) -> Sdf.TokenListOp:
    if listop.isExplicit:
        return Sdf.TokenListOp.CreateExplicit([t for t in listop.explicitItems if t != token])
    deleted = list(listop.deletedItems)
    if hide and token not in deleted:
        deleted.append(token)
    return Sdf.TokenListOp.Create(
        prependedItems=[t for t in listop.prependedItems if t != token],
        appendedItems=[t for t in listop.appendedItems if t != token],
        deletedItems=deleted,
    )


def _is_empty(listop: Sdf.TokenListOp) -> bool:
    if listop.isExplicit:
        return False
    return not (listop.prependedItems or listop.appendedItems or listop.deletedItems or listop.orderedItems)


def _remove_property(spec: Sdf.PrimSpec, name: str, block: bool, type_name: Sdf.ValueTypeName) -> None:
    prop = spec.properties.get(name)
    if block:
        if prop is None:
            prop = Sdf.AttributeSpec(spec, name, type_name)
        prop.default = Sdf.ValueBlock()
    elif prop is not None:
        spec.RemoveProperty(prop)


class _NewSpecs:
    """Writes the specs of prims the target layer did not have, with shared list ops and values."""

    def __init__(self) -> None:
        self.listops: dict[tuple[str, ...], Sdf.TokenListOp] = {}
        self.values: dict[tuple[str, ...], Vt.TokenArray] = {}

    def write(self, layer: Sdf.Layer, path: Sdf.Path, pairs: Iterable[tuple[str, tuple[str, ...]]]) -> None:
        """A new spec at ``path`` applying ``LabelsAPI`` with these (taxonomy, labels)."""
        pairs = tuple(pairs)
        spec = Sdf.CreatePrimInLayer(layer, path)
        tokens = tuple(labels_api_token(t) for t, _ in pairs)
        listop = self.listops.get(tokens)
        if listop is None:
            listop = self.listops[tokens] = Sdf.TokenListOp.Create(prependedItems=list(tokens))
        spec.SetInfo("apiSchemas", listop)
        for taxonomy, labels in pairs:
            value = self.values.get(labels)
            if value is None:
                value = self.values[labels] = Vt.TokenArray(list(labels))
            Sdf.AttributeSpec(spec, labels_attr_name(taxonomy), Sdf.ValueTypeNames.TokenArray).default = value


def arc_asset_path(layer: Sdf.Layer, target: str) -> str:
    """How ``layer`` names the file ``target`` in an arc: relative to the layer's file, absolute for an
    in-memory layer."""
    if layer.anonymous:
        return Path(target).as_posix()
    base = Path(layer.realPath or layer.identifier).parent
    relative = Path(os.path.relpath(target, base)).as_posix()
    return relative if relative.startswith("../") else f"./{relative}"


def _write(layer: Sdf.Layer, op: _PrimOps) -> None:
    spec = Sdf.CreatePrimInLayer(layer, op.path)
    if op.instanceable is not None:
        spec.instanceable = op.instanceable
    for target, prim_path in op.references:
        reference = Sdf.Reference(arc_asset_path(layer, target), Sdf.Path(prim_path))
        if reference not in spec.referenceList.prependedItems:
            spec.referenceList.Prepend(reference)
    listop = spec.GetInfo("apiSchemas") if spec.HasInfo("apiSchemas") else Sdf.TokenListOp()
    for taxonomy, labels in op.set_labels.items():
        listop = _with_token(listop, labels_api_token(taxonomy))
        name = labels_attr_name(taxonomy)
        attr = spec.attributes.get(name) or Sdf.AttributeSpec(spec, name, Sdf.ValueTypeNames.TokenArray)
        attr.default = Vt.TokenArray(list(labels))
    for taxonomy in op.remove:
        token = labels_api_token(taxonomy)
        listop = _without_token(listop, token, token in op.hide_tokens)
        name = labels_attr_name(taxonomy)
        _remove_property(spec, name, name in op.hide_attrs, Sdf.ValueTypeNames.TokenArray)
    for instance in op.legacy:
        token = LEGACY_API_PREFIX + instance
        listop = _without_token(listop, token, token in op.hide_tokens)
        for name in legacy_attr_names(instance):
            _remove_property(spec, name, name in op.hide_attrs, Sdf.ValueTypeNames.String)
    if _is_empty(listop):
        spec.ClearInfo("apiSchemas")
    else:
        spec.SetInfo("apiSchemas", listop)


def _created_tops(layer: Sdf.Layer, paths: Sequence[Sdf.Path]) -> list[Sdf.Path]:
    """The highest specs that writing new specs at ``paths`` creates in ``layer`` (none nested in another)."""
    known: dict[Sdf.Path, bool] = {Sdf.Path.absoluteRootPath: True}
    tops: list[Sdf.Path] = []

    def exists(path: Sdf.Path) -> bool:
        found = known.get(path)
        if found is None:
            found = known[path] = layer.GetPrimAtPath(path) is not None
        return found

    for path in paths:
        top = path
        while not exists(top.GetParentPath()):
            top = top.GetParentPath()
        if not exists(top):
            tops.append(top)
        for prefix in path.GetPrefixes():  # written: later paths under it create nothing above it
            known[prefix] = True
    return tops


def _snapshot(layer: Sdf.Layer, ops: Sequence[_PrimOps], undo: LabelUndo) -> None:
    if not layer.rootPrims and not undo.created:  # an empty layer (a new labels layer): every op creates its prim
        for op in ops:
            op.new = True
        undo.created = sorted({op.path.GetPrefixes()[0] for op in ops})
        return
    new = [op for op in ops if layer.GetPrimAtPath(op.path) is None]
    for op in new:
        op.new = True
    undo.created.extend(_created_tops(layer, [op.path for op in new]))
    for op in ops:
        if op.new:
            continue
        spec = layer.GetPrimAtPath(op.path)
        infos = {key: spec.GetInfo(key) if spec.HasInfo(key) else None for key in _INFO_KEYS}
        snapshot = PrimSnapshot(op.path, infos)
        for name in op.touched_properties():
            prop = spec.properties.get(name)
            snapshot.properties[name] = prop is not None
            if prop is not None:
                Sdf.CreatePrimInLayer(undo.scratch, op.path)
                Sdf.CopySpec(layer, prop.path, undo.scratch, prop.path)
        undo.snapshots.append(snapshot)
    tops = set(undo.created)  # created specs nested under other created specs go away with their ancestor
    undo.created = [p for p in dict.fromkeys(undo.created) if not any(q in tops for q in p.GetPrefixes()[:-1])]


def _check(
    stage: Usd.Stage,
    layer: Sdf.Layer,
    ops: Sequence[_PrimOps],
    stronger: Sequence[Sdf.Layer],
    problems: list[str],
    site_layer: str = "",
) -> None:
    expanding = {op.path for op in ops if op.instanceable is False}
    prims = list(map(stage.GetPrimAtPath, [op.stage_prim or op.path for op in ops]))
    for op, prim in zip(ops, prims, strict=True):
        _check_current(prim, op, expanding, problems, site_layer)
        if op.stage_prim is None and prim and not prim.IsInstanceProxy():
            _check_layers(prim, op, layer, stronger, problems)


def _write_all(layer: Sdf.Layer, ops: Sequence[_PrimOps], undo: LabelUndo, progress: Callable[[int], None] | None):
    new_specs = _NewSpecs()
    for count, op in enumerate(ops, 1):
        if op.new and op.labels_only:
            new_specs.write(layer, op.path, op.set_labels.items())
        else:
            _write(layer, op)
        if op.hide_tokens:
            hidden = ", ".join(sorted(op.hide_tokens))
            undo.hidden.append(f"{op.path}: hid {hidden} of a weaker layer (delete apiSchemas, blocked values)")
        if progress is not None and count % 1024 == 0:
            progress(count)


def _is_simple(row: PlanRow) -> bool:
    """An ADD of labels to a prim that has none of that taxonomy: most rows of a real plan."""
    return row.action is Action.ADD and not row.layer and not row.before and not row.legacy_instances


LabelPairs = tuple[tuple[str, tuple[str, ...]], ...]


@dataclass
class _SimpleOps:
    """Labels to add to prims whose only write rows are such ADDs: ``{path: ((taxonomy, labels), ...)}``.

    They are checked and written in bulk, without a :class:`_PrimOps` each (speed and memory).
    """

    labels: dict[Sdf.Path, LabelPairs] = field(default_factory=dict)

    @classmethod
    def split(cls, rows: Sequence[PlanRow]) -> tuple[_SimpleOps, list[PlanRow]]:
        """The simple ADDs and the other write rows."""
        writing = [row for row in rows if row.action in WRITE_ACTIONS]
        simple_rows = list(map(_is_simple, writing))
        other = {row.path for row, is_simple in zip(writing, simple_rows, strict=True) if not is_simple}
        simple = cls()
        labels = simple.labels
        rest = []
        for row, is_simple in zip(writing, simple_rows, strict=True):
            if is_simple and row.path not in other:
                path = row.spec_path
                found = labels.get(path)
                labels[path] = ((row.taxonomy, row.after),) if found is None else (*found, (row.taxonomy, row.after))
            else:
                rest.append(row)
        return simple, rest

    def check(self, stage: Usd.Stage, expanding: set[Sdf.Path], problems: list[str]) -> list[Sdf.Path]:
        """Refuse a plan the stage no longer fits; returns the paths checked."""
        paths = list(self.labels)
        labeled: list[Sdf.Path] = []
        has_proxies = bool(stage.GetPrototypes())  # without prototypes no prim is an instance proxy
        for path, prim in zip(paths, map(stage.GetPrimAtPath, paths), strict=True):
            if not prim:
                problems.append(f"{path}: prim is gone")
            elif has_proxies and prim.IsInstanceProxy() and not any(path.HasPrefix(p) for p in expanding):
                problems.append(f"{path}: instance proxies cannot be written")
            else:
                tokens = prim.GetPrimTypeInfo().GetAppliedAPISchemas()
                if tokens and any(token.startswith(LABELS_API_PREFIX) for token in tokens):
                    labeled.append(path)
        for path in labeled:
            current = labels_api_labels(stage.GetPrimAtPath(path))
            for taxonomy, _ in self.labels[path]:
                if current.get(taxonomy):
                    problems.append(f"{path}: '{taxonomy}' is {list(current[taxonomy])}, the plan expected []")
        return paths

    def to_ops(self, paths: Iterable[Sdf.Path]) -> list[_PrimOps]:
        """Full ops for ``paths`` (a stronger layer to check, or a spec already in the target layer)."""
        out = []
        for path in paths:
            pairs = self.labels.pop(path)
            op = _PrimOps(path, dict(pairs))
            for taxonomy, _ in pairs:
                op.first_rows[taxonomy] = PlanRow(str(path), "", "", Action.ADD, taxonomy)
            out.append(op)
        return out

    def snapshot(self, layer: Sdf.Layer, undo: LabelUndo) -> list[_PrimOps]:
        """Record the specs the writes create; ops whose spec exists already come back as full ops."""
        if not layer.rootPrims:
            tops = {path.GetPrefixes()[0] for path in self.labels}
            undo.created.extend(sorted(tops - set(undo.created)))
            return []
        existing = [path for path in self.labels if layer.GetPrimAtPath(path) is not None]
        full = self.to_ops(existing)
        undo.created.extend(_created_tops(layer, list(self.labels)))
        return full


def apply(
    stage: Usd.Stage,
    plan: LabelPlan,
    target: LabelTarget | None = None,
    progress: Callable[[int], None] | None = None,
) -> LabelUndo:
    """Write the plan's changes into the target layer (and asset labels layers); returns the undo record."""
    layer = (target or LabelTarget.edit_target()).resolve(stage)
    simple, rest = _SimpleOps.split(plan.rows)
    by_layer = merge_rows(rest)
    ops = by_layer.pop("", [])
    stack = list(stage.GetLayerStack(includeSessionLayers=True))
    stronger = [s for s in stack[: stack.index(layer)] if s.rootPrims] if layer in stack else []
    problems: list[str] = []
    expanding = {op.path for op in ops if op.instanceable is False}
    simple_paths = simple.check(stage, expanding, problems)
    if stronger:  # a stronger layer may hide these writes: check them one by one
        ops.extend(simple.to_ops(simple_paths))
    _check(stage, layer, ops, stronger, problems)
    for path, asset_ops in by_layer.items():
        _check(stage, layer, asset_ops, (), problems, path)
    if problems:
        shown = "\n  ".join(problems[:10]) + (f"\n  ... and {len(problems) - 10} more" if len(problems) > 10 else "")
        raise LabelApplyError(f"nothing was written; the plan does not fit the stage (re-run the preview):\n  {shown}")
    undo = LabelUndo(layer)
    work = [(layer, ops, undo)]
    for path, asset_ops in by_layer.items():
        other = LabelUndo(open_asset_labels_layer(path))
        undo.others.append(other)
        work.append((other.layer, asset_ops, other))
    ops.extend(simple.snapshot(layer, undo))  # before the full ops' snapshot: it sees the layer as it is
    for written, written_ops, record in work:
        _snapshot(written, written_ops, record)
    try:
        new_specs = _NewSpecs()
        simple_items = list(simple.labels.items())
        for start in range(0, len(simple_items), CHANGE_BLOCK_PRIMS):
            with Sdf.ChangeBlock():
                for path, pairs in simple_items[start : start + CHANGE_BLOCK_PRIMS]:
                    new_specs.write(layer, path, pairs)
        with Sdf.ChangeBlock():
            for written, written_ops, record in work:
                _write_all(written, written_ops, undo if record is undo else record, progress)
    except Exception:
        undo.revert()
        raise
    undo.written = len(simple.labels) + sum(len(written_ops) for _, written_ops, _ in work)
    undo.expanded = sum(op.instanceable is False for _, written_ops, _ in work for op in written_ops)
    if progress is not None:
        progress(undo.written)
    return undo
