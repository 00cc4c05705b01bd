"""The Semantic Schema Editor's ``omni.kit.commands`` command: every label write is one undoable step.

Apply (rules) and click-to-label both go through :class:`SdgStudioApplyLabelPlanCommand`, so Ctrl+Z reverts a
whole apply at once, restoring the target layer's specs exactly. The panel's own Undo does not call Kit's
global ``omni.kit.undo.undo()`` (that undoes whatever command is on top of Kit's shared stack, maybe another
tool's): :class:`KitCommandRunner` reverts its own last edit through the very command instance Kit keeps
(Kit calls ``undo()`` / ``do()`` on that same instance for Ctrl+Z / redo:
https://docs.omniverse.nvidia.com/kit/docs/omni.kit.commands/latest/API.html), and refuses when the labels it
wrote were changed since. After such a panel Undo, that entry of Kit's stack is inert: Ctrl+Z over it does
nothing, redo writes the edit again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import omni.kit.commands

from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.semantics.apply import LabelTarget, LabelUndo, apply
from omni.sdg_studio.core.semantics.editor_model import WrittenState, check_unchanged, written_state
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
        on_applied: told after every ``do()`` (execute and redo), so a runner can track its own edits.
    """

    def __init__(
        self,
        stage: Any,
        plan: LabelPlan,
        target: LabelTarget,
        errors: list[Exception] | None = None,
        on_applied: Callable[[SdgStudioApplyLabelPlanCommand], None] | None = None,
    ) -> None:
        self._stage, self._plan, self._target = stage, plan, target
        self._errors = errors if errors is not None else []
        self._on_applied = on_applied
        self._undo: LabelUndo | None = None
        self._written: WrittenState = ()

    @property
    def applied(self) -> bool:
        """The edit is in effect (done or redone, not undone by Kit or by the panel)."""
        return self._undo is not None

    def do(self) -> LabelUndo:
        try:
            self._undo = apply(self._stage, self._plan, self._target)
        except SdgStudioError as exc:
            self._errors.append(exc)
            raise
        self._written = written_state(self._undo)
        if self._on_applied is not None:
            self._on_applied(self)
        return self._undo

    def undo(self) -> None:
        if self._undo is not None:
            self._undo.revert()
            self._undo = None

    def revert_own(self) -> None:
        """The panel's Undo of this edit: refused (:class:`ChangedSinceError`) when its labels were changed since."""
        if self._undo is not None:
            check_unchanged(self._undo, self._written)
            self.undo()


class KitCommandRunner:
    """The editor model's runner inside Kit: each edit is one command on Kit's undo stack; the panel's Undo
    reverts this runner's own last edit that is still in effect, nothing else."""

    def __init__(self) -> None:
        self._commands: list[SdgStudioApplyLabelPlanCommand] = []

    def _applied(self, command: SdgStudioApplyLabelPlanCommand) -> None:
        if command in self._commands:
            self._commands.remove(command)
        self._commands.append(command)  # a redo makes it the latest again

    def run(self, stage: Any, plan: LabelPlan, target: LabelTarget) -> LabelUndo:
        errors: list[Exception] = []
        try:
            success, result = omni.kit.commands.execute(
                APPLY_LABEL_PLAN, stage=stage, plan=plan, target=target, errors=errors, on_applied=self._applied
            )
        except SdgStudioError:
            success, result = False, None
        if errors:
            raise errors[0]
        if not success or not isinstance(result, LabelUndo):
            raise SdgStudioError("the label edit failed; the console has the details")
        return result

    def _latest(self) -> SdgStudioApplyLabelPlanCommand | None:
        return next((command for command in reversed(self._commands) if command.applied), None)

    def undo(self) -> bool:
        command = self._latest()
        if command is None:
            return False
        command.revert_own()
        return True

    def can_undo(self) -> bool:
        return self._latest() is not None

    def forget(self) -> None:
        """Drop the tracked edits (the stage they were made on closed)."""
        self._commands = []


def register_commands() -> None:
    omni.kit.commands.register(SdgStudioApplyLabelPlanCommand)


def unregister_commands() -> None:
    omni.kit.commands.unregister(SdgStudioApplyLabelPlanCommand)
