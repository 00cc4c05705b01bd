"""How a Replicator writer is told where to write, on each Isaac Sim line: the one place where 5.1 and 6.0 differ.

Isaac Sim 6.0 (Kit 110.1) creates a storage backend and gives it to the writer: ``backend =
rep.backends.get(backend_type); backend.initialize(**backend_params); writer.initialize(backend=backend, ...)``
(isaac-sim/IsaacSim v6.0.1 ``isaacsim.replicator.synthetic_recorder/.../synthetic_recorder.py`` ``init_recorder``).
Isaac Sim 5.1 (Kit 107.3) gives every writer ``output_dir=`` instead, with ``s3_bucket`` / ``s3_region`` /
``s3_endpoint`` for S3 (v5.1.0, same file), and its writers take no backend (PoseWriter's 5.1 ``__init__`` has
``output_dir`` and ``s3_*`` only; 6.0.1 adds ``backend``). Writers without a ``backend`` parameter get
``output_dir`` on 6.0 as well, as Isaac's own KittiWriter / CocoWriter configs do (v6.0.1
``standalone_examples/replicator/scene_based_sdg/config/config_kitti_writer.yaml``: ``backend_type: null`` and
``writer_config.output_dir``). Everything else we call (stage events through ``carb.eventdispatcher``, the
orchestrator, render products, annotators, omni.ui) is the same on both lines: see ``typings/README.md``.

This module imports no Kit module, so the decision is tested with pytest.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.recorder.config import DISK_BACKEND, RecorderConfig
from omni.sdg_studio.core.recorder.isaac_format import backend_params


class ReplicatorSetupError(SdgStudioError):
    """Replicator refused the writer, backend or render products; the message says which."""


@dataclass(frozen=True)
class IsaacSimLine:
    """A supported Isaac Sim release line and what its writers expect."""

    name: str
    kit: str
    writers_take_backend: bool


ISAAC_SIM_5_1 = IsaacSimLine("Isaac Sim 5.1", "107.3", writers_take_backend=False)
ISAAC_SIM_6_0 = IsaacSimLine("Isaac Sim 6.0", "110.1", writers_take_backend=True)
#: Kit major versions from this one on behave as Isaac Sim 6.0 (5.1 ships Kit 107.3, 6.0.1 ships Kit 110.1.2:
#: ``deps/kit-sdk.packman.xml`` of each tag).
FIRST_KIT_OF_6 = 108


def isaac_sim_line(kit_build_version: str) -> IsaacSimLine:
    """The line of a Kit build version as ``omni.kit.app.get_app().get_build_version()`` reports it
    (``107.3.3+isaac....`` or ``110.1.2+production...``; Isaac Sim's About window splits it on ``+``)."""
    number = kit_build_version.split("+", 1)[0]
    try:
        major = int(number.split(".", 1)[0])
    except ValueError:
        raise ReplicatorSetupError(f"cannot tell the Kit version from {kit_build_version!r}") from None
    return ISAAC_SIM_6_0 if major >= FIRST_KIT_OF_6 else ISAAC_SIM_5_1


def accepted_keywords(writer_class: object) -> frozenset[str] | None:
    """Keyword names a writer class declares (on ``__init__``, else on an ``initialize`` override); None when
    it declares none by name (``**kwargs`` only), so nothing can be told from its signature."""
    for function in (getattr(writer_class, "__init__", None), getattr(writer_class, "initialize", None)):
        if not callable(function):
            continue
        try:
            parameters = inspect.signature(function).parameters.values()
        except (TypeError, ValueError):  # a builtin without a signature
            continue
        names = {p.name for p in parameters if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
        if names:
            return frozenset(names)
    return None


@dataclass(frozen=True)
class WriterOutput:
    """Where a writer writes: a storage backend to create and pass as ``backend=``, or keyword arguments."""

    backend: str | None = None
    backend_params: dict[str, Any] = field(default_factory=dict)
    writer_kwargs: dict[str, Any] = field(default_factory=dict)


def writer_output(
    line: IsaacSimLine, writer: str, accepts: frozenset[str] | None, config: RecorderConfig, output_dir: Path
) -> WriterOutput:
    """How ``writer`` (whose declared keywords are ``accepts``) is told to write ``config``'s output on ``line``."""
    takes_backend = line.writers_take_backend if accepts is None else "backend" in accepts
    takes_output_dir = not line.writers_take_backend if accepts is None else "output_dir" in accepts
    if takes_backend and (line.writers_take_backend or not takes_output_dir):
        params = backend_params(config)
        if config.storage == DISK_BACKEND:
            params["output_dir"] = str(output_dir)
        return WriterOutput(config.storage, params)
    if config.storage == DISK_BACKEND:
        return WriterOutput(writer_kwargs={"output_dir": str(output_dir)})
    s3 = {"s3_bucket": config.s3.bucket, "s3_region": config.s3.region, "s3_endpoint": config.s3.endpoint}
    if accepts is not None and "s3_bucket" not in accepts:
        raise ReplicatorSetupError(
            f"{writer} cannot write to {config.storage} on {line.name}: "
            "it takes neither a storage backend nor s3_bucket"
        )
    # Isaac Sim 5.1's recorder: output_dir is the key prefix inside the bucket, empty S3 fields become None.
    return WriterOutput(writer_kwargs={"output_dir": config.output.folder, **{k: v or None for k, v in s3.items()}})
