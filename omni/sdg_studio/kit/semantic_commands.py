"""The Semantic Schema Editor's ``omni.kit.commands`` command: every label write is one undoable step.

Apply (rules) and click-to-label both go through :class:`SdgStudioApplyLabelPlanCommand`, so Ctrl+Z (or the
panel's Undo) reverts a whole apply at once, restoring the target layer's specs exactly.
"""

from __future__ import annotations

from typing import Any

import omni.kit.commands
import omni.kit.undo

from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.semantics.apply import LabelTarget, LabelUndo, apply
from omni.sdg_studio.core.semantics.plan import LabelPlan

#: The name ``omni.kit.commands.execute`` takes (the class name without its ``Command`` suffix).
APPLY_LABEL_PLAN = "SdgStudioApplyLabelPlan"


class SdgStudioApplyLabelPlanCommand(omni.kit.commands.Command):
    """Write a previewed :class:`LabelPlan` into the target layer; undo restores the layer's specs.

    Args:
        stage: the ``Usd.Stage`` the plan was made on (typed ``Any``: pxr ships no type information pyright reads).
        plan: the preview to write (a redo writes it again: the stage is back where the plan started).
        target: the layer to write (edit target, session layer or a labels sublayer).
        errors: receives the user-facing error when the plan does not fit the stage (nothing is written).
    """

    def __init__(self, stage: Any, plan: LabelPlan, target: LabelTarget, errors: list[Exception] | None = None) -> None:
        self._stage, self._plan, self._target = stage, plan, target
        self._errors = errors if errors is not None else []
        self._undo: LabelUndo | None = None

    def do(self) -> LabelUndo:
        try:
            self._undo = apply(self._stage, self._plan, self._target)
        except SdgStudioError as exc:
            self._errors.append(exc)
            raise
        return self._undo

    def undo(self) -> None:
        if self._undo is not None:
            self._undo.revert()
            self._undo = None


class KitCommandRunner:
    """The editor model's runner inside Kit: applies through the command, undoes through Kit's undo stack."""

    def run(self, stage: Any, plan: LabelPlan, target: LabelTarget) -> LabelUndo:
        errors: list[Exception] = []
        try:
            success, result = omni.kit.commands.execute(
                APPLY_LABEL_PLAN, stage=stage, plan=plan, target=target, errors=errors
            )
        except SdgStudioError:
            success, result = False, None
        if errors:
            raise errors[0]
        if not success or not isinstance(result, LabelUndo):
            raise SdgStudioError("the label edit failed; the console has the details")
        return result

    def undo(self) -> bool:
        if not omni.kit.undo.can_undo():
            return False
        omni.kit.undo.undo()
        return True

    def can_undo(self) -> bool:
        return omni.kit.undo.can_undo()


def register_commands() -> None:
    omni.kit.commands.register(SdgStudioApplyLabelPlanCommand)


def unregister_commands() -> None:
    omni.kit.commands.unregister(SdgStudioApplyLabelPlanCommand)
