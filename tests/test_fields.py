"""The one typed field reader: located errors, suggestions, strict and lenient keys, checks without a file."""

from pathlib import Path

import pytest

from omni.sdg_studio.core.config_document import ConfigError, load_document, parse_document
from omni.sdg_studio.core.fields import (
    FieldReader,
    ValueProblem,
    did_you_mean,
    expect_choice,
    expect_int,
    expect_strings,
)

SCENARIO = "frames: 4\nlights:\n  - kind: dome\n  - kind: spere\n"


def test_the_documented_scenario_reader_names_file_line_field_and_suggests(tmp_path: Path):
    path = tmp_path / "scenario.yaml"
    path.write_text(SCENARIO)
    doc = load_document(path)
    read = FieldReader(doc)
    top = read.as_mapping((), doc.data)
    read.check_keys((), top, ("frames", "lights"))
    assert read.as_int(("frames",), top.get("frames", 10), minimum=1) == 4
    kinds = []
    with pytest.raises(ConfigError) as caught:
        for index, item in enumerate(read.as_list(("lights",), top.get("lights", []))):
            light = read.as_mapping(("lights", index), item)
            kinds.append(read.as_choice(("lights", index, "kind"), light.get("kind"), ("dome", "sphere")))
    assert kinds == ["dome"]
    assert str(caught.value) == (
        f"{path}:4:11: lights[1].kind: 'spere' is not one of dome, sphere; did you mean 'sphere'?"
    )


def test_unknown_keys_are_errors_or_warnings_with_the_closest_key():
    doc = parse_document("defaults:\n  taxonomi: class\n", "r.yaml")
    read = FieldReader(doc)
    expected = r"r.yaml:2:13: defaults.taxonomi: unknown key 'taxonomi'; did you mean 'taxonomy'"
    with pytest.raises(ConfigError, match=expected):
        read.check_keys(("defaults",), doc.data["defaults"], ["taxonomy", "mode"])
    with pytest.raises(ConfigError, match="unknown key 'taxonomi'; known: zebra, yak"):
        read.check_keys(("defaults",), doc.data["defaults"], ["zebra", "yak"])
    read.warn_unknown_keys(("defaults",), doc.data["defaults"], ["taxonomy"])
    assert [str(w) for w in read.warnings] == [
        "r.yaml:2:13: defaults.taxonomi: unknown key 'taxonomi' is ignored; did you mean 'taxonomy'?"
    ]


@pytest.mark.parametrize(
    ("text", "read_value", "message"),
    [
        ("a: '3'\n", lambda r, v: r.as_int(("a",), v), "a: expected an integer, got string '3'"),
        ("a: true\n", lambda r, v: r.as_int(("a",), v), "a: expected an integer, got boolean true"),
        ("a: 0\n", lambda r, v: r.as_int(("a",), v, minimum=1), "a: must be >= 1, got 0"),
        ("a: [1]\n", lambda r, v: r.as_bool(("a",), v), "a: expected true or false, got a list"),
        ("a: {b: 1}\n", lambda r, v: r.as_str(("a",), v), "a: expected a string, got a mapping"),
        ("a: [x, 2]\n", lambda r, v: r.as_strings(("a",), v), "a: expected a list of strings, got a list"),
        ("a: x\n", lambda r, v: r.as_mapping(("a",), v), "a: expected a mapping, got string 'x'"),
        ("a: [1, 2, 3]\n", lambda r, v: r.as_resolution(("a",), v), "a: expected [width, height], got 3 values"),
    ],
)
def test_wrong_values_are_one_located_line(text, read_value, message):
    doc = parse_document(text, "c.yaml")
    with pytest.raises(ConfigError) as caught:
        read_value(FieldReader(doc), doc.data["a"])
    assert str(caught.value) == f"c.yaml:1:4: {message}"


def test_optional_mappings_and_single_strings():
    read = FieldReader(parse_document("{}\n"))
    assert read.as_mapping(("a",), None, optional=True) == {}
    assert read.as_strings(("a",), "one", allow_single=True) == ["one"]
    with pytest.raises(ConfigError, match="expected a list of strings"):
        read.as_strings(("a",), "one")


def test_checks_without_a_file_raise_the_bare_problem():
    with pytest.raises(ValueProblem, match=r"^'pnj' is not one of png, jpg; did you mean 'png'\?$"):
        expect_choice("pnj", ("png", "jpg"))
    with pytest.raises(ValueProblem, match=r"^must be >= 0, got -2$"):
        expect_int(-2, minimum=0)
    assert expect_strings(("a", "b")) == ["a", "b"]
    assert did_you_mean("colour", ["color", "size"]) == "; did you mean 'color'?"
    assert did_you_mean("zzz", ["color", "size"]) == ""
    assert did_you_mean("zzz", ["color", "size"], list_known=True) == "; known: color, size"
