"""Names that become parts of file paths (render products, config names): data to check, never to trust.

A name is one path component: not ``.`` or ``..``, no ``/`` or ``\\``, no drive (``C:``), no NUL or
other control character. :func:`inside` is the last guard of every file a writer creates: the path,
symbolic links followed, must lie inside the output folder.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath, PureWindowsPath

from omni.sdg_studio.core.errors import SdgStudioError


class UnsafePathError(SdgStudioError, ValueError):
    """A path built from data would leave its folder, or holds characters no file name should."""


def name_problem(name: object) -> str | None:
    """Why ``name`` cannot be one path component, or ``None`` if it can."""
    if not isinstance(name, str):
        return f"must be a string, got {type(name).__name__}"
    if not name:
        return "must not be empty"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return f"{name!r} contains a control character (NUL, newline, ...)"
    if "/" in name or "\\" in name:
        return f"{name!r} contains a path separator; use a plain name"
    if name in (".", ".."):
        return f"{name!r} is not a name (it points at a folder)"
    if PureWindowsPath(name).drive:
        return f"{name!r} names a drive; use a plain name"
    return None


def relative_problem(relpath: str) -> str | None:
    """Why ``relpath`` (``a/b/c.png``) cannot name a file under a folder, or ``None`` if it can."""
    if PurePosixPath(relpath).is_absolute() or PureWindowsPath(relpath).is_absolute() or PureWindowsPath(relpath).drive:
        return f"{relpath!r} is an absolute path"
    for part in relpath.split("/"):
        problem = name_problem(part)
        if problem is not None:
            return f"{relpath!r}: {problem}"
    return None


def inside(root: Path, relpath: str) -> Path:
    """``root / relpath``, or :class:`UnsafePathError` if ``relpath`` is unsafe or resolves outside ``root``."""
    problem = relative_problem(relpath)
    if problem is not None:
        raise UnsafePathError(problem)
    path = root / relpath
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    if os.path.commonpath([real_root, real]) != real_root:
        raise UnsafePathError(f"{relpath!r} resolves to {real}, outside {root}")
    return path
