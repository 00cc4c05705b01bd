"""Pick and prepare the output folder so that no earlier recording is overwritten unless asked.

``refuse`` (default) stops on a non-empty folder, ``overwrite`` empties it first, ``increment`` picks
the first free ``<folder>_0001``, ``<folder>_0002``, ... and ``timestamp`` ``<folder>_<YYYYmmdd-HHMMSS>``.
:func:`claim_output_folder` does it under the folder's lock (:mod:`.folder_lock`), so two runs started
at the same moment never share a folder: the second one is refused, or, with ``increment`` and
``timestamp``, takes the next free one.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.recorder.config import OutputPolicy
from omni.sdg_studio.core.recorder.folder_lock import LOCK_NAME, FolderLock, FolderLockedError

MANIFEST_NAME = "sdg_manifest.json"


class OutputFolderError(SdgStudioError):
    """The output folder cannot be used under the chosen policy; the message says what to do."""


class FolderNotEmptyError(OutputFolderError):
    """The ``refuse`` policy met a non-empty folder (each front end names its own way to choose a policy)."""

    def __init__(self, message: str, folder: Path, entries: int, resumable: bool) -> None:
        super().__init__(message)
        self.folder, self.entries, self.resumable = folder, entries, resumable


def _entries(path: Path) -> Iterator[Path]:
    """The folder's entries but the lock file (which a killed run may leave)."""
    return (entry for entry in path.iterdir() if entry.name != LOCK_NAME)


def is_empty_folder(path: Path) -> bool:
    """True if ``path`` does not exist or is a folder without entries (a lock file aside)."""
    if not path.exists():
        return True
    if not path.is_dir():
        raise OutputFolderError(f"{path}: exists and is not a folder")
    return next(_entries(path), None) is None


def _candidates(base: Path, policy: OutputPolicy, now: datetime | None) -> Iterator[Path]:
    """The folders ``policy`` may use, in the order it tries them."""
    if policy is OutputPolicy.INCREMENT:
        yield base
        for number in range(1, 100_000):
            yield base.with_name(f"{base.name}_{number:04d}")
        return
    if policy is OutputPolicy.TIMESTAMP:
        stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
        yield base.with_name(f"{base.name}_{stamp}")
        for number in range(1, 100_000):
            yield base.with_name(f"{base.name}_{stamp}_{number}")
        return
    yield base


def choose_output_folder(base: Path, policy: OutputPolicy, now: datetime | None = None) -> Path:
    """The folder a new recording writes to under ``policy`` (nothing is created or removed here)."""
    if policy in (OutputPolicy.INCREMENT, OutputPolicy.TIMESTAMP):
        found = next((c for c in _candidates(base, policy, now) if is_empty_folder(c)), None)
        if found is None:
            raise _none_free(base)
        return found
    holder = FolderLock.holder(base) if base.is_dir() else None
    if holder is not None:
        raise FolderLockedError(base, holder)
    if policy is OutputPolicy.REFUSE and not is_empty_folder(base):
        raise _not_empty(base)
    return base


def _not_empty(base: Path) -> FolderNotEmptyError:
    entries = sum(1 for _ in _entries(base))
    resumable = _unfinished_recording(base)
    hint = "resume it, " if resumable else ""
    return FolderNotEmptyError(
        f"{base}: folder is not empty ({entries} entries) and nothing is overwritten unless asked; "
        f"{hint}choose the policy overwrite, increment or timestamp, or another output folder",
        base,
        entries,
        resumable,
    )


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
            for entry in list(_entries(path)):
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


def claim_output_folder(base: Path, policy: OutputPolicy, now: datetime | None = None) -> FolderLock:
    """Choose, lock and prepare the folder a new recording writes to; the caller releases the lock.

    The choice is checked again under the lock, so of two runs started together on one folder the
    second is refused (``refuse``, ``overwrite``: :class:`FolderLockedError` naming the other run) or
    goes to the next free folder (``increment``, ``timestamp``).
    """
    if policy not in (OutputPolicy.INCREMENT, OutputPolicy.TIMESTAMP):
        folder = choose_output_folder(base, policy, now)
        lock = FolderLock.acquire(folder)
        try:
            if policy is OutputPolicy.REFUSE and not is_empty_folder(folder):
                raise _not_empty(folder)  # a run that ended a moment ago filled it
            prepare_output_folder(folder, policy)
        except BaseException:
            lock.release()
            raise
        return lock
    for candidate in _candidates(base, policy, now):
        if not is_empty_folder(candidate):
            continue
        try:
            lock = FolderLock.acquire(candidate)
        except FolderLockedError:
            continue  # another run claimed it a moment ago
        if is_empty_folder(candidate):
            return lock
        lock.release()
    raise _none_free(base)


def _none_free(base: Path) -> OutputFolderError:
    return OutputFolderError(f"{base}: no free folder left next to it (numbered or time-stamped)")
