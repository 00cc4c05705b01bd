"""apply(): writes exactly the preview, one undo restores the layers byte for byte, bad plans write nothing."""

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pxr import Sdf, Usd, UsdSemantics

from omni.sdg_studio.core.semantics import apply as apply_module
from omni.sdg_studio.core.semantics.apply import LabelApplyError, LabelTarget, apply
from omni.sdg_studio.core.semantics.plan import Action, plan
from omni.sdg_studio.core.semantics.prim_edits import label_prims, remove_labels, set_labels, upgrade_semantics
from omni.sdg_studio.core.semantics.rules_file import load_rules, parse_rules_text
from omni.sdg_studio.core.semantics.schema import direct_labels, labels_api_labels, legacy_instances

DATA = Path(__file__).parent / "data" / "semantics"


def texts(*layers: Sdf.Layer) -> list[str]:
    return [layer.ExportToString() for layer in layers]


def labeled_stage(stage_path: Path) -> tuple[Usd.Stage, Sdf.Layer]:
    """``stage_path`` under an in-memory root whose first sublayer is an empty labels layer."""
    labels = Sdf.Layer.CreateAnonymous("labels.usda")
    root = Sdf.Layer.CreateAnonymous("root.usda")
    root.subLayerPaths.append(labels.identifier)
    root.subLayerPaths.append(str(stage_path))
    return Usd.Stage.Open(root), labels


def assert_applied_as_previewed(stage: Usd.Stage, result) -> None:
    final = {}
    for row in result.changes:
        final[(row.path, row.taxonomy)] = row
    for (path, taxonomy), row in final.items():
        now = labels_api_labels(stage.GetPrimAtPath(path))
        if row.action == Action.REMOVE and not row.after:
            assert taxonomy not in now, (path, taxonomy)
        else:
            assert taxonomy in now, (path, taxonomy)
            attr = UsdSemantics.LabelsAPI(stage.GetPrimAtPath(path), taxonomy).GetLabelsAttr()
            assert tuple(attr.Get()) == row.after, (path, taxonomy)
        gone = set(row.legacy_instances) & set(legacy_instances(stage.GetPrimAtPath(path)))
        assert not gone, (path, gone)


def test_sample_scene_labels_into_a_sublayer_exactly_as_previewed(sample_scene, repo_root):
    rules = load_rules(repo_root / "config" / "rules" / "warehouse.yaml")
    stage, labels = labeled_stage(sample_scene)
    scene_layer = Sdf.Layer.FindOrOpen(str(sample_scene))
    scene_before = scene_layer.ExportToString()
    result = plan(stage, rules)
    undo = apply(stage, result, LabelTarget.of_layer(labels))
    assert_applied_as_previewed(stage, result)
    assert plan(stage, rules).changes == []  # idempotent
    assert scene_layer.ExportToString() == scene_before and not scene_layer.dirty
    assert undo.written == len({r.path for r in result.changes})
    undo.revert()
    assert labels.ExportToString() == Sdf.Layer.CreateAnonymous("empty.usda").ExportToString()
    assert plan(stage, rules).changes == result.changes


def test_clearing_the_labels_sublayer_reverts_every_label(sample_scene, repo_root):
    stage, labels = labeled_stage(sample_scene)
    before = {str(p.GetPath()): direct_labels(p) for p in stage.Traverse()}
    apply(
        stage, plan(stage, load_rules(repo_root / "config" / "rules" / "warehouse.yaml")), LabelTarget.of_layer(labels)
    )
    assert {str(p.GetPath()): direct_labels(p) for p in stage.Traverse()} != before
    labels.Clear()
    assert {str(p.GetPath()): direct_labels(p) for p in stage.Traverse()} == before


def test_in_place_legacy_upgrade_removes_the_legacy_schema(tmp_path):
    stage = Usd.Stage.Open(Sdf.Layer.OpenAsAnonymous(str(DATA / "legacy_scene.usda")))
    before = stage.GetRootLayer().ExportToString()
    result = upgrade_semantics(stage)
    undo = apply(stage, result)
    assert_applied_as_previewed(stage, result)
    text = stage.GetRootLayer().ExportToString()
    assert "semantic:Semantics_mdFo" not in text and "SemanticsAPI:Semantics_mdFo" not in text
    assert direct_labels(stage.GetPrimAtPath("/World/Cone")) == {"class": ("cone",), "color": ("orange",)}
    assert legacy_instances(stage.GetPrimAtPath("/World/SimReadyChair")) == ["Semantics"]  # the conflict stays
    assert upgrade_semantics(stage).changes == []
    undo.revert()
    assert stage.GetRootLayer().ExportToString() == before


