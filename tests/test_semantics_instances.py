"""Labels for the parts of instanced assets: the root / deinstance / asset policies, end to end.

The stage (tests/data/semantics/instancing) holds a two-part instanceable crate referenced four times
and a point instancer whose prototypes (Red, Green) reference a two-part bottle instanceably. Each
policy is planned, applied, re-planned (nothing left), undone (every layer byte for byte), rendered
by the embedded backend and recorded with the BasicWriter: segmentation and boxes give each part its
own class, and no class is ever a silent merge of two parts' labels.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pxr import Sdf, Usd

from omni.sdg_studio.backends.embedded import EmbeddedBackend
from omni.sdg_studio.cli import main
from omni.sdg_studio.core.render_backend import RenderProduct
from omni.sdg_studio.core.semantics.apply import LabelTarget, apply
from omni.sdg_studio.core.semantics.layers import open_asset_labels_layer, open_labeled
from omni.sdg_studio.core.semantics.plan import Action, plan
from omni.sdg_studio.core.semantics.rules_file import parse_rules_text
from omni.sdg_studio.core.semantics.schema import direct_labels, inherited_labels
from omni.sdg_studio.core.writers import BasicWriter, FrameBatch

DATA = Path(__file__).parent / "data" / "semantics"
#: The part rules (without header) of instancing/parts.yaml, shared with the pictures of docs/labeling.md.
PART_RULES = "\n" + (DATA / "instancing" / "parts.yaml").read_text().split("rules:\n", 1)[1]
CRATES = [f"/World/Crates/Crate_{i:02d}" for i in range(4)]
PARTS = {
    "crate_box": "Box",
    "crate_lid": "Lid",
}


def rules(policy: str, body: str = PART_RULES, hierarchy: str = "all"):
    return parse_rules_text(f"version: 1\ndefaults: {{instances: {policy}, hierarchy: {hierarchy}}}\nrules:{body}")


@pytest.fixture
def scene(tmp_path) -> Path:
    shutil.copytree(DATA / "instancing", tmp_path / "instancing")
    return tmp_path / "instancing" / "scene.usda"


def asset_files(scene: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((scene.parent / "assets").rglob("*.usda"))}


def texts(layers) -> list[str]:
    return [layer.ExportToString() for layer in layers]


def render_classes(stage: Usd.Stage, tmp_path: Path) -> tuple[dict[str, str], dict[str, str], set[str]]:
    """Record one frame (embedded backend + BasicWriter); read back from the files: the box label of each
    prim path, the segmentation class of each visible part, and every class name in the frame."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        backend = EmbeddedBackend(stage)
        product = RenderProduct("/World/Camera", 200, 200, "cam")
        frame = backend.render(product.camera, product.resolution, ["semantic_segmentation", "bounding_box_2d_tight"])
    out = tmp_path / "recording"
    writer = BasicWriter(out, semantic_segmentation=True, bounding_box_2d_tight=True, rgb=False)
    writer.write(FrameBatch(0, {"cam": frame}, {"cam": product}))
    writer.finish()
    folder = out  # one render product: BasicWriter writes its files flat
    box_labels = json.loads((folder / "bounding_box_2d_tight_labels_0000.json").read_text())
    box_paths = json.loads((folder / "bounding_box_2d_tight_prim_paths_0000.json").read_text())
    boxes = np.load(folder / "bounding_box_2d_tight_0000.npy")
    by_path = {
        path: box_labels[str(int(row["semanticId"]))]["class"] for path, row in zip(box_paths, boxes, strict=True)
    }
    seg_labels = json.loads((folder / "semantic_segmentation_labels_0000.json").read_text())
    classes = {value["class"] for value in seg_labels.values()} | set(by_path.values())
    return by_path, seg_labels, classes


def assert_no_merged_part_classes(classes: set[str]) -> None:
    """No class joins the labels of two different parts (the silent merge of the issue)."""
    parts = {"crate_box", "crate_lid", "bottle_glass", "bottle_cap"}
    for name in classes:
        assert len(parts & set(name.split(","))) <= 1, name


