from pathlib import Path

import pytest

from omni.sdg_studio.core.config_document import ConfigError, format_field, load_document, parse_document


def test_marks_point_at_lines_of_nested_fields():
    doc = parse_document("version: 1\nrules:\n  - id: a\n    match: {name: 'x*'}\n  - id: b\n", "r.yaml")
    assert doc.data["rules"][1]["id"] == "b"
    assert doc.location(("rules", 1, "id")) == (5, 9)
    assert doc.location(("rules", 0, "match", "name")) == (4, 19)
    # unknown paths fall back to the nearest ancestor
    assert doc.location(("rules", 1, "nope")) == doc.location(("rules", 1))


def test_error_message_names_file_line_column_and_field():
    doc = parse_document("a:\n  b: 3\n", "cfg.yaml")
    err = doc.error(("a", "b"), "must be a string")
    assert str(err) == "cfg.yaml:2:6: a.b: must be a string"
    assert (err.line, err.column, err.field) == (2, 6, "a.b")


def test_malformed_yaml_names_line_and_column():
    with pytest.raises(ConfigError) as info:
        parse_document("a: [1, 2\nb: 3\n", "bad.yaml")
    assert info.value.file == "bad.yaml" and info.value.line is not None
    assert str(info.value).startswith("bad.yaml:")


def test_json_is_accepted(tmp_path: Path):
    path = tmp_path / "c.json"
    path.write_text('{"version": 1,\n "rules": [{"id": "x"}]}')
    doc = load_document(path)
    assert doc.data == {"version": 1, "rules": [{"id": "x"}]}
    assert doc.location(("rules", 0, "id"))[0] == 2


def test_missing_file_is_a_config_error(tmp_path: Path):
    with pytest.raises(ConfigError, match="file not found"):
        load_document(tmp_path / "nope.yaml")


def test_format_field():
    assert format_field(("rules", 2, "match", "name")) == "rules[2].match.name"
    assert format_field(()) == ""
