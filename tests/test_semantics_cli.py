"""``sdg-studio label`` / ``labels`` / ``upgrade-semantics`` as a user runs them, checked through pxr."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from pxr import Usd, UsdGeom

from omni.sdg_studio.cli import main
from omni.sdg_studio.commands.demo import label_sample_scene
from omni.sdg_studio.core.semantics.schema import direct_labels, inherited_labels, legacy_instances

DATA = Path(__file__).parent / "data" / "semantics"


@pytest.fixture
def rules_file(repo_root) -> Path:
    return repo_root / "config" / "rules" / "warehouse.yaml"


def files_in(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_dry_run_prints_the_plan_and_writes_nothing(scene, rules_file, capsys):
    before = files_in(scene.parent)
    assert main(["label", str(scene), "--rules", str(rules_file), "--dry-run", "--max-rows", "5"]) == 0
    out = capsys.readouterr().out
    assert "Planned label changes" in out and "nothing written (dry run)" in out
    assert "geometry with a 'class' label: 45/146 before, 146/146 after" in out
    assert files_in(scene.parent) == before


def test_real_run_writes_a_labels_layer_and_a_labeled_root_and_is_idempotent(scene, rules_file, capsys):
    original = scene.read_bytes()
    assert main(["label", str(scene), "--rules", str(rules_file)]) == 0
    labels, root = scene.with_name("warehouse_labels.usda"), scene.with_name("warehouse_labeled.usda")
    assert labels.exists() and root.exists() and scene.read_bytes() == original
    stage = Usd.Stage.Open(str(root))
    assert UsdGeom.GetStageUpAxis(stage) == "Z" and stage.GetDefaultPrim().GetPath() == "/World"
    world = stage.GetPrimAtPath("/World")
    gprims = [p for p in Usd.PrimRange(world, Usd.TraverseInstanceProxies()) if p.IsA(UsdGeom.Gprim)]
    assert gprims and all(inherited_labels(p).get("class") for p in gprims)
    assert not any(legacy_instances(p) for p in stage.Traverse())
    assert direct_labels(stage.GetPrimAtPath("/World/Props/Mattress_01")) == {"class": ("mattress",)}
    capsys.readouterr()
    written = files_in(scene.parent)
    assert main(["label", str(scene), "--rules", str(rules_file)]) == 0
    assert "nothing written: no changes" in capsys.readouterr().out
    assert files_in(scene.parent) == written


def test_json_output(scene, rules_file, capsys):
    assert main(["label", str(scene), "--rules", str(rules_file), "--dry-run", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["dry_run"] is True and report["written"] == []
    rows = report["plan"]["rows"]
    assert {r["action"] for r in rows} == {"ADD", "UPGRADE"}
    assert report["plan"]["unlabeled"] == [] and len(report["plan"]["unlabeled_before"]) == 101


def test_in_place_and_out_targets(scene, rules_file, tmp_path):
    out = tmp_path / "labeled" / "root.usda"
    out.parent.mkdir()
    assert main(["label", str(scene), "--rules", str(rules_file), "-o", str(out)]) == 0
    assert sorted(p.name for p in out.parent.iterdir()) == ["root.usda"]
    text = out.read_text()
    assert "@../warehouse.usda@" in text and 'over "World"' in text
    assert direct_labels(Usd.Stage.Open(str(out)).GetPrimAtPath("/World/Environment/SteelMat")) == {
        "class": ("floor_mat",)
    }
    assert main(["label", str(scene), "--rules", str(rules_file), "-o", str(out)]) == 0  # same file: fine
    assert main(["label", str(scene), "--rules", str(rules_file), "--in-place"]) == 0
    assert direct_labels(Usd.Stage.Open(str(scene)).GetPrimAtPath("/World/Environment/SteelMat")) == {
        "class": ("floor_mat",)
    }


def test_existing_different_out_file_is_not_overwritten_without_overwrite(scene, rules_file, tmp_path, capsys):
    out = tmp_path / "root.usda"
    out.write_text("#usda 1.0\n")
    assert main(["label", str(scene), "--rules", str(rules_file), "-o", str(out)]) == 2
    assert "exists and differs; pass --overwrite" in capsys.readouterr().err
    assert out.read_text() == "#usda 1.0\n"
    assert main(["label", str(scene), "--rules", str(rules_file), "-o", str(out), "--overwrite"]) == 0
    assert "warehouse.usda" in out.read_text()
    # The old spelling --force still works for one release, with a warning naming the new one.
    out.write_text("#usda 1.0\n")
    capsys.readouterr()
    assert main(["label", str(scene), "--rules", str(rules_file), "-o", str(out), "--force"]) == 0
    assert "warning: --force is now --overwrite" in capsys.readouterr().err
    assert "warehouse.usda" in out.read_text()


def test_bad_rules_exit_2_with_one_line_naming_file_line_and_rule(scene, tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nrules:\n  - id: boxes\n    match: {regex: 'Box(('}\n    labels: box\n")
    before = files_in(scene.parent)
    assert main(["label", str(scene), "--rules", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {bad}:4:") and "rule 'boxes': invalid regex" in err
    assert len(err.splitlines()) == 1
    assert files_in(scene.parent) == before
    assert main(["label", str(scene), "--rules", str(bad), "--in-place", "--layer", "x.usda"]) == 2


def test_labels_command_counts_match_pxr(scene, capsys):
    assert main(["labels", str(scene), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    stage = Usd.Stage.Open(str(scene))
    gprims = [p for p in Usd.PrimRange.Stage(stage, Usd.TraverseInstanceProxies()) if p.IsA(UsdGeom.Gprim)]
    assert report["gprim_count"] == len(gprims)
    assert report["labeled_count"] == sum(1 for p in gprims if inherited_labels(p).get("class"))
    assert sorted(report["legacy_prims"]) == sorted(str(p.GetPath()) for p in stage.Traverse() if legacy_instances(p))
    assert main(["labels", str(scene)]) == 0
    assert "legacy SemanticsAPI on 3 prims" in capsys.readouterr().out


def test_upgrade_semantics_in_place(tmp_path, capsys):
    scene = tmp_path / "legacy.usda"
    shutil.copy(DATA / "legacy_scene.usda", scene)
    assert main(["upgrade-semantics", str(scene), "--in-place", "--log"]) == 0
    out = capsys.readouterr().out
    assert "[PREVIEW][UPGRADE]: '/World/Box' From:'SemanticsAPI:Semantics_mdFo' To:'class':['box']" in out
    assert "[PREVIEW][CONFLICT]: '/World/SimReadyChair'" in out
    stage = Usd.Stage.Open(str(scene))
    assert legacy_instances(stage.GetPrimAtPath("/World/Box")) == []
    assert direct_labels(stage.GetPrimAtPath("/World/Box")) == {"class": ("box",)}


def test_demo_step_labels_into_its_out_folder_only(sample_scene, tmp_path, capsys):
    original = sample_scene.read_bytes()
    root = label_sample_scene(sample_scene, tmp_path / "demo")
    assert sorted(p.name for p in (tmp_path / "demo").iterdir()) == ["warehouse_labeled.usda", "warehouse_labels.usda"]
    assert sample_scene.read_bytes() == original
    out = capsys.readouterr().out
    assert "45/146 (31%)" in out and "146/146 (100%)" in out
    stage = Usd.Stage.Open(str(root))
    assert direct_labels(stage.GetPrimAtPath("/World/Props/SM_Barrel_01")) == {"class": ("barrel",)}
    assert label_sample_scene(sample_scene, tmp_path / "demo") == root  # a second demo run is fine
