"""LabelEdit: the undo / redo path Kit's apply command delegates to, for every kind of write an apply makes.

Kit calls ``undo()`` and ``do()`` on the same command instance for Edit > Undo / Redo; the command delegates to a
:class:`LabelEdit`, so driving one here is the command's path without Kit. Each policy writes something else:
labels (root), ``instanceable = false`` (deinstance), reference arcs plus asset labels layers (asset).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pxr import Sdf, Usd

from omni.sdg_studio.core.semantics.editor_model import SemanticEditorModel
from omni.sdg_studio.core.semantics.label_edit import ChangedSinceError, EditHistory, LabelEdit
from omni.sdg_studio.core.semantics.plan import Action
from omni.sdg_studio.core.semantics.schema import direct_labels

INSTANCING = Path(__file__).parent / "data" / "semantics" / "instancing"
CRATE, LID = "/World/Crates/Crate_00", "/World/Crates/Crate_00/Lid"
ASSET_LAYERS = ("assets/bottle/bottle_labels.usda", "assets/crate/crate_labels.usda")


def planned(tmp_path: Path, policy: str) -> SemanticEditorModel:
    """The instancing stage opened as ``label`` opens it, its part rules previewed with ``policy``."""
    shutil.copytree(INSTANCING, tmp_path / "instancing")
    model = SemanticEditorModel()
    assert model.open_file(tmp_path / "instancing" / "scene.usda"), model.message
    assert model.load_rules_file(INSTANCING / "parts.yaml")
    model.set_instance_policy(policy)
    assert model.preview(), model.message
    return model


def layer_texts(model: SemanticEditorModel, tmp_path: Path) -> dict[str, str]:
    """The text of every layer an apply may write: the view's labels layer and the asset labels layers (one not
    opened yet reads as an empty layer: that is what a save of it would write)."""
    assert model.labels_layer is not None
    texts = {"labels": model.labels_layer.ExportToString()}
    for name in ASSET_LAYERS:
        layer = Sdf.Layer.Find(str(tmp_path / "instancing" / name))
        texts[name] = (layer or Sdf.Layer.CreateAnonymous("empty.usda")).ExportToString()
    return texts


@pytest.mark.parametrize("policy", ["root", "deinstance", "asset"])
def test_undo_and_redo_restore_every_layer_byte_for_byte(tmp_path, policy):
    model = planned(tmp_path, policy)
    assert model.plan is not None and model.stage is not None
    stage: Usd.Stage = model.stage
    steps: list[bool] = []
    edit = LabelEdit(stage, model.plan, model.target(), lambda e: steps.append(e.applied))
    before = layer_texts(model, tmp_path)
    edit.do()
    after = layer_texts(model, tmp_path)
    assert after != before and edit.applied
    for _ in range(2):  # Ctrl+Z then redo, twice
        edit.undo()
        assert layer_texts(model, tmp_path) == before
        assert stage.GetPrimAtPath(CRATE).IsInstance()
        edit.do()
        assert layer_texts(model, tmp_path) == after
    assert steps == [True, False, True, False, True]
    edit.undo()
    edit.undo()  # a second undo of the same step is inert
    assert steps[-1] is False and len(steps) == 6


def test_each_policy_writes_its_own_kind_of_change(tmp_path):
    """What the byte-for-byte test covers: a DEINSTANCE write, REFERENCE arcs and asset labels layers."""
    model = planned(tmp_path / "d", "deinstance")
    assert model.plan is not None and model.stage is not None
    edit = LabelEdit(model.stage, model.plan, model.target())
    assert {Action.DEINSTANCE, Action.ADD} <= {row.action for row in model.plan.changes}
    edit.do()
    assert not model.stage.GetPrimAtPath(CRATE).IsInstance()
    assert direct_labels(model.stage.GetPrimAtPath(LID)) == {"class": ("crate_lid",)}
    assert edit.asset_layers == []

    model = planned(tmp_path / "a", "asset")
    assert model.plan is not None and model.stage is not None
    edit = LabelEdit(model.stage, model.plan, model.target())
    assert {row.action for row in model.plan.changes} == {Action.ADD, Action.REFERENCE}
    edit.do()
    assert model.stage.GetPrimAtPath(CRATE).IsInstance()
    names = sorted(Path(layer.realPath).name for layer in edit.asset_layers)
    assert names == ["bottle_labels.usda", "crate_labels.usda"]


def test_the_panels_undo_is_refused_when_an_asset_labels_layer_was_changed_after_it(tmp_path):
    model = planned(tmp_path, "asset")
    assert model.plan is not None and model.stage is not None
    edit = LabelEdit(model.stage, model.plan, model.target())
    edit.do()
    crate_labels = Sdf.Layer.Find(str(tmp_path / "instancing" / "assets" / "crate" / "crate_labels.usda"))
    attribute = crate_labels.GetAttributeAtPath("/Crate/Lid.semantics:labels:class")
    attribute.default = ["lid"]  # another tool relabels the part in the asset labels layer
    with pytest.raises(ChangedSinceError, match=r"/Crate/Lid.semantics:labels:class in .*crate_labels\.usda"):
        edit.revert_own()
    assert edit.applied and list(attribute.default) == ["lid"]  # the later change is kept


def test_the_panels_undo_is_refused_when_a_deinstanced_instance_was_made_instanceable_again(tmp_path):
    model = planned(tmp_path, "deinstance")
    assert model.plan is not None and model.stage is not None and model.labels_layer is not None
    edit = LabelEdit(model.stage, model.plan, model.target())
    edit.do()
    model.labels_layer.GetPrimAtPath(CRATE).instanceable = True
    with pytest.raises(ChangedSinceError, match="Crate_00"):
        edit.revert_own()
    model.labels_layer.GetPrimAtPath(CRATE).instanceable = False  # put back: the undo goes through
    edit.revert_own()
    assert not edit.applied and model.stage.GetPrimAtPath(CRATE).IsInstance()


def test_the_history_tells_its_listener_only_of_steps_taken_outside_it(tmp_path):
    model = planned(tmp_path, "asset")
    assert model.plan is not None and model.stage is not None
    history = EditHistory()
    heard: list[bool] = []
    history.on_step = lambda edit: heard.append(edit.applied)
    first = LabelEdit(model.stage, model.plan, model.target(), history.step_taken)
    with history.acting():
        first.do()  # the runner's own step
    assert heard == [] and history.latest() is first
    first.undo()  # Kit's Edit > Undo
    assert heard == [False] and history.latest() is None and not history.can_undo()
    first.do()  # Kit's Edit > Redo
    assert heard == [False, True] and history.latest() is first
    assert history.undo() and heard == [False, True]  # the panel's own Undo: not reported back
    assert not first.applied and not history.undo()
