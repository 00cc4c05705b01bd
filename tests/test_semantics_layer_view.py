"""One view of the layers: labels, label --dry-run, label, info and the editor read the same layer stack
for the same arguments, print which labels layers they hold, and report assets that did not load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from omni.sdg_studio.cli import main
from omni.sdg_studio.core.semantics.editor_model import SemanticEditorModel
from omni.sdg_studio.core.stage_io import load_problems, open_stage

RULES = (Path(__file__).parent / "data" / "semantics" / "label_every_gprim.yaml").read_text()


@pytest.fixture
def rules_file(tmp_path) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES)
    return path


def run_json(capsys, *args: str) -> dict:
    assert main([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_labels_and_label_dry_run_agree_with_a_sibling_labels_layer(scene, rules_file, capsys, repo_root):
    # a first run writes warehouse_labels.usda beside the stage
    assert main(["label", str(scene), "--rules", str(repo_root / "config" / "rules" / "warehouse.yaml")]) == 0
    capsys.readouterr()
    sibling = str(scene.with_name("warehouse_labels.usda"))
    coverage = run_json(capsys, "labels", str(scene))
    dry = run_json(capsys, "label", str(scene), "--rules", str(rules_file), "--dry-run")
    info = run_json(capsys, "info", str(scene))
    for report in (coverage, dry, info):
        assert [layer["path"] for layer in report["labels_layers"]] == [sibling]
        assert report["labels_layers"][0]["how"] == "sibling"
    gprims = dry["plan"]["gprim_count"]
    assert coverage["gprim_count"] == gprims == info["gprim_count"]
    labeled_before = gprims - len(dry["plan"]["unlabeled_before"])
    assert coverage["labeled_count"] == labeled_before == gprims == info["gprims_labeled"]  # all labeled by run 1
    # without the sibling, all three agree again (on the unlabeled scene)
    coverage = run_json(capsys, "labels", str(scene), "--no-sibling-labels")
    dry = run_json(capsys, "label", str(scene), "--rules", str(rules_file), "--dry-run", "--no-sibling-labels")
    info = run_json(capsys, "info", str(scene), "--no-sibling-labels")
    assert coverage["labels_layers"] == dry["labels_layers"] == info["labels_layers"] == []
    labeled_before = dry["plan"]["gprim_count"] - len(dry["plan"]["unlabeled_before"])
    assert coverage["labeled_count"] == labeled_before == info["gprims_labeled"] < gprims


def test_each_command_prints_the_labels_layers_it_read(scene, rules_file, capsys):
    assert main(["labels", str(scene)]) == 0
    assert "labels layers: none" in capsys.readouterr().out
    assert main(["label", str(scene), "--rules", str(rules_file)]) == 0
    capsys.readouterr()
    for args in (
        ["labels", str(scene)],
        ["info", str(scene)],
        ["label", str(scene), "--rules", str(rules_file), "--dry-run"],
    ):
        assert main(args) == 0
        out = capsys.readouterr().out
        assert f"labels layers: {scene.with_name('warehouse_labels.usda')} (sibling)" in out, args


def test_a_given_labels_layer_replaces_the_sibling_in_every_view(scene, rules_file, tmp_path, capsys):
    other = tmp_path / "other_labels.usda"
    assert main(["label", str(scene), "--rules", str(rules_file), "--layer", str(other)]) == 0
    capsys.readouterr()
    coverage = run_json(capsys, "labels", str(scene), "--layer", str(other))
    info = run_json(capsys, "info", str(scene), "--layer", str(other))
    assert coverage["labels_layers"] == info["labels_layers"] == [{"path": str(other), "how": "given", "exists": True}]
    assert coverage["ratio"] == 1.0 and info["gprims_unlabeled"] == 0


def test_no_sibling_labels_replaces_the_sibling_only_with_force(scene, rules_file, capsys):
    assert main(["label", str(scene), "--rules", str(rules_file)]) == 0
    sibling = scene.with_name("warehouse_labels.usda")
    written = sibling.read_bytes()
    capsys.readouterr()
    assert main(["label", str(scene), "--rules", str(rules_file), "--no-sibling-labels"]) == 2
    assert "pass --overwrite to replace it" in capsys.readouterr().err
    assert sibling.read_bytes() == written
    assert main(["label", str(scene), "--rules", str(rules_file), "--no-sibling-labels", "--overwrite"]) == 0
    assert sibling.read_bytes() == written  # same rules on the bare scene: the same layer again


def test_editor_model_reads_the_same_view(scene, rules_file, capsys):
    assert main(["label", str(scene), "--rules", str(rules_file)]) == 0
    capsys.readouterr()
    model = SemanticEditorModel()
    assert model.open_file(scene)
    assert [layer.path for layer in model.labels_layers()] == [str(scene.with_name("warehouse_labels.usda"))]
    assert model.load_rules_file(rules_file) and model.preview()
    assert model.plan is not None and model.plan.changes == []  # the sibling already holds these labels
    plain = SemanticEditorModel()
    assert plain.open_file(scene, sibling=False)
    assert plain.labels_layers() == [] and plain.load_rules_file(rules_file) and plain.preview()
    assert plain.plan is not None and plain.plan.changes


def test_editor_model_offers_the_sibling_of_a_host_stage(scene, rules_file, capsys):
    assert main(["label", str(scene), "--rules", str(rules_file)]) == 0
    capsys.readouterr()
    model = SemanticEditorModel()
    model.attach(open_stage(scene))
    sibling = str(scene.with_name("warehouse_labels.usda"))
    assert model.labels_layers() == [] and model.sibling_labels() == sibling
    assert model.include_sibling_labels()
    assert [layer.path for layer in model.labels_layers()] == [sibling] and model.sibling_labels() is None
    assert model.load_rules_file(rules_file) and model.preview()
    assert model.plan is not None and model.plan.changes == []


BROKEN = """#usda 1.0
(
    subLayers = [@./missing_sub.usda@, @./cycle_a.usda@]
)
def Xform "World" {
    def Xform "A" (prepend references = @./missing_ref.usda@) {
    }
    def Xform "B" (prepend payload = @./missing_payload.usda@) {
    }
    def Mesh "Box" {
    }
}
"""


@pytest.fixture
def broken(tmp_path) -> Path:
    path = tmp_path / "broken.usda"
    path.write_text(BROKEN)
    (tmp_path / "cycle_a.usda").write_text("#usda 1.0\n(\n    subLayers = [@./cycle_b.usda@]\n)\n")
    (tmp_path / "cycle_b.usda").write_text("#usda 1.0\n(\n    subLayers = [@./cycle_a.usda@]\n)\n")
    return path


def test_load_problems_list_every_unresolved_asset(broken):
    problems = {(p.kind, Path(p.asset).name) for p in load_problems(open_stage(broken))}
    assert problems == {
        ("missing sublayer", "missing_sub.usda"),
        ("missing reference", "missing_ref.usda"),
        ("missing payload", "missing_payload.usda"),
        ("sublayer cycle", "cycle_a.usda"),
    }


@pytest.mark.parametrize("command", ["info", "labels", "label"])
def test_commands_report_a_stage_that_did_not_load_and_strict_refuses_it(broken, rules_file, command, capsys):
    args = [command, str(broken)] + (["--rules", str(rules_file), "--dry-run"] if command == "label" else [])
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "the stage did not load fully (4 problems)" in out
    assert "missing reference:" in out and "missing_ref.usda" in out
    report = run_json(capsys, *args)
    assert {Path(p["asset"]).name for p in report["load_problems"]} == {
        "missing_sub.usda",
        "missing_ref.usda",
        "missing_payload.usda",
        "cycle_a.usda",
    }
    assert main([*args, "--strict"]) == 2
    err = capsys.readouterr().err
    assert "--strict: 4 unresolved asset path(s)" in err and len(err.strip().splitlines()) == 1
