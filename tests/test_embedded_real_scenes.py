"""Scenes as people have them: no camera, lights left at the schema's values, textures, MaterialX files."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from embedded_stages import add_cube, label_prim, new_stage
from PIL import Image
from pxr import Gf, Sdf, Usd, UsdGeom, UsdLux, UsdShade, Vt

from omni.sdg_studio.backends.embedded import EmbeddedBackend
from omni.sdg_studio.backends.embedded.textures import Texture, load_texture
from omni.sdg_studio.core.recorder.config import RecorderConfig
from omni.sdg_studio.core.recorder.recording import resolved_render_products
from omni.sdg_studio.core.render_backend import AUTO_CAMERA


def project(params: dict, points: np.ndarray) -> np.ndarray:
    """Pixel coordinates of world points through Replicator's view and projection matrices."""
    view = params["cameraViewTransform"].reshape(4, 4)
    projection = params["cameraProjection"].reshape(4, 4)
    clip = np.c_[points, np.ones(len(points))] @ view @ projection
    ndc = clip[:, :2] / clip[:, 3:4]
    width, height = params["renderProductResolution"]
    return np.c_[(ndc[:, 0] + 1) * width / 2, (1 - ndc[:, 1]) * height / 2]


def corners(low, high) -> np.ndarray:
    return np.array([[x, y, z] for x in (low[0], high[0]) for y in (low[1], high[1]) for z in (low[2], high[2])])


@pytest.mark.parametrize(("up", "meters_per_unit"), [("Z", 1.0), ("Y", 0.01)])
def test_auto_camera_frames_the_stage_from_above_at_three_quarters(up, meters_per_unit):
    stage = Usd.Stage.CreateInMemory()
    UsdGeom.SetStageUpAxis(stage, up)
    UsdGeom.SetStageMetersPerUnit(stage, meters_per_unit)
    scale = 1.0 / meters_per_unit  # the same 4 m x 2 m scene, in the stage's units
    add_cube(stage, "/Ground", 1.0, (0, 0, 0))
    UsdGeom.Xformable(stage.GetPrimAtPath("/Ground")).AddScaleOp().Set(Gf.Vec3f(4 * scale, 2 * scale, 2 * scale))
    tower = (0, 2 * scale, 0) if up == "Y" else (0, 0, 2 * scale)
    add_cube(stage, "/Tower", 0.5 * scale, tower)
    frame = EmbeddedBackend(stage).render(
        AUTO_CAMERA, (160, 120), ["camera_params", "instance_id_segmentation", "distance_to_camera"]
    )
    params = frame["camera_params"]
    bounds = UsdGeom.BBoxCache(Usd.TimeCode.Default(), ["default"]).ComputeWorldBound(stage.GetPseudoRoot()).GetRange()
    pixels = project(params, corners(bounds.GetMin(), bounds.GetMax()))
    assert (pixels >= 0).all() and (pixels[:, 0] <= 160).all() and (pixels[:, 1] <= 120).all()
    ids = frame["instance_id_segmentation"]
    assert {"/Ground", "/Tower"} <= set(ids["info"]["idToLabels"].values())
    # The tower stands on top of the ground: up in the world is up in the image.
    center, top = project(params, np.array([[0.0, 0.0, 0.0], tower]))
    assert top[1] < center[1]
    assert params["metersPerSceneUnit"] == pytest.approx(meters_per_unit)
    near, far = params["cameraNearFar"]
    assert (
        near < np.nanmin(frame["distance_to_camera"])
        and np.nanmax(frame["distance_to_camera"][np.isfinite(frame["distance_to_camera"])]) < far
    )


def test_recording_a_stage_without_camera_uses_the_auto_camera(caplog):
    stage = new_stage()
    add_cube(stage, "/World/Box", 1.0, (0, 0, 0), label="box")
    with caplog.at_level(logging.WARNING):
        products = resolved_render_products(stage, RecorderConfig())
    assert [(p.camera, p.width, p.height) for p in products] == [(AUTO_CAMERA, 1280, 720)]
    assert [r.getMessage() for r in caplog.records] == [
        "the stage has no camera: recording from camera 'auto', framing the whole stage"
    ]


def test_recording_resolution_follows_each_cameras_aperture():
    stage = new_stage()
    for name, vertical in (("Square", 20.955), ("Wide", 20.955 * 9 / 16)):
        camera = UsdGeom.Camera.Define(stage, f"/World/{name}")
        camera.CreateHorizontalApertureAttr(20.955)
        camera.CreateVerticalApertureAttr(vertical)
    products = resolved_render_products(stage, RecorderConfig())
    assert [(p.camera, p.width, p.height) for p in products] == [
        ("/World/Square", 1280, 1280),
        ("/World/Wide", 1280, 720),
    ]
    chosen = RecorderConfig(resolution=(640, 480))
    assert {(p.width, p.height) for p in resolved_render_products(stage, chosen)} == {(640, 480)}


