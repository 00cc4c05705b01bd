"""Apply a :class:`LabelPlan` to one layer in one ``Sdf.ChangeBlock``, with an exact undo record.

Only ``LabelsAPI`` is written (``SemanticsLabelsAPI:<taxonomy>`` + ``token[] semantics:labels:<taxonomy>``).
Before anything is written the plan is checked against the stage (a changed prim makes the
plan stale) and against stronger layers (an opinion the target layer cannot override); either
problem raises :class:`LabelApplyError` and nothing is written. If writing fails half-way, the
layer is restored before the error propagates.

Removing a label that a weaker layer (a sublayer, a referenced asset) authors deletes the applied
schema with a ``delete apiSchemas`` list op and blocks the attribute in the target layer, so the
label really disappears; :attr:`LabelUndo.hidden` says where that happened.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pxr import Sdf, Usd, Vt

from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.semantics.plan import Action, LabelPlan, PlanRow
from omni.sdg_studio.core.semantics.schema import (
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


@dataclass
class PrimSnapshot:
    """What a prim spec of the target layer held, for the fields and properties apply touches."""

    path: Sdf.Path
    api_schemas: Sdf.TokenListOp | None
    properties: dict[str, bool] = field(default_factory=dict)  # name -> existed (copy kept in scratch)


@dataclass
class LabelUndo:
    """Restores the target layer's specs to exactly what they were before :func:`apply`."""

    layer: Sdf.Layer
    snapshots: list[PrimSnapshot] = field(default_factory=list)
    created: list[Sdf.Path] = field(default_factory=list)
    scratch: Sdf.Layer = field(default_factory=lambda: Sdf.Layer.CreateAnonymous("label_undo"))
    hidden: list[str] = field(default_factory=list)
    written: int = 0

    def revert(self) -> None:
        """Undo the apply (one ``Sdf.ChangeBlock``)."""
        layer = self.layer
        with Sdf.ChangeBlock():
            for snapshot in self.snapshots:
                spec = layer.GetPrimAtPath(snapshot.path)
                if spec is None:
                    continue
                if snapshot.api_schemas is None:
                    spec.ClearInfo("apiSchemas")
                else:
                    spec.SetInfo("apiSchemas", snapshot.api_schemas)
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

    def touched_properties(self) -> list[str]:
        names = [labels_attr_name(t) for t in (*self.set_labels, *self.remove)]
        for instance in self.legacy:
            names.extend(legacy_attr_names(instance))
        return list(dict.fromkeys(names))


def merge_rows(rows: Iterable[PlanRow]) -> list[_PrimOps]:
    """Per prim, the net effect of its write rows (later rows of a taxonomy win)."""
    ops: dict[str, _PrimOps] = {}
    for row in rows:
        if not row.writes:
            continue
        op = ops.get(row.path)
        if op is None:
            op = ops[row.path] = _PrimOps(Sdf.Path(row.path))
        op.first_rows.setdefault(row.taxonomy, row)
        if row.action == Action.REMOVE and not row.after:
            op.set_labels.pop(row.taxonomy, None)
            op.remove.add(row.taxonomy)
        else:
            op.remove.discard(row.taxonomy)
            op.set_labels[row.taxonomy] = row.after
        if row.legacy_instances:
            op.legacy.extend(i for i in row.legacy_instances if i not in op.legacy)
    return list(ops.values())


# --- checks before writing -----------------------------------------------------------------------


def _check_current(prim: Usd.Prim, op: _PrimOps, problems: list[str]) -> None:
    if not prim:
        problems.append(f"{op.path}: prim is gone")
        return
    if prim.IsInstanceProxy():
        problems.append(f"{op.path}: instance proxies cannot be written")
        return
    current = labels_api_labels(prim)
    for taxonomy, row in op.first_rows.items():
        if current.get(taxonomy, ()) != row.before:
            problems.append(
                f"{op.path}: '{taxonomy}' is {list(current.get(taxonomy, ()))}, the plan expected {list(row.before)}"
            )
    if op.legacy:
        missing = set(op.legacy) - set(legacy_instances(prim))
        if missing:
            problems.append(f"{op.path}: legacy instances {sorted(missing)} are gone")


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

    def write(self, layer: Sdf.Layer, op: _PrimOps) -> None:
        spec = Sdf.CreatePrimInLayer(layer, op.path)
        tokens = tuple(labels_api_token(t) for t in op.set_labels)
        listop = self.listops.get(tokens)
        if listop is None:
            listop = self.listops[tokens] = Sdf.TokenListOp.Create(prependedItems=list(tokens))
        spec.SetInfo("apiSchemas", listop)
        for taxonomy, labels in op.set_labels.items():
            value = self.values.get(labels)
            if value is None:
                value = self.values[labels] = Vt.TokenArray(list(labels))
            Sdf.AttributeSpec(spec, labels_attr_name(taxonomy), Sdf.ValueTypeNames.TokenArray).default = value


