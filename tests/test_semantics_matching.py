"""Matching: full glob syntax (checked against fnmatch), the regex backtracking guard, assets at every level."""

from __future__ import annotations

import fnmatch
import re
import shutil
import time
import warnings
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pxr import Sdf, Usd

from omni.sdg_studio.core.config_document import ConfigError
from omni.sdg_studio.core.semantics.assets import asset_chain
from omni.sdg_studio.core.semantics.matching import ExcludeFilter, scope_prims
from omni.sdg_studio.core.semantics.plan import Action, plan
from omni.sdg_studio.core.semantics.regex_guard import regex_problem
from omni.sdg_studio.core.semantics.rules import GlobError, Match, glob_to_regex
from omni.sdg_studio.core.semantics.rules_file import load_rules, parse_rules_text

DATA = Path(__file__).parent / "data" / "semantics"


def rules(body: str, header: str = ""):
    return parse_rules_text(f"version: 1\n{header}rules:\n{body}")


def stage_from(text: str) -> Usd.Stage:
    layer = Sdf.Layer.CreateAnonymous(".usda")
    layer.ImportFromString("#usda 1.0\n" + text)
    return Usd.Stage.Open(layer)


# --- globs ----------------------------------------------------------------------------------------

glob_chars = st.sampled_from(["a", "b", "c", "-", "!", "^", "*", "?", "[", "]", "."])
name_chars = st.sampled_from(["a", "b", "c", "-", "!", "^", "]", "[", "."])


@settings(max_examples=600, deadline=None)
@given(pattern=st.text(glob_chars, max_size=8), name=st.text(name_chars, max_size=8))
def test_globs_on_names_match_exactly_what_fnmatch_matches(pattern, name):
    try:
        regex = re.compile(glob_to_regex(pattern))
    except GlobError:
        # malformed for us: an unclosed class (fnmatch reads its '[' literally) or an empty range
        assert "[" in pattern
        return
    assert (regex.fullmatch(name) is not None) == fnmatch.fnmatchcase(name, pattern), (pattern, name)


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        ("SM_[Cc]hair*", "SM_Chair01", True),
        ("SM_[Cc]hair*", "SM_chair_2", True),
        ("SM_[Cc]hair*", "SM_Xhair", False),
        ("SM_[!C]hair*", "SM_Xhair", True),
        ("SM_[!C]hair*", "SM_Chair", False),
        ("Box_[0-9][0-9]", "Box_07", True),
        ("Box_[0-9][0-9]", "Box_7a", False),
        ("Lid?", "Lid1", True),
        ("[]]x", "]x", True),
        ("[!]]x", "ax", True),
    ],
)
def test_glob_classes_ranges_and_negation(pattern, name, expected):
    assert (re.fullmatch(glob_to_regex(pattern), name) is not None) == expected


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("/World/*/Lid", "/World/Crate/Lid", True),
        ("/World/*/Lid", "/World/A/B/Lid", False),  # * stays within a segment
        ("/World/**/Lid", "/World/A/B/Lid", True),
        ("/World/**/Lid", "/World/Lid", True),  # /**/ also matches no segment
        ("/World/[AB]*/Lid", "/World/Bx/Lid", True),
        ("/World/?/Lid", "/World/A/Lid", True),
        ("/World/[!x]/Lid", "/World///Lid", False),  # a class never matches /
        ("/World/[--0]x", "/World//x", False),  # a range over / does not match / either
        ("**/Lid", "/World/A/Lid", True),
    ],
)
def test_path_globs_segments_and_double_star(pattern, path, expected):
    assert (re.fullmatch(glob_to_regex(pattern), path) is not None) == expected


