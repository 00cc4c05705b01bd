"""Pick and prepare the output folder so that no earlier recording is overwritten unless asked.

``refuse`` (default) stops on a non-empty folder, ``overwrite`` empties it first, ``increment`` picks
the first free ``<folder>_0001``, ``<folder>_0002``, ... and ``timestamp`` ``<folder>_<YYYYmmdd-HHMMSS>``.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.recorder.config import OutputPolicy

MANIFEST_NAME = "sdg_manifest.json"


class OutputFolderError(SdgStudioError):
    """The output folder cannot be used under the chosen policy; the message says what to do."""


class FolderNotEmptyError(OutputFolderError):
    """The ``refuse`` policy met a non-empty folder (each front end names its own way to choose a policy)."""

    def __init__(self, message: str, folder: Path, entries: int, resumable: bool) -> None:
        super().__init__(message)
        self.folder, self.entries, self.resumable = folder, entries, resumable


def is_empty_folder(path: Path) -> bool:
    """True if ``path`` does not exist or is a folder without entries."""
    if not path.exists():
        return True
    if not path.is_dir():
        raise OutputFolderError(f"{path}: exists and is not a folder")
    return next(path.iterdir(), None) is None


def choose_output_folder(base: Path, policy: OutputPolicy, now: datetime | None = None) -> Path:
    """The folder a new recording writes to under ``policy`` (nothing is created or removed here)."""
    if policy is OutputPolicy.INCREMENT:
        if is_empty_folder(base):
            return base
        for number in range(1, 100_000):
            candidate = base.with_name(f"{base.name}_{number:04d}")
            if is_empty_folder(candidate):
                return candidate
        raise OutputFolderError(f"{base}: no free numbered folder left next to it")
    if policy is OutputPolicy.TIMESTAMP:
        stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
        candidate = base.with_name(f"{base.name}_{stamp}")
        number = 1
        while not is_empty_folder(candidate):
            candidate = base.with_name(f"{base.name}_{stamp}_{number}")
            number += 1
        return candidate
    if policy is OutputPolicy.REFUSE and not is_empty_folder(base):
        entries = sum(1 for _ in base.iterdir())
        resumable = _unfinished_recording(base)
        hint = "resume it, " if resumable else ""
        raise FolderNotEmptyError(
            f"{base}: folder is not empty ({entries} entries) and nothing is overwritten unless asked; "
            f"{hint}choose the policy overwrite, increment or timestamp, or another output folder",
            base,
            entries,
            resumable,
        )
    return base


def _unfinished_recording(folder: Path) -> bool:
    """True if ``folder`` holds the manifest of a recording that did not finish (so it can be resumed)."""
    try:
        return json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8")).get("state") != "finished"
    except (OSError, ValueError, AttributeError):
        return False


def _protected(path: Path) -> bool:
    """Folders ``overwrite`` never empties: the filesystem root, home, the current folder and its parents."""
    resolved = path.resolve()
    cwd = Path.cwd().resolve()
    return resolved == Path(resolved.anchor) or resolved == Path.home().resolve() or cwd.is_relative_to(resolved)


def prepare_output_folder(path: Path, policy: OutputPolicy) -> None:
    """Create ``path`` (emptying it first for ``overwrite``); a read-only or bad location is a clear error."""
    if policy is OutputPolicy.OVERWRITE and not is_empty_folder(path):
        if _protected(path):
            raise OutputFolderError(
                f"{path}: refusing to empty this folder (it is the root, home or current folder); "
                "record into a subfolder"
            )
        try:
            for entry in path.iterdir():
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
        except OSError as exc:
            raise OutputFolderError(f"{path}: cannot empty the output folder: {exc.strerror or exc}") from exc
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputFolderError(f"{path}: cannot create the output folder: {exc.strerror or exc}") from exc
