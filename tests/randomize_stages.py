"""Small stages and scenario files for the randomization tests, built with pxr."""

from __future__ import annotations

from pxr import Gf, Sdf, Usd, UsdGeom, UsdLux, UsdShade

from omni.sdg_studio.core.randomize import RandomizationEngine, parse_scenario_text


def cube(stage: Usd.Stage, path: str, size: tuple[float, float, float], center: tuple[float, float, float]) -> Usd.Prim:
    """A Cube scaled to ``size`` centered at ``center``."""
    prim = UsdGeom.Cube.Define(stage, path)
    prim.AddTranslateOp().Set(Gf.Vec3d(*center))
    prim.AddScaleOp().Set(Gf.Vec3f(size[0] / 2, size[1] / 2, size[2] / 2))
    prim.CreateExtentAttr([(-1, -1, -1), (1, 1, 1)])
    prim.CreateDisplayColorAttr([(0.5, 0.5, 0.5)])
    return prim.GetPrim()


def ground(stage: Usd.Stage, path: str, half: float) -> Usd.Prim:
    """A square two-triangle mesh at z = 0, normals +Z."""
    mesh = UsdGeom.Mesh.Define(stage, path)
    mesh.CreatePointsAttr([(-half, -half, 0), (half, -half, 0), (half, half, 0), (-half, half, 0)])
    mesh.CreateFaceVertexCountsAttr([3, 3])
    mesh.CreateFaceVertexIndicesAttr([0, 1, 2, 0, 2, 3])
    mesh.CreateExtentAttr([(-half, -half, 0), (half, half, 0)])
    return mesh.GetPrim()


def yard(boxes: int = 4) -> Usd.Stage:
    """A Z-up yard: ground, a 'truck' (box 4 x 2 x 2 whose origin is at its floor center, facing +X),
    a pallet (1.2 x 0.8 x 0.15 deck), ``boxes`` small boxes, two cameras, a sun, a dome, two materials."""
    stage = Usd.Stage.CreateInMemory("yard.usda")
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    world = UsdGeom.Xform.Define(stage, "/World")
    stage.SetDefaultPrim(world.GetPrim())
    ground(stage, "/World/Ground", 20.0)
    truck = UsdGeom.Xform.Define(stage, "/World/Truck")
    truck.AddTranslateOp().Set(Gf.Vec3d(-5, 0, 0))
    cube(stage, "/World/Truck/Body", (4.0, 2.0, 2.0), (0.0, 0.0, 1.0))
    pallet = UsdGeom.Xform.Define(stage, "/World/Pallet")
    pallet.AddTranslateOp().Set(Gf.Vec3d(5, 5, 0))
    cube(stage, "/World/Pallet/Deck", (1.2, 0.8, 0.15), (0.0, 0.0, 0.075))
    UsdGeom.Xform.Define(stage, "/World/Boxes")
    for i in range(boxes):
        cube(stage, f"/World/Boxes/Box_{i:02d}", (0.2, 0.2, 0.2), (i * 0.5, -5.0, 0.1))
    cone = UsdGeom.Xform.Define(stage, "/World/Cone")
    cone.AddTranslateOp().Set(Gf.Vec3d(8, -8, 0))
    cube(stage, "/World/Cone/Base", (0.3, 0.3, 0.6), (0.0, 0.0, 0.3))
    for name, eye in (("Top", (0.0, 0.0, 20.0)), ("Side", (10.0, 0.0, 2.0))):
        camera = UsdGeom.Camera.Define(stage, f"/World/Cameras/{name}")
        camera.AddTranslateOp().Set(Gf.Vec3d(*eye))
        camera.CreateFocalLengthAttr(24.0)
    sun = UsdLux.DistantLight.Define(stage, "/World/Lights/Sun")
    sun.CreateIntensityAttr(3000.0)
    sun.AddRotateXYZOp().Set(Gf.Vec3f(45.0, 0.0, 30.0))
    UsdLux.DomeLight.Define(stage, "/World/Lights/Dome").CreateIntensityAttr(1000.0)
    for name, rgb in (("Red", (1.0, 0.0, 0.0)), ("Blue", (0.0, 0.0, 1.0))):
        material = UsdShade.Material.Define(stage, f"/World/Looks/{name}")
        shader = UsdShade.Shader.Define(stage, f"/World/Looks/{name}/Surface")
        shader.CreateIdAttr("UsdPreviewSurface")
        shader.CreateInput("diffuseColor", Sdf.ValueTypeNames.Color3f).Set(Gf.Vec3f(*rgb))
        material.CreateSurfaceOutput().ConnectToSource(shader.ConnectableAPI(), "surface")
    return stage


def engine(stage: Usd.Stage, text: str, **kwargs) -> RandomizationEngine:
    """An engine for scenario ``text`` (YAML) on ``stage``."""
    return RandomizationEngine(stage, parse_scenario_text(text, "scenario.yaml"), **kwargs)


def world(stage: Usd.Stage, path: str) -> Gf.Matrix4d:
    return UsdGeom.Xformable(stage.GetPrimAtPath(path)).ComputeLocalToWorldTransform(Usd.TimeCode.Default())
