"""Atomic file writes, the one place they live: bytes go to a temporary name in the target folder, then ``os.replace``.

A reader (or a resumed run) therefore sees either the previous file or the complete new one,
never a half-written file; a failed write leaves no temporary file behind. :func:`atomic_path` serves
writers that need a file name rather than a handle (``Sdf.Layer.Export``, Pillow's ``save``).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from omni.sdg_studio.core.errors import SdgStudioError

#: Prefix of temporary files; a crashed run may leave such files, never under a final name.
TEMP_PREFIX = ".sdg-tmp-"

REASONS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ENOTDIR: "a parent path is a file, not a folder",
}


#: What ``ndarray.tofile`` raises, without an errno, when the disk fills mid-write.
_SHORT_WRITE = re.compile(r"\d+ requested and \d+ written")


def write_error_reason(exc: OSError) -> str:
    """Why a write failed, in words (\"the disk is full\", \"the file system is read-only\", ...)."""
    if exc.errno is None and _SHORT_WRITE.search(str(exc)):
        return f"the disk is full ({exc})"
    return REASONS.get(exc.errno or 0) or exc.strerror or str(exc)


class WriteError(SdgStudioError, OSError):
    """A file could not be written; the message names the file and the reason (full disk, read-only, ...)."""

    def __init__(self, path: Path, cause: OSError) -> None:
        self.path = Path(path)
        self.cause = cause
        super().__init__(cause.errno, f"cannot write {self.path}: {write_error_reason(cause)}")

    def __str__(self) -> str:
        return str(self.args[1])

    def __reduce__(self):  # keep pickling (e.g. across processes) working with the custom signature
        return (type(self), (self.path, self.cause))


def _make_parent(target: Path) -> None:
    """Create ``target``'s folder; a file in the way is ENOTDIR (mkdir would say EEXIST, "File exists")."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), exc.filename) from exc


def _temporary_sibling(target: Path) -> str:
    return str(target.parent / f"{TEMP_PREFIX}{secrets.token_hex(6)}-{target.name}")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, durable: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block ends normally it is renamed over ``path``.

    The block writes the temporary file by name (``layer.Export(str(tmp))``, ``image.save(tmp)``). On any
    error, or when the block wrote nothing, the target is left as it was and the temporary file is removed;
    OS errors are raised as :class:`WriteError` naming ``path``. ``durable`` fsyncs the file before the rename.
    """
    target = Path(path)
    tmp: Path | None = None
    try:
        _make_parent(target)
        tmp = Path(_temporary_sibling(target))
        yield tmp
        if not tmp.is_file():
            raise WriteError(target, OSError(errno.EIO, "nothing was written"))
        if durable:
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        os.replace(tmp, target)
        tmp = None
    except WriteError:
        raise
    except OSError as exc:
        raise WriteError(target, exc) from exc
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                tmp.unlink()


def atomic_write(path: str | os.PathLike[str], fill: Callable[[BinaryIO], object], *, durable: bool = False) -> Path:
    """Write what ``fill(handle)`` writes to ``path`` through a temporary sibling and a rename.

    Streaming into the file spares large outputs (a depth ``.npy``) the copies of an in-memory
    buffer. Parent folders are created; ``durable`` also fsyncs the file before the rename (slower;
    for manifests and checkpoints). Raises :class:`WriteError` naming ``path`` on any OS error;
    another error raised by ``fill`` propagates as it is. Either way no temporary file is left.
    """
    target = Path(path)
    tmp_name: str | None = None
    try:
        _make_parent(target)
        tmp_name = _temporary_sibling(target)
        # O_EXCL: the temporary name is ours alone; mode 0o666 lets the umask decide, like a plain open().
        fd = os.open(tmp_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        with os.fdopen(fd, "wb") as handle:
            fill(handle)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp_name, target)
        tmp_name = None
    except OSError as exc:
        raise WriteError(target, exc) from exc
    finally:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
    return target


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *, durable: bool = False) -> Path:
    """:func:`atomic_write` of ``data``."""
    return atomic_write(path, lambda handle: handle.write(data), durable=durable)


def atomic_write_text(path: str | os.PathLike[str], text: str, *, durable: bool = False) -> Path:
    """:func:`atomic_write_bytes` for UTF-8 text."""
    return atomic_write_bytes(path, text.encode("utf-8"), durable=durable)


def sweep_temp_files(root: str | os.PathLike[str]) -> list[Path]:
    """Delete temporary files an interrupted run left under ``root`` (before resuming); return them."""
    removed = []
    for path in Path(root).rglob(f"{TEMP_PREFIX}*"):
        if path.is_file():
            path.unlink()
            removed.append(path)
    return removed
