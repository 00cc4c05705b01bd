"""The editor's Undo undoes its own last edit only, and never one whose labels were changed after it (R8).

Kit's ``omni.kit.undo.undo()`` undoes whatever is on top of Kit's shared stack; the panel must instead revert
exactly the edit it made (the Kit runner does so through that edit's own command) and refuse when another
tool has since rewritten the same labels. These tests drive the host-neutral model with its local runner.
"""

from __future__ import annotations

from pxr import Sdf, Usd, UsdGeom, UsdSemantics

from omni.sdg_studio.core.semantics.editor_model import LocalRunner, SemanticEditorModel
from omni.sdg_studio.core.semantics.label_edit import written_state
from omni.sdg_studio.core.semantics.schema import labels_api_labels

BOX, CONE = "/World/Box", "/World/Cone"


def make_stage() -> Usd.Stage:
    stage = Usd.Stage.CreateInMemory()
    UsdGeom.Cube.Define(stage, BOX)
    UsdGeom.Cone.Define(stage, CONE)
    return stage


def label(model: SemanticEditorModel, path: str, text: str) -> None:
    model.set_selection([path])
    assert model.add_labels("class", text), model.message


def other_tool_sets(stage: Usd.Stage, path: str, labels: list[str]) -> None:
    UsdSemantics.LabelsAPI.Apply(stage.GetPrimAtPath(path), "class").CreateLabelsAttr().Set(labels)


def test_undo_reverts_this_panels_edit_and_leaves_a_later_edit_elsewhere():
    stage = make_stage()
    model = SemanticEditorModel()
    model.attach(stage)
    label(model, BOX, "box")
    other_tool_sets(stage, CONE, ["cone"])  # another tool edits after us (on Kit's stack it would be on top)
    assert model.undo(), model.message
    assert labels_api_labels(stage.GetPrimAtPath(BOX)) == {}
    assert labels_api_labels(stage.GetPrimAtPath(CONE)) == {"class": ("cone",)}


def test_undo_is_refused_when_the_same_labels_were_changed_after_the_edit():
    stage = make_stage()
    model = SemanticEditorModel()
    model.attach(stage)
    label(model, BOX, "box")
    other_tool_sets(stage, BOX, ["crate"])
    assert not model.undo()
    assert "changed after it" in model.message and BOX in model.message
    assert labels_api_labels(stage.GetPrimAtPath(BOX)) == {"class": ("crate",)}  # the later change is kept
    assert model.can_undo()  # the edit is still there to undo once the other change is undone


def test_undo_steps_back_through_this_panels_edits_in_order():
    stage = make_stage()
    model = SemanticEditorModel()
    model.attach(stage)
    label(model, BOX, "box")
    label(model, CONE, "cone")
    assert model.undo() and labels_api_labels(stage.GetPrimAtPath(CONE)) == {}
    assert labels_api_labels(stage.GetPrimAtPath(BOX)) == {"class": ("box",)}
    assert model.undo() and labels_api_labels(stage.GetPrimAtPath(BOX)) == {}
    assert not model.undo() and model.message == "nothing to undo"


def test_a_new_labels_layer_is_guarded_too(tmp_path):
    stage = make_stage()
    model = SemanticEditorModel()
    model.attach(stage)
    model.target_kind, model.sublayer_path = "sublayer", str(tmp_path / "scene_labels.usda")
    label(model, BOX, "box")  # written as new specs of an empty layer: the edit records created paths
    assert isinstance(model.runner, LocalRunner)
    edit = model.runner.latest()
    assert edit is not None and edit.record is not None
    assert edit.record.created and written_state(edit.record)
    layer = Sdf.Layer.Find(str(tmp_path / "scene_labels.usda"))
    with Usd.EditContext(stage, layer):
        other_tool_sets(stage, BOX, ["crate"])
    assert not model.undo() and "changed after it" in model.message
