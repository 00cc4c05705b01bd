"""One place for Replicator's output quirks, so colorizers see a single shape of data.

Quirks handled (``shared/research/visualizer_kit.md`` section 2 and pain points 4-5):
- ``get_data()`` returns a bare array, ``{"data": ..., "info": {...}}`` or a flat dict;
- ``idToLabels`` keys are ``str`` ids (semantic), ``int`` ids (instance), or ``"(r, g, b, a)"``
  strings when the annotator ran with ``colorize=True``;
- semantic values are ``{taxonomy: "a,b"}`` dicts, instance values are prim paths;
- depth is (H, W) or (H, W, 1);
- colorized segmentation is (H, W, 4) uint8, raw segmentation is (H, W) uint32.

Colorized RGBA pixels are packed into one ``uint32`` (little-endian, the bytes of R, G, B, A), the
same number ``rgba.view(np.uint32)`` gives, so both kinds become an id image plus an id -> label table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from omni.sdg_studio.core.colors import BACKGROUND, INVALID, UNLABELLED, parse_rgba_key
from omni.sdg_studio.core.errors import SdgStudioError

#: Segmentation annotators and what their ``idToLabels`` values name.
SEGMENTATION_ANNOTATORS = ("semantic_segmentation", "instance_segmentation", "instance_id_segmentation")


class AnnotatorDataError(SdgStudioError, ValueError):
    """Annotator data the visualizer cannot read; the message names the annotator (and file, if any)."""


def pack_rgba(r: int, g: int, b: int, a: int) -> int:
    """The uint32 that an RGBA pixel reads as through ``view(np.uint32)`` (little-endian)."""
    return int(r) | int(g) << 8 | int(b) << 16 | int(a) << 24


def parse_label_key(key: Any) -> tuple[int, bool]:
    """``(id, colorized)`` for an ``idToLabels`` key: ``3``, ``"3"`` or ``"(r, g, b, a)"``."""
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        return int(key), False
    if isinstance(key, str):
        text = key.strip()
        if text.isdigit():
            return int(text), False
        color = parse_rgba_key(text)
        if color is not None:
            return pack_rgba(*color), True
    if isinstance(key, tuple) and len(key) == 4:
        return pack_rgba(*key), True
    raise ValueError(f"idToLabels key {key!r} is neither an id nor an '(r, g, b, a)' color")


def semantic_label_text(value: Any, taxonomy: str | None = None) -> str:
    """Display text of a semantic ``idToLabels`` value: ``{"class": "a,b"}`` -> ``"a,b"``.

    With several taxonomies the text is ``"class=a; color=red"``, or just the ``taxonomy`` asked for.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        if taxonomy is not None:
            return str(value.get(taxonomy, UNLABELLED))
        if len(value) == 1:
            return str(next(iter(value.values())))
        return "; ".join(f"{k}={v}" for k, v in value.items())
    raise ValueError(f"label value {value!r} is neither a string nor a dict taxonomy -> labels")


def unpack(value: Any) -> tuple[Any, Mapping[str, Any]]:
    """Split a ``get_data()`` result into ``(data, info)``; bare arrays get an empty info."""
    if isinstance(value, Mapping) and "data" in value:
        info = value.get("info")
        return value["data"], info if isinstance(info, Mapping) else {}
    return value, {}


def is_empty(value: Any) -> bool:
    """True for what Replicator returns before the first frame rendered: None or an empty image."""
    data, _ = unpack(value)
    if data is None:
        return True
    if isinstance(data, np.ndarray) and data.dtype.names is None:
        return data.size == 0
    return False


def as_image(name: str, data: Any, *, channels: int | None = None) -> np.ndarray:
    """``data`` as an (H, W) or (H, W, C) array; (H, W, 1) is squeezed to (H, W)."""
    array = np.asarray(data)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or array.size == 0:
        raise AnnotatorDataError(f"{name}: shape {array.shape} is not an image (H, W[, C])")
    if channels is not None and (array.ndim != 3 or array.shape[2] < channels):
        raise AnnotatorDataError(f"{name}: shape {array.shape}, expected (H, W, {channels})")
    return array


def as_rgba(name: str, data: Any) -> np.ndarray:
    """An (H, W, 4) uint8 image from RGBA, RGB or gray uint8 data."""
    array = as_image(name, data)
    if array.dtype != np.uint8:
        raise AnnotatorDataError(f"{name}: dtype {array.dtype}, expected uint8")
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    if array.shape[2] == 3:
        alpha = np.full((*array.shape[:2], 1), 255, np.uint8)
        array = np.concatenate([array, alpha], axis=2)
    return np.ascontiguousarray(array[:, :, :4])