def test_lights_left_at_schema_values_leave_no_face_black():
    """A DistantLight (intensity 50000 by the schema) and a DomeLight (1) with nothing authored: the faces
    the sun misses are lit by the dome, raised to the ambient floor, not black."""
    stage = new_stage()
    add_cube(stage, "/World/Box", 1.0, (0, 0, 0.5), label="box")
    add_cube(stage, "/World/Floor", 1.0, (0, 0, -0.05))
    UsdGeom.Xformable(stage.GetPrimAtPath("/World/Floor")).AddScaleOp().Set(Gf.Vec3f(6, 6, 0.1))
    UsdLux.DistantLight.Define(stage, "/World/Sun")  # shines straight down -Z
    UsdLux.DomeLight.Define(stage, "/World/Sky")
    frame = EmbeddedBackend(stage).render(AUTO_CAMERA, (160, 120), ["rgb", "instance_id_segmentation", "normals"])
    box = frame["instance_id_segmentation"]["data"] == next(
        i for i, p in frame["instance_id_segmentation"]["info"]["idToLabels"].items() if p == "/World/Box"
    )
    rgb = frame["rgb"][..., :3][box].astype(int)
    normals = frame["normals"][..., :3][box]
    sides = np.abs(normals[:, 2]) < 0.5
    assert sides.sum() > 50 and (~sides).sum() > 50  # both the top and the sides are seen
    assert rgb.sum(axis=1).min() > 0
    assert rgb[sides].mean() < rgb[~sides].mean()  # the sun still makes the top brighter


def write_blocks_png(path, blocks: int = 4, block: int = 4) -> np.ndarray:
    """A PNG of ``blocks`` x ``blocks`` single-color squares of ``block`` texels; returns the colors (row 0 on top)."""
    rng = np.random.default_rng(5)
    colors = rng.integers(20, 235, (blocks, blocks, 3), dtype=np.uint8)
    Image.fromarray(np.kron(colors, np.ones((block, block, 1), np.uint8))).save(path)
    return colors


def textured_quad_stage(png, interpolation: str = "faceVarying"):
    """A 2 m quad facing the camera 5 m away, its diffuseColor from ``png``; no lights (a head-on headlight)."""
    from embedded_stages import add_camera

    stage = new_stage()
    add_camera(stage)
    quad = UsdGeom.Mesh.Define(stage, "/World/Quad")
    quad.CreatePointsAttr([(-1, -1, -5), (1, -1, -5), (1, 1, -5), (-1, 1, -5)])
    quad.CreateFaceVertexCountsAttr([4])
    quad.CreateFaceVertexIndicesAttr([0, 1, 2, 3])
    primvar = UsdGeom.PrimvarsAPI(quad).CreatePrimvar("st", Sdf.ValueTypeNames.TexCoord2fArray, interpolation)
    if interpolation == "faceVarying":  # indexed: the four corners through an index
        primvar.Set(Vt.Vec2fArray([(1, 1), (0, 0), (1, 0), (0, 1)]))
        primvar.SetIndices(Vt.IntArray([1, 2, 0, 3]))
    else:
        primvar.Set(Vt.Vec2fArray([(0, 0), (1, 0), (1, 1), (0, 1)]))
    material = UsdShade.Material.Define(stage, "/World/Looks/Tex")
    surface = UsdShade.Shader.Define(stage, "/World/Looks/Tex/Surface")
    surface.CreateIdAttr("UsdPreviewSurface")
    reader = UsdShade.Shader.Define(stage, "/World/Looks/Tex/Reader")
    reader.CreateIdAttr("UsdPrimvarReader_float2")
    reader.CreateInput("varname", Sdf.ValueTypeNames.Token).Set("st")
    texture = UsdShade.Shader.Define(stage, "/World/Looks/Tex/Image")
    texture.CreateIdAttr("UsdUVTexture")
    texture.CreateInput("file", Sdf.ValueTypeNames.Asset).Set(str(png))
    texture.CreateInput("st", Sdf.ValueTypeNames.Float2).ConnectToSource(reader.ConnectableAPI(), "result")
    rgb = texture.CreateOutput("rgb", Sdf.ValueTypeNames.Float3)
    surface.CreateInput("diffuseColor", Sdf.ValueTypeNames.Color3f).ConnectToSource(rgb)
    material.CreateSurfaceOutput().ConnectToSource(surface.ConnectableAPI(), "surface")
    UsdShade.MaterialBindingAPI.Apply(quad.GetPrim()).Bind(material)
    return stage


