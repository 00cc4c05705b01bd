"""Record one dataset on Ray: one task per shard, progress from the tasks, Ray's retries, one merge at the end.

The recording is split into ``W`` shards (one per worker, :mod:`omni.sdg_studio.core.recorder.shards`); each
Ray task opens the stage once and records its shard with :func:`record_shard` into
``<out>.shards/shard-KKKKK-of-MMMMM`` (a path every node must see: a shared file system on a cluster), and
reports each frame to a small progress actor the driver polls. A task whose worker dies is run again by Ray
(``max_retries``) and starts its shard clean; a task that fails with an error is not retried (it would fail
the same way). When every shard is done they are merged into ``<out>`` (files moved) and the shard folders are
removed. A task gets ``CPUs / W`` CPUs and renders with that many threads.

Without an address a local Ray is started on this machine's cores (and stopped at the end); a Ray already
started in this process (``ray.init`` by the caller) is used as it is.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ray
from ray.exceptions import RayError, RayTaskError

from omni.sdg_studio.backends.embedded import SUPPORTED_ANNOTATORS, EmbeddedBackend
from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.recorder.config import OutputPolicy, RecorderConfig
from omni.sdg_studio.core.recorder.job import FrameProgress
from omni.sdg_studio.core.recorder.manifest import Manifest
from omni.sdg_studio.core.recorder.merge import PlaceMode, merge_shards
from omni.sdg_studio.core.recorder.output_policy import choose_output_folder, prepare_output_folder
from omni.sdg_studio.core.recorder.recording import RecordingBackend
from omni.sdg_studio.core.recorder.shard_run import record_shard
from omni.sdg_studio.core.recorder.shards import ShardSpec, shard_frames
from omni.sdg_studio.core.writers.registry import get_writer

log = logging.getLogger(__name__)

#: Test hook: ``"K:F:MARKER"`` makes shard K's task end its worker abruptly (``os._exit``) after F frames, once
#: (it creates the file MARKER first; a retry finding it records normally).
KILL_HOOK = "SDG_STUDIO_TEST_KILL_SHARD"
#: Environment variables the tasks get from the driver (workers on other nodes do not have its environment).
FORWARDED_ENV = ("SOURCE_DATE_EPOCH", KILL_HOOK)
#: How often Ray runs a task again whose worker died.
MAX_RETRIES = 3
POLL_SECONDS = 0.25


class RayRecordingError(SdgStudioError):
    """A shard could not be recorded on Ray; the message names it."""


@dataclass(frozen=True)
class RayProgress:
    """Frames recorded so far over all shards."""

    done: int
    total: int


@ray.remote(num_cpus=0)
class ProgressBoard:
    """Frames done per shard, as the tasks report them."""

    def __init__(self) -> None:
        self._done: dict[int, int] = {}

    def report(self, shard: int, done: int) -> None:
        self._done[shard] = done

    def total(self) -> int:
        return sum(self._done.values())


def _kill_hook(spec: ShardSpec) -> Callable[[FrameProgress], None] | None:
    """The :data:`KILL_HOOK` test hook for this shard, if set for it and not yet fired."""
    shard, _, rest = os.environ.get(KILL_HOOK, "").partition(":")
    frames, _, marker = rest.partition(":")
    if not shard or int(shard) != spec.index or Path(marker).exists():
        return None

    def hook(progress: FrameProgress) -> None:
        if progress.done >= int(frames):
            Path(marker).touch()
            os._exit(1)

    return hook


def _record_shard_task(
    stage: Path,
    config: RecorderConfig,
    spec: ShardSpec,
    folder: Path,
    threads: int,
    strict: bool,
    env: dict[str, str],
    board: Any,  # a ProgressBoard actor handle
) -> int:
    """A Ray task: record shard ``spec`` into ``folder`` with a renderer of ``threads`` threads; frames done."""
    for name in FORWARDED_ENV:
        os.environ.pop(name, None)
    os.environ.update(env)
    backend = RecordingBackend(functools.partial(EmbeddedBackend, threads=threads), SUPPORTED_ANNOTATORS)
    board.report.remote(spec.index, 0)
    hook = _kill_hook(spec)

    def on_progress(progress: FrameProgress) -> None:
        board.report.remote(spec.index, progress.done)
        if hook is not None:
            hook(progress)

    try:
        manifest = record_shard(stage, config, spec, folder, backend, strict=strict, on_progress=on_progress)
    except SdgStudioError as exc:  # as a plain error: Ray sends it to the driver pickled
        raise RayRecordingError(str(exc)) from None
    board.report.remote(spec.index, len(manifest.frames))
    return len(manifest.frames)


def _start_ray(address: str | None, workers: int | None) -> bool:
    """Connect to ``address`` or start a local Ray; False if this process had started Ray already."""
    if ray.is_initialized():
        return False
    if address is not None:
        ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
    else:
        ray.init(
            num_cpus=os.cpu_count() or 1, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False
        )
    return True


def _failure(spec: ShardSpec, folder: Path, exc: RayError) -> RayRecordingError:
    """One line for a shard that Ray gave up on: an error of the recording (not retried), or a worker that
    kept dying."""
    cause = exc.cause if isinstance(exc, RayTaskError) else None
    if isinstance(cause, SdgStudioError):
        return RayRecordingError(f"shard {spec}: {cause}")
    if cause is not None:
        return RayRecordingError(f"shard {spec} ({folder}) failed: {type(cause).__name__}: {cause}")
    what = str(exc).strip().splitlines()[0]
    return RayRecordingError(
        f"shard {spec} ({folder}): its worker died {MAX_RETRIES + 1} times ({what}); "
        "run the same command again to record it (finished shards are kept)"
    )


def record_on_ray(
    stage: Path,
    config: RecorderConfig,
    *,
    address: str | None = None,
    workers: int | None = None,
    strict: bool = False,
    on_progress: Callable[[RayProgress], None] | None = None,
) -> Manifest:
    """Record ``config`` (``frames`` > 0) of ``stage`` on Ray in ``workers`` shards, merged into the output
    folder ``config`` names (chosen by its policy); return the merged manifest."""
    config, _ = config.seeded()
    if config.frames <= 0:
        raise RayRecordingError("--ray records a fixed number of frames: give --frames N")
    get_writer(config.writer_name).validate(config.effective_writer_params())  # before any task starts
    stage = stage.resolve()
    output = choose_output_folder(config.output.path, config.output.policy).resolve()
    shards_root = output.parent / f"{output.name}.shards"
    started = _start_ray(address, workers)
    try:
        cpus = float(ray.cluster_resources().get("CPU", 1.0))
        count = min(workers or max(1, int(cpus)), config.frames)
        specs = [ShardSpec(k, count) for k in range(count)]
        shard_frames(specs[0], config.frames)
        per_task = max(1.0, float(int(cpus) // count))
        env = {name: os.environ[name] for name in FORWARDED_ENV if name in os.environ}
        task = ray.remote(_record_shard_task).options(num_cpus=per_task, max_retries=MAX_RETRIES)
        board: Any = ProgressBoard.remote()
        refs = {
            task.remote(stage, config, spec, shards_root / spec.folder_name(), int(per_task), strict, env, board): spec
            for spec in specs
        }
        pending = list(refs)
        while pending:
            _, pending = ray.wait(pending, num_returns=len(pending), timeout=POLL_SECONDS)
            if on_progress is not None:
                on_progress(RayProgress(int(ray.get(board.total.remote())), config.frames))
        done = 0
        for ref, spec in refs.items():
            try:
                done += ray.get(ref)
            except RayError as exc:
                raise _failure(spec, shards_root / spec.folder_name(), exc) from None
        if on_progress is not None:  # the tasks' counts: their last reports may reach the board after they end
            on_progress(RayProgress(done, config.frames))
    finally:
        if started:
            ray.shutdown()
    if config.output.policy is OutputPolicy.OVERWRITE:
        prepare_output_folder(output, OutputPolicy.OVERWRITE)
    manifest = merge_shards([shards_root / s.folder_name() for s in specs], output, mode=PlaceMode.MOVE)
    shutil.rmtree(shards_root, ignore_errors=True)
    return manifest
