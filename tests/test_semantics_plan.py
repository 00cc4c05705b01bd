"""plan(): precedence, modes, hierarchy, instances, legacy, time samples, scope; never writes."""

import re
from pathlib import Path

import pytest
from pxr import Sdf, Usd, UsdGeom

from omni.sdg_studio.core.semantics.apply import apply
from omni.sdg_studio.core.semantics.plan import Action, LabelPlanError, plan
from omni.sdg_studio.core.semantics.rules_file import load_rules, parse_rules_text
from omni.sdg_studio.core.semantics.schema import inherited_labels

DATA = Path(__file__).parent / "data" / "semantics"


def stage_from(text: str) -> Usd.Stage:
    layer = Sdf.Layer.CreateAnonymous(".usda")
    layer.ImportFromString("#usda 1.0\n" + text)
    return Usd.Stage.Open(layer)


def rules(body: str, header: str = ""):
    return parse_rules_text(f"version: 1\n{header}rules:\n{body}")


def rows_by(plan_, action):
    return {(r.path, r.taxonomy): r for r in plan_.rows if r.action == action}


CAR = """
def Xform "World" {
    def Xform "Car_01" {
        def Mesh "Wheel_FL" {
        }
        def Mesh "Body" {
        }
    }
    def Mesh "Chair_01" {
    }
}
"""


def test_plan_changes_no_layer(sample_scene, repo_root):
    stage = Usd.Stage.Open(str(sample_scene))
    before = {layer.identifier: layer.ExportToString() for layer in stage.GetUsedLayers()}
    result = plan(stage, load_rules(repo_root / "config" / "rules" / "warehouse.yaml"))
    assert result.changes  # the plan has work to do...
    after = {layer.identifier: layer.ExportToString() for layer in stage.GetUsedLayers()}
    assert after == before  # ...and did none of it, legacy upgrades included
    assert not any(layer.dirty for layer in stage.GetUsedLayers())


def test_sample_scene_plan_matches_an_independent_count(sample_scene, repo_root):
    stage = Usd.Stage.Open(str(sample_scene))
    result = plan(stage, load_rules(repo_root / "config" / "rules" / "warehouse.yaml"))
    excluded = ("/World/Looks", "/World/Cameras", "/World/Lights")
    gprims = [
        p
        for p in Usd.PrimRange(stage.GetPrimAtPath("/World"), Usd.TraverseInstanceProxies())
        if p.IsA(UsdGeom.Gprim) and not str(p.GetPath()).startswith(excluded)
    ]
    unlabeled = sorted(str(p.GetPath()) for p in gprims if not inherited_labels(p).get("class"))
    assert result.gprim_count == len(gprims)
    assert sorted(result.unlabeled_before) == unlabeled
    assert result.unlabeled == []
    upgraded = {r.path for r in result.rows if r.action == Action.UPGRADE}
    assert upgraded == {
        "/World/Pallets/SM_CardBoxA_01",
        "/World/Racks/SM_RackShelf_01/SM_CardBoxD_04",
        "/World/Props/S_TrafficCone_01",
    }
    pallets = [p for p in stage.Traverse() if re.fullmatch(r"SM_PaletteA_\d+", p.GetName())]
    assert result.histogram_after["class"]["pallet"] == len(pallets)
    assert result.unmatched_rules == []


def test_higher_priority_wins_and_ties_go_to_the_earlier_rule():
    stage = stage_from(CAR)
    body = (
        "  - {id: first, match: '*Chair*', labels: seat}\n"
        "  - {id: second, match: 'Chair_01', labels: chair}\n"
        "  - {id: low, match: 'Wheel*', labels: tire, priority: -1}\n"
        "  - {id: high, match: 'Wheel*', labels: wheel, priority: 5}\n"
    )
    added = rows_by(plan(stage, rules(body)), Action.ADD)
    assert added[("/World/Chair_01", "class")].after == ("seat",)
    assert added[("/World/Chair_01", "class")].rule_id == "first"
    assert added[("/World/Car_01/Wheel_FL", "class")].after == ("wheel",)