def assert_each_part_has_its_class(by_path: dict[str, str], classes: set[str]) -> None:
    for crate in CRATES:
        assert by_path[f"{crate}/Box"] == "crate_box"
        assert by_path[f"{crate}/Lid"] == "crate_lid"
    for color in ("Red", "Green"):
        proto = f"/World/Bottles/Prototypes/{color}"
        assert by_path[f"{proto}/Glass"] == f"{color.lower()}_bottle,bottle_glass"
        assert by_path[f"{proto}/Cap"] == f"{color.lower()}_bottle,bottle_cap"
    expected = {"crate_box", "crate_lid"} | {
        f"{c}_bottle,bottle_{p}" for c in ("red", "green") for p in ("glass", "cap")
    }
    assert expected <= classes
    assert_no_merged_part_classes(classes)


def test_root_policy_reports_a_conflict_per_instance_and_merges_nothing(scene, tmp_path):
    labeled = open_labeled(scene, scene.with_name("scene_labels.usda"))
    result = plan(labeled.stage, rules("root"))
    conflicts = {r.path: r for r in result.conflicts}
    assert set(conflicts) == {*CRATES, "/World/Bottles/Prototypes/Red", "/World/Bottles/Prototypes/Green"}
    message = conflicts[CRATES[0]].message
    assert "Box ['crate_box'] (rule 'boxes')" in message and "Lid ['crate_lid'] (rule 'lids')" in message
    assert "(root) ['red_bottle']" in conflicts["/World/Bottles/Prototypes/Red"].message
    assert [r.path for r in result.changes] == ["/World/Bottles/Prototypes/Green", "/World/Bottles/Prototypes/Red"]
    apply(labeled.stage, result, LabelTarget.of_layer(labeled.labels_layer))
    assert direct_labels(labeled.stage.GetPrimAtPath(CRATES[0])) == {}
    by_path, _, classes = render_classes(labeled.stage, tmp_path)
    assert_no_merged_part_classes(classes)
    assert by_path["/World/Bottles/Prototypes/Red"] == "red_bottle"  # the root keeps its own label
    assert f"{CRATES[0]}/Box" not in by_path  # unlabeled, not mislabeled


def test_root_policy_writes_on_the_root_when_the_parts_agree(scene):
    labeled = open_labeled(scene, scene.with_name("scene_labels.usda"))
    body = "\n  - {id: crate-parts, match: [{regex: 'Box|Lid'}], labels: crate}\n"
    result = plan(labeled.stage, rules("root", body))
    assert not result.conflicts
    assert {(r.path, r.action) for r in result.rows if r.path.startswith(CRATES[0])} == {
        (CRATES[0], Action.ADD),
        (f"{CRATES[0]}/Box", Action.REDIRECT),
        (f"{CRATES[0]}/Lid", Action.REDIRECT),
    }


def test_strict_exits_nonzero_on_conflicts_and_writes_nothing(scene, tmp_path, capsys):
    rules_path = tmp_path / "rules.yaml"
    rules_path.write_text(f"version: 1\ndefaults: {{instances: root, hierarchy: all}}\nrules:{PART_RULES}")
    before = sorted(p.name for p in scene.parent.iterdir())
    assert main(["label", str(scene), "--rules", str(rules_path), "--strict"]) == 2
    err = capsys.readouterr().err
    assert "--strict: 6 CONFLICT row(s)" in err and "nothing written" in err
    assert sorted(p.name for p in scene.parent.iterdir()) == before
    assert main(["label", str(scene), "--rules", str(rules_path), "--instances", "deinstance", "--strict"]) == 0


