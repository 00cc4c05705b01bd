"""Isaac Sim's Synthetic Data Recorder JSON config, loaded and saved key for key.

Load rules follow ``SyntheticRecorderWindow._load_config`` (isaacsim.replicator.synthetic_recorder 2.4.x):
every key optional (missing keeps the window default), 3-element ``rp_data`` rows get an empty name,
``backend_type`` outside DiskBackend / S3Backend falls back to the legacy ``use_s3`` flag, S3 fields are
re-read from ``backend_params`` and ``backend_params`` itself is always derived from the output fields.
Unlike the window, a wrong value is an error naming file, line and field, and an unknown key a warning.
Save writes the keys and order of ``_save_config`` (indent 4, empty strings skipped) plus the
``sdg_studio`` block.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from omni.sdg_studio.core.atomic import atomic_write_text
from omni.sdg_studio.core.config_document import ConfigDocument, load_document
from omni.sdg_studio.core.fields import FieldReader
from omni.sdg_studio.core.recorder.config import (
    BASIC_WRITER,
    BASIC_WRITER_FLAGS,
    DEFAULT_RESOLUTION,
    DISK_BACKEND,
    KIT_PERSPECTIVE_CAMERA,
    S3_BACKEND,
    STORAGE_BACKENDS,
    RecorderConfig,
)
from omni.sdg_studio.core.recorder.extension_block import BLOCK_KEY, extension_block, read_extension_block
from omni.sdg_studio.core.render_backend import RenderProduct

#: Keys the recorder window reads (``_load_config``), plus the legacy ``use_s3`` flag.
ISAAC_KEYS: tuple[str, ...] = (
    "writer_name",
    "num_frames",
    "rt_subframes",
    "control_timeline",
    "out_working_dir",
    "out_dir",
    "s3_params",
    "use_s3",
    "backend_type",
    "backend_params",
    "basic_writer_params",
    "rp_data",
    "config_file",
    "custom_params_path",
    "custom_writer_name",
)
#: Keys that only the recorder config has (the offline-generation configs share the others).
ISAAC_ONLY_KEYS = frozenset(ISAAC_KEYS) - {"num_frames", "rt_subframes", "backend_type", "backend_params"}
S3_PARAM_KEYS = ("s3_bucket", "s3_region", "s3_endpoint")


def isaac_default_config() -> RecorderConfig:
    """The recorder window's state before any config is loaded (``default_config.json`` values)."""
    return RecorderConfig(render_products=[RenderProduct(KIT_PERSPECTIVE_CAMERA, *DEFAULT_RESOLUTION)])


def config_from_isaac(doc: ConfigDocument, reader: FieldReader | None = None) -> RecorderConfig:
    """A :class:`RecorderConfig` from a parsed recorder JSON document."""
    reader = reader or FieldReader(doc)
    data = reader.as_mapping((), doc.data)
    reader.warn_unknown_keys((), data, (*ISAAC_KEYS, BLOCK_KEY))
    config = isaac_default_config()

    if "writer_name" in data:
        config.writer_name = reader.as_str(("writer_name",), data["writer_name"])
        if not config.writer_name:
            raise doc.error(("writer_name",), "must name a writer, e.g. BasicWriter")
    if "num_frames" in data:
        with reader.at(("num_frames",)):
            config.frames = reader.as_int(("num_frames",), data["num_frames"])
    if "rt_subframes" in data:
        with reader.at(("rt_subframes",)):
            config.rt_subframes = reader.as_int(("rt_subframes",), data["rt_subframes"])
    if "control_timeline" in data:
        config.control_timeline = reader.as_bool(("control_timeline",), data["control_timeline"])
    if "out_working_dir" in data:
        config.output.working_dir = reader.as_str(("out_working_dir",), data["out_working_dir"])
    if "out_dir" in data:
        config.output.folder = reader.as_str(("out_dir",), data["out_dir"])
    for key in ("config_file", "custom_params_path", "custom_writer_name"):
        if key in data:
            setattr(config, key, reader.as_str((key,), data[key]))

    if "s3_params" in data:
        s3 = reader.as_mapping(("s3_params",), data["s3_params"])
        reader.warn_unknown_keys(("s3_params",), s3, S3_PARAM_KEYS)
        config.s3.bucket = reader.as_str(("s3_params", "s3_bucket"), s3.get("s3_bucket", config.s3.bucket))
        config.s3.region = reader.as_str(("s3_params", "s3_region"), s3.get("s3_region", config.s3.region))
        config.s3.endpoint = reader.as_str(("s3_params", "s3_endpoint"), s3.get("s3_endpoint", config.s3.endpoint))
    config.storage = _storage(reader, data)
    if data.get("backend_params") is not None:
        _read_backend_params(reader, data["backend_params"], config)

    if "basic_writer_params" in data:
        path = ("basic_writer_params",)
        flags = reader.as_mapping(path, data["basic_writer_params"])
        reader.warn_unknown_keys(path, flags, BASIC_WRITER_FLAGS)
        for key, value in flags.items():
            if key in BASIC_WRITER_FLAGS:
                config.basic_writer_params[key] = reader.as_bool((*path, key), value)
    if "rp_data" in data:
        config.render_products = _read_rp_data(reader, data["rp_data"])

    has_params = read_extension_block(reader, data, config)
    if config.writer_name != BASIC_WRITER and not has_params and config.custom_params_path:
        config.writer_params = _read_custom_params(doc, config.custom_params_path)
    return config


