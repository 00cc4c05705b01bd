"""The ``sdg_studio`` block SDG Studio adds to recorder configs (Isaac Sim's recorder ignores unknown keys).

Keys: ``policy`` (refuse / overwrite / increment / timestamp), ``seed`` (int), ``backend`` (embedded /
replicator), ``camera_jitter`` (``{position: units, rotation: degrees}``), ``classes`` (a rules file whose
``classes`` fix label ids and colors) and ``writer_params`` (keyword arguments of the writer that the
recorder JSON has no place for).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from omni.sdg_studio.core.fields import FieldReader
from omni.sdg_studio.core.recorder.config import (
    RENDER_BACKENDS,
    CameraJitter,
    OutputPolicy,
    RecorderConfig,
)

BLOCK_KEY = "sdg_studio"
BLOCK_KEYS = ("policy", "seed", "backend", "camera_jitter", "classes", "writer_params")


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


def extension_block(config: RecorderConfig) -> dict[str, Any]:
    """The ``sdg_studio`` block for ``config`` (only values that differ from a bare recorder config)."""
    block: dict[str, Any] = {"policy": config.output.policy.value, "backend": config.backend}
    if config.seed is not None:
        block["seed"] = config.seed
    if config.camera_jitter.enabled:
        block["camera_jitter"] = {"position": config.camera_jitter.position, "rotation": config.camera_jitter.rotation}
    if config.classes:
        block["classes"] = config.classes
    if config.writer_params:
        block["writer_params"] = config.writer_params
    return block
