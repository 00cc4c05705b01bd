"""The recorder model as Kit uses it: Replicator sessions, the open stage, Replicator's writer registry.

One :class:`RecorderModel` per extension: the "Synthetic Data Recorder" window and the
"Record N Frames" menu entry share it, so the menu records with what the window last used.
"""

from __future__ import annotations

import inspect
from functools import cache
from pathlib import Path
from typing import Any

import carb
import omni.kit.app
import omni.replicator.core as rep
import omni.usd

from omni.sdg_studio.backends.replicator.recorder_session import ReplicatorCaptureSession
from omni.sdg_studio.core.recorder.model import BUILTIN_WRITERS, RecorderModel
from omni.sdg_studio.core.writers.params import ParamKind, WriterParam
from omni.sdg_studio.core.writers.registry import WRITERS

#: Keyword arguments of Replicator writers that the recorder fills in itself.
RECORDER_OWNED = frozenset({"backend", "output_dir", "s3_bucket", "s3_region", "s3_endpoint"})
KIND_OF_DEFAULT: dict[type, ParamKind] = {
    bool: "bool",
    int: "int",
    float: "float",
    str: "str",
    dict: "mapping",
    list: "str_list",
}


def replicator_writer_names() -> list[str]:
    """Writers registered with Replicator (BasicWriter, KittiWriter, custom ones...)."""
    return sorted(rep.WriterRegistry.get_writers())


@cache
def replicator_param_specs(writer_name: str) -> tuple[WriterParam, ...]:
    """Typed parameters of a writer: SDG Studio's description for the built-in writers (same keywords as
    Replicator's), else read from the Replicator writer's ``initialize()`` defaults."""
    if writer_name in BUILTIN_WRITERS:
        return WRITERS.get(writer_name).params
    try:
        signature = inspect.signature(rep.WriterRegistry.get(writer_name).initialize)
    except Exception as exc:  # an unknown or broken writer: no typed fields, the JSON parameters file still works
        carb.log_warn(f"[SDG Studio] cannot read the parameters of {writer_name}: {exc}")
        return ()
    specs = []
    for param in signature.parameters.values():
        if param.name in RECORDER_OWNED or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        default: Any = None if param.default is param.empty else param.default
        kind: ParamKind = KIND_OF_DEFAULT.get(type(default), "str")
        specs.append(WriterParam(param.name, kind, default, nullable=default is None))
    return tuple(specs)


def make_recorder_model(ext_id: str) -> RecorderModel:
    """The extension's recorder model; its last config lives in the extension's ``data/`` folder as in Isaac Sim."""
    ext_path = Path(omni.kit.app.get_app().get_extension_manager().get_extension_path(ext_id))
    return RecorderModel(
        ReplicatorCaptureSession.for_stage,
        lambda: omni.usd.get_context().get_stage(),
        last_config_path=ext_path / "data" / "last_config.json",
        writer_names=replicator_writer_names,
        param_specs=replicator_param_specs,
    )
