from pxr import Sdf, Usd, UsdGeom, UsdSemantics

from omni.sdg_studio.core.semantics.schema import (
    direct_labels,
    inherited_labels,
    legacy_attr_names,
    legacy_semantics,
)


def _legacy(prim: Usd.Prim, instance: str, semantic_type: str, data: str) -> None:
    prim.AddAppliedSchema(f"SemanticsAPI:{instance}")
    type_name, data_name = legacy_attr_names(instance)
    prim.CreateAttribute(type_name, Sdf.ValueTypeNames.String, False).Set(semantic_type)
    prim.CreateAttribute(data_name, Sdf.ValueTypeNames.String, False).Set(data)


def test_both_schemas_merge_and_inherit():
    stage = Usd.Stage.CreateInMemory()
    car = UsdGeom.Xform.Define(stage, "/World/Car").GetPrim()
    wheel = UsdGeom.Mesh.Define(stage, "/World/Car/Wheel").GetPrim()
    UsdSemantics.LabelsAPI.Apply(car, "class").CreateLabelsAttr(["car", "vehicle", "car"])
    _legacy(wheel, "Semantics", "class", "wheel")
    _legacy(wheel, "Semantics_a", "color", "black")
    assert direct_labels(car) == {"class": ("car", "vehicle")}
    assert direct_labels(wheel) == {"class": ("wheel",), "color": ("black",)}
    assert inherited_labels(wheel) == {"class": ("car", "vehicle", "wheel"), "color": ("black",)}
    assert [s.instance for s in legacy_semantics(wheel)] == ["Semantics", "Semantics_a"]


def test_legacy_with_empty_data_is_not_a_label():
    stage = Usd.Stage.CreateInMemory()
    prim = UsdGeom.Cube.Define(stage, "/Box").GetPrim()
    _legacy(prim, "Semantics", "class", "")
    assert direct_labels(prim) == {}
    assert legacy_semantics(prim)[0].semantic_type == "class"


def test_legacy_round_trips_through_usda(tmp_path):
    stage = Usd.Stage.CreateInMemory()
    prim = UsdGeom.Cube.Define(stage, "/Box").GetPrim()
    _legacy(prim, "Semantics", "class", "box")
    path = tmp_path / "s.usda"
    stage.GetRootLayer().Export(str(path))
    text = path.read_text()
    assert 'prepend apiSchemas = ["SemanticsAPI:Semantics"]' in text
    assert 'string semantic:Semantics:params:semanticData = "box"' in text
    reopened = Usd.Stage.Open(str(path))
    assert direct_labels(reopened.GetPrimAtPath("/Box")) == {"class": ("box",)}


def test_time_sampled_labels_are_read_at_the_time_asked():
    stage = Usd.Stage.CreateInMemory()
    prim = UsdGeom.Cube.Define(stage, "/Box").GetPrim()
    attr = UsdSemantics.LabelsAPI.Apply(prim, "class").CreateLabelsAttr(["still"])
    attr.Set(["moving"], 10)
    assert direct_labels(prim, 10) == {"class": ("moving",)}
