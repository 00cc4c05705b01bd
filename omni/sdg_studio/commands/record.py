"""``sdg-studio record STAGE``: record annotated frames with the embedded backend, with a progress bar.

Ctrl+C (or SIGTERM) lets the frame in flight complete, flushes the writer and stops cleanly; a second
Ctrl+C aborts at once. ``--resume`` continues a stopped recording without rewriting finished frames.
``--scenario FILE`` randomizes every frame (docs/randomization.md); each frame's drawn values go to
``sdg_randomization.jsonl`` beside the manifest.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from omni.sdg_studio.backends.embedded import SUPPORTED_ANNOTATORS, EmbeddedBackend
from omni.sdg_studio.backends.embedded.camera import check_resolution
from omni.sdg_studio.commands import options
from omni.sdg_studio.commands.output import console, echo, err_console, note
from omni.sdg_studio.core.config_document import ConfigDocument
from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.recorder.cli_options import RecordOptions
from omni.sdg_studio.core.recorder.config import OutputPolicy
from omni.sdg_studio.core.recorder.job import FrameProgress, JobState, RecorderJob
from omni.sdg_studio.core.recorder.loading import LoadedConfig, load_recorder_config, parse_recorder_config
from omni.sdg_studio.core.recorder.manifest import Manifest
from omni.sdg_studio.core.recorder.output_policy import MANIFEST_NAME, FolderNotEmptyError
from omni.sdg_studio.core.recorder.recording import Recording, RecordingBackend, prepare_recording
from omni.sdg_studio.core.recorder.shards import ShardSpec
from omni.sdg_studio.core.writers.params import WriterParamError
from omni.sdg_studio.core.writers.registry import WRITERS, UnknownWriterError
from omni.sdg_studio.resources import CONFIG_DIR

DEFAULT_PRESET = CONFIG_DIR / "recorder" / "default.json"
DEMO_PRESET = CONFIG_DIR / "recorder" / "demo.json"
#: Exit status of a recording stopped by Ctrl+C / SIGTERM (128 + SIGINT, as shells report it).
EXIT_STOPPED = 130
log = logging.getLogger(__name__)
#: What ``record`` renders with.
EMBEDDED = RecordingBackend(EmbeddedBackend, SUPPORTED_ANNOTATORS, check_resolution)


class RecordingFailed(SdgStudioError):
    """The recording ended in the failed state (e.g. full disk); the manifest says what was written."""


def base_config(config_path: Path | None, out: Path | None, resume: bool) -> LoadedConfig:
    """The config the options apply to: ``--config`` (a recording's manifest gives its config as run), else the
    recording being resumed, else the default preset."""
    if config_path is not None and config_path.name == MANIFEST_NAME:
        manifest = Manifest.load(config_path.parent)
        loaded = parse_recorder_config(ConfigDocument(data=manifest.config, path=manifest.path))
    elif config_path is not None:
        loaded = load_recorder_config(config_path)
    elif resume:
        if out is None:
            raise SdgStudioError("--resume needs --out DIR (the folder of the recording to continue) or --config")
        manifest = Manifest.load(out)
        loaded = parse_recorder_config(ConfigDocument(data=manifest.config, path=manifest.path))
    else:
        loaded = load_recorder_config(DEFAULT_PRESET)
    for warning in loaded.warnings:
        log.warning("%s", warning)
    return loaded


@contextmanager
def stop_on_interrupt(job: RecorderJob) -> Iterator[list[int]]:
    """While recording, the first Ctrl+C / SIGTERM asks the job to stop, a second one aborts."""
    received: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        if job.stop_requested:
            raise KeyboardInterrupt
        received.append(signum)
        job.stop()
        echo(("stopping after the frame in flight", "yellow"), " (Ctrl+C again to abort)", err=True)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_with_progress(recording: Recording) -> JobState:
    """Run the job under a rich progress bar (frames, fps, ETA)."""
    job = recording.job
    total = recording.config.frames or None
    columns = [
        TextColumn("[bold]recording[/bold]"),
        BarColumn(),
        MofNCompleteColumn() if total else TextColumn("{task.completed} frames"),
        TextColumn("{task.fields[fps]} fps"),
        TimeElapsedColumn(),
        TextColumn("ETA {task.fields[eta]}"),
    ]
    with Progress(*columns, console=err_console, transient=False) as progress:
        task = progress.add_task("record", total=total, completed=recording.resumed_frames, fps="-", eta="-")

        def on_frame(p: FrameProgress) -> None:
            eta = "-" if p.eta is None else f"{int(p.eta) // 60}:{int(p.eta) % 60:02d}"
            progress.update(task, completed=p.done, fps=f"{p.fps:.2f}", eta=eta)

        job.subscribe_progress(on_frame)
        return job.run()


def print_summary(recording: Recording, state: JobState, stage: Path) -> None:
    """Where the files are and what to do next."""
    manifest = recording.manifest
    files = sum(len(f) for f in manifest.frames.values()) + len(manifest.end_files)
    done = len(manifest.frames)
    total = recording.job.frames - recording.job.first_frame
    counted = f"{done}/{total}" if total else str(done)
    shard = manifest.shard
    part = f" (shard {shard.spec}: frames {shard.frames.start}-{shard.frames.stop - 1})" if shard else ""
    echo(f"{state.value}: {counted} frames{part}, {files} files in {recording.output_dir}/")
    echo(f"manifest: {manifest.path}")
    if state is not JobState.FINISHED:
        echo(f"continue with: sdg-studio record {stage} --out {recording.output_dir} --resume")


def print_output_folders(recording: Recording) -> None:
    """A table of the folders written, with their file counts."""
    counts: dict[str, int] = {}
    for files in [*recording.manifest.frames.values(), recording.manifest.end_files]:
        for file in files:
            folder = str((recording.output_dir / file).parent)
            counts[folder] = counts.get(folder, 0) + 1
    table = Table("folder", "files", title=f"Written to {recording.output_dir}")
    for folder, count in sorted(counts.items()):
        table.add_row(folder, str(count))
    console.print(table)


def record_demo(stage: Path, out: Path, seed: int, classes: Path | None = None) -> Recording:
    """The demo's recording: the demo preset (three cameras randomized per frame by the warehouse scenario,
    BasicWriter) into ``out``, label colors from the ``classes`` of the rules file ``classes``."""
    config = load_recorder_config(DEMO_PRESET).config
    config.output.folder = str(out)
    config.seed = seed
    config.classes = str(classes) if classes else ""
    recording = prepare_recording(stage, config, EMBEDDED)
    for issue in recording.report.issues:
        log.warning("%s", issue)
    state = run_with_progress(recording)
    if state is JobState.FAILED:
        raise RecordingFailed(recording.job.message)
    print_output_folders(recording)
    return recording


def prepare(
    stage: Path, loaded: LoadedConfig, resume: bool, strict: bool, writer: str | None, shard: ShardSpec | None = None
) -> Recording:
    """:func:`prepare_recording`, with the errors the command line fixes worded with its options."""
    try:
        return prepare_recording(stage, loaded.config, EMBEDDED, resume=resume, strict=strict, shard=shard)
    except FolderNotEmptyError as exc:
        resume_hint = "--resume to continue it, " if exc.resumable else ""
        raise SdgStudioError(
            f"{exc.folder}: folder is not empty ({exc.entries} entries) and nothing is overwritten unless asked; "
            f"pass {resume_hint}--policy overwrite|increment|timestamp, or another --out"
        ) from None
    except UnknownWriterError as exc:
        raise SdgStudioError(f"--writer {writer}: {exc}") if writer is not None else exc from None
    except WriterParamError as exc:
        if writer is not None:  # the parameters came with another writer than the file's
            raise
        raise loaded.writer_param_error(exc.param, exc.message) from None


def record(
    stage: Annotated[Path, options.stage_argument("USD stage to record (.usd, .usda, .usdc, .usdz).")],
    config: Annotated[
        Path | None,
        typer.Option("--config", metavar="FILE", help="Isaac Sim recorder JSON or offline-generation YAML/JSON."),
    ] = None,
    camera: Annotated[
        list[str] | None,
        options.camera_option(
            "Render product PATH[:WxH[:NAME]]; repeat for several (default: the config's; without one, every camera).",
            metavar="PATH[:WxH[:NAME]]",
        ),
    ] = None,
    resolution: Annotated[
        str | None,
        options.resolution_option(
            "Size of every render product but those --camera PATH:WxH sizes (default: the config's; else 1280x720)."
        ),
    ] = None,
    frames: Annotated[
        int | None, typer.Option("--frames", "-n", metavar="N", help="Frames to record (0 = until Ctrl+C).")
    ] = None,
    writer: Annotated[
        str | None,
        typer.Option(
            "--writer",
            metavar="NAME",
            help="BasicWriter, KittiWriter, CocoWriter or another registered one (default: the config's).",
        ),
    ] = None,
    annotators: Annotated[
        str | None,
        options.annotators_option(
            "BasicWriter annotators, comma-separated (default: the config's; without --config rgb, "
            "bounding_box_2d_tight, semantic_segmentation, distance_to_image_plane, camera_params)."
        ),
    ] = None,
    classes: Annotated[Path | None, options.classes_option(options.CLASSES_HELP + " COCO ids too.")] = None,
    out: Annotated[
        Path | None, options.out_option("Output folder (default: the config's; without --config _out_sdrec).")
    ] = None,
    policy: Annotated[
        OutputPolicy | None,
        typer.Option(
            "--policy",
            metavar="POLICY",
            help="If --out is not empty: refuse (default), overwrite, increment or timestamp.",
        ),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the stopped recording in --out; finished frames are kept.")
    ] = False,
    scenario: Annotated[
        Path | None,
        options.scenario_option("Scenario file varying every frame (replaces the config's sdg_studio.randomization)."),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed",
            metavar="N",
            help="Randomization seed; wins over the config's and the scenario's seed (default: drawn).",
        ),
    ] = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Fail when the pre-record check finds anything that would be empty, a scenario's select matches "
            "nothing or prims do not fit.",
        ),
    ] = False,
    plugin: Annotated[
        list[str] | None,
        typer.Option(
            "--plugin",
            metavar="MODULE",
            help="Import MODULE (installed or in the current folder) so writers named MODULE:Class can be used; "
            "a config never imports code by itself. Repeat for several.",
        ),
    ] = None,
    shard: Annotated[
        str | None,
        typer.Option(
            "--shard",
            metavar="K/M",
            help="Record only shard K of M (from 0): frames K*N/M to (K+1)*N/M - 1 of --frames N, named as one run "
            "names them; join the shards with sdg-studio merge.",
        ),
    ] = None,
    ray: Annotated[
        bool,
        typer.Option(
            "--ray", help="Record on Ray (one task per shard, merged into --out); a local Ray unless --ray-address."
        ),
    ] = False,
    ray_address: Annotated[
        str | None,
        typer.Option(
            "--ray-address", metavar="ADDRESS", help="Ray cluster to record on (e.g. auto, ray://head:10001)."
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", metavar="W", help="With --ray: shards recorded at once (default: every CPU)."),
    ] = None,
) -> None:
    """Record annotated frames of STAGE with the embedded renderer, in Replicator writers' formats."""
    for module in plugin or []:
        WRITERS.load_plugin(module)
    loaded = base_config(config, out, resume)
    size = options.parse_resolution(resolution) if resolution else None
    choices = RecordOptions(
        camera or [], frames, writer, annotators, out, policy, seed, classes, resolution=size, scenario=scenario
    )
    for text in choices.apply(loaded.config):
        note(text)
    if ray or ray_address is not None:
        if shard is not None or resume:
            raise SdgStudioError("--ray records every shard itself and merges them; leave out --shard and --resume")
        from omni.sdg_studio.commands.record_ray import record_with_ray

        record_with_ray(stage, loaded, strict=strict, address=ray_address, workers=workers)
        return
    if workers is not None:
        raise SdgStudioError("--workers: only with --ray")
    recording = prepare(stage, loaded, resume, strict, writer, ShardSpec.parse(shard) if shard else None)
    for issue in recording.report.issues:
        log.warning("%s", issue)
    if recording.missing_frames:
        note(f"frames {recording.missing_frames} lost files since the last run; recording again")
    if recording.remade_records:
        note(f"randomization records of frames {recording.remade_records} were lost; remade them")
    with stop_on_interrupt(recording.job) as interrupted:
        state = run_with_progress(recording)
    print_summary(recording, state, stage)
    if state is JobState.FAILED:
        raise RecordingFailed(recording.job.message)
    if interrupted:
        raise typer.Exit(EXIT_STOPPED)


def register(app: typer.Typer) -> None:
    app.command()(record)
