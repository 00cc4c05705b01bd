"""The cameras a stage offers the visualizer's camera picker."""

from __future__ import annotations

from pxr import Usd, UsdGeom


def stage_cameras(stage: Usd.Stage) -> list[str]:
    """Paths of every ``UsdGeom.Camera`` prim on ``stage`` (session cameras such as /OmniverseKit_Persp included)."""
    return [str(prim.GetPath()) for prim in Usd.PrimRange.Stage(stage) if prim.IsA(UsdGeom.Camera)]