def test_deinstance_expands_only_the_instances_that_need_part_labels(scene, tmp_path):
    labeled = open_labeled(scene, scene.with_name("scene_labels.usda"))
    stage = labeled.stage
    # crates: only Lid is labeled (Box must not become a lid): they need part labels; bottles: both parts agree
    body = (
        "\n  - {id: lids, match: Lid, labels: crate_lid}"
        "\n  - {id: bottle-parts, match: {regex: 'Glass|Cap'}, labels: bottle}\n"
    )
    result = plan(stage, rules("deinstance", body))
    assert result.expanded_instances == CRATES
    assert all(r.action != Action.DEINSTANCE for r in result.rows if "Bottles" in r.path)
    layers = [labeled.labels_layer, stage.GetRootLayer(), Sdf.Layer.FindOrOpen(str(scene))]
    before = texts(layers)
    undo = apply(stage, result, LabelTarget.of_layer(labeled.labels_layer))
    assert undo.expanded == 4
    assert not any(stage.GetPrimAtPath(c).IsInstance() for c in CRATES)
    assert stage.GetPrimAtPath("/World/Bottles/Prototypes/Red").IsInstance()  # labeled on its root
    assert direct_labels(stage.GetPrimAtPath(f"{CRATES[1]}/Lid")) == {"class": ("crate_lid",)}
    assert inherited_labels(stage.GetPrimAtPath(f"{CRATES[1]}/Box")) == {}
    assert plan(stage, rules("deinstance", body)).changes == []
    undo.revert()
    assert texts(layers) == before
    assert all(stage.GetPrimAtPath(c).IsInstance() for c in CRATES)


def test_deinstance_end_to_end_each_part_gets_its_class(scene, tmp_path):
    labeled = open_labeled(scene, scene.with_name("scene_labels.usda"))
    result = plan(labeled.stage, rules("deinstance"))
    assert len(result.expanded_instances) == 6 and not result.conflicts
    apply(labeled.stage, result, LabelTarget.of_layer(labeled.labels_layer))
    assert plan(labeled.stage, rules("deinstance")).changes == []
    by_path, _, classes = render_classes(labeled.stage, tmp_path)
    assert_each_part_has_its_class(by_path, classes)


def test_asset_policy_writes_beside_the_assets_and_keeps_the_instances(scene, tmp_path):
    assets_before = asset_files(scene)
    labeled = open_labeled(scene, scene.with_name("scene_labels.usda"))
    stage = labeled.stage
    prototypes = len(stage.GetPrototypes())
    result = plan(stage, rules("asset"))
    crate_labels = str(scene.parent / "assets" / "crate" / "crate_labels.usda")
    bottle_labels = str(scene.parent / "assets" / "bottle" / "bottle_labels.usda")
    assert sorted(result.asset_layers) == sorted([crate_labels, bottle_labels])
    asset_rows = {(r.layer, r.path): r.after for r in result.changes if r.layer}
    assert asset_rows == {
        (crate_labels, "/Crate/Box"): ("crate_box",),
        (crate_labels, "/Crate/Lid"): ("crate_lid",),
        (bottle_labels, "/Bottle/Glass"): ("bottle_glass",),
        (bottle_labels, "/Bottle/Cap"): ("bottle_cap",),
    }
    references = {r.path: r.arc for r in result.rows if r.action == Action.REFERENCE}
    assert references[CRATES[0]] == (crate_labels, "/Crate") and len(references) == 6
    layers = [labeled.labels_layer, stage.GetRootLayer()]
    before = texts(layers)
    undo = apply(stage, result, LabelTarget.of_layer(labeled.labels_layer))
    assert sorted(layer.identifier for layer in undo.asset_layers) == sorted([crate_labels, bottle_labels])
    assert len(stage.GetPrototypes()) == prototypes and all(stage.GetPrimAtPath(c).IsInstance() for c in CRATES)
    assert direct_labels(stage.GetPrimAtPath(f"{CRATES[2]}/Lid")) == {"class": ("crate_lid",)}
    assert plan(stage, rules("asset")).changes == []
    assert asset_files(scene) == assets_before  # nothing saved yet, the assets untouched
    undo.revert()
    assert texts(layers) == before
    assert all(layer.ExportToString() == Sdf.Layer.CreateAnonymous().ExportToString() for layer in undo.asset_layers)