def test_removing_a_label_from_a_weaker_referenced_layer_hides_it():
    stage = Usd.Stage.Open(str(DATA / "referencing_scene.usda"))
    asset = Sdf.Layer.FindOrOpen(str(DATA / "assets" / "Pallet" / "pallet.usda"))
    asset_before = asset.ExportToString()
    root_before = stage.GetRootLayer().ExportToString()
    result = remove_labels(stage, ["/World/SM_Pallet_01"], "class")
    assert [(r.action, r.before, r.after) for r in result.rows] == [(Action.REMOVE, ("pallet", "wood"), ())]
    undo = apply(stage, result, LabelTarget.of_layer(stage.GetRootLayer()))
    assert direct_labels(stage.GetPrimAtPath("/World/SM_Pallet_01")) == {}
    assert direct_labels(stage.GetPrimAtPath("/World/SM_Pallet_02")) == {"class": ("pallet", "wood")}
    assert undo.hidden and "SemanticsLabelsAPI:class" in undo.hidden[0]
    text = stage.GetRootLayer().ExportToString()
    assert 'delete apiSchemas = ["SemanticsLabelsAPI:class"]' in text
    assert "token[] semantics:labels:class = None" in text  # blocked
    assert asset.ExportToString() == asset_before
    undo.revert()
    assert stage.GetRootLayer().ExportToString() == root_before
    assert direct_labels(stage.GetPrimAtPath("/World/SM_Pallet_01")) == {"class": ("pallet", "wood")}


def test_a_stronger_opinion_refuses_the_write_and_nothing_changes():
    base = Sdf.Layer.CreateAnonymous("base.usda")
    base.ImportFromString(
        '#usda 1.0\ndef Mesh "A" (prepend apiSchemas = ["SemanticsLabelsAPI:class"]) {\n'
        '    token[] semantics:labels:class = ["strong"]\n}\n'
    )
    weak = Sdf.Layer.CreateAnonymous("weak.usda")
    base.subLayerPaths.append(weak.identifier)
    stage = Usd.Stage.Open(base)
    result = set_labels(stage, {"/A": {"class": ["other"]}})
    before = texts(base, weak)
    with pytest.raises(LabelApplyError, match="stronger layer"):
        apply(stage, result, LabelTarget.of_layer(weak))
    assert texts(base, weak) == before


def test_a_stale_plan_is_refused(sample_scene):
    stage, labels = labeled_stage(sample_scene)
    result = label_prims(stage, ["/World/Props/Mattress_01"], {"class": "mattress"})
    UsdSemantics.LabelsAPI.Apply(stage.GetPrimAtPath("/World/Props/Mattress_01"), "class").CreateLabelsAttr(["bed"])
    before = texts(labels, stage.GetRootLayer())
    with pytest.raises(LabelApplyError, match="the plan expected"):
        apply(stage, result, LabelTarget.of_layer(labels))
    assert texts(labels, stage.GetRootLayer()) == before


def test_a_layer_outside_the_stage_is_refused(sample_scene):
    stage, _ = labeled_stage(sample_scene)
    with pytest.raises(LabelApplyError, match="not a layer of this stage"):
        LabelTarget.of_layer(Sdf.Layer.CreateAnonymous()).resolve(stage)


def test_an_error_while_writing_leaves_the_layer_exactly_as_before(sample_scene, repo_root, monkeypatch):
    stage, labels = labeled_stage(sample_scene)
    labels.ImportFromString(
        '#usda 1.0\nover "World" {\n    over "Props" {\n        over "Mattress_01" (\n'
        '            prepend apiSchemas = ["SemanticsLabelsAPI:class"]\n        )\n        {\n'
        '            token[] semantics:labels:class = ["bed"]\n        }\n    }\n}\n'
    )
    before = labels.ExportToString()
    calls = []

    def failing(write):  # both write paths (new specs, existing specs) count towards the failure
        def wrapped(*args):
            calls.append(args)
            if len(calls) == 20:
                raise RuntimeError("disk on fire")
            write(*args)

        return wrapped

    monkeypatch.setattr(apply_module, "_write", failing(apply_module._write))
    monkeypatch.setattr(apply_module._NewSpecs, "write", failing(apply_module._NewSpecs.write))
    rules = load_rules(repo_root / "config" / "rules" / "warehouse.yaml")
    with pytest.raises(RuntimeError, match="disk on fire"):
        apply(stage, plan(stage, rules), LabelTarget.of_layer(labels))
    assert len(calls) == 20
    assert labels.ExportToString() == before


def test_session_layer_target(sample_scene):
    stage = Usd.Stage.Open(str(sample_scene))
    result = label_prims(stage, ["/World/Props/SM_Barrel_01"], {"class": "barrel"})
    undo = apply(stage, result, LabelTarget.session())
    assert "barrel" in stage.GetSessionLayer().ExportToString()
    assert not stage.GetRootLayer().dirty
    undo.revert()
    assert direct_labels(stage.GetPrimAtPath("/World/Props/SM_Barrel_01")) == {}


# --- property: apply then undo restores every layer byte for byte --------------------------------

PRIMS = ("/W", "/W/A", "/W/A/B", "/W/C")
TAXONOMIES = ("class", "color")
LABELS = ("a", "b", "c")

labels_list = st.lists(st.sampled_from(LABELS), max_size=3)


