"""Small in-memory stages with known answers for the embedded backend tests."""

from __future__ import annotations

from pxr import Gf, Sdf, Usd, UsdGeom, UsdSemantics

FOCAL = 24.0
APERTURE = 20.955


def new_stage() -> Usd.Stage:
    stage = Usd.Stage.CreateInMemory()
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    UsdGeom.Xform.Define(stage, "/World")
    return stage


def add_camera(stage: Usd.Stage, path: str = "/World/Camera", h_offset: float = 0.0) -> UsdGeom.Camera:
    """A camera at the origin looking down -Z (identity transform)."""
    camera = UsdGeom.Camera.Define(stage, path)
    camera.CreateFocalLengthAttr(FOCAL)
    camera.CreateHorizontalApertureAttr(APERTURE)
    camera.CreateVerticalApertureAttr(APERTURE)
    camera.CreateHorizontalApertureOffsetAttr(h_offset)
    camera.CreateClippingRangeAttr(Gf.Vec2f(0.1, 1000.0))
    return camera


def add_cube(stage: Usd.Stage, path: str, size: float, center, label: str | None = None) -> UsdGeom.Cube:
    cube = UsdGeom.Cube.Define(stage, path)
    cube.CreateSizeAttr(size)
    cube.AddTranslateOp().Set(Gf.Vec3d(*center))
    if label:
        label_prim(cube.GetPrim(), label)
    return cube


def label_prim(prim: Usd.Prim, name: str, taxonomy: str = "class") -> None:
    UsdSemantics.LabelsAPI.Apply(prim, taxonomy).CreateLabelsAttr([name])


def legacy_label(prim: Usd.Prim, name: str) -> None:
    prim.AddAppliedSchema("SemanticsAPI:Semantics")
    string = Sdf.ValueTypeNames.String
    prim.CreateAttribute("semantic:Semantics:params:semanticType", string, False).Set("class")
    prim.CreateAttribute("semantic:Semantics:params:semanticData", string, False).Set(name)


def pixel_span(low: float, high: float) -> tuple[int, int]:
    """Inclusive range of pixel indices whose centers (i + 0.5) lie in [low, high]."""
    import math

    return math.ceil(low - 0.5), math.floor(high - 0.5)


def project_x(x: float, depth: float, width: int, h_offset: float = 0.0) -> float:
    """Continuous pixel column of camera-space x at image-plane depth (pinhole, film in mm)."""
    return ((FOCAL * x / depth - h_offset) / APERTURE + 0.5) * width


def project_y(y: float, depth: float, width: int, height: int) -> float:
    """Continuous pixel row of camera-space y (square pixels: vertical aperture = APERTURE * H / W)."""
    return (0.5 - (FOCAL * y / depth) / (APERTURE * height / width)) * height


def coplanar_cover_stage(cells: int = 50):
    """A flat ``cells`` x ``cells`` quad grid and, before it in prim order, one large quad in the same plane
    covering it, both labeled, under a camera looking straight down at them (z = 0, camera at z = 10)."""
    stage = new_stage()
    camera = add_camera(stage)
    UsdGeom.Xformable(camera).AddTranslateOp().Set(Gf.Vec3d(0.0, 0.0, 10.0))
    cover = UsdGeom.Mesh.Define(stage, "/World/Cover")
    cover.CreatePointsAttr([(-20, -20, 0), (20, -20, 0), (20, 20, 0), (-20, 20, 0)])
    cover.CreateFaceVertexCountsAttr([4])
    cover.CreateFaceVertexIndicesAttr([0, 1, 2, 3])
    label_prim(cover.GetPrim(), "cover")
    steps = [-10.0 + 20.0 * k / cells for k in range(cells + 1)]
    points = [(x, y, 0.0) for y in steps for x in steps]
    indices = []
    for j in range(cells):
        for i in range(cells):
            a = j * (cells + 1) + i
            indices += [a, a + 1, a + cells + 2, a + cells + 1]
    grid = UsdGeom.Mesh.Define(stage, "/World/Grid")
    grid.CreatePointsAttr(points)
    grid.CreateFaceVertexCountsAttr([4] * cells * cells)
    grid.CreateFaceVertexIndicesAttr(indices)
    label_prim(grid.GetPrim(), "grid")
    return stage