def _write(layer: Sdf.Layer, op: _PrimOps) -> None:
    spec = Sdf.CreatePrimInLayer(layer, op.path)
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


def _snapshot(layer: Sdf.Layer, ops: Sequence[_PrimOps], undo: LabelUndo) -> None:
    known: dict[Sdf.Path, bool] = {}

    def exists(path: Sdf.Path) -> bool:
        found = known.get(path)
        if found is None:
            found = known[path] = path == Sdf.Path.absoluteRootPath or layer.GetPrimAtPath(path) is not None
        return found

    if not layer.rootPrims:  # an empty layer (a new labels layer): every op creates its prim
        for op in ops:
            op.new = True
        undo.created = sorted({op.path.GetPrefixes()[0] for op in ops})
        return
    created: set[Sdf.Path] = set()
    for op in ops:
        spec = layer.GetPrimAtPath(op.path)
        if spec is None:
            top = op.path
            while not exists(top.GetParentPath()):
                top = top.GetParentPath()
            if top not in created:
                created.add(top)
                undo.created.append(top)
            op.new = True
            known[op.path] = True  # written below: later ops under it need no snapshot of their own
            for prefix in op.path.GetPrefixes():
                known[prefix] = True
            continue
        listop = spec.GetInfo("apiSchemas") if spec.HasInfo("apiSchemas") else None
        snapshot = PrimSnapshot(op.path, listop)
        for name in op.touched_properties():
            prop = spec.properties.get(name)
            snapshot.properties[name] = prop is not None
            if prop is not None:
                Sdf.CreatePrimInLayer(undo.scratch, op.path)
                Sdf.CopySpec(layer, prop.path, undo.scratch, prop.path)
        undo.snapshots.append(snapshot)
    # Created specs nested under other created specs go away with their ancestor.
    undo.created = [p for p in undo.created if not any(q in created for q in p.GetPrefixes()[:-1])]


def apply(
    stage: Usd.Stage,
    plan: LabelPlan,
    target: LabelTarget | None = None,
    progress: Callable[[int], None] | None = None,
) -> LabelUndo:
    """Write the plan's changes into the target layer; returns the record that undoes them."""
    layer = (target or LabelTarget.edit_target()).resolve(stage)
    ops = merge_rows(plan.rows)
    stack = list(stage.GetLayerStack(includeSessionLayers=True))
    stronger = [s for s in stack[: stack.index(layer)] if s.rootPrims] if layer in stack else []
    problems: list[str] = []
    for op in ops:
        prim = stage.GetPrimAtPath(op.path)
        _check_current(prim, op, problems)
        if prim and not prim.IsInstanceProxy():
            _check_layers(prim, op, layer, stronger, problems)
    if problems:
        shown = "\n  ".join(problems[:10]) + (f"\n  ... and {len(problems) - 10} more" if len(problems) > 10 else "")
        raise LabelApplyError(f"nothing was written; the plan does not fit the stage (re-run the preview):\n  {shown}")
    undo = LabelUndo(layer)
    _snapshot(layer, ops, undo)
    new_specs = _NewSpecs()
    try:
        with Sdf.ChangeBlock():
            for count, op in enumerate(ops, 1):
                if op.new and not op.remove and not op.legacy:
                    new_specs.write(layer, op)
                else:
                    _write(layer, op)
                if op.hide_tokens:
                    hidden = ", ".join(sorted(op.hide_tokens))
                    undo.hidden.append(f"{op.path}: hid {hidden} of a weaker layer (delete apiSchemas, blocked values)")
                if progress is not None and count % 1024 == 0:
                    progress(count)
    except Exception:
        undo.revert()
        raise
    undo.written = len(ops)
    if progress is not None:
        progress(len(ops))
    return undo
