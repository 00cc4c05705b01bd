"""Bad scenario input: one ConfigError line naming file, line and the randomizer's index; nothing left edited."""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import pytest
from pxr import Sdf, Usd, UsdGeom

from omni.sdg_studio.core.config_document import ConfigError
from omni.sdg_studio.core.randomize import RandomizeError, load_scenario, parse_scenario_text
from tests.randomize_stages import engine, yard


def parse_error(body: str) -> str:
    """The one-line error of scenario ``body`` (YAML under ``randomizers:``)."""
    text = "seed: 1\nrandomizers:\n" + textwrap.indent(textwrap.dedent(body), "  ")
    with pytest.raises(ConfigError) as caught:
        parse_scenario_text(text, "scenario.yaml")
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("body", "line", "field", "says"),
    [
        ("- {type: poze, select: X}\n", 3, "randomizers[0].type", "did you mean 'pose'"),
        ("- {type: pose, select: X, positon: [0, 0, 0]}\n", 3, "randomizers[0].positon", "did you mean 'position'"),
        (
            "- {type: pose, select: X, position: [0, 0, 0]}\n- {type: pose, select: X, scale: {uniformm: [1, 2]}}\n",
            4,
            "randomizers[1].scale.uniformm",
            "did you mean 'uniform'",
        ),
        ("- type: pose\n  select: X\n  scale: {uniform: [2, 1]}\n", 5, "randomizers[0].scale.uniform", "inverted"),
        (
            "- type: pose\n  select: X\n  position: {uniform: [[0, 0, 0], [1, -1, 1]]}\n",
            5,
            "randomizers[0].position.uniform",
            "low 0 > high -1 (component 1)",
        ),
        ("- type: pose\n  select: X\n  scale: {uniform: [.nan, 1]}\n", 5, "uniform[0]", "finite"),
        ("- type: pose\n  select: X\n  scale: .inf\n", 5, "randomizers[0].scale", "finite"),
        ("- type: pose\n  select: X\n  scale: {normal: [1, -0.1]}\n", 5, "normal", "std must be >= 0"),
        ("- type: pose\n  select: X\n  scale: {choice: [1, 2], weights: [1]}\n", 5, "weights", "1 weights for 2"),
        ("- type: pose\n  select: X\n  scale: {choice: [1, 2], weights: [0, 0]}\n", 5, "weights", "not all be 0"),
        ("- type: pose\n  select: X\n  scale: {sequence: []}\n", 5, "sequence", "at least one item"),
        ("- type: pose\n  select: X\n  position: [1, 2]\n", 5, "randomizers[0].position", "expected 3 numbers"),
        ("- type: pose\n  select: X\n  rotation: {yaw: 1, so3: uniform}\n", 5, "rotation", "exactly one of"),
        ("- type: pose\n  select: X\n  rotation: {so3: gaussian}\n", 5, "rotation.so3", "'uniform'"),
        ("- type: pose\n  position: [0, 0, 0]\n", 3, "randomizers[0]", "needs 'select'"),
        ("- type: pose\n  select: {regex: '(['}\n  settle: true\n", 4, "select.regex", "invalid regex"),
        ("- type: pose\n  select: {glob: A, regex: B}\n  settle: true\n", 4, "select", "one of glob"),
        ("- type: pose\n  select: X\n  position: {relative_to: Forklift}\n", 5, "relative_to", "absolute prim path"),
        ("- type: pose\n  select: X\n  position: {relative_to: /A, bbox_scale: 2}\n", 5, "bbox_scale", "corner"),
        ("- type: pose\n  select: X\n  position: {relative_to: /A, corner: middle}\n", 5, "corner", "bottom, top"),
        ("- type: pose\n  select: X\n  every: 0\n  settle: true\n", 5, "randomizers[0].every", ">= 1"),
        ("- type: visibility\n  select: X\n  p: 1.5\n", 5, "randomizers[0].p", "at most 1"),
        ("- type: light\n  select: X\n  color: [1, 1, 1]\n  temperature: 5000\n", 6, "temperature", "not both"),
        ("- type: light\n  select: X\n  temperature: 100\n", 5, "temperature", ">= 1000"),
        ("- type: camera\n  select: X\n  orbit: {distance: 3}\n", 5, "orbit", "look_at"),
        ("- type: color\n  select: X\n  rgb: {uniform: [0, 1]}\n", 5, "rgb.uniform", "3 numbers"),
        ("- type: color\n  select: X\n  rgb: [1, 1, 1]\n  apply_to: paint\n", 6, "apply_to", "display_color"),
        ("- type: material\n  select: X\n  materials: {uniform: [0, 1]}\n", 5, "materials.uniform", "choice"),
        ("- type: spawn\n  assets: [missing.usd]\n  count: 2\n", 4, "randomizers[0].assets[0]", "not found"),
        ("- type: spawn\n  assets: {glob: 'nothing/*.usd'}\n  count: 2\n", 4, "assets.glob", "matches no file"),
        ("- type: scatter\n  select: X\n", 3, "randomizers[0]", "needs 'surface'"),
    ],
)
def test_parse_errors_name_file_line_field(body, line, field, says):
    message = parse_error(body)
    assert message.startswith(f"scenario.yaml:{line}:"), message
    assert field in message and says in message, message


