"""COCO run-length encoding of binary masks, in numpy (no pycocotools needed to write).

COCO counts runs over the mask in column-major order, starting with a run of zeros (possibly
empty). The compressed form stores each count as 5-bit groups in printable characters; from the
third count on, the difference to the count two places before is stored instead. A mask that is
empty outside a box is encoded from the box's crop alone (:func:`encode_box_mask`), so an image
with many small instances costs the sum of their boxes, not one full-frame scan per instance.
"""

from __future__ import annotations

import numpy as np


def run_lengths(crop: np.ndarray, origin: tuple[int, int] = (0, 0), size: tuple[int, int] | None = None) -> list[int]:
    """Uncompressed COCO counts of a (H, W) boolean mask; with ``origin`` (x, y) and ``size`` (H, W), of a
    ``size`` mask that is ``crop`` at ``origin`` and False everywhere else."""
    crop = np.asarray(crop, dtype=bool)
    rows, cols = crop.shape
    height, width = size if size is not None else (rows, cols)
    total = height * width
    if total == 0:
        return []
    padded = np.zeros((rows + 1, cols), bool)  # a False row closes every run at the end of its column
    padded[:rows] = crop
    flat = padded.ravel(order="F")
    edges = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    if flat[0]:
        edges = np.concatenate(([0], edges))
    if edges.size == 0:
        return [total]
    starts, ends = edges[0::2], edges[1::2]
    column, row = np.divmod(starts, rows + 1)
    begin = (origin[0] + column) * height + origin[1] + row  # runs of True in the full mask's order
    end = begin + (ends - starts)
    joined = begin[1:] == end[:-1]  # a full-height crop's run going on into the next column
    begin = np.concatenate((begin[:1], begin[1:][~joined]))
    end = np.concatenate((end[:-1][~joined], end[-1:]))
    counts = np.empty(2 * len(begin), np.int64)
    counts[0::2] = begin - np.concatenate(([0], end[:-1]))
    counts[1::2] = end - begin
    tail = total - int(end[-1])
    return [*counts.tolist(), tail] if tail else counts.tolist()


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
    return encode_box_mask(mask, (0, 0), (height, width))


def encode_box_mask(crop: np.ndarray, origin: tuple[int, int], size: tuple[int, int]) -> dict[str, object]:
    """The RLE dict of a ``size`` (H, W) mask that is ``crop`` at ``origin`` (x, y) and False elsewhere."""
    return {"size": [int(size[0]), int(size[1])], "counts": compress_counts(run_lengths(crop, origin, size))}