def test_exclude_wins_over_any_priority():
    stage = stage_from(CAR)
    body = "  - {id: all, match: '*', labels: thing, priority: 100}\n  - {id: no-body, match: Body, action: exclude}\n"
    result = plan(stage, rules(body))
    assert "/World/Car_01/Body" not in {r.path for r in result.rows}
    assert result.rule_hits == {"all": 5, "no-body": 1}


LABELED = """
def Mesh "A" (prepend apiSchemas = ["SemanticsLabelsAPI:class"]) {
    token[] semantics:labels:class = ["old"]
}
def Mesh "B" {
}
"""


@pytest.mark.parametrize(
    ("mode", "a_row", "b_row"),
    [
        ("add", (Action.ADD, ("old",), ("old", "new")), (Action.ADD, (), ("new",))),
        ("replace", (Action.REPLACE, ("old",), ("new",)), (Action.ADD, (), ("new",))),
        ("skip", (Action.SKIP, ("old",), ()), (Action.ADD, (), ("new",))),
    ],
)
def test_modes_meet_existing_labels(mode, a_row, b_row):
    result = plan(stage_from(LABELED), rules(f"  - {{id: r, match: '*', labels: new, mode: {mode}}}\n"))
    found = {r.path: (r.action, r.before, r.after) for r in result.rows}
    assert found == {"/A": a_row, "/B": b_row}


def test_hierarchy_topmost_leaf_and_all():
    stage = stage_from(CAR)
    body = "  - {id: r, match: {glob: '/World/Car_01**', on: path}, labels: car, hierarchy: %s}\n"
    paths = {h: {r.path for r in plan(stage, rules(body % h)).changes} for h in ("all", "topmost", "leaf")}
    assert paths["all"] == {"/World/Car_01", "/World/Car_01/Wheel_FL", "/World/Car_01/Body"}
    assert paths["topmost"] == {"/World/Car_01"}
    assert paths["leaf"] == {"/World/Car_01/Wheel_FL", "/World/Car_01/Body"}


def test_topmost_counts_labels_already_on_ancestors():
    stage = stage_from(
        'def Xform "Car" (prepend apiSchemas = ["SemanticsLabelsAPI:class"]) {\n'
        '    token[] semantics:labels:class = ["car"]\n    def Mesh "Wheel" {\n    }\n}\n'
    )
    assert not plan(stage, rules("  - {id: r, match: Wheel, labels: wheel, hierarchy: topmost}\n")).changes
    assert plan(stage, rules("  - {id: r, match: Wheel, labels: wheel}\n")).changes


def test_templates_groups_clauses_and_unless():
    stage = stage_from(
        'def Xform "World" {\n def Mesh "SM_Chair_01" {\n }\n def Mesh "SM_TableBig_02" {\n }\n'
        ' def Mesh "SM_Lamp_03" {\n }\n}\n'
    )
    body = (
        "  - id: sm\n    match: [{regex: 'SM_(?P<obj>[A-Za-z]+)_\\d+'}, {glob: '/World/*', on: path}]\n"
        "    unless: {contains: lamp}\n"
        "    labels: {class: '{obj|snake}', source: '{parent}-{norm}'}\n"
    )
    result = plan(stage, rules(body, "normalize: {strip_prefixes: [SM]}\n"))
    got = {(r.path, r.taxonomy): r.after for r in result.changes}
    assert got == {
        ("/World/SM_Chair_01", "class"): ("chair",),
        ("/World/SM_Chair_01", "source"): ("World-chair",),
        ("/World/SM_TableBig_02", "class"): ("table_big",),
        ("/World/SM_TableBig_02", "source"): ("World-table_big",),
    }


def test_rendered_labels_that_are_invalid_become_warnings():
    stage = stage_from('def Mesh "Odd_Name" {\n}\ndef Mesh "_01" {\n}\n')
    result = plan(stage, rules("  - {id: r, match: '*', labels: '{name} {type}'}\n"))
    assert {r.path: r.action for r in result.rows} == {"/Odd_Name": Action.WARN, "/_01": Action.WARN}
    assert "contains whitespace" in result.rows[0].message and "'{name} {type}'" in result.rows[0].message
    auto_only = plan(stage, rules("  - {id: a, auto: true}\n"))
    assert {r.path: r.action for r in auto_only.rows} == {"/Odd_Name": Action.ADD, "/_01": Action.WARN}


