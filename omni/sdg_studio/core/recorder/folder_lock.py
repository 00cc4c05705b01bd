"""One recording per output folder: an OS file lock on ``.sdg_studio.lock`` inside it, held for the whole run.

The lock is ``flock`` (POSIX) or ``msvcrt.locking`` (Windows) on the lock file: the operating system
drops it when the process ends in any way (SIGKILL, crash, power cut), so a lock left by a dead run
never blocks the next one. The file holds the holder's pid and host for the message a second run
gets. On POSIX the file is removed on release (after checking, on acquiring, that the locked file is
still the one at the path, so a run that raced with a release tries again).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
from pathlib import Path
from types import TracebackType

from omni.sdg_studio.core.errors import SdgStudioError

LOCK_NAME = ".sdg_studio.lock"
#: Windows locks a byte range; this one lies past the holder text, which other runs must still read.
_WINDOWS_LOCK_OFFSET = 1 << 30


class FolderLockError(SdgStudioError):
    """The output folder cannot be created or locked (read-only, no permission, ...)."""


class FolderLockedError(FolderLockError):
    """Another live run holds the folder's lock; the message names its pid and host."""

    def __init__(self, folder: Path, holder: str) -> None:
        super().__init__(
            f"{folder}: another recording is writing into this folder ({holder}); "
            "wait for it to end, or choose another output folder"
        )
        self.folder = folder


def _try_lock(fd: int) -> bool:
    """Take the exclusive lock without waiting; False if another process holds it."""
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _holder(path: Path) -> str:
    """``pid 123 on host``, as the holder wrote it (or that it is unknown)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return f"pid {int(data['pid'])} on {data['host']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "pid unknown"


class FolderLock:
    """The lock of one output folder; :meth:`acquire` takes it, :meth:`release` (or ``with``) gives it back."""

    def __init__(self, folder: Path, fd: int) -> None:
        self.folder = folder
        self._fd: int | None = fd

    @property
    def path(self) -> Path:
        return self.folder / LOCK_NAME

    @property
    def held(self) -> bool:
        return self._fd is not None

    @staticmethod
    def holder(folder: Path) -> str | None:
        """``pid N on HOST`` of the live run that holds ``folder``'s lock, or ``None`` (nothing is created)."""
        path = folder / LOCK_NAME
        try:
            fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
        except OSError:
            return None
        try:
            return None if _try_lock(fd) else _holder(path)
        finally:
            os.close(fd)  # closing also drops a lock taken just now

    @classmethod
    def acquire(cls, folder: Path) -> FolderLock:
        """Create ``folder`` if needed and lock it; :class:`FolderLockedError` if a live run holds it."""
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FolderLockError(f"{folder}: cannot create the output folder: {exc.strerror or exc}") from exc
        path = folder / LOCK_NAME
        while True:
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o644)
            except OSError as exc:
                raise FolderLockError(f"{folder}: cannot lock the output folder: {exc.strerror or exc}") from exc
            if not _try_lock(fd):
                os.close(fd)
                raise FolderLockedError(folder, _holder(path))
            if sys.platform == "win32" or _same_file(fd, path):
                break
            os.close(fd)  # a releasing run removed the file we locked: lock the new one
        lock = cls(folder, fd)
        lock._write_holder()
        return lock

    def _write_holder(self) -> None:
        assert self._fd is not None
        text = json.dumps({"pid": os.getpid(), "host": socket.gethostname()}).encode("utf-8")
        with contextlib.suppress(OSError):  # the text only serves messages; the lock is what counts
            os.ftruncate(self._fd, 0)
            os.lseek(self._fd, 0, os.SEEK_SET)
            os.write(self._fd, text)

    def release(self) -> None:
        """Give the lock back (and remove the file, on POSIX); safe to call twice."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        if sys.platform != "win32":
            with contextlib.suppress(OSError):
                os.unlink(self.path)  # while still locked: the next run then locks a new file
        os.close(fd)

    def __enter__(self) -> FolderLock:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # a lock never released by its owner
            self.release()


def _same_file(fd: int, path: Path) -> bool:
    try:
        here, there = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)
