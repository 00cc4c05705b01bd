"""Open USD stages with one clear error line instead of a traceback."""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path

from pxr import Sdf, Tf, Usd

from omni.sdg_studio.core.errors import SdgStudioError

USD_SUFFIXES = (".usd", ".usda", ".usdc", ".usdz")


class StageError(SdgStudioError):
    """A stage cannot be opened or used; the message names the file."""


def _missing_reason(path: Path, exc: OSError) -> str:
    """Why ``path`` cannot be reached: no such file, a symbolic link loop, a broken link, no permission."""
    if exc.errno == errno.ELOOP:
        return "a loop of symbolic links"
    if path.is_symlink() and exc.errno == errno.ENOENT:
        return f"a broken symbolic link (to {os.readlink(path)})"
    if exc.errno == errno.ENOENT:
        return "no such file"
    return exc.strerror or str(exc)


def _usd_error_detail(text: str) -> tuple[str, str]:
    """(``file:line:col``, problem) from a USD error text; the location is empty where USD gives none."""
    text = re.sub(r"pxrInternal_\w+?::", "", text)
    located = re.search(r"'?(\S+?:\d+:\d+): (.+?)'?\s*$", text, flags=re.DOTALL)
    if located:
        return located.group(1), " ".join(located.group(2).split())
    found = re.findall(r": '(.+?)'\s*$", text, flags=re.MULTILINE)
    return "", found[-1] if found else ""


def open_stage(path: str | Path, load_all: bool = True) -> Usd.Stage:
    """Open ``path`` as a ``Usd.Stage``; raise :class:`StageError` naming the file on any failure."""
    path = Path(path)
    try:
        path.stat()
    except OSError as exc:
        raise StageError(f"{path}: {_missing_reason(path, exc)}") from None
    if path.is_dir():
        raise StageError(f"{path}: is a directory, expected a USD file ({', '.join(USD_SUFFIXES)})")
    if path.suffix.lower() not in USD_SUFFIXES:
        raise StageError(f"{path}: not a USD file (expected {', '.join(USD_SUFFIXES)})")
    try:
        layer = Sdf.Layer.FindOrOpen(str(path))
        if layer is None:
            raise StageError(f"{path}: cannot be read as a USD layer")
        load = Usd.Stage.LoadAll if load_all else Usd.Stage.LoadNone
        stage = Usd.Stage.Open(layer, load)
    except Tf.ErrorException as exc:
        where, detail = _usd_error_detail(str(exc))
        raise StageError(f"{where or path}: cannot be read as a USD layer{': ' + detail if detail else ''}") from None
    if stage is None:
        raise StageError(f"{path}: cannot be opened as a USD stage")
    return stage