def test_asset_policy_end_to_end_through_the_cli(scene, tmp_path, capsys):
    assets_before = asset_files(scene)
    rules_path = tmp_path / "rules.yaml"
    rules_path.write_text(f"version: 1\ndefaults: {{instances: asset, hierarchy: all}}\nrules:{PART_RULES}")
    assert main(["label", str(scene), "--rules", str(rules_path)]) == 0
    out = capsys.readouterr().out
    assert "crate_labels.usda (part labels of the asset beside it)" in out
    after = asset_files(scene)
    assert {k: v for k, v in after.items() if k in assets_before} == assets_before  # asset files untouched
    assert set(after) - set(assets_before) == {"crate_labels.usda", "bottle_labels.usda"}
    stage = Usd.Stage.Open(str(scene.with_name("scene_labeled.usda")))
    assert len(stage.GetPrototypes()) == 2 and stage.GetPrimAtPath(CRATES[0]).IsInstance()
    labels_text = scene.with_name("scene_labels.usda").read_text()
    assert "@./assets/crate/crate_labels.usda@</Crate>" in labels_text  # relative arcs
    by_path, _, classes = render_classes(stage, tmp_path)
    assert_each_part_has_its_class(by_path, classes)
    capsys.readouterr()
    assert main(["label", str(scene), "--rules", str(rules_path)]) == 0
    assert "nothing written: no changes" in capsys.readouterr().out


def test_asset_policy_on_prototypes_inside_the_stage(sample_scene):
    """The sample scene's crates reference a prototype in the stage itself: it is labeled there."""
    stage = Usd.Stage.Open(Sdf.Layer.OpenAsAnonymous(str(sample_scene)))
    body = (
        "\n  - {id: lids, match: Lid, labels: crate_lid}"
        "\n  - {id: bodies, match: Body, labels: crate_body, prim_types: [Cube]}\n"
    )
    result = plan(stage, rules("asset", body))
    written = {(r.layer, r.path) for r in result.changes}
    assert ("", "/Prototypes/SM_Crate/Lid") in written and ("", "/Prototypes/SM_Crate/Body") in written
    assert not result.asset_layers and not [r for r in result.rows if r.action == Action.REFERENCE]
    apply(stage, result)
    for index in range(1, 5):
        lid = stage.GetPrimAtPath(f"/World/Crates/SM_Crate_0{index}/Lid")
        assert lid.IsInstanceProxy() and direct_labels(lid)["class"] == ("crate_lid",)


def test_nested_instances_get_labels_through_every_asset(tmp_path):
    shutil.copytree(DATA / "vehicle", tmp_path / "vehicle")
    scene = tmp_path / "vehicle" / "vehicle_scene.usda"
    labeled = open_labeled(scene, scene.with_name("vehicle_labels.usda"))
    stage = labeled.stage
    body = "\n  - {id: tires, match: Tire, labels: tire}\n  - {id: hubs, match: Hub, labels: hub}\n"
    result = plan(stage, rules("asset", body))
    wheel_labels = str(tmp_path / "vehicle" / "wheels" / "wheel_Asset_labels.usda")
    body_labels = str(tmp_path / "vehicle" / "body" / "bodyAsset_labels.usda")
    arcs = {(r.layer, r.path, r.arc) for r in result.rows if r.action == Action.REFERENCE}
    assert arcs == {
        (body_labels, "/Body/Wheel_FL", (wheel_labels, "/Wheel")),
        (body_labels, "/Body/Wheel_FR", (wheel_labels, "/Wheel")),
        ("", "/World/Car_1", (body_labels, "/Body")),  # Car_2 is no instance: its wheels arc from the stage
        ("", "/World/Car_2/Wheel_FL", (wheel_labels, "/Wheel")),
        ("", "/World/Car_2/Wheel_FR", (wheel_labels, "/Wheel")),
    }
    apply(stage, result, LabelTarget.of_layer(labeled.labels_layer))
    for car in ("Car_1", "Car_2"):
        for wheel in ("Wheel_FL", "Wheel_FR"):
            assert direct_labels(stage.GetPrimAtPath(f"/World/{car}/{wheel}/Tire")) == {"class": ("tire",)}
            assert direct_labels(stage.GetPrimAtPath(f"/World/{car}/{wheel}/Hub")) == {"class": ("hub",)}
    assert stage.GetPrimAtPath("/World/Car_1").IsInstance()
    assert plan(stage, rules("asset", body)).changes == []


# --- property: apply then undo restores every layer byte for byte, for every instance policy -------

PART_LABELS = st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=2)


def _labels_block(labels: list[str]) -> str:
    values = ", ".join(f'"{v}"' for v in labels)
    return f'(prepend apiSchemas = ["SemanticsLabelsAPI:class"]) {{\n token[] semantics:labels:class = [{values}]\n}}'


