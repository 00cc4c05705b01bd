"""Many small rows at once: products of 3-vectors with one matrix or vector without BLAS, row gathers.

For an inner dimension of 3, numpy's ``@`` either loops slowly or calls BLAS, whose own threads fight the
frame's worker threads (and every other process) for the cores: 16 ms instead of 1 for 262,144 vectors on
a shared machine. These column-by-column versions cost a few passes over the data, on the calling thread.
"""

from __future__ import annotations

import numpy as np


def dot3(vectors: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """``vectors @ direction`` for (n, 3) vectors and one 3-vector."""
    d = np.asarray(direction, vectors.dtype)
    return vectors[:, 0] * d[0] + vectors[:, 1] * d[1] + vectors[:, 2] * d[2]


def transform3(vectors: np.ndarray, matrix: np.ndarray, offset: np.ndarray | None = None) -> np.ndarray:
    """``vectors @ matrix[:3, :3] (+ offset)`` for (n, 3) row vectors (usd-core's row-vector convention)."""
    m = np.asarray(matrix, vectors.dtype)
    out = np.empty(vectors.shape, vectors.dtype)
    x, y, z = vectors[:, 0], vectors[:, 1], vectors[:, 2]
    for k in range(3):
        column = x * m[0, k]
        column += y * m[1, k]
        column += z * m[2, k]
        if offset is not None:
            column += np.asarray(offset, vectors.dtype)[k]
        out[:, k] = column
    return out


def gather_rows(table: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``table[index]`` for a 2-D table, one row copy per element (rows viewed as opaque bytes)."""
    rows = np.ascontiguousarray(table)
    opaque = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
    return opaque[index].view(rows.dtype).reshape(len(index), rows.shape[1])
