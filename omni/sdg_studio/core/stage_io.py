"""Open and save USD stages and layers with one clear error line instead of a traceback.

* :func:`open_stage` opens a stage file, naming the file on any failure.
* :func:`load_problems` lists what did not load (missing sublayers, references and payloads,
  unresolved prim paths, cycles): a stage with such problems looks complete but is not.
* :func:`export_layer_atomically` saves a layer through a temporary file in the target folder
  (``core.atomic``): on any failure (full disk, read-only folder) the previous file is untouched.
"""

from __future__ import annotations

import errno
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from pxr import Sdf, Tf, Usd

from omni.sdg_studio.core.atomic import atomic_path
from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.usd_diagnostics import summarized_usd_warnings

logger = logging.getLogger(__name__)

USD_SUFFIXES = (".usd", ".usda", ".usdc", ".usdz")
#: The first bytes of a binary (crate) USD file.
_CRATE_MAGIC = b"PXR-USDC"


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


def _unreadable(path: Path, exc: Tf.ErrorException) -> StageError:
    where, detail = _usd_error_detail(str(exc))
    return StageError(f"{where or path}: cannot be read as a USD layer{': ' + detail if detail else ''}")


def open_layer(path: str | Path) -> Sdf.Layer:
    """The USD layer at ``path`` (not composed); raise :class:`StageError` naming the file on any failure."""
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
    except Tf.ErrorException as exc:
        raise _unreadable(path, exc) from None
    if layer is None:
        raise StageError(f"{path}: cannot be read as a USD layer")
    return layer


def open_stage(path: str | Path, load_all: bool = True) -> Usd.Stage:
    """Open ``path`` as a ``Usd.Stage``; raise :class:`StageError` naming the file on any failure.

    USD's own warnings while composing (one per unreadable MaterialX document or missing file, say) are
    logged as one line naming the files."""
    layer = open_layer(path)
    try:
        with summarized_usd_warnings(f"opening {path}"):
            stage = Usd.Stage.Open(layer, Usd.Stage.LoadAll if load_all else Usd.Stage.LoadNone)
    except Tf.ErrorException as exc:
        raise _unreadable(Path(path), exc) from None
    if stage is None:
        raise StageError(f"{path}: cannot be opened as a USD stage")
    return stage


@dataclass(frozen=True)
class LoadProblem:
    """Something a stage refers to that did not load: ``kind`` says what, ``asset`` which file or path."""

    kind: str
    asset: str
    message: str

    def describe(self) -> str:
        return f"{self.kind}: {self.asset}"


_KINDS = {
    "ErrorInvalidSublayerPath": "missing sublayer",
    "ErrorSublayerCycle": "sublayer cycle",
    "ErrorArcCycle": "composition cycle",
    "ErrorUnresolvedPrimPath": "unresolved prim path",
    "ErrorMutedAssetPath": "muted asset",
    "ErrorInvalidAuthoredRelocation": "invalid relocation",
}


def _kind(error: object, message: str) -> str:
    name = type(error).__name__
    if name == "ErrorInvalidAssetPath":
        for arc in ("payload", "reference"):
            if f"for {arc}" in message:
                return f"missing {arc}"
        return "missing asset"
    return _KINDS.get(name, "composition error")


def load_problems(stage: Usd.Stage) -> list[LoadProblem]:
    """What ``stage`` refers to but could not load, in USD's order, one entry per distinct problem.

    Host-neutral (pxr only): ``info``, ``labels`` and ``label`` report these, and ``render`` /
    ``record`` can call it the same way. Unloaded payloads (a stage opened with ``LoadNone``) are
    not problems.
    """
    out: dict[tuple[str, str], LoadProblem] = {}
    for error in stage.GetCompositionErrors():
        message = str(error).strip()
        assets = re.findall(r"@([^@]+)@", message)
        kind = _kind(error, message)
        asset = assets[0] if assets else message
        if kind == "sublayer cycle" and len(assets) > 1:
            asset = assets[-1]
        if kind == "unresolved prim path":
            prim = re.search(r"@[^@]+@(<[^>]+>)", message)
            asset = f"{asset}{prim.group(1) if prim else ''}"
        out.setdefault((kind, asset), LoadProblem(kind, asset, message))
    return list(out.values())


def _format_args(layer: Sdf.Layer, target: Path) -> dict[str, str]:
    """Keep a ``.usd`` file's encoding (text or binary) when it is written again."""
    if target.suffix.lower() != ".usd":
        return {}
    try:
        with target.open("rb") as handle:
            binary = handle.read(len(_CRATE_MAGIC)) == _CRATE_MAGIC
    except OSError:
        binary = layer.GetFileFormat().formatId != "usda"
    return {"format": "usdc" if binary else "usda"}


def export_layer_atomically(layer: Sdf.Layer, path: str | Path) -> Path:
    """Write ``layer`` to ``path`` through a temporary file beside it, fsynced, then renamed over it.

    On any failure the previous file at ``path`` is untouched, no temporary file is left, and a
    ``core.atomic.WriteError`` names the file and the reason (disk full, read-only, permission).
    """
    target = Path(path).resolve()
    if target.suffix.lower() == ".usdz":
        raise StageError(f"{target}: a .usdz package cannot be rewritten in place; write a labels layer instead")
    args = _format_args(layer, target)
    with atomic_path(target) as temp:
        try:
            written = layer.Export(str(temp), "", args)
        except Tf.ErrorException as exc:
            text = str(exc)
            code = errno.ENOSPC if "No space left" in text else errno.EIO
            raise OSError(code, text.strip().splitlines()[-1] if text.strip() else "USD could not write it") from None
        if not written:
            raise OSError(errno.EIO, "USD could not write the layer")
    return target


def check_load_problems(stage: Usd.Stage, *, strict: bool = False, what: str = "the stage") -> list[LoadProblem]:
    """Log one warning listing what ``stage`` could not load (``render`` and ``record`` call this);
    with ``strict`` raise :class:`StageError` instead. Returns the problems."""
    problems = load_problems(stage)
    if problems:
        listed = ", ".join(p.describe() for p in problems[:5]) + (" ..." if len(problems) > 5 else "")
        text = f"{what} did not load fully ({len(problems)} unresolved: {listed})"
        if strict:
            raise StageError(f"{text}; --strict refuses it")
        logger.warning("%s: it is rendered without them", text)
    return problems