@st.composite
def prim_opinion(draw) -> tuple[str, list[str]]:
    """One prim spec's metadata (maybe an apiSchemas list op) and properties (labels, legacy)."""
    tokens = [f"SemanticsLabelsAPI:{t}" for t in TAXONOMIES] + ["SemanticsAPI:Semantics"]
    chosen = draw(st.lists(st.sampled_from(tokens), unique=True, max_size=3))
    form = draw(st.sampled_from(["none", "prepend ", "append ", "", "delete "]))  # "" = explicit
    quoted = ", ".join(f'"{t}"' for t in chosen)
    meta = "" if form == "none" or not chosen else f" ({form}apiSchemas = [{quoted}])"
    body = []
    for taxonomy in TAXONOMIES:
        if draw(st.booleans()):
            values = ", ".join(f'"{v}"' for v in draw(labels_list))
            body.append(f"token[] semantics:labels:{taxonomy} = [{values}]")
    if draw(st.booleans()):
        body.append(f'string semantic:Semantics:params:semanticType = "{draw(st.sampled_from(TAXONOMIES))}"')
        body.append(f'string semantic:Semantics:params:semanticData = "{draw(st.sampled_from(LABELS))}"')
    return meta, body


@st.composite
def layer_text(draw, base: bool) -> str:
    """A layer defining (``base``) or overriding some of PRIMS with random label opinions."""
    present = {p for p in PRIMS if base or draw(st.booleans())}
    present |= {q for p in present for q in PRIMS if p.startswith(q + "/")}

    def emit(path: str, depth: int) -> list[str]:
        meta, body = draw(prim_opinion())
        pad = "    " * depth
        lines = [f'{pad}{"def Mesh" if base else "over"} "{path.rsplit("/", 1)[1]}"{meta}', pad + "{"]
        lines += [pad + "    " + line for line in body]
        for child in PRIMS:
            if child.rsplit("/", 1)[0] == path and child in present:
                lines += emit(child, depth + 1)
        return [*lines, pad + "}"]

    return "#usda 1.0\n" + ("\n".join(emit("/W", 0)) if "/W" in present else "")


edit = st.one_of(
    st.tuples(
        st.just("label"),
        st.lists(st.sampled_from(PRIMS), min_size=1, unique=True),
        st.sampled_from(TAXONOMIES),
        st.lists(st.sampled_from(LABELS), min_size=1),
        st.sampled_from(["add", "replace", "skip"]),
    ),
    st.tuples(
        st.just("set"),
        st.dictionaries(st.sampled_from(PRIMS), st.dictionaries(st.sampled_from(TAXONOMIES), labels_list)),
    ),
    st.tuples(
        st.just("remove"),
        st.lists(st.sampled_from(PRIMS), min_size=1, unique=True),
        st.sampled_from([None, *TAXONOMIES]),
        labels_list,
    ),
    st.tuples(st.just("upgrade")),
    st.tuples(
        st.just("rules"), st.sampled_from(["add", "replace", "skip"]), st.sampled_from(["all", "topmost", "leaf"])
    ),
)


def plan_edit(stage: Usd.Stage, how: tuple):
    kind = how[0]
    if kind == "label":
        return label_prims(stage, how[1], {how[2]: how[3]}, mode=how[4])
    if kind == "set":
        return set_labels(stage, how[1])
    if kind == "remove":
        return remove_labels(stage, how[1], how[2], how[3] if how[2] else ())
    if kind == "upgrade":
        return upgrade_semantics(stage)
    rules = parse_rules_text(
        f"version: 1\ndefaults: {{mode: {how[1]}, hierarchy: {how[2]}}}\nrules:\n"
        "  - {id: drop-c, match: C, action: remove, taxonomies: ['*']}\n  - {id: any, match: '*', labels: b}\n"
    )
    return plan(stage, rules)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    base=layer_text(True), over=layer_text(False), how=edit, target=st.sampled_from(["root", "over", "base", "session"])
)
def test_apply_then_undo_restores_every_layer_byte_for_byte(base, over, how, target):
    base_layer = Sdf.Layer.CreateAnonymous("base.usda")
    base_layer.ImportFromString(base)
    over_layer = Sdf.Layer.CreateAnonymous("over.usda")
    over_layer.ImportFromString(over)
    root = Sdf.Layer.CreateAnonymous("root.usda")
    root.subLayerPaths.append(over_layer.identifier)
    root.subLayerPaths.append(base_layer.identifier)
    stage = Usd.Stage.Open(root)
    layers = (root, over_layer, base_layer, stage.GetSessionLayer())
    chosen = dict(zip(("root", "over", "base", "session"), layers, strict=True))[target]
    before = texts(*layers)
    result = plan_edit(stage, how)
    assert texts(*layers) == before  # planning writes nothing
    try:
        undo = apply(stage, result, LabelTarget.of_layer(chosen) if target != "session" else LabelTarget.session())
    except LabelApplyError:
        assert texts(*layers) == before
        return
    assert_applied_as_previewed(stage, result)
    assert plan_edit(stage, how).changes == []  # re-planning after apply changes nothing
    undo.revert()
    assert texts(*layers) == before