@pytest.mark.parametrize(
    ("pattern", "paths"),
    [
        ("/World/**/SM_*", ["/World/SM_A", "/World/X/SM_B", "/World/X/Y/SM_C", "/World/X/Lid", "/SM_D"]),
        ("/World/*/SM_[AB]", ["/World/X/SM_A", "/World/X/SM_C", "/World/SM_A", "/World/X/Y/SM_B"]),
        ("/SM_*", ["/SM_A", "/World/SM_A"]),
    ],
)
def test_split_path_globs_agree_with_the_whole_path_regex(pattern, paths):
    """A path glob is matched as (parent, name) halves for speed; the result is the whole-path regex's."""
    match = Match.build("path", "glob", pattern, False)
    assert match.split is not None
    parent_regex, name_regex = match.split
    for path in paths:
        parent, _, name = path.rpartition("/")
        halves = parent_regex.fullmatch(parent) is not None and name_regex.fullmatch(name) is not None
        assert halves == (match.regex.fullmatch(path) is not None), path


def test_plan_matches_glob_classes_on_names_and_paths():
    stage = stage_from(
        'def Xform "World" {\n def Mesh "SM_Chair01" {\n}\n def Mesh "SM_chair_2" {\n}\n def Mesh "SM_Table" {\n}\n'
        ' def Xform "Zone_3" {\n def Xform "Aisle" {\n def Mesh "SM_Box" {\n}\n}\n}\n def Mesh "Lamp" {\n}\n}\n'
    )
    body = (
        "  - {id: chairs, match: 'SM_[Cc]hair*', labels: chair, ignore_case: false}\n"
        "  - {id: zone, match: {glob: '/World/**/Zone_[0-9]/**/SM_*', on: path}, labels: {zone: three}}\n"
        "  - {id: not-chairs, match: 'SM_[!C]*', labels: {other: yes_}, ignore_case: false}\n"
    )
    found = {(r.path, r.taxonomy) for r in plan(stage, rules(body)).rows if r.action == Action.ADD}
    assert found == {
        ("/World/SM_Chair01", "class"),
        ("/World/SM_chair_2", "class"),
        ("/World/Zone_3/Aisle/SM_Box", "zone"),
        ("/World/SM_chair_2", "other"),
        ("/World/SM_Table", "other"),
        ("/World/Zone_3/Aisle/SM_Box", "other"),
    }


