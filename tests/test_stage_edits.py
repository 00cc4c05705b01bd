"""StageEdits notices edits of its stage only, and only while it watches (the preview's stale-result guard)."""

from __future__ import annotations

from pxr import Usd, UsdGeom

from omni.sdg_studio.core.stage_edits import StageEdits


def test_an_edit_while_watched_is_noticed_and_none_after_stop():
    stage, other = Usd.Stage.CreateInMemory(), Usd.Stage.CreateInMemory()
    edits = StageEdits(stage)
    UsdGeom.Cube.Define(other, "/Elsewhere")
    assert not edits.changed  # another stage's edit is not this stage's
    UsdGeom.Cube.Define(stage, "/Box")
    assert edits.changed
    later = StageEdits(stage)
    later.stop()
    UsdGeom.Cube.Define(stage, "/Box2")
    assert not later.changed
