"""The extension's Semantic Schema Editor state: one :class:`SemanticEditorModel` for its whole life.

It follows the open stage and its selection whether or not the window is shown, so closing the window (which
``MenuHelperExtensionFull`` destroys a frame after it is hidden) loses neither the loaded rules nor the preview.
Preview runs off Kit's main thread while the timeline is stopped or paused: planning only reads the stage, and
USD allows reads from several threads while no thread writes; an edit made meanwhile (seen through
``Usd.Notice.ObjectsChanged``) discards the result. While the timeline plays (physics and animation may author
the stage every frame) Preview runs on the main thread. Apply and the other writes (including a labels layer,
saving labels layers) run on the main thread, one update after the panel shows what it is doing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import omni.kit.app
import omni.timeline
import omni.usd

from omni.sdg_studio.core.semantics.editor_model import SemanticEditorModel
from omni.sdg_studio.core.stage_edits import StageEdits
from omni.sdg_studio.core.task_keeper import TaskKeeper
from omni.sdg_studio.kit.events import observe_stage
from omni.sdg_studio.kit.semantic_commands import KitCommandRunner


class SemanticEditorHost:
    """The editor model, kept in step with Kit's stage and selection, and its long-running actions."""

    def __init__(self, tasks: TaskKeeper) -> None:
        self.tasks = tasks
        self.runner = KitCommandRunner()
        self.model = SemanticEditorModel(runner=self.runner)
        #: What runs now ("planning", "applying ..."); empty when the panel may edit.
        self.busy = ""
        self._listeners: list[Callable[[], None]] = []
        self._subscriptions = [
            observe_stage(
                omni.usd.StageEventType.SELECTION_CHANGED, self.follow_selection, "omni.sdg_studio.editor.selection"
            ),
            observe_stage(omni.usd.StageEventType.OPENED, self.follow_stage, "omni.sdg_studio.editor.stage_opened"),
            observe_stage(omni.usd.StageEventType.CLOSING, self._stage_closing, "omni.sdg_studio.editor.stage_closing"),
        ]
        self.follow_stage()

    # -- observers (called on the main thread or, during a preview, from its worker thread) --------
    def subscribe(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` after every change of the model or of :attr:`busy`; it must be thread-safe."""
        self._listeners.append(callback)
        unsubscribe_model = self.model.subscribe(callback)

        def unsubscribe() -> None:
            unsubscribe_model()
            if callback in self._listeners:
                self._listeners.remove(callback)

        return unsubscribe

    def _set_busy(self, busy: str) -> None:
        self.busy = busy
        for callback in list(self._listeners):
            callback()

    # -- following Kit -----------------------------------------------------------------------------
    def follow_stage(self) -> None:
        """Work on the context's current stage (and its selection); the same stage keeps its preview."""
        stage = omni.usd.get_context().get_stage()
        if stage is None or stage != self.model.stage:
            self.model.attach(stage)
        self.follow_selection()

    def follow_selection(self) -> None:
        self.model.set_selection(omni.usd.get_context().get_selection().get_selected_prim_paths())

    def _stage_closing(self) -> None:
        self.runner.forget()
        self.model.attach(None)

    # -- long-running actions ----------------------------------------------------------------------
    def preview(self) -> None:
        """Plan the rules (off the main thread when the timeline is not playing)."""
        if not self.busy:
            self.tasks.start(self._preview_async(), "label preview")

    async def _preview_async(self) -> bool:
        stage = self.model.stage
        if stage is None or omni.timeline.get_timeline_interface().is_playing():
            return self.model.preview()
        rules = self.model.ruleset
        self._set_busy("planning the rules on the stage ...")
        edits = StageEdits(stage)
        try:
            planned = await asyncio.to_thread(self.model.preview)
        finally:
            edits.stop()
            self._set_busy("")
        if planned and (edits.changed or self.model.stage is not stage or self.model.ruleset is not rules):
            self.model.attach(self.model.stage)  # drops the stale preview
            self.follow_selection()
            self.model.message = "the stage or the rules changed while planning; press Preview again"
            self._set_busy("")
            return False
        return planned

    def apply(self) -> None:
        """Write the preview as one undoable command (previewing first when there is none)."""
        if not self.busy:
            self.tasks.start(self._apply_async(), "label apply")

    async def _apply_async(self) -> None:
        if self.model.plan is None and not await self._preview_async():
            return
        plan = self.model.plan
        await self._write_async(f"applying {len(plan.changes) if plan is not None else 0} changes", self.model.apply)

    def write(self, what: str, action: Callable[[], Any]) -> None:
        """Run one of the model's writes (``what`` names it in the panel); nothing while the panel is busy."""
        if not self.busy:
            self.tasks.start(self._write_async(what, action), what)

    async def _write_async(self, what: str, action: Callable[[], Any]) -> None:
        self._set_busy(f"{what} ...")
        try:
            await omni.kit.app.get_app().next_update_async()  # let the panel show it before the write
            action()
        finally:
            self._set_busy("")

    def destroy(self) -> None:
        self._subscriptions = []
        self._listeners = []