def test_count_needs_whole_numbers(tmp_path):
    asset = tmp_path / "prop.usda"
    asset.write_text('#usda 1.0\n(defaultPrim = "P")\ndef Xform "P" {}\n')
    text = "randomizers:\n  - type: spawn\n    assets: [prop.usda]\n    count: {uniform: [1, 3]}\n"
    (tmp_path / "s.yaml").write_text(text)
    with pytest.raises(ConfigError, match=r"s\.yaml:4:.*randomizers\[0\]\.count\.uniform: .*uniform_int"):
        load_scenario(tmp_path / "s.yaml")


def test_spawn_label_template_fields_are_checked(tmp_path):
    (tmp_path / "prop.usda").write_text('#usda 1.0\n(defaultPrim = "P")\ndef Xform "P" {}\n')
    text = "randomizers:\n  - {type: spawn, assets: [prop.usda], count: 1, labels: {class: '{stem}'}}\n"
    (tmp_path / "s.yaml").write_text(text)
    with pytest.raises(ConfigError, match=r"unknown field \{stem\} \(known: asset_stem"):
        load_scenario(tmp_path / "s.yaml")


def test_file_level_errors():
    with pytest.raises(ConfigError, match="not valid YAML"):
        parse_scenario_text("randomizers: [\n", "s.yaml")
    with pytest.raises(ConfigError, match="empty"):
        parse_scenario_text("", "s.yaml")
    with pytest.raises(ConfigError, match=r"s\.yaml:1:.*seed: must be >= 0"):
        parse_scenario_text("seed: -3\nrandomizers: []\n", "s.yaml")
    with pytest.raises(ConfigError, match="unknown key 'randomisers'"):
        parse_scenario_text("randomisers: []\n", "s.yaml")
    with pytest.raises(ConfigError, match="file not found"):
        load_scenario("/nonexistent/scenario.yaml")


# -- errors found when the scenario meets the stage ----------------------------------------------------------------


def bind_error(stage: Usd.Stage, body: str, **kwargs) -> str:
    text = "randomizers:\n" + textwrap.indent(textwrap.dedent(body), "  ")
    with pytest.raises(ConfigError) as caught:
        engine(stage, text, **kwargs)
    assert stage.GetSessionLayer().subLayerPaths == []  # nothing was authored
    return str(caught.value)


def test_select_matching_nothing_warns_naming_the_randomizer_and_fails_with_strict(caplog):
    stage = yard()
    body = (
        "randomizers:\n"
        "  - {type: pose, select: /World/Truck, settle: true}\n"
        "  - {type: color, select: Nope*, rgb: [1, 0, 0]}\n"
    )
    with caplog.at_level(logging.WARNING):
        bound = engine(stage, body)
    assert len(bound.warnings) == 1
    assert bound.warnings[0].startswith("scenario.yaml:3:")
    assert "randomizers[1].select" in bound.warnings[0] and "matches no prim" in bound.warnings[0]
    assert bound.warnings[0] in caplog.text
    with pytest.raises(ConfigError, match=r"scenario\.yaml:3:.*randomizers\[1\]\.select: .*matches no prim"):
        engine(stage, body, strict=True)


def test_missing_reference_prims():
    stage = yard()
    message = bind_error(stage, "- {type: pose, select: /World/Pallet, position: {relative_to: /World/Ghost}}\n")
    assert message.startswith("scenario.yaml:2:") and "relative_to /World/Ghost is not a prim" in message
    message = bind_error(stage, "- {type: camera, select: /World/Cameras/Top, look_at: /World/Ghost}\n")
    assert "look_at /World/Ghost" in message
    message = bind_error(stage, "- {type: scatter, select: /World/Boxes, surface: /World/Ghost}\n")
    assert "surface /World/Ghost" in message