@pytest.mark.parametrize(
    ("clause", "fragment"),
    [
        ("{glob: 'SM_[Cc'}", "rule 'broken': malformed glob 'SM_[Cc': unclosed '['"),
        ("{glob: 'Box_[9-0]'}", "rule 'broken': malformed glob 'Box_[9-0]': empty range '9-0'"),
        ("{glob: '/World/[ab', on: path}", "rule 'broken': malformed glob '/World/[ab'"),
    ],
)
def test_a_malformed_glob_names_the_rule_and_the_line(tmp_path, clause, fragment):
    path = tmp_path / "rules.yaml"
    path.write_text(
        f"version: 1\nrules:\n  - id: fine\n    auto: true\n  - id: broken\n    match: {clause}\n    labels: x\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_rules(path)
    assert fragment in str(caught.value) and f"{path}:6:" in str(caught.value)


def test_a_malformed_exclude_glob_is_refused(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("version: 1\nscope: {exclude: ['/World/[Lo']}\nrules: []\n")
    with pytest.raises(ConfigError, match=r"scope.exclude\[0\].*unclosed"):
        load_rules(path)


# --- the regex guard ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("regex", "on", "value"),
    [("(a+)+", "name", "a" * 41 + "!"), ("(.|.)*!", "path", "/World/" + "a" * 40), ("(\\w+\\s?)*$", "name", "a" * 41)],
)
def test_catastrophic_regexes_are_refused_naming_the_rule(tmp_path, regex, on, value):
    # Python's re would backtrack for minutes on ``value``; the rules file is refused before any matching
    path = tmp_path / "rules.yaml"
    path.write_text(f"version: 1\nrules:\n  - id: slow-one\n    match: {{regex: '{regex}', on: {on}}}\n    labels: x\n")
    start = time.perf_counter()
    with pytest.raises(ConfigError) as caught:
        load_rules(path)
    assert time.perf_counter() - start < 1.0
    assert "rule 'slow-one': regex" in str(caught.value) and "refused" in str(caught.value)
    assert f"{path}:4:" in str(caught.value)
    assert len(value) >= 41


@pytest.mark.parametrize(
    "regex",
    [
        r"SM_Pal+ett?e[A-Z]?_\d+",
        r"SM_CardBox(?P<size>[A-Z])_\d+",
        r"SM_(?P<obj>[A-Za-z]+)(?:_\d+)*",
        r"(foo|bar)+",
        r"S_TrafficCone(_\d+)?",
        r"SM_Rack(Post|Board)_\d+",
        r"(\d+\.){3}\d+",
        r".*barrel.*",
        r"/World/.*/Zone_3/.*",
    ],
)
def test_ordinary_regexes_pass_the_guard(regex):
    assert regex_problem(regex) is None


@settings(max_examples=200, deadline=None)
@given(st.text(st.sampled_from(["a", "b", "(", ")", "|", "*", "+", "?", ".", "[", "]", "\\"]), max_size=10))
def test_every_regex_the_guard_accepts_matches_fast(pattern):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # "possible nested set" hints of re
            compiled = re.compile(pattern)
    except (re.error, RecursionError):
        return
    if regex_problem(pattern) is not None:
        return
    start = time.perf_counter()
    for subject in ("a" * 30 + "!", "ab" * 15 + "!", "b" * 30):
        compiled.fullmatch(subject)
    assert time.perf_counter() - start < 0.5, pattern


def test_nul_and_control_characters_in_labels_are_refused_naming_the_rule(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text('version: 1\nrules:\n  - id: bad-label\n    match: Lid\n    labels: "lid\\0x"\n')
    with pytest.raises(ConfigError, match=r"rule 'bad-label'.*control character U\+0000"):
        load_rules(path)


# --- assets at every level ------------------------------------------------------------------------


@pytest.fixture
def vehicle(tmp_path) -> Usd.Stage:
    shutil.copytree(DATA / "vehicle", tmp_path / "vehicle")
    return Usd.Stage.Open(str(tmp_path / "vehicle" / "vehicle_scene.usda"))


def names(chain) -> list[str]:
    return [Path(p).name for p in chain]


def test_asset_chain_lists_every_asset_nearest_first(vehicle):
    assert names(asset_chain(vehicle.GetPrimAtPath("/World/Car_1"))) == ["bodyAsset.usda"]
    assert names(asset_chain(vehicle.GetPrimAtPath("/World/Car_1/Chassis"))) == ["bodyAsset.usda"]
    assert names(asset_chain(vehicle.GetPrimAtPath("/World/Car_1/Wheel_FL"))) == ["wheel_Asset.usda", "bodyAsset.usda"]
    assert names(asset_chain(vehicle.GetPrimAtPath("/World/Car_2/Wheel_FR/Tire"))) == [
        "wheel_Asset.usda",
        "bodyAsset.usda",
    ]
    assert asset_chain(vehicle.GetPrimAtPath("/World")) == ()


def test_on_asset_sees_the_nearest_asset_and_outer_ones_by_depth(vehicle):
    body = (
        "  - {id: wheels, match: {glob: 'wheel*Asset.usda', on: asset}, labels: {part: '{asset}'}}\n"
        "  - {id: bodies, match: {glob: 'body*.usda', on: asset}, labels: {vehicle: body}}\n"
        "  - {id: outer, match: {glob: 'body*.usda', on: asset, asset_depth: 2}, labels: {outer: '{folder}'}}\n"
        "  - {id: outermost, match: {glob: '*.usda', on: asset, asset_depth: -1}, labels: {root_asset: '{asset}'}}\n"
        "  - {id: any-level, match: {glob: 'wheel*', on: asset, asset_depth: all}, labels: {has_wheel: 'yes'}}\n"
    )
    got = {}
    for row in plan(vehicle, rules(body, "defaults: {instances: deinstance}\n")).rows:
        if row.action == Action.ADD:
            got.setdefault(row.path, {})[row.taxonomy] = row.after
    tire = got["/World/Car_1/Wheel_FL/Tire"]  # Car_1 is deinstanced: its parts are labeled one by one
    assert tire["part"] == ("wheel_Asset.usda",)  # the nearest asset, not the body
    assert tire["outer"] == ("body",)  # asset_depth 2: the body's folder
    assert tire["root_asset"] == ("bodyAsset.usda",)
    assert tire["has_wheel"] == ("yes",)
    assert "vehicle" not in tire
    chassis = got["/World/Car_1/Chassis"]
    assert chassis["vehicle"] == ("body",) and "part" not in chassis and "outer" not in chassis
    assert "has_wheel" not in chassis


def test_asset_depth_list_and_rule_level_templates(vehicle):
    body = (
        "  - {id: listed, match: {regex: '(?P<name>.+)\\.usda', on: asset, asset_depth: [2, 1]},"
        " labels: {first: '{name|lower}'}}\n"
        "  - {id: templated, match: Tire, asset_depth: -1, labels: {outer: '{asset}', outer_folder: '{folder}'}}\n"
    )
    rows = {
        (r.path, r.taxonomy): r.after for r in plan(vehicle, rules(body, "defaults: {instances: deinstance}\n")).rows
    }
    assert rows[("/World/Car_1/Wheel_FL/Tire", "first")] == ("bodyasset",)  # depth 2 is tried first
    assert rows[("/World/Car_1/Chassis", "first")] == ("bodyasset",)  # no depth 2: depth 1 matches
    assert rows[("/World/Car_1/Wheel_FL/Tire", "outer")] == ("bodyAsset.usda",)
    assert rows[("/World/Car_1/Wheel_FL/Tire", "outer_folder")] == ("body",)


@pytest.mark.parametrize(
    ("clause", "fragment"),
    [
        ("{glob: x, on: name, asset_depth: 2}", "asset_depth is for on: asset or on: folder"),
        ("{glob: x, on: asset, asset_depth: 0}", "asset_depth is 1 (nearest asset)"),
        ("{glob: x, on: asset, asset_depth: [1, nearest]}", "asset_depth is 1 (nearest asset)"),
    ],
)
def test_bad_asset_depth_is_refused(tmp_path, clause, fragment):
    path = tmp_path / "rules.yaml"
    path.write_text(f"version: 1\nrules:\n  - id: r\n    match: {clause}\n    labels: x\n")
    with pytest.raises(ConfigError, match=re.escape(fragment)):
        load_rules(path)


# --- scope exclusion ----------------------------------------------------------------------------------

SCOPE = (
    'def "World" {\n def "looks" {\n def "M" {\n}\n}\n def "A" {\n def "B" {\n def "C" {\n}\n}\n}\n'
    ' def "Looks2" {\n}\n def "Zone" {\n def "Looks" {\n def "N" {\n}\n}\n}\n}\n'
)


@pytest.mark.parametrize(
    "patterns",
    [
        ["/World/Looks"],
        ["/World/looks", "/World/A/B"],
        ["/World/*oks"],
        ["/World/**/Looks"],
        ["/World/[LZ]*"],
        ["/Nope"],
    ],
)
@pytest.mark.parametrize("ignore_case", [True, False])
def test_scope_exclusion_drops_exactly_the_matching_subtrees(patterns, ignore_case):
    stage = stage_from(SCOPE)
    regex = re.compile("|".join(glob_to_regex(p) for p in patterns), re.IGNORECASE if ignore_case else 0)
    expected, dropped = [], []
    for prim in Usd.PrimRange.Stage(stage):
        path = str(prim.GetPath())
        if any(path.startswith(d + "/") for d in dropped):
            continue
        if regex.fullmatch(path):
            dropped.append(path)
        else:
            expected.append(path)
    got = [str(p.GetPath()) for p in scope_prims(stage, ["/"], True, ExcludeFilter(patterns, ignore_case))]
    assert got == expected
