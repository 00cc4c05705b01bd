"""One label edit as an undoable, redoable step, and the history of the edits one panel made.

:func:`~omni.sdg_studio.core.semantics.apply.apply` writes a plan and returns a :class:`LabelUndo` that restores
every layer it wrote: the target layer (labels, ``instanceable = false`` of deinstanced instances, reference arcs
to asset labels layers) and the asset labels layers themselves. :class:`LabelEdit` wraps one plan so it can be
undone and redone any number of times: Kit's command delegates its ``do`` / ``undo`` here, and Kit calls them on
the same command instance for Edit > Undo / Redo. The panel's own Undo (:meth:`LabelEdit.revert_own`) is refused
while anything the edit wrote was changed after it (:func:`written_state`), so it never throws a later change
away. :class:`EditHistory` keeps a runner's edits and tells a listener about the steps taken outside the panel.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from pxr import Sdf, Usd

from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.semantics.apply import LabelTarget, LabelUndo, apply
from omni.sdg_studio.core.semantics.plan import LabelPlan

#: What an edit left in the layers it wrote, at the specs it touched (see :func:`written_state`).
WrittenState = tuple[tuple[str, str], ...]


def _spec_state(layer: Sdf.Layer, path: Sdf.Path, info_keys: Iterable[str] | None = None) -> str:
    """A spec as text: a prim's ``info_keys`` (all its fields when ``None``), an attribute's values."""
    spec = layer.GetObjectAtPath(path)
    if spec is None:
        return "-"
    if isinstance(spec, Sdf.PrimSpec):
        keys = spec.ListInfoKeys() if info_keys is None else info_keys
        return "prim " + " ".join(f"{key}={spec.GetInfo(key)}" for key in keys if spec.HasInfo(key))
    if isinstance(spec, Sdf.AttributeSpec):
        samples = [(t, layer.QueryTimeSample(path, t)) for t in layer.ListTimeSamplesForPath(path)]
        return f"attr {spec.default if spec.HasDefaultValue() else ''} {samples}"
    return type(spec).__name__


def _layer_state(record: LabelUndo, where: str) -> list[tuple[str, str]]:
    layer = record.layer
    out = []
    for snapshot in record.snapshots:  # specs that existed: the fields and properties apply may change
        out.append((f"{snapshot.path}{where}", _spec_state(layer, snapshot.path, snapshot.infos)))
        for name in snapshot.properties:
            path = snapshot.path.AppendProperty(name)
            out.append((f"{path}{where}", _spec_state(layer, path)))
    created: list[Sdf.Path] = []
    for root in record.created:  # specs it created: everything under them (undo deletes them)
        layer.Traverse(root, created.append)
    out.extend((f"{path}{where}", _spec_state(layer, path)) for path in created)
    return out


def written_state(edit: LabelUndo) -> WrittenState:
    """The specs ``edit`` wrote, as they are now, in the target layer and in every asset labels layer: the
    fields (``apiSchemas``, ``instanceable``, ``references``) and properties of prims that existed, and
    everything under the specs it created. Compared before undoing, so that undoing an edit never clobbers a
    change made to the same specs after it."""
    state = _layer_state(edit, "")
    for other in edit.others:
        state.extend(_layer_state(other, f" in {other.layer.realPath or other.layer.identifier}"))
    return tuple(state)


class ChangedSinceError(SdgStudioError):
    """What an edit wrote was changed after it; undoing it would throw that change away."""


def check_unchanged(edit: LabelUndo, written: WrittenState) -> None:
    """Raise :class:`ChangedSinceError` unless the specs ``edit`` wrote still hold what it wrote."""
    now = written_state(edit)
    if now != written:
        changed = next((path for (path, was), (_, is_) in zip(written, now, strict=False) if was != is_), "")
        where = f" ({changed})" if changed else ""
        raise ChangedSinceError(
            f"the labels of the last edit were changed after it{where}; undo refused so that change is kept "
            "(Edit > Undo steps back through both)"
        )


class LabelEdit:
    """One plan written as a step that can be undone and redone (a redo writes the plan again: undo put the
    stage back where the plan started). ``on_step`` is told after every ``do`` and every effective ``undo``."""

    def __init__(
        self,
        stage: Usd.Stage,
        plan: LabelPlan,
        target: LabelTarget,
        on_step: Callable[[LabelEdit], None] | None = None,
    ) -> None:
        self.stage, self.plan, self.target = stage, plan, target
        self._on_step = on_step
        self._record: LabelUndo | None = None
        self._written: WrittenState = ()
        #: The asset labels layers the last ``do`` wrote (kept after an undo: they changed again).
        self.asset_layers: list[Sdf.Layer] = []

    @property
    def applied(self) -> bool:
        """The edit is in effect (done or redone, not undone)."""
        return self._record is not None

    @property
    def record(self) -> LabelUndo | None:
        """The undo record of the edit in effect."""
        return self._record

    def do(self) -> LabelUndo:
        """Write the plan (raises :class:`SdgStudioError` with nothing written when it no longer fits)."""
        self._record = apply(self.stage, self.plan, self.target)
        self._written = written_state(self._record)
        self.asset_layers = self._record.asset_layers
        if self._on_step is not None:
            self._on_step(self)
        return self._record

    def undo(self) -> None:
        """Restore every layer the edit wrote (labels, deinstancing, reference arcs, asset labels layers)."""
        if self._record is None:
            return
        self._record.revert()
        self._record = None
        if self._on_step is not None:
            self._on_step(self)

    def revert_own(self) -> None:
        """The panel's Undo: refused (:class:`ChangedSinceError`) when what the edit wrote was changed since."""
        if self._record is not None:
            check_unchanged(self._record, self._written)
            self.undo()


class EditHistory:
    """The edits one runner made that are in effect, in order: :meth:`undo` reverts the latest (a redo makes an
    edit the latest again). ``on_step`` hears of the steps taken outside the runner (Kit's Edit > Undo / Redo
    call an edit's ``undo`` / ``do`` directly), not of the runner's own."""

    def __init__(self) -> None:
        #: Edits in effect, oldest first (an undone edit leaves the list; its redo appends it again).
        self.edits: list[LabelEdit] = []
        self.on_step: Callable[[LabelEdit], None] | None = None
        self._acting = 0

    @contextmanager
    def acting(self) -> Iterator[None]:
        """The runner itself steps an edit meanwhile (``on_step`` is not told)."""
        self._acting += 1
        try:
            yield
        finally:
            self._acting -= 1

    def step_taken(self, edit: LabelEdit) -> None:
        """Given to every edit as its ``on_step``."""
        if edit in self.edits:
            self.edits.remove(edit)
        if edit.applied:
            self.edits.append(edit)
        if not self._acting and self.on_step is not None:
            self.on_step(edit)

    def latest(self) -> LabelEdit | None:
        return self.edits[-1] if self.edits else None

    def undo(self) -> bool:
        """Undo the latest edit in effect, unless what it wrote was changed since (:class:`ChangedSinceError`)."""
        edit = self.latest()
        if edit is None:
            return False
        with self.acting():
            edit.revert_own()
        return True

    def can_undo(self) -> bool:
        return self.latest() is not None

    def forget(self) -> None:
        """Drop the tracked edits (the stage they were made on closed)."""
        self.edits = []