def test_surface_without_upward_faces():
    stage = yard()
    wall = UsdGeom.Mesh.Define(stage, "/World/Wall")
    wall.CreatePointsAttr([(0, 0, 0), (1, 0, 0), (1, 0, 1), (0, 0, 1)])
    wall.CreateFaceVertexCountsAttr([4])
    wall.CreateFaceVertexIndicesAttr([0, 1, 2, 3])
    message = bind_error(stage, "- {type: scatter, select: {glob: 'Box_*'}, surface: /World/Wall}\n")
    assert message.startswith("scenario.yaml:2:") and "randomizers[0].surface" in message
    assert "has no upward faces" in message


def test_relative_placements_forming_a_cycle():
    stage = yard()
    body = """\
    - type: pose
      select: /World/Truck
      position: {relative_to: /World/Pallet, offset: [-3, 0, 0]}
    - type: pose
      select: /World/Pallet
      position: {relative_to: /World/Truck, offset: [3, 0, 0]}
    """
    message = bind_error(stage, body)
    assert "relative placements form a cycle" in message
    assert "randomizers[0] reads /World/Pallet, which randomizers[1] moves" in message
    assert "randomizers[1] reads /World/Truck, which randomizers[0] moves" in message
    message = bind_error(stage, "- {type: pose, select: /World/Truck, position: {relative_to: /World/Truck}}\n")
    assert "which it moves itself" in message


def test_selecting_the_wrong_kind_of_prim():
    stage = yard()
    assert "no lights: /World/Truck" in bind_error(stage, "- {type: light, select: /World/Truck, intensity: 1}\n")
    assert "no cameras: /World/Truck" in bind_error(stage, "- {type: camera, select: /World/Truck, roll: 5}\n")
    message = bind_error(
        stage, "- {type: material, select: /World/Truck, materials: [/World/Looks/Red, /World/Pallet]}\n"
    )
    assert "/World/Pallet is a Xform, not a Material" in message
    assert "material /World/Looks/Green" in bind_error(
        stage, "- {type: material, select: /World/Truck, materials: /World/Looks/Green}\n"
    )


def test_asset_without_default_prim(tmp_path: Path):
    layer = Sdf.Layer.CreateNew(str(tmp_path / "nodefault.usda"))
    Sdf.CreatePrimInLayer(layer, "/P").specifier = Sdf.SpecifierDef
    layer.Save()
    text = "randomizers:\n  - {type: spawn, assets: [nodefault.usda], count: 1}\n"
    (tmp_path / "s.yaml").write_text(text)
    with pytest.raises(ConfigError, match=r"s\.yaml:2:.*randomizers\[0\]\.assets: .*no defaultPrim"):
        from omni.sdg_studio.core.randomize import RandomizationEngine

        RandomizationEngine(yard(), load_scenario(tmp_path / "s.yaml"))


def test_scatter_that_does_not_fit_is_reported_and_fails_only_with_strict(caplog):
    stage = yard(boxes=40)  # 40 boxes of 0.2 x 0.2 cannot all stand on a 1.2 x 0.8 deck (at most 24)
    body = "randomizers:\n  - {type: scatter, select: {glob: 'Box_*'}, surface: /World/Pallet, retries: 0}\n"
    bound = engine(stage, body)
    with caplog.at_level(logging.WARNING):
        record = bound.apply(0)
    placed = record.randomizers[0].values["placed"]
    assert 0 < placed.sum() < 40
    assert f"placed {placed.sum()} of 40 prims on /World/Pallet" in caplog.text
    assert "scenario.yaml:2:" in caplog.text and "randomizers[0]" in caplog.text
    hidden = [p for p, ok in zip(record.randomizers[0].prims, placed, strict=True) if not ok]
    assert all(UsdGeom.Imageable(stage.GetPrimAtPath(p)).ComputeVisibility() == "invisible" for p in hidden)
    bound.restore()
    strict = engine(stage, body, strict=True)
    with pytest.raises(RandomizeError, match=r"placed \d+ of 40"):
        strict.apply(0)
    assert stage.GetSessionLayer().subLayerPaths == []  # the failed frame left nothing behind
