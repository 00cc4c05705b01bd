"""Notice whether a stage was edited while something read it (a preview planned on a worker thread).

Uses ``Usd.Notice.ObjectsChanged``, sent for every authored change of the stage, on the thread that made it.
"""

from __future__ import annotations

from typing import Any

from pxr import Tf, Usd


class StageEdits:
    """True in :attr:`changed` once ``stage`` was edited after this watch started, until :meth:`stop`."""

    def __init__(self, stage: Usd.Stage) -> None:
        self.changed = False
        self._listener: Any = Tf.Notice.Register(Usd.Notice.ObjectsChanged, self._on_change, stage)

    def _on_change(self, *_: Any) -> None:
        self.changed = True

    def stop(self) -> None:
        """Stop watching (the stage's later edits are no longer noticed)."""
        if self._listener is not None:
            self._listener.Revoke()
            self._listener = None
