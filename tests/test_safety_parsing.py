"""Bounded parsing: hostile YAML / JSON is one line naming the file (and line) in milliseconds, for recorder
configs, rules files and scenario files alike; JSON's ``1e-05`` is a number."""

from __future__ import annotations

import json
import resource
from pathlib import Path

import pytest

from omni.sdg_studio.core.config_document import MAX_ALIAS_NODES, ConfigError, load_document, parse_document
from omni.sdg_studio.core.randomize.scenario_file import load_scenario
from omni.sdg_studio.core.recorder.loading import load_recorder_config
from omni.sdg_studio.core.semantics.rules_file import load_rules

#: The classic alias bomb: nine levels of nine aliases, 342 bytes, 9**9 strings when expanded.
ALIAS_BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{b}: &{b} [{', '.join(['*' + a] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True)
)
LOADERS = {"recorder config": load_recorder_config, "rules file": load_rules, "scenario file": load_scenario}


@pytest.fixture
def memory_cap():
    """Cap this process's address space to 2 GiB more than now, so a runaway expansion fails loudly."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    used = int(Path("/proc/self/statm").read_text().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (used + 2 * 1024**3, hard))
    yield
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def one_line(error: ConfigError, file: Path) -> str:
    text = str(error)
    assert "\n" not in text and text.startswith(f"{file}:")
    return text


@pytest.mark.parametrize("loader", LOADERS)
def test_the_alias_bomb_is_refused_at_once(tmp_path: Path, loader: str, memory_cap):
    assert len(ALIAS_BOMB) < 600
    path = tmp_path / "bomb.yaml"
    path.write_text(ALIAS_BOMB)
    with pytest.raises(ConfigError) as info:
        LOADERS[loader](path)
    assert f"at most {MAX_ALIAS_NODES} more" in one_line(info.value, path)


@pytest.mark.parametrize("loader", LOADERS)
def test_a_recursive_alias_is_refused(tmp_path: Path, loader: str):
    path = tmp_path / "loop.yaml"
    path.write_text("version: 1\nrules: &r\n  - *r\n")
    with pytest.raises(ConfigError) as info:
        LOADERS[loader](path)
    assert "recursive alias" in one_line(info.value, path)


@pytest.mark.parametrize(
    "text",
    ["[" * 5000, "[" * 5000 + "]" * 5000, "{a: " * 5000, "a:\n" + "".join(" " * i + "b:\n" for i in range(1, 400))],
)
def test_deep_nesting_is_one_line_not_a_recursion_error(tmp_path: Path, text: str):
    path = tmp_path / "deep.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_recorder_config(path)
    assert "nested more than 100 levels deep" in one_line(info.value, path)


def test_aliases_within_the_budget_and_merge_keys_still_work():
    doc = parse_document("base: &b {x: 1, y: [1, 2]}\nuse:\n  <<: *b\n  x: 2\nagain: *b\n", "ok.yaml")
    assert doc.data["use"] == {"x": 2, "y": [1, 2]} and doc.data["again"] == {"x": 1, "y": [1, 2]}


def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path: Path, monkeypatch):
    import omni.sdg_studio.core.config_document as config_document

    monkeypatch.setattr(config_document, "MAX_BYTES", 1000)
    path = tmp_path / "big.yaml"
    path.write_text("a: " + "x" * 2000)
    with pytest.raises(ConfigError, match="config files are at most 1000 bytes"):
        load_document(path)


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        ("dup.yaml", "num_frames: 3\nrt_subframes: 0\nnum_frames: 4\n", 3),
        ("dup.json", '{\n  "num_frames": 3,\n  "out_dir": "a",\n  "num_frames": 4\n}\n', 4),
        ("nested.json", '{"rp_data": [],\n "sdg_studio": {"seed": 1,\n   "seed": 2}}', 3),
    ],
)
def test_duplicate_keys_are_refused_with_file_and_line(tmp_path: Path, name: str, text: str, line: int):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_recorder_config(path)
    assert "duplicate key" in one_line(info.value, path) and info.value.line == line


@pytest.mark.parametrize("text", ['{\n  "num_frames": 3,\n}\n', '{"rp_data": [\n  ["/World/Cam", 8, 8],\n]}'])
def test_a_json_trailing_comma_is_refused_with_file_and_line(tmp_path: Path, text: str):
    path = tmp_path / "trailing.json"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_recorder_config(path)
    assert "not valid JSON" in one_line(info.value, path) and info.value.line == 3


def test_small_floats_as_json_dumps_writes_them_are_numbers(tmp_path: Path):
    block = {"camera_jitter": {"position": 0.00001, "rotation": 2e-05}, "seed": 1}
    text = json.dumps({"num_frames": 1, "sdg_studio": block})
    assert "1e-05" in text
    for suffix in (".json", ".yaml"):
        path = tmp_path / f"small{suffix}"
        path.write_text(text)
        jitter = load_recorder_config(path).config.camera_jitter
        assert (jitter.position, jitter.rotation) == (1e-05, 2e-05)
    assert parse_document("a: 1e5\nb: -2.5E-3\nc: '1e-05'\nd: 1e\n").data == {
        "a": 1e5,
        "b": -2.5e-3,
        "c": "1e-05",
        "d": "1e",
    }
