"""Load any recorder config file: Isaac Sim's recorder JSON or an offline-generation YAML / JSON config."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from omni.sdg_studio.core.config_document import ConfigDocument, ConfigError, FieldPath, load_document
from omni.sdg_studio.core.fields import ConfigWarning, FieldReader
from omni.sdg_studio.core.recorder.config import BASIC_WRITER, BASIC_WRITER_FLAGS, RecorderConfig
from omni.sdg_studio.core.recorder.extension_block import BLOCK_KEY
from omni.sdg_studio.core.recorder.isaac_format import ISAAC_ONLY_KEYS, config_from_isaac
from omni.sdg_studio.core.recorder.offline_format import OFFLINE_ONLY_KEYS, config_from_offline


class ConfigFormat(str, Enum):
    """Which file format a config was read from."""

    RECORDER = "recorder"  # the Synthetic Data Recorder window's JSON
    OFFLINE = "offline"  # scene_based_sdg.py's YAML / JSON


@dataclass
class LoadedConfig:
    """A validated config, the format it was read in and what in it was ignored."""

    config: RecorderConfig
    format: ConfigFormat
    document: ConfigDocument
    warnings: list[ConfigWarning] = field(default_factory=list)

    @property
    def path(self) -> Path | None:
        return self.document.path

    def writer_param_error(self, param: str | None, message: str) -> ConfigError:
        """A :class:`ConfigError` located where this file sets writer parameter ``param``."""
        data = self.document.data if isinstance(self.document.data, dict) else {}
        where: FieldPath
        if self.format is ConfigFormat.OFFLINE:
            where = ("writer_config", param) if param else ("writer",)
        elif param in BASIC_WRITER_FLAGS and self.config.writer_name == BASIC_WRITER:
            where = ("basic_writer_params", param)
        elif param is None and self.config.writer_name == BASIC_WRITER and "basic_writer_params" in data:
            where = ("basic_writer_params",)
        elif isinstance(data.get(BLOCK_KEY), dict) and "writer_params" in data[BLOCK_KEY]:
            where = (BLOCK_KEY, "writer_params", param) if param else (BLOCK_KEY, "writer_params")
        elif self.config.custom_params_path:
            where = ("custom_params_path",)
        else:
            where = ("writer_name",)
        return self.document.error(where, message)


def detect_format(doc: ConfigDocument) -> ConfigFormat:
    """Recorder JSON if it has a recorder-only key, offline config if it has an offline-only key."""
    if not isinstance(doc.data, dict):
        if doc.data is None:
            raise ConfigError("the file is empty; expected a recorder or offline-generation config", file=doc.path)
        raise doc.error((), "expected a mapping of config keys at the top level")
    recorder_keys = sorted(k for k in doc.data if k in ISAAC_ONLY_KEYS)
    offline_keys = sorted(k for k in doc.data if k in OFFLINE_ONLY_KEYS)
    if recorder_keys and offline_keys:
        raise doc.error(
            (offline_keys[0],),
            f"mixes recorder-config keys ({', '.join(recorder_keys)}) with offline-generation keys "
            f"({', '.join(offline_keys)}); use one format",
        )
    return ConfigFormat.OFFLINE if offline_keys else ConfigFormat.RECORDER


def parse_recorder_config(doc: ConfigDocument) -> LoadedConfig:
    """Validate a parsed document in whichever format it is."""
    config_format = detect_format(doc)
    reader = FieldReader(doc)
    if config_format is ConfigFormat.OFFLINE:
        config = config_from_offline(doc, reader)
    else:
        config = config_from_isaac(doc, reader)
    return LoadedConfig(config, config_format, doc, reader.warnings)


def load_recorder_config(path: str | Path) -> LoadedConfig:
    """Read and validate a config file; :class:`ConfigError` names file, line and field of a bad value."""
    return parse_recorder_config(load_document(path))
