"""Token-aware name normalization: the editor's known bugs must not happen here."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omni.sdg_studio.core.semantics.names import NameNormalizer

EDITOR_LIKE = NameNormalizer(strip_prefixes=("SM", "MI", "Mat"), strip_suffixes=("Mat", "6M", "LOD0"))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Mattress_01", "mattress"),  # the editor strips the "Mat" prefix and yields "tress"
        ("SteelMat", "steel"),  # the editor cuts one character too many: "Stee"
        ("SMALL_Box", "small_box"),  # the editor: "ALLBox"
        ("Box6M", "box"),  # the editor: "Bo"
        ("SM_Chair_LOD0", "chair"),
        ("MI_SM_Crate_003", "crate"),
        ("_01", ""),  # the editor raises IndexError
        ("01", ""),
        ("", ""),
        ("Mat", ""),
    ],
)
def test_affixes_are_stripped_as_whole_tokens(name, expected):
    assert EDITOR_LIKE.normalize(name) == expected


def test_tokens_split_at_separators_case_changes_and_digits():
    assert NameNormalizer().tokens("SM_CardBoxA_01") == ["SM", "Card", "Box", "A", "01"]
    assert NameNormalizer().tokens("XMLParser-v2.final") == ["XML", "Parser", "v", "2", "final"]
    assert NameNormalizer(camel_case=False).tokens("TrafficCone_01") == ["TrafficCone", "01"]


def test_cumulative_strips_until_nothing_matches_and_single_pass_does_not():
    names = NameNormalizer(strip_prefixes=("SM", "MI"))
    assert names.normalize("SM_MI_Chair") == "chair"
    assert NameNormalizer(strip_prefixes=("SM", "MI"), cumulative=False).normalize("SM_MI_Chair") == "mi_chair"


def test_case_join_and_ignore_case_options():
    assert NameNormalizer(join="", case="keep").normalize("Wood_Table_02") == "WoodTable"
    assert NameNormalizer(case="upper").normalize("traffic_cone") == "TRAFFIC_CONE"
    assert NameNormalizer(strip_prefixes=("SM",), ignore_case=False).normalize("sm_chair") == "sm_chair"
    assert NameNormalizer(strip_prefixes=("SM",)).normalize("sm_chair") == "chair"
    assert NameNormalizer(strip_numeric=False).normalize("Crate_07") == "crate_07"


@given(st.text())
def test_any_name_normalizes_without_error(name):
    assert isinstance(EDITOR_LIKE.normalize(name), str)


@given(st.text())
def test_without_stripping_only_separators_are_dropped(name):
    keep_all = NameNormalizer(separators=("_",), strip_numeric=False, join="", case="keep")
    assert keep_all.normalize(name) == name.replace("_", "")