def test_classes_allow_list_reports_labels_outside_it():
    stage = stage_from(CAR)
    ruleset = parse_rules_text(
        "version: 1\nrules:\n  - {id: a, auto: true, isa: [Mesh]}\nclasses:\n  wheel_fl: {}\n  chair: {}\n"
    )
    result = plan(stage, ruleset)
    assert {r.path for r in result.changes} == {"/World/Car_01/Wheel_FL", "/World/Chair_01"}
    (warn,) = [r for r in result.rows if r.action == Action.WARN]
    assert warn.path == "/World/Car_01/Body" and "not in the rules file's classes" in warn.message


INSTANCED = """
def Xform "World" {
    def Xform "Crate_01" (instanceable = true
        prepend references = </Proto>) {
    }
}
class Xform "Proto" {
    def Mesh "Lid" {
    }
}
"""


def test_instance_proxies_redirect_skip_or_error():
    stage = stage_from(INSTANCED)
    body = "  - {id: lids, match: Lid, labels: lid}\n"
    result = plan(stage, rules(body))
    assert [(r.path, r.action) for r in result.rows] == [
        ("/World/Crate_01", Action.ADD),
        ("/World/Crate_01/Lid", Action.REDIRECT),
    ]
    skipped = plan(stage, rules(body, "defaults: {instances: skip}\n"))
    assert [(r.path, r.action) for r in skipped.rows] == [("/World/Crate_01/Lid", Action.WARN)]
    with pytest.raises(LabelPlanError, match="instance proxy /World/Crate_01/Lid"):
        plan(stage, rules(body, "defaults: {instances: error}\n"))


def test_time_sampled_labels_are_left_alone_with_a_warning():
    stage = stage_from(
        'def Mesh "Blinking" (prepend apiSchemas = ["SemanticsLabelsAPI:class"]) {\n'
        '    token[] semantics:labels:class.timeSamples = {\n        0: ["on"],\n        10: ["off"],\n    }\n}\n'
    )
    result = plan(stage, rules("  - {id: r, match: '*', labels: lamp, mode: replace}\n"))
    (row,) = result.rows
    assert row.action == Action.WARN and "time-sampled" in row.message and not result.changes
    UsdGeom.Mesh.Define(stage, "/Steady")
    attr = stage.GetPrimAtPath("/Blinking").GetAttribute("semantics:labels:class")
    samples = {t: list(attr.Get(t)) for t in attr.GetTimeSamples()}
    both = plan(stage, rules("  - {id: r, match: '*', labels: lamp, mode: replace}\n"))
    apply(stage, both)
    assert [r.path for r in both.changes] == ["/Steady"]
    assert {t: list(attr.Get(t)) for t in attr.GetTimeSamples()} == samples == {0.0: ["on"], 10.0: ["off"]}


def test_legacy_upgrade_conflict_and_warnings():
    stage = Usd.Stage.Open(str(DATA / "legacy_scene.usda"))
    result = plan(stage, rules("  - {id: none, match: nothing, labels: x}\n"))
    found = {(r.path, r.taxonomy): (r.action, r.before, r.after, r.legacy_instances) for r in result.rows}
    assert found == {
        ("/World/Box", "class"): (Action.UPGRADE, (), ("box",), ("Semantics_mdFo",)),
        ("/World/Cone", "class"): (Action.UPGRADE, (), ("cone",), ("Semantics",)),
        ("/World/Cone", "color"): (Action.UPGRADE, (), ("orange",), ("Semantics_a",)),
        ("/World/Empty", "class"): (Action.WARN, (), (), ()),
        ("/World/SimReadyChair", "class"): (Action.CONFLICT, ("wikidata_qcode",), ("wikidata_qcode",), ("Semantics",)),
        ("/World/Agreeing", "class"): (Action.UPGRADE, ("table",), ("table",), ("Semantics",)),
    }
    assert result.unmatched_rules == ["none"]
    kept = plan(stage, rules("  - {id: none, match: nothing, labels: x}\n", "defaults: {legacy: keep}\n"))
    assert kept.rows == []
    with pytest.raises(LabelPlanError, match="legacy SemanticsAPI"):
        plan(stage, rules("  - {id: none, match: nothing, labels: x}\n", "defaults: {legacy: fail}\n"))