@st.composite
def instanced_stage(draw) -> dict[str, str]:
    """An external asset and an internal prototype (two parts each), instanced twice each, random labels."""

    def part(name: str) -> str:
        labeled = draw(st.booleans())
        return f'def Mesh "{name}" ' + (_labels_block(draw(PART_LABELS)) if labeled else "{\n}")

    asset = f'#usda 1.0\n(defaultPrim = "Asset")\ndef Xform "Asset" {{\n{part("P1")}\n{part("P2")}\n}}\n'
    instances = []
    for name, arc in (("I1", "@./asset.usda@"), ("I2", "@./asset.usda@"), ("J1", "</Proto>"), ("J2", "</Proto>")):
        meta = f"instanceable = true\n prepend references = {arc}"
        if draw(st.booleans()):
            meta = f'prepend apiSchemas = ["SemanticsLabelsAPI:class"]\n {meta}'
            body = f'token[] semantics:labels:class = ["{draw(st.sampled_from(["r", "a"]))}"]'
        else:
            body = ""
        instances.append(f'def Xform "{name}" (\n {meta}\n) {{\n {body}\n}}')
    base = (
        '#usda 1.0\ndef Xform "W" {\n'
        + "\n".join(instances)
        + f'\n}}\nclass Xform "Proto" {{\n{part("P1")}\n{part("P2")}\n}}\n'
    )
    existing = draw(st.sampled_from(["", '#usda 1.0\nover "Asset" {\n over "P1" ' + _labels_block(["z"]) + "\n}\n"]))
    return {"asset": asset, "base": base, "asset_labels": existing}


part_rules = st.tuples(
    st.sampled_from(["root", "deinstance", "asset"]),
    st.sampled_from(["add", "replace", "skip"]),
    st.sampled_from(["all", "topmost"]),
    st.sampled_from(["a", "b"]),
    st.sampled_from(["a", "b"]),
    st.booleans(),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files=instanced_stage(), how=part_rules)
def test_apply_then_undo_restores_every_layer_for_every_instance_policy(files, how):
    policy, mode, hierarchy, first, second, label_roots = how
    with tempfile.TemporaryDirectory() as folder:
        root_dir = Path(folder)
        (root_dir / "asset.usda").write_text(files["asset"])
        (root_dir / "base.usda").write_text(files["base"])
        if files["asset_labels"]:
            (root_dir / "asset_labels.usda").write_text(files["asset_labels"])
        labeled = open_labeled(root_dir / "base.usda", root_dir / "base_labels.usda")
        stage = labeled.stage
        body = f"\n  - {{id: p1, match: P1, labels: {first}}}\n  - {{id: p2, match: P2, labels: {second}}}\n"
        if label_roots:
            body += "  - {id: roots, match: {regex: '[IJ][12]'}, labels: r}\n"
        ruleset = parse_rules_text(
            f"version: 1\ndefaults: {{instances: {policy}, mode: {mode}, hierarchy: {hierarchy}}}\nrules:{body}"
        )
        asset_labels = open_asset_labels_layer(root_dir / "asset_labels.usda")
        layers = [
            labeled.labels_layer,
            labeled.root_layer,
            stage.GetSessionLayer(),
            Sdf.Layer.FindOrOpen(str(root_dir / "base.usda")),
            Sdf.Layer.FindOrOpen(str(root_dir / "asset.usda")),
            asset_labels,
        ]
        before = texts(layers)
        result = plan(stage, ruleset)
        event(f"{policy}: " + ", ".join(sorted(result.counts())))
        assert texts(layers) == before  # planning writes nothing
        undo = apply(stage, result, LabelTarget.of_layer(labeled.labels_layer))
        assert plan(stage, ruleset).changes == []  # applied exactly: nothing left to do
        if policy == "asset":
            assert all(stage.GetPrimAtPath(p).IsInstance() for p in ("/W/I1", "/W/I2", "/W/J1", "/W/J2"))
        undo.revert()
        assert texts(layers) == before
        assert texts([Sdf.Layer.FindOrOpen(str(root_dir / "asset.usda"))]) == [before[4]]
