"""The ``sdg_studio`` block SDG Studio adds to recorder configs (Isaac Sim's recorder ignores unknown keys).

Keys: ``policy`` (refuse / overwrite / increment / timestamp), ``seed`` (int), ``backend`` (embedded /
replicator), ``randomization`` (a scenario file, relative to the config's folder, or the scenario itself as a
mapping), ``camera_jitter`` (``{position: units, rotation: degrees}``, a shorthand for one more camera
randomizer), ``classes`` (a rules file whose ``classes`` fix label ids and colors) and ``writer_params``
(keyword arguments of the writer that the recorder JSON has no place for).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from omni.sdg_studio.core.config_document import FieldPath
from omni.sdg_studio.core.fields import FieldReader
from omni.sdg_studio.core.randomize.source import ScenarioSource, inline_scenario_source, load_scenario_source
from omni.sdg_studio.core.recorder.config import (
    RENDER_BACKENDS,
    CameraJitter,
    OutputPolicy,
    RecorderConfig,
)

BLOCK_KEY = "sdg_studio"
BLOCK_KEYS = ("policy", "seed", "backend", "randomization", "camera_jitter", "classes", "writer_params")


def read_extension_block(reader: FieldReader, data: Mapping[str, Any], config: RecorderConfig) -> bool:
    """Apply ``data["sdg_studio"]`` to ``config``; return whether it held ``writer_params``."""
    if BLOCK_KEY not in data:
        return False
    path = (BLOCK_KEY,)
    block = reader.as_mapping(path, data[BLOCK_KEY])
    reader.warn_unknown_keys(path, block, BLOCK_KEYS)
    if "policy" in block:
        value = reader.as_choice((*path, "policy"), block["policy"], [p.value for p in OutputPolicy])
        config.output.policy = OutputPolicy(value)
    if block.get("seed") is not None:
        with reader.at((*path, "seed")):
            config.seed = reader.as_int((*path, "seed"), block["seed"])
    if "backend" in block:
        config.backend = reader.as_choice((*path, "backend"), block["backend"], RENDER_BACKENDS)
    if block.get("randomization") is not None:
        config.randomization = read_randomization(reader, (*path, "randomization"), block["randomization"])
    if "camera_jitter" in block:
        jitter_path = (*path, "camera_jitter")
        jitter = reader.as_mapping(jitter_path, block["camera_jitter"])
        reader.warn_unknown_keys(jitter_path, jitter, ("position", "rotation"))
        position = reader.as_number((*jitter_path, "position"), jitter.get("position", 0.0))
        rotation = reader.as_number((*jitter_path, "rotation"), jitter.get("rotation", 0.0))
        with reader.at(jitter_path, position="position", rotation="rotation"):
            config.camera_jitter = CameraJitter(position, rotation)
    if "classes" in block:
        config.classes = reader.as_str((*path, "classes"), block["classes"])
    if "writer_params" in block:
        config.writer_params = dict(reader.as_mapping((*path, "writer_params"), block["writer_params"]))
        return True
    return False


def read_randomization(reader: FieldReader, at: FieldPath, value: Any) -> ScenarioSource:
    """A scenario file path (relative to the config's folder) or a scenario written inline at ``at``."""
    doc = reader.doc
    base_dir = doc.path.parent if doc.path is not None else Path.cwd()
    if isinstance(value, Mapping):
        return inline_scenario_source(doc, at, base_dir)
    text = reader.as_str(at, value)
    path = Path(text) if Path(text).is_absolute() else base_dir / text
    if not path.is_file():
        raise reader.error(at, f"scenario file not found: {path}")
    return load_scenario_source(path)


def extension_block(config: RecorderConfig, *, inline_scenario: bool = False) -> dict[str, Any]:
    """The ``sdg_studio`` block for ``config`` (only values that differ from a bare recorder config).

    The scenario is written as its file's absolute path, or as its resolved content when it has no file
    or with ``inline_scenario`` (a manifest holds the scenario as run, not a file that may change)."""
    block: dict[str, Any] = {"policy": config.output.policy.value, "backend": config.backend}
    if config.seed is not None:
        block["seed"] = config.seed
    source = config.randomization
    if source is not None:
        block["randomization"] = source.content if inline_scenario or source.path is None else str(source.path)
    if config.camera_jitter.enabled:
        block["camera_jitter"] = {"position": config.camera_jitter.position, "rotation": config.camera_jitter.rotation}
    if config.classes:
        block["classes"] = config.classes
    if config.writer_params:
        block["writer_params"] = config.writer_params
    return block
