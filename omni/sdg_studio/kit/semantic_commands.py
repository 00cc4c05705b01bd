"""The Semantic Schema Editor's ``omni.kit.commands`` command: every label write is one undoable step.

Apply (rules) and click-to-label both go through :class:`SdgStudioApplyLabelPlanCommand`, so Ctrl+Z reverts a
whole apply at once, restoring every layer it wrote exactly: labels in the target layer, ``instanceable = false``
of deinstanced instances (``instances: deinstance``), reference arcs and the asset labels layers
(``instances: asset``). The command only delegates to the host-neutral
:class:`~omni.sdg_studio.core.semantics.label_edit.LabelEdit` (tested for undo / redo of every policy in
``tests/test_semantics_label_edit.py``). The panel's own Undo does not call Kit's global
``omni.kit.undo.undo()`` (that undoes whatever command is on top of Kit's shared stack, maybe another tool's):
:class:`KitCommandRunner` reverts its own last edit through the very command instance Kit keeps (Kit calls
``undo()`` / ``do()`` on that same instance for Ctrl+Z / redo:
https://docs.omniverse.nvidia.com/kit/docs/omni.kit.commands/latest/API.html), and refuses when what it wrote was
changed since. After such a panel Undo, that entry of Kit's stack is inert: Ctrl+Z over it does nothing, redo
writes the edit again. Kit's own Ctrl+Z / redo of an edit is reported to the editor model (``on_step``), which
then lists the asset labels layers to save again and drops its stale preview.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import omni.kit.commands

from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.semantics.apply import LabelTarget, LabelUndo
from omni.sdg_studio.core.semantics.label_edit import EditHistory, LabelEdit
from omni.sdg_studio.core.semantics.plan import LabelPlan

#: The name ``omni.kit.commands.execute`` takes (the class name without its ``Command`` suffix).
APPLY_LABEL_PLAN = "SdgStudioApplyLabelPlan"


class SdgStudioApplyLabelPlanCommand(omni.kit.commands.Command):
    """Write a previewed :class:`LabelPlan`; undo restores every layer it wrote, redo writes it again.

    Args:
        stage: the ``Usd.Stage`` the plan was made on (typed ``Any``: pxr ships no type information pyright reads).
        plan: the preview to write (a redo writes it again: the stage is back where the plan started).
        target: the layer to write (edit target, session layer, a labels sublayer or the view's labels layer).
        errors: receives the user-facing error when the plan does not fit the stage (nothing is written).
        on_step: told after every ``do()`` (execute and redo) and ``undo()``, so a runner can track its own edits.
    """

    def __init__(
        self,
        stage: Any,
        plan: LabelPlan,
        target: LabelTarget,
        errors: list[Exception] | None = None,
        on_step: Callable[[LabelEdit], None] | None = None,
    ) -> None:
        self.edit = LabelEdit(stage, plan, target, on_step)
        self._errors = errors if errors is not None else []

    def do(self) -> LabelUndo:
        try:
            return self.edit.do()
        except SdgStudioError as exc:
            self._errors.append(exc)
            raise

    def undo(self) -> None:
        self.edit.undo()


class KitCommandRunner(EditHistory):
    """The editor model's runner inside Kit: each edit is one command on Kit's undo stack; the panel's Undo
    reverts this runner's own last edit that is still in effect, nothing else."""

    def run(self, stage: Any, plan: LabelPlan, target: LabelTarget) -> LabelUndo:
        errors: list[Exception] = []
        try:
            with self.acting():
                success, result = omni.kit.commands.execute(
                    APPLY_LABEL_PLAN, stage=stage, plan=plan, target=target, errors=errors, on_step=self.step_taken
                )
        except SdgStudioError:
            success, result = False, None
        if errors:
            raise errors[0]
        if not success or not isinstance(result, LabelUndo):
            raise SdgStudioError("the label edit failed; the console has the details")
        return result


def register_commands() -> None:
    omni.kit.commands.register(SdgStudioApplyLabelPlanCommand)


def unregister_commands() -> None:
    omni.kit.commands.unregister(SdgStudioApplyLabelPlanCommand)
