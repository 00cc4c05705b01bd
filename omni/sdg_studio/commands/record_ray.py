"""``sdg-studio record --ray``: the recording as Ray tasks, one per shard, under one progress bar."""

from __future__ import annotations

from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from omni.sdg_studio.commands.output import echo, err_console
from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.recorder.loading import LoadedConfig


def record_with_ray(
    stage: Path, loaded: LoadedConfig, *, strict: bool, address: str | None, workers: int | None
) -> None:
    """Record on Ray (``pip install 'sdg-studio[ray]'``) and report where the merged dataset is."""
    try:
        from omni.sdg_studio.distributed.ray_record import RayProgress, record_on_ray
    except ImportError as exc:
        raise SdgStudioError(f"--ray needs Ray: pip install 'sdg-studio[ray]' ({exc})") from None
    if workers is not None and workers < 1:
        raise SdgStudioError(f"--workers {workers}: must be at least 1")
    columns = [
        TextColumn("[bold]recording on Ray[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[fps]} fps"),
        TimeElapsedColumn(),
    ]
    with Progress(*columns, console=err_console, transient=False) as progress:
        task = progress.add_task("ray", total=loaded.config.frames or None, fps="-")

        def on_progress(p: RayProgress) -> None:
            elapsed = progress.tasks[0].elapsed or 0.0
            fps = f"{p.done / elapsed:.2f}" if elapsed > 0 else "-"
            progress.update(task, completed=p.done, total=p.total, fps=fps)

        manifest = record_on_ray(
            stage, loaded.config, address=address, workers=workers, strict=strict, on_progress=on_progress
        )
    files = sum(len(f) for f in manifest.frames.values()) + len(manifest.end_files)
    echo(
        f"finished: {len(manifest.frames)}/{manifest.frames_requested} frames, {files} files in {manifest.output_dir}/"
    )
    echo(f"manifest: {manifest.path}")
