"""The COCO writer's per-instance statistics as first written, and frames with many instances to test them on.

:func:`reference_annotations` scans the whole frame once per instance (``ids == key``, then box, area
and RLE of that full mask): the one-pass writer must give byte-identical annotations, and
``benchmarks/coco_bench.py`` times it as the baseline. :func:`many_instances` draws a frame like a
crowded warehouse view: overlapping boxes and discs, some hidden entirely, one spanning the full
height (RLE runs that continue across columns), one touching every border.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from omni.sdg_studio.core.writers.rle import compress_counts


def _full_mask_run_lengths(mask: np.ndarray) -> list[int]:
    flat = np.asarray(mask, dtype=bool).ravel(order="F")
    changes = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    counts = np.diff(np.concatenate(([0], changes, [flat.size]))).tolist()
    return [0, *counts] if flat[0] else counts


def reference_annotations(ids: np.ndarray, keys: Sequence[int]) -> list[dict[str, object]]:
    """bbox, area and RLE segmentation of each of ``keys`` present in ``ids``, one full-frame mask each."""
    out = []
    present = set(np.unique(ids).tolist())
    for key in sorted(keys):
        if key not in present:
            continue
        mask = ids == key
        rows = np.flatnonzero(mask.any(axis=1))
        cols = np.flatnonzero(mask.any(axis=0))
        bbox = [float(cols[0]), float(rows[0]), float(cols[-1] - cols[0] + 1), float(rows[-1] - rows[0] + 1)]
        size = [int(mask.shape[0]), int(mask.shape[1])]
        rle = {"size": size, "counts": compress_counts(_full_mask_run_lengths(mask))}
        out.append({"instance_id": key, "bbox": bbox, "area": int(mask.sum()), "segmentation": rle})
    return out


def many_instances(width: int = 1280, height: int = 720, count: int = 145, seed: int = 0) -> np.ndarray:
    """An instance_segmentation id image: 0 background, 1 unlabelled, instances 2 .. count + 1."""
    rng = np.random.default_rng(seed)
    ids = np.zeros((height, width), np.uint32)
    ids[height * 3 // 4 :, :] = 1  # an unlabelled floor
    yy, xx = np.mgrid[0:height, 0:width]
    for key in range(2, count + 2):
        w, h = int(rng.integers(8, width // 10)), int(rng.integers(8, height // 7))
        x, y = int(rng.integers(-w // 2, width - w // 2)), int(rng.integers(-h // 2, height - h // 2))
        window = ids[max(y, 0) : y + h, max(x, 0) : x + w]
        if rng.random() < 0.5:  # a disc inside the box
            cy, cx = y + h / 2, x + w / 2
            inside = ((yy[max(y, 0) : y + h, max(x, 0) : x + w] - cy) / (h / 2)) ** 2 + (
                (xx[max(y, 0) : y + h, max(x, 0) : x + w] - cx) / (w / 2)
            ) ** 2 <= 1
            window[inside] = key
        else:
            window[...] = key
    ids[:, width // 2 : width // 2 + 3] = count + 2  # a pole from top to bottom
    ids[0, :] = ids[-1, :] = count + 3  # one instance along the top and bottom edges ...
    ids[:, 0] = ids[:, -1] = count + 3  # ... and both sides
    return ids
