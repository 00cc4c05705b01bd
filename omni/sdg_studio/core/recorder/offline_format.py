"""Isaac Sim's offline-generation configs (``scene_based_sdg.py --config file.yaml|json``).

The file is shallow-merged over the script's defaults (a file with ``writer_config`` replaces the default
``writer_config`` whole). Output goes to ``backend_params.output_dir`` when ``backend_type`` is set,
else to ``writer_config.output_dir`` (the pre-6.0 layout). Scene-building keys (``launch_config``,
``env_url``, asset entries with a ``url``) are accepted and not used: the stage comes from the caller.
"""

from __future__ import annotations

from typing import Any

from omni.sdg_studio.core.config_document import ConfigDocument
from omni.sdg_studio.core.fields import FieldReader
from omni.sdg_studio.core.recorder.config import (
    BASIC_WRITER,
    BASIC_WRITER_FLAGS,
    DISK_BACKEND,
    S3_BACKEND,
    STORAGE_BACKENDS,
    RecorderConfig,
)
from omni.sdg_studio.core.recorder.extension_block import BLOCK_KEY, read_extension_block

#: Keys the recorder uses.
OFFLINE_KEYS = ("resolution", "num_frames", "rt_subframes", "writer", "writer_config", "backend_type", "backend_params")
#: Keys of the script that set up the scene or the app; accepted, not used here.
SCENE_KEYS = ("launch_config", "env_url", "clear_previous_semantics", "close_app_after_run")
#: ``scene_based_sdg.py`` defaults (Isaac Sim 6.0).
DEFAULTS: dict[str, Any] = {
    "resolution": [512, 512],
    "rt_subframes": 32,
    "num_frames": 10,
    "writer": BASIC_WRITER,
    "backend_type": DISK_BACKEND,
    "backend_params": {"output_dir": "_out_scene_based_sdg"},
    "writer_config": {
        "rgb": True,
        "bounding_box_2d_tight": True,
        "semantic_segmentation": True,
        "distance_to_image_plane": True,
        "bounding_box_3d": True,
        "occlusion": True,
    },
}


#: Keys that only the offline-generation configs have (the recorder JSON shares the others).
OFFLINE_ONLY_KEYS = frozenset(("resolution", "writer", "writer_config", *SCENE_KEYS))


def config_from_offline(doc: ConfigDocument, reader: FieldReader | None = None) -> RecorderConfig:
    """A :class:`RecorderConfig` (no render products: cameras come from the caller) from an offline config."""
    reader = reader or FieldReader(doc)
    data = reader.as_mapping((), doc.data)
    for key, value in data.items():
        is_asset = isinstance(value, dict) and "url" in value
        if key not in (*OFFLINE_KEYS, *SCENE_KEYS, BLOCK_KEY) and not is_asset:
            reader.warn_unknown_keys((), {key: value}, (*OFFLINE_KEYS, *SCENE_KEYS))
    merged = {**DEFAULTS, **data}
    config = RecorderConfig(render_products=[])
    with reader.at(("resolution",)):
        config.resolution = reader.as_resolution(("resolution",), merged["resolution"])
    with reader.at(("num_frames",)):
        config.frames = reader.as_int(("num_frames",), merged["num_frames"])
    with reader.at(("rt_subframes",)):
        config.rt_subframes = reader.as_int(("rt_subframes",), merged["rt_subframes"])
    config.writer_name = reader.as_str(("writer",), merged["writer"])
    if not config.writer_name:
        raise doc.error(("writer",), "must name a writer, e.g. BasicWriter")

    writer_config = dict(reader.as_mapping(("writer_config",), merged["writer_config"], optional=True))
    writer_output = writer_config.pop("output_dir", None)
    if config.writer_name == BASIC_WRITER:
        config.basic_writer_params = dict.fromkeys(BASIC_WRITER_FLAGS, False)
        for key in BASIC_WRITER_FLAGS:
            if key in writer_config:
                config.basic_writer_params[key] = reader.as_bool(("writer_config", key), writer_config.pop(key))
    config.writer_params = writer_config

    backend_type = merged["backend_type"]
    if backend_type is not None:
        config.storage = reader.as_choice(("backend_type",), backend_type, STORAGE_BACKENDS)
    backend_params = reader.as_mapping(("backend_params",), merged["backend_params"], optional=True)
    output: tuple[Any, tuple[str, str]] | None = None
    if backend_type is not None:
        if "output_dir" in backend_params:
            output = (backend_params["output_dir"], ("backend_params", "output_dir"))
        if config.storage == S3_BACKEND:
            for attr, key in (("bucket", "bucket"), ("region", "region"), ("endpoint", "endpoint_url")):
                setattr(config.s3, attr, reader.as_str(("backend_params", key), backend_params.get(key, "")))
            if "key_prefix" in backend_params:
                output = (backend_params["key_prefix"], ("backend_params", "key_prefix"))
    if writer_output is not None:
        if output is None:
            output = (writer_output, ("writer_config", "output_dir"))
        else:
            reader.warn(("writer_config", "output_dir"), f"ignored: {'.'.join(output[1])} is used")
    if output is None:
        raise doc.error(("backend_params",), "no output folder: set backend_params.output_dir")
    config.output.folder = reader.as_str(output[1], output[0])
    read_extension_block(reader, data, config)
    return config