@dataclass
class Segmentation:
    """A segmentation as an id image and what each id means.

    ``ids`` is (H, W) uint32: raw ids, or packed RGBA when the annotator ran colorized.
    ``labels`` maps id -> display text (a label, or a prim path for instance annotators);
    ``semantics`` maps id -> semantic text for ``instance_segmentation``.
    """

    kind: str
    ids: np.ndarray
    labels: dict[int, str]
    colorized: bool
    semantics: dict[int, str] = field(default_factory=dict)


def _segmentation_ids(name: str, data: Any) -> np.ndarray:
    array = as_image(name, data)
    if array.ndim == 3:
        if array.dtype != np.uint8 or array.shape[2] != 4:
            raise AnnotatorDataError(f"{name}: shape {array.shape} dtype {array.dtype}, expected (H, W, 4) uint8")
        # Colorized RGBA, or an id image stored as the 4 bytes of each uint32 (BasicWriter without
        # colorize): both read back as the same little-endian uint32 per pixel.
        return np.ascontiguousarray(array).view("<u4")[:, :, 0].astype(np.uint32, copy=False)
    if not np.issubdtype(array.dtype, np.integer):
        raise AnnotatorDataError(f"{name}: dtype {array.dtype}, expected integer ids")
    return array.astype(np.uint32, copy=False)


def segmentation(name: str, value: Any, *, taxonomy: str | None = None) -> Segmentation:
    """Normalize any segmentation annotator output (raw or colorized) to a :class:`Segmentation`."""
    if name not in SEGMENTATION_ANNOTATORS:
        raise AnnotatorDataError(f"{name}: not a segmentation annotator ({', '.join(SEGMENTATION_ANNOTATORS)})")
    data, info = unpack(value)
    raw_labels = info.get("idToLabels")
    if not isinstance(raw_labels, Mapping):
        raise AnnotatorDataError(f"{name}: info['idToLabels'] missing")
    labels: dict[int, str] = {}
    colorized_keys: set[bool] = set()
    for key, label in raw_labels.items():
        try:
            parsed, colorized = parse_label_key(key)
            text = semantic_label_text(label, taxonomy) if name == "semantic_segmentation" else str(label)
        except ValueError as exc:
            raise AnnotatorDataError(f"{name}: idToLabels: {exc}") from exc
        labels[parsed] = text
        colorized_keys.add(colorized)
    if len(colorized_keys) > 1:
        raise AnnotatorDataError(f"{name}: idToLabels mixes integer ids and '(r, g, b, a)' color keys")
    colorized = colorized_keys == {True}
    ids = _segmentation_ids(name, data)
    semantics: dict[int, str] = {}
    raw_semantics = info.get("idToSemantics")
    if isinstance(raw_semantics, Mapping):
        for key, label in raw_semantics.items():
            try:
                semantics[parse_label_key(key)[0]] = semantic_label_text(label, taxonomy)
            except ValueError as exc:
                raise AnnotatorDataError(f"{name}: idToSemantics: {exc}") from exc
    return Segmentation(name, ids, labels, colorized, semantics)


@dataclass(frozen=True)
class Boxes:
    """Rows of a bounding-box annotator with each row's label text and prim path."""

    rows: np.ndarray
    labels: list[str]
    prim_paths: list[str]


def boxes(name: str, value: Any, *, taxonomy: str | None = None) -> Boxes:
    """Normalize ``bounding_box_2d_*`` / ``bounding_box_3d`` output; labels looked up by ``semanticId``."""
    data, info = unpack(value)
    rows = np.asarray(data)
    if rows.dtype.names is None or "semanticId" not in rows.dtype.names:
        raise AnnotatorDataError(f"{name}: expected a structured array with a semanticId field, got {rows.dtype}")
    rows = rows.reshape(-1)
    by_id: dict[int, str] = {}
    for key, label in (info.get("idToLabels") or {}).items():
        try:
            by_id[parse_label_key(key)[0]] = semantic_label_text(label, taxonomy)
        except ValueError as exc:
            raise AnnotatorDataError(f"{name}: idToLabels: {exc}") from exc
    labels = [by_id.get(int(sid), f"#{int(sid)}") for sid in rows["semanticId"]]
    paths = [str(p) for p in (info.get("primPaths") or [])]
    if paths and len(paths) != len(rows):
        raise AnnotatorDataError(f"{name}: {len(paths)} primPaths for {len(rows)} boxes")
    return Boxes(rows, labels, paths or [""] * len(rows))


def is_reserved(label: str) -> bool:
    """BACKGROUND, UNLABELLED and INVALID: not real classes."""
    return label in (BACKGROUND, UNLABELLED, INVALID)
