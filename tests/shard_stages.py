"""A stage whose labels first come into view at different frames, so shards meet them in other orders."""

from __future__ import annotations

from pathlib import Path

from embedded_stages import add_camera, label_prim, new_stage
from pxr import Gf, Usd, UsdGeom

#: Frame -> labels in view. One run meets them as zebra, mango, apple, kiwi, pear; shards 1/3 (frames 3-5)
#: and 2/3 (frames 6-8) meet them in other orders, so every writer's class ids must be made the run's.
VISIBLE: tuple[tuple[str, ...], ...] = (
    ("zebra",),
    ("zebra",),
    ("zebra", "mango"),
    ("apple",),
    ("apple", "zebra"),
    ("mango", "kiwi"),
    ("kiwi",),
    ("pear",),
    ("zebra", "apple"),
)
LABELS = ("zebra", "mango", "apple", "kiwi", "pear")
CAMERA = "/World/Camera"


def write_label_order_stage(path: Path) -> Path:
    """Five labeled cubes, each in front of the camera only at the frames :data:`VISIBLE` lists (behind it
    otherwise); time code = frame (record with ``control_timeline``)."""
    stage: Usd.Stage = new_stage()
    stage.SetStartTimeCode(0)
    stage.SetEndTimeCode(len(VISIBLE) - 1)
    stage.SetTimeCodesPerSecond(24)
    stage.SetFramesPerSecond(24)
    add_camera(stage, CAMERA)
    for slot, label in enumerate(LABELS):
        cube = UsdGeom.Cube.Define(stage, f"/World/{label.capitalize()}")
        cube.CreateSizeAttr(1.0)
        label_prim(cube.GetPrim(), label)
        op = cube.AddTranslateOp()
        for frame, labels in enumerate(VISIBLE):
            where = Gf.Vec3d(-2.0 + slot, 0.0, -6.0) if label in labels else Gf.Vec3d(0.0, 0.0, 50.0)
            op.Set(where, Usd.TimeCode(frame))
    stage.GetRootLayer().Export(str(path))
    return path