def _storage(reader: FieldReader, data: Mapping[str, Any]) -> str:
    backend_type = data.get("backend_type")
    if backend_type in STORAGE_BACKENDS:
        return backend_type
    if backend_type is not None:
        reader.warn(("backend_type",), f"'{backend_type}' is not one of {', '.join(STORAGE_BACKENDS)}; use_s3 decides")
    use_s3 = reader.as_bool(("use_s3",), data["use_s3"]) if "use_s3" in data else False
    return S3_BACKEND if use_s3 else DISK_BACKEND


def _read_backend_params(reader: FieldReader, value: Any, config: RecorderConfig) -> None:
    path = ("backend_params",)
    params = reader.as_mapping(path, value)
    if config.storage == S3_BACKEND:
        reader.warn_unknown_keys(path, params, ("key_prefix", "bucket", "region", "endpoint_url"))
        config.s3.bucket = reader.as_str((*path, "bucket"), params.get("bucket", config.s3.bucket))
        config.s3.region = reader.as_str((*path, "region"), params.get("region", config.s3.region))
        config.s3.endpoint = reader.as_str((*path, "endpoint_url"), params.get("endpoint_url", config.s3.endpoint))
        return
    reader.warn_unknown_keys(path, params, ("output_dir",))
    saved = params.get("output_dir")
    derived = str(config.output.path)
    if saved is not None and os.path.normpath(str(saved)) != os.path.normpath(derived):
        reader.warn(
            (*path, "output_dir"),
            f"derived from out_working_dir / out_dir as the recorder does: writing to '{derived}', not '{saved}'",
        )


def _read_rp_data(reader: FieldReader, value: Any) -> list[RenderProduct]:
    rows = reader.as_list(("rp_data",), value)
    products = []
    for index, row_value in enumerate(rows):
        path = ("rp_data", index)
        row = reader.as_list(path, row_value)
        if len(row) not in (3, 4):
            raise reader.error(path, f"expected [camera_path, width, height(, name)], got {len(row)} values")
        camera = reader.as_str((*path, 0), row[0])
        if not camera.startswith("/"):
            raise reader.error((*path, 0), f"camera path '{camera}' must be absolute (start with '/')")
        width, height = reader.as_int((*path, 1), row[1]), reader.as_int((*path, 2), row[2])
        name = reader.as_str((*path, 3), row[3]) if len(row) == 4 else ""
        with reader.at(path, width=1, height=2, name=3):
            products.append(RenderProduct(camera, width, height, name or None))
    return products


def _read_custom_params(doc: ConfigDocument, params_path: str) -> dict[str, Any]:
    """The custom writer's kwargs file (relative paths: current directory first, then the config's folder)."""
    candidates = [Path(params_path)]
    if doc.path is not None and not Path(params_path).is_absolute():
        candidates.append(doc.path.parent / params_path)
    found = next((p for p in candidates if p.is_file()), None)
    if found is None:
        raise doc.error(("custom_params_path",), f"writer parameters file '{params_path}' not found")
    params_doc = load_document(found)
    if not isinstance(params_doc.data, dict):
        raise params_doc.error((), "writer parameters must be a mapping of keyword arguments")
    return params_doc.data


def backend_params(config: RecorderConfig) -> dict[str, Any]:
    """``backend.initialize()`` kwargs as the window derives them (``_configure_disk/s3_backend``)."""
    if config.storage != S3_BACKEND:
        return {"output_dir": str(config.output.path)}
    derived = {
        "key_prefix": config.output.folder,
        "bucket": config.s3.bucket,
        "region": config.s3.region,
        "endpoint_url": config.s3.endpoint,
    }
    return {key: value for key, value in derived.items() if value}


def config_to_isaac(config: RecorderConfig, *, inline_scenario: bool = False) -> dict[str, Any]:
    """The recorder JSON of ``config``, keys in ``_save_config`` order, plus the ``sdg_studio`` block (with
    ``inline_scenario``, the scenario's content instead of its file's path)."""
    out: dict[str, Any] = {
        "num_frames": config.frames,
        "rt_subframes": config.rt_subframes,
        "control_timeline": config.control_timeline,
        "rp_data": [[rp.camera, rp.width, rp.height, rp.name or ""] for rp in config.render_products],
    }
    if config.writer_name:
        out["writer_name"] = config.writer_name
    out["out_working_dir"] = config.output.working_dir
    if config.output.folder:
        out["out_dir"] = config.output.folder
    out["s3_params"] = {"s3_bucket": config.s3.bucket, "s3_region": config.s3.region, "s3_endpoint": config.s3.endpoint}
    if config.basic_writer_params:
        out["basic_writer_params"] = dict(config.basic_writer_params)
    if config.storage:
        out["backend_type"] = config.storage
    params = backend_params(config)
    if params:
        out["backend_params"] = params
    for key in ("custom_writer_name", "config_file", "custom_params_path"):
        if getattr(config, key):
            out[key] = getattr(config, key)
    out[BLOCK_KEY] = extension_block(config, inline_scenario=inline_scenario)
    return out


def save_isaac_config(config: RecorderConfig, path: str | Path) -> Path:
    """Write ``config`` as recorder JSON (indent 4, as the window saves), atomically."""
    path = Path(path)
    atomic_write_text(path, json.dumps(config_to_isaac(config), indent=4) + "\n", durable=True)
    return path
