"""The rules file: a valid one loads; every kind of bad input names file, line, column, field or rule."""

import json
import re

import pytest

from omni.sdg_studio.core.colors import stable_color
from omni.sdg_studio.core.config_document import ConfigError
from omni.sdg_studio.core.semantics.rules_file import (
    dump_rules_data,
    load_class_table,
    load_rules,
    parse_rules_text,
    rules_from_data,
)


def write(tmp_path, text, name="rules.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def error_of(tmp_path, text):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_rules(path)
    return str(caught.value), path


def test_shipped_warehouse_rules_load(repo_root):
    rules = load_rules(repo_root / "config" / "rules" / "warehouse.yaml")
    assert rules.defaults.taxonomy == "class"
    assert [r.id for r in rules.rules][:2] == ["pallets", "cardboxes"]
    assert {c.name for c in rules.classes} >= {"pallet", "cardbox", "crate", "rack", "traffic_cone", "forklift"}
    ids = [c.id for c in rules.classes]
    assert len(ids) == len(set(ids))


def test_malformed_yaml_names_file_line_and_column(tmp_path):
    message, path = error_of(tmp_path, "version: 1\nrules:\n  - id: a\n    match: {glob: [x\n")
    assert message.startswith(f"{path}:")
    assert re.match(rf"{re.escape(str(path))}:\d+:\d+: not valid YAML", message)


def test_invalid_regex_names_rule_id_regex_error_and_location(tmp_path):
    message, path = error_of(
        tmp_path,
        "version: 1\nrules:\n  - id: ok\n    auto: true\n"
        "  - id: broken-boxes\n    match: {regex: 'Box(_\\d+'}\n    labels: box\n",
    )
    assert f"{path}:6:" in message
    assert "rule 'broken-boxes'" in message
    assert "missing ), unterminated subpattern" in message  # Python's own re.error text
    assert "rules[1].match.regex" in message


def test_unknown_key_suggests_the_closest_valid_key(tmp_path):
    message, path = error_of(tmp_path, "version: 1\nrules:\n  - id: a\n    lables: box\n")
    assert f"{path}:4:" in message
    assert "unknown key 'lables'; did you mean 'labels'?" in message
    message, _ = error_of(tmp_path, "version: 1\ndefaults:\n  hierachy: topmost\n")
    assert "did you mean 'hierarchy'?" in message


@pytest.mark.parametrize(
    ("labels", "fragment"),
    [
        ("'card box'", "contains whitespace"),
        ("'a:b'", "contains ':'"),
        ("'a,b'", "contains ','"),
        ("'{nam}'", "unknown field {nam}"),
        ("'{name|shout}'", "unknown filter |shout"),
        ("'x}'", "stray '}'"),
    ],
)
def test_bad_labels_are_rejected_with_the_rule_id(tmp_path, labels, fragment):
    message, _ = error_of(tmp_path, f"version: 1\nrules:\n  - id: r1\n    labels: {labels}\n")
    assert fragment in message
    assert "r1" in message


def test_bad_taxonomy_and_choices(tmp_path):
    assert "taxonomy 'my:class'" in error_of(tmp_path, "version: 1\ndefaults: {taxonomy: 'my:class'}\n")[0]
    assert "'merge' is not one of add, replace, skip" in error_of(tmp_path, "version: 1\ndefaults: {mode: merge}\n")[0]
    message, _ = error_of(tmp_path, "version: 1\nrules:\n  - id: a\n    labels: {'bad tax': x}\n")
    assert "taxonomy 'bad tax'" in message


def test_unknown_schema_type_suggests_one(tmp_path):
    message, _ = error_of(tmp_path, "version: 1\ndefaults: {isa: [Gprm]}\n")
    assert "unknown schema type 'Gprm'; did you mean 'Gprim'?" in message


def test_structure_errors(tmp_path):
    assert "missing 'version'" in error_of(tmp_path, "rules: []\n")[0]
    assert "unsupported version 2" in error_of(tmp_path, "version: 2\n")[0]
    assert (
        "duplicate rule id 'a'"
        in error_of(tmp_path, "version: 1\nrules:\n  - {id: a, auto: true}\n  - {id: a, auto: true}\n")[0]
    )
    assert "needs either 'labels' or 'auto: true'" in error_of(tmp_path, "version: 1\nrules:\n  - {id: a}\n")[0]
    assert (
        "exactly one of glob, regex, contains"
        in error_of(tmp_path, "version: 1\nrules:\n  - {id: a, auto: true, match: {glob: x, regex: y}}\n")[0]
    )
    assert "not an absolute prim path" in error_of(tmp_path, "version: 1\nscope: {roots: [World]}\n")[0]
    assert "must be a path glob" in error_of(tmp_path, "version: 1\nscope: {exclude: [Looks]}\n")[0]
    assert "rule without 'id'" in error_of(tmp_path, "version: 1\nrules:\n  - {auto: true}\n")[0]


def test_classes_ids_colors_and_reserved_values(tmp_path):
    path = write(
        tmp_path,
        "version: 1\nclasses:\n  pallet: {id: 2, color: [10, 20, 30]}\n  box: {}\n  cone: {id: 1}\n  crate:\n",
    )
    table = load_class_table(path)
    by_name = {c.name: c for c in table.classes}
    assert by_name["pallet"].id == 2 and by_name["pallet"].color == (10, 20, 30, 255)
    assert by_name["cone"].id == 1
    assert {by_name["box"].id, by_name["crate"].id} == {3, 4}  # free ids, in file order
    assert by_name["box"].color == stable_color("box")
    assert table.color("pallet") == (10, 20, 30, 255)
    assert "already used by class 'a'" in error_of(tmp_path, "version: 1\nclasses:\n  a: {id: 1}\n  b: {id: 1}\n")[0]
    assert "reserved for UNLABELLED" in error_of(tmp_path, "version: 1\nclasses:\n  a: {color: [0, 0, 0, 255]}\n")[0]
    assert "reserved class name" in error_of(tmp_path, "version: 1\nclasses:\n  BACKGROUND: {}\n")[0]
    assert "class ids start at 1" in error_of(tmp_path, "version: 1\nclasses:\n  a: {id: 0}\n")[0]


def test_json_is_accepted_and_yaml_on_key_works(tmp_path):
    data = {
        "version": 1,
        "rules": [{"id": "p", "match": {"glob": "/W/*", "on": "path"}, "labels": {"class": ["a", "b"]}}],
    }
    rules = load_rules(write(tmp_path, json.dumps(data), "rules.json"))
    assert rules.rules[0].matches[0].on == "path"
    assert [t.text for t in rules.rules[0].labels[0][1]] == ["a", "b"]
    yaml_rules = parse_rules_text("version: 1\nrules:\n  - {id: p, match: {glob: '/W/*', on: path}, labels: a}\n")
    assert yaml_rules.rules[0].matches[0].on == "path"


def test_data_round_trips_through_dump(tmp_path):
    data = {"version": 1, "defaults": {"mode": "replace"}, "rules": [{"id": "x", "match": "*Box*", "labels": "box"}]}
    again = parse_rules_text(dump_rules_data(data))
    assert again == rules_from_data(data)
    assert again.defaults.mode == "replace" and again.rules[0].matches[0].pattern == "*Box*"


def test_remove_rules_take_taxonomies_or_plain_labels(tmp_path):
    rules = parse_rules_text(
        "version: 1\nrules:\n  - {id: all, action: remove, taxonomies: ['*']}\n"
        "  - {id: some, action: remove, labels: {class: [a, b]}}\n  - {id: cls, action: remove}\n"
    )
    assert [r.taxonomies for r in rules.rules] == [("*",), ("class",), ("class",)]
    message, _ = error_of(tmp_path, "version: 1\nrules:\n  - {id: x, action: exclude, labels: a}\n")
    assert "exclude rule takes no labels" in message
