"""COCO run-length encoding of binary masks, in numpy (no pycocotools needed to write).

COCO counts runs over the mask in column-major order, starting with a run of zeros (possibly
empty). The compressed form stores each count as 5-bit groups in printable characters; from the
third count on, the difference to the count two places before is stored instead.
"""

from __future__ import annotations

import numpy as np


def run_lengths(mask: np.ndarray) -> list[int]:
    """Uncompressed COCO counts of a (H, W) boolean mask."""
    flat = np.asarray(mask, dtype=bool).ravel(order="F")
    if flat.size == 0:
        return []
    changes = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate(([0], changes, [flat.size]))
    counts = np.diff(bounds).tolist()
    return [0, *counts] if flat[0] else counts


def compress_counts(counts: list[int]) -> str:
    """The compressed COCO counts string for ``counts``."""
    out: list[str] = []
    for i, count in enumerate(counts):
        value = count - counts[i - 2] if i > 2 else count
        while True:
            group = value & 0x1F
            value >>= 5  # arithmetic shift: negative values end at -1
            last = value == -1 if group & 0x10 else value == 0
            out.append(chr(group + 48 if last else (group | 0x20) + 48))
            if last:
                break
    return "".join(out)


def encode_mask(mask: np.ndarray) -> dict[str, object]:
    """A COCO ``segmentation`` RLE dict ``{"size": [h, w], "counts": str}`` for a (H, W) mask."""
    height, width = np.shape(mask)
    return {"size": [int(height), int(width)], "counts": compress_counts(run_lengths(mask))}
