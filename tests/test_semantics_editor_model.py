"""SemanticEditorModel: the panel's state and actions, driven as the Kit window drives them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from pxr import Sdf, Usd

from omni.sdg_studio.core.semantics.editor_model import (
    SemanticEditorModel,
    labels_to_text,
    text_to_labels,
)
from omni.sdg_studio.core.semantics.plan import Action
from omni.sdg_studio.core.semantics.schema import direct_labels, labels_api_labels, legacy_instances


@pytest.fixture
def stage(sample_scene) -> Usd.Stage:
    return Usd.Stage.Open(Sdf.Layer.OpenAsAnonymous(str(sample_scene)))


@pytest.fixture
def model(stage, repo_root) -> SemanticEditorModel:
    editor = SemanticEditorModel()
    editor.attach(stage)
    assert editor.load_rules_file(repo_root / "config" / "rules" / "warehouse.yaml")
    return editor


def test_preview_apply_undo_cycle(model, stage):
    before = stage.GetRootLayer().ExportToString()
    changes_seen = []
    model.subscribe(lambda: changes_seen.append(model.message))
    assert model.preview()
    assert before == stage.GetRootLayer().ExportToString()
    planned = model.plan.changes
    assert planned and model.message.startswith(f"preview: {len(planned)} changes")
    assert model.apply()
    assert direct_labels(stage.GetPrimAtPath("/World/Props/SM_Barrel_01")) == {"class": ("barrel",)}
    assert model.plan is None and model.can_undo()
    assert model.preview() and model.plan is not None and model.plan.changes == []  # applied: nothing left to do
    assert model.undo()
    assert stage.GetRootLayer().ExportToString() == before
    assert not model.can_undo() and not model.undo()
    assert changes_seen  # the window is told about every change


def test_preview_filter_by_text_and_action(model):
    model.preview()
    model.set_filter(text="cardbox")
    rows = model.visible_rows()
    assert rows and all("cardbox" in " ".join((r.path, *r.after)).lower() for r in rows)
    model.set_filter(text="", actions={Action.UPGRADE})
    assert {r.path for r in model.visible_rows()} == {
        "/World/Pallets/SM_CardBoxA_01",
        "/World/Racks/SM_RackShelf_01/SM_CardBoxD_04",
        "/World/Props/S_TrafficCone_01",
    }


def test_rules_table_edits_revalidate_and_round_trip_through_save(model, tmp_path):
    rows = model.rule_rows()
    assert [r.id for r in rows][:3] == ["pallets", "cardboxes", "crates"]
    assert rows[1].labels == "class: cardbox; size: {size|lower}"
    assert (rows[1].on, rows[1].kind, rows[1].pattern) == ("name", "regex", "SM_CardBox(?P<size>[A-Z])_\\d+")
    index = model.add_rule()
    model.set_rule_cell(index, "pattern", "Mattress_*")
    model.set_rule_cell(index, "labels", "use: sleep, rest")  # not `class`: the classes allow-list is for `class`
    model.set_rule_cell(index, "priority", "5")
    assert model.rules_error == ""
    model.preview()
    assert {r.path: r.after for r in model.plan.changes if r.rule_id == f"rule-{index + 1}"} == {
        "/World/Props/Mattress_01": ("sleep", "rest")
    }
    model.set_rule_cell(index, "kind", "regex")
    model.set_rule_cell(index, "pattern", "Mattress_(")
    assert model.ruleset is None and "invalid regex" in model.rules_error and model.plan is None
    assert not model.preview() and "rules are invalid" in model.message
    model.set_rule_cell(index, "pattern", "Mattress_\\d+")
    assert model.rules_error == ""
    saved = tmp_path / "edited.yaml"
    assert model.save_rules_file(saved)
    data = yaml.safe_load(saved.read_text())
    assert data["rules"][index] == {
        "id": f"rule-{index + 1}",
        "match": {"regex": "Mattress_\\d+"},
        "labels": {"use": ["sleep", "rest"]},
        "priority": 5,
    }
    assert data["rules"][7]["match"] == {"glob": "Bottles", "on": "name"}  # YAML's `on` key survives
    again = SemanticEditorModel()
    assert again.load_rules_file(saved) and again.rule_rows() == model.rule_rows()


def test_rule_order_and_removal(model):
    first, second = model.rule_rows()[0].id, model.rule_rows()[1].id
    model.move_rule(0, +1)
    assert [r.id for r in model.rule_rows()][:2] == [second, first]
    model.remove_rule(0)
    assert model.rule_rows()[0].id == first


def test_bad_rules_file_keeps_current_rules(model, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nrules:\n  - id: x\n    lables: y\n")
    rows = model.rule_rows()
    assert not model.load_rules_file(bad)
    assert "did you mean 'labels'" in model.message and model.rule_rows() == rows


def test_click_to_label_add_rename_delete_and_undo(model, stage):
    model.set_selection(["/World/Props/Mattress_01", "/World/Props/SM_Barrel_01"])
    assert model.add_labels("class", "prop, clutter")
    for path in model.selection:
        assert labels_api_labels(stage.GetPrimAtPath(path))["class"] == ("prop", "clutter")
    assert model.rename_label("/World/Props/Mattress_01", "class", "prop", "bed")
    assert labels_api_labels(stage.GetPrimAtPath("/World/Props/Mattress_01"))["class"] == ("bed", "clutter")
    assert model.delete_label("/World/Props/SM_Barrel_01", "class", "clutter")
    assert labels_api_labels(stage.GetPrimAtPath("/World/Props/SM_Barrel_01"))["class"] == ("prop",)
    assert model.delete_label("/World/Props/SM_Barrel_01", "class", "prop")
    assert "class" not in labels_api_labels(stage.GetPrimAtPath("/World/Props/SM_Barrel_01"))
    views = {v.path: v for v in model.selected_prims()}
    assert views["/World/Props/Mattress_01"].labels == {"class": ("bed", "clutter")}
    for _ in range(4):
        assert model.undo()
    assert direct_labels(stage.GetPrimAtPath("/World/Props/Mattress_01")) == {}


def test_click_to_label_rejects_bad_labels_and_needs_a_selection(model, stage):
    before = stage.GetRootLayer().ExportToString()
    assert not model.add_labels("class", "x")
    assert "select prims first" in model.message
    model.set_selection(["/World/Props/Mattress_01"])
    assert not model.add_labels("class", "two words")
    assert "whitespace" in model.message
    assert not model.add_labels("bad:tax", "x")
    assert stage.GetRootLayer().ExportToString() == before


def test_selected_prims_show_both_schemas_inherited_labels_and_proxies(model):
    model.set_selection(
        ["/World/Pallets/SM_CardBoxA_01", "/World/Forklift/Wheels/Wheel_FL", "/World/Crates/SM_Crate_01/Lid"]
    )
    views = {v.path: v for v in model.selected_prims()}
    box = views["/World/Pallets/SM_CardBoxA_01"]
    assert box.labels == {} and [(i.instance, i.semantic_type, i.semantic_data) for i in box.legacy] == [
        ("Semantics", "class", "cardbox")
    ]
    assert views["/World/Forklift/Wheels/Wheel_FL"].inherited == {"class": ("forklift",)}
    lid = views["/World/Crates/SM_Crate_01/Lid"]
    assert lid.inherited == {"class": ("crate",)} and "instance root" in lid.note
    model.set_selection(["/World/Crates/SM_Crate_01/Lid"])
    assert model.add_labels("class", "lid")
    assert labels_api_labels(model.stage.GetPrimAtPath("/World/Crates/SM_Crate_01"))["class"] == ("crate", "lid")


def test_upgrade_selected_only_touches_the_selection(model, stage):
    model.set_selection(["/World/Pallets/SM_CardBoxA_01"])
    assert model.upgrade_selected()
    assert legacy_instances(stage.GetPrimAtPath("/World/Pallets/SM_CardBoxA_01")) == []
    assert legacy_instances(stage.GetPrimAtPath("/World/Props/S_TrafficCone_01")) == ["Semantics"]


def test_scope_selection_and_targets(model, stage, sample_scene, tmp_path):
    model.scope_selection = True
    assert not model.preview() and "nothing is selected" in model.message
    model.set_selection(["/World/Environment"])
    assert model.preview()
    assert {r.path.rsplit("/", 1)[0] for r in model.plan.changes} == {"/World/Environment"}
    model.target_kind = "session"
    assert model.apply()
    assert "SM_Floor_01" in stage.GetSessionLayer().ExportToString()
    assert "semantics:labels" not in stage.GetRootLayer().ExportToString().split("SM_Floor_01")[1][:300]

    copy = tmp_path / "scene.usda"
    shutil.copy(sample_scene, copy)
    on_disk = Usd.Stage.Open(str(copy))
    editor = SemanticEditorModel()
    editor.attach(on_disk)
    editor.target_kind, editor.sublayer_path = "sublayer", str(tmp_path / "scene_labels.usda")
    editor.set_selection(["/World/Props/Mattress_01"])
    assert editor.add_labels("class", "mattress")
    assert on_disk.GetRootLayer().subLayerPaths[0] == "scene_labels.usda"
    assert "mattress" in Sdf.Layer.Find(str(tmp_path / "scene_labels.usda")).ExportToString()


def test_label_text_helpers_round_trip():
    assert labels_to_text({"class": ["a", "b"], "size": "c"}, "class") == "class: a, b; size: c"
    assert labels_to_text("a", "class") == "a"
    assert text_to_labels("a, b", "class") == {"class": ["a", "b"]}
    assert text_to_labels("class: a, b; size: {size|lower}", "class") == {"class": ["a", "b"], "size": ["{size|lower}"]}
    assert text_to_labels(labels_to_text({"x": ["p"], "class": ["q"]}, "class"), "class") == {
        "x": ["p"],
        "class": ["q"],
    }


def test_no_stage(tmp_path):
    editor = SemanticEditorModel()
    assert not editor.preview() and editor.message == "error: no stage is open"
    assert editor.selected_prims() == [] and editor.visible_rows() == []
    assert not editor.save_rules_file() and "choose a file" in editor.message
    assert editor.save_rules_file(tmp_path / "r.yaml") and Path(tmp_path / "r.yaml").exists()


INSTANCING = Path(__file__).parent / "data" / "semantics" / "instancing"


def open_instancing(tmp_path: Path) -> SemanticEditorModel:
    """A copy of the instancing stage opened as ``label`` opens it, with its part rules loaded."""
    shutil.copytree(INSTANCING, tmp_path / "instancing")
    model = SemanticEditorModel()
    assert model.open_file(tmp_path / "instancing" / "scene.usda") and model.load_rules_file(INSTANCING / "parts.yaml")
    return model


def test_instance_policy_conflicts_expansion_and_asset_layers_with_undo(tmp_path):
    model = open_instancing(tmp_path)
    scene = tmp_path / "instancing" / "scene.usda"
    assert model.instance_policy == "root"
    assert model.preview() and len(model.conflicts()) == 6 and model.expanded_instances() == []
    assert "6 conflicts" in model.message
    model.set_instance_policy("nonsense")
    assert model.message.startswith("error:") and model.instance_policy == "root"

    stage = model.stage
    assert stage is not None and model.labels_layer is not None
    crate = stage.GetPrimAtPath("/World/Crates/Crate_00")
    before = model.labels_layer.ExportToString()
    model.set_instance_policy("deinstance")
    assert model.plan is None and model.preview() and len(model.expanded_instances()) == 6
    assert model.apply() and not crate.IsInstance()
    assert direct_labels(stage.GetPrimAtPath("/World/Crates/Crate_00/Lid")) == {"class": ("crate_lid",)}
    assert model.undo() and crate.IsInstance() and model.labels_layer.ExportToString() == before

    model.set_instance_policy("asset")
    assert model.preview() and len(model.asset_layers()) == 2
    assert model.apply() and crate.IsInstance() and len(model.unsaved_asset_layers) == 2
    assert direct_labels(stage.GetPrimAtPath("/World/Crates/Crate_03/Box")) == {"class": ("crate_box",)}
    assert model.undo() and model.unsaved_asset_layers == []  # reverted layers are empty again
    assert direct_labels(stage.GetPrimAtPath("/World/Crates/Crate_03/Box")) == {}
    assert model.preview() and model.apply() and model.save_asset_layers()
    saved = tmp_path / "instancing" / "assets" / "crate" / "crate_labels.usda"
    assert saved.exists() and "crate_lid" in saved.read_text() and model.unsaved_asset_layers == []
    assert model.save_labels_layer() and scene.with_name("scene_labels.usda").exists()


def test_kits_undo_and_redo_of_an_asset_edit_keep_the_unsaved_asset_layers_in_step(tmp_path):
    """Kit's Edit > Undo / Redo call the edit's undo / do directly (not through the panel): the model hears of it."""
    model = open_instancing(tmp_path)
    model.set_instance_policy("asset")
    assert model.apply() and len(model.unsaved_asset_layers) == 2
    edit = model.runner.latest()  # type: ignore[attr-defined]
    heard: list[str] = []
    model.subscribe(lambda: heard.append(model.message))
    edit.undo()  # Ctrl+Z
    assert model.unsaved_asset_layers == [] and heard == ["undone outside the panel: 12 changes"]
    assert not model.can_undo()
    assert model.preview() and model.plan is not None
    edit.do()  # redo: the layers hold the part labels again and must be saved
    assert len(model.unsaved_asset_layers) == 2 and model.plan is None and heard[-1].startswith("redone outside")
    assert model.can_undo() and model.save_asset_layers()
    assert "crate_lid" in (tmp_path / "instancing" / "assets" / "crate" / "crate_labels.usda").read_text()


def test_the_view_target_needs_a_labels_layer(model, stage):
    before = stage.GetRootLayer().ExportToString()
    model.target_kind = "view"  # a host stage holds no labels layer of the panel's until one is included
    model.set_selection(["/World/Props/Mattress_01"])
    assert not model.add_labels("class", "mattress")
    assert "no labels layer is included" in model.message
    assert stage.GetRootLayer().ExportToString() == before and stage.GetSessionLayer().empty


def test_the_preview_filter_finds_rows_by_their_asset_labels_layer(tmp_path):
    model = open_instancing(tmp_path)
    model.set_instance_policy("asset")
    assert model.preview()
    model.set_filter(text="crate_labels.usda", actions={Action.ADD})
    assert [row.where.rsplit("/", 1)[-1] for row in model.visible_rows()] == ["crate_labels.usda"] * 2
    assert {row.path for row in model.visible_rows()} == {"/Crate/Box", "/Crate/Lid"}