def test_match_on_type_asset_folder_and_material():
    stage = Usd.Stage.Open(str(DATA / "referencing_scene.usda"))
    body = (
        "  - {id: by-asset, match: {glob: 'pallet.usda', on: asset}, labels: {asset: '{asset}'},"
        " hierarchy: topmost}\n"
        "  - {id: by-folder, match: {regex: '.+', on: folder}, labels: {folder: '{folder|lower}'},"
        " hierarchy: topmost}\n"
        "  - {id: by-type, match: {glob: Cube, on: type}, labels: {shape: cube}}\n"
    )
    got = {(r.path, r.taxonomy): r.after for r in plan(stage, rules(body)).changes}
    assert got == {
        ("/World/SM_Pallet_01", "asset"): ("pallet.usda",),
        ("/World/SM_Pallet_01", "folder"): ("pallet",),
        ("/World/SM_Pallet_02", "asset"): ("pallet.usda",),
        ("/World/SM_Pallet_02", "folder"): ("pallet",),
        ("/World/SM_Pallet_01/Deck", "shape"): ("cube",),
        ("/World/SM_Pallet_02/Deck", "shape"): ("cube",),
        ("/World/Floor", "shape"): ("cube",),
    }


def test_match_on_bound_material(sample_scene):
    stage = Usd.Stage.Open(str(sample_scene))
    result = plan(
        stage, rules("  - {id: wood, match: {glob: M_Wood, on: material}, labels: wooden, hierarchy: topmost}\n")
    )
    bound = {path for path, _ in rows_by(result, Action.ADD)}
    assert bound == {f"/World/Pallets/SM_PaletteA_0{i}" for i in range(1, 7)}


def test_scope_roots_excludes_descendants_and_missing_roots():
    stage = stage_from(CAR)
    body = "  - {id: all, match: '*', labels: x}\n"
    scoped = plan(stage, rules(body, "scope: {roots: [/World/Car_01, /Nowhere], exclude: ['/World/Car_01/B*']}\n"))
    assert {r.path: r.action for r in scoped.rows} == {
        "/World/Car_01": Action.ADD,
        "/World/Car_01/Wheel_FL": Action.ADD,
        "/Nowhere": Action.WARN,
    }
    flat = plan(stage, rules(body, "scope: {include_descendants: false}\n"), scope=["/World/Chair_01", "/World/Car_01"])
    assert {r.path for r in flat.rows} == {"/World/Chair_01", "/World/Car_01"}


def test_remove_rules():
    stage = stage_from(
        'def Mesh "A" (prepend apiSchemas = ["SemanticsLabelsAPI:class", "SemanticsLabelsAPI:color"]) {\n'
        '    token[] semantics:labels:class = ["x", "y"]\n    token[] semantics:labels:color = ["red"]\n}\n'
    )
    one = plan(stage, rules("  - {id: r, match: A, action: remove, labels: {class: y}}\n"))
    assert [(r.action, r.taxonomy, r.after) for r in one.rows] == [(Action.REMOVE, "class", ("x",))]
    every = plan(stage, rules("  - {id: r, match: A, action: remove, taxonomies: ['*']}\n"))
    assert sorted((r.taxonomy, r.after) for r in every.rows) == [("class", ()), ("color", ())]
    assert every.histogram_before == {"class": {"x": 1, "y": 1}, "color": {"red": 1}}
    assert every.histogram_after == {}


def test_log_lines_follow_the_editor_format():
    result = plan(stage_from(CAR), rules("  - {id: chairs, match: 'Chair*', labels: chair}\n"))
    assert result.log_lines() == ["[PREVIEW][ADD]: '/World/Chair_01' --> 'class':['chair']  (rule 'chairs')"]
    assert result.log_lines(preview=False)[0].startswith("[ADD]: ")
    assert result.to_json()["rows"][0]["after"] == ["chair"]
