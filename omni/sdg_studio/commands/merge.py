"""``sdg-studio merge SHARD_DIR... -o DATASET``: join the shards of a recording into the dataset one run writes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from omni.sdg_studio.commands import options
from omni.sdg_studio.commands.output import echo
from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.recorder.merge import PlaceMode, merge_shards


def merge(
    shards: Annotated[
        list[Path],
        typer.Argument(metavar="SHARD_DIR", help="The folders of the shards (record --shard K/M), in any order."),
    ],
    out: Annotated[
        Path | None, options.out_option("The dataset folder to create (must not exist or be empty).")
    ] = None,
    move: Annotated[
        bool, typer.Option("--move", help="Move the files out of the shards (default: hard links).")
    ] = False,
    copy: Annotated[bool, typer.Option("--copy", help="Copy the files (default: hard links).")] = False,
) -> None:
    """Check that SHARD_DIRs are every shard of one recording, each finished, and merge them into --out."""
    if out is None:
        raise SdgStudioError("--out: name the dataset folder to create")
    if move and copy:
        raise SdgStudioError("--move and --copy: choose one")
    mode = PlaceMode.MOVE if move else PlaceMode.COPY if copy else PlaceMode.LINK
    manifest = merge_shards(shards, out, mode=mode)
    files = sum(len(f) for f in manifest.frames.values()) + len(manifest.end_files)
    echo(f"merged {len(shards)} shards: {len(manifest.frames)} frames, {files} files in {manifest.output_dir}/")
    echo(f"manifest: {manifest.path}")


def register(app: typer.Typer) -> None:
    app.command()(merge)