@pytest.mark.parametrize("interpolation", ["faceVarying", "vertex"])
def test_textured_quad_shows_the_texture_seen_head_on(tmp_path, interpolation):
    colors = write_blocks_png(tmp_path / "blocks.png")
    stage = textured_quad_stage(tmp_path / "blocks.png", interpolation)
    rgb = EmbeddedBackend(stage).render("/World/Camera", (200, 200), ["rgb"])["rgb"]
    # The quad spans columns / rows 200 * (0.5 -+ 24 / 5 / 20.955): about 54 to 146; block centers at 1/8, 3/8...
    span = 2 * 200 * 24 / 5 / 20.955
    for row in range(4):
        for col in range(4):
            x = round(100 - span / 2 + (col + 0.5) * span / 4)
            y = round(100 - span / 2 + (row + 0.5) * span / 4)
            assert np.abs(rgb[y, x, :3].astype(int) - colors[row, col]).max() <= 1, (row, col)


def test_texture_wrap_modes():
    image = np.zeros((2, 2, 3), np.uint8)
    image[:, 1] = 255  # right column white
    decode = (np.arange(256) / 255.0).astype(np.float32)
    st = np.array([[1.25, 0.5], [-0.25, 0.5]], np.float32)  # a quarter past each side, mid-height

    def sample(mode: str) -> np.ndarray:
        return Texture(image, decode, mode, mode, (1, 1, 1), (0, 0, 0)).sample(st)[:, 0]

    assert sample("repeat").tolist() == pytest.approx([0.0, 1.0])  # wraps to the other side
    assert sample("clamp").tolist() == pytest.approx([1.0, 0.0])
    assert sample("mirror").tolist() == pytest.approx([1.0, 0.0])
    assert sample("black").tolist() == pytest.approx([0.0, 0.0])


def test_srgb_textures_are_decoded_and_raw_ones_kept(tmp_path):
    Image.fromarray(np.full((2, 2, 3), 128, np.uint8)).save(tmp_path / "gray.png")
    srgb = load_texture(str(tmp_path / "gray.png"), "auto", "repeat", "repeat", (1, 1, 1), (0, 0, 0))
    raw = load_texture(str(tmp_path / "gray.png"), "raw", "repeat", "repeat", (1, 1, 1), (0, 0, 0))
    st = np.array([[0.5, 0.5]], np.float32)
    assert srgb.sample(st)[0, 0] == pytest.approx(0.2158605, abs=1e-6)
    assert raw.sample(st)[0, 0] == pytest.approx(128 / 255, abs=1e-6)


def test_a_missing_texture_file_is_reported_once_and_its_fallback_used(tmp_path, caplog):
    stage = textured_quad_stage(tmp_path / "nowhere.png")
    image = UsdShade.Shader(stage.GetPrimAtPath("/World/Looks/Tex/Image"))
    image.CreateInput("fallback", Sdf.ValueTypeNames.Float4).Set(Gf.Vec4f(1.0, 0.0, 0.0, 1.0))
    backend = EmbeddedBackend(stage)
    with caplog.at_level(logging.WARNING):
        rgb = backend.render("/World/Camera", (64, 64), ["rgb"])["rgb"]
        backend.render("/World/Camera", (64, 64), ["rgb"])
    assert tuple(rgb[32, 32, :3]) == (255, 0, 0)
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1 and "nowhere.png" in messages[0] and "fallback" in messages[0]


def test_materialx_files_give_one_summary_warning(tmp_path, caplog, capfd):
    (tmp_path / "gold.mtlx").write_text('<?xml version="1.0"?><materialx version="1.38"></materialx>')
    (tmp_path / "scene.usda").write_text(
        """#usda 1.0
def Xform "World"
{
    def Scope "Looks" (
        prepend references = @./gold.mtlx@</MaterialX>
    )
    {
    }
    def Scope "More" (
        prepend references = @./missing.mtlx@</MaterialX>
    )
    {
    }
    def Cube "Box"
    {
    }
    def Camera "Camera"
    {
        double3 xformOp:translate = (0, 0, 8)
        uniform token[] xformOpOrder = ["xformOp:translate"]
    }
}
"""
    )
    with caplog.at_level(logging.WARNING):
        backend = EmbeddedBackend(tmp_path / "scene.usda")
        backend.render("/World/Camera", (32, 32), ["rgb"])
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1, messages
    assert "gold.mtlx" in messages[0] and "missing.mtlx" in messages[0] and "MaterialX" in messages[0]
    assert "Warning" not in capfd.readouterr().err  # USD's own lines are not printed


def test_labels_of_a_textured_prim_are_unchanged(tmp_path):
    write_blocks_png(tmp_path / "blocks.png")
    stage = textured_quad_stage(tmp_path / "blocks.png")
    label_prim(stage.GetPrimAtPath("/World/Quad"), "poster")
    frame = EmbeddedBackend(stage).render("/World/Camera", (64, 64), ["semantic_segmentation"])
    assert {"class": "poster"} in frame["semantic_segmentation"]["info"]["idToLabels"].values()
