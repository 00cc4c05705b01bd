"""The threads of a frame: every stage (casts and numpy post-processing alike) runs band by band on them.

Embree and numpy's array operations release the GIL, so bands of whole image rows processed on a
thread pool use every core for the cast and for the work after it. Results never depend on the
number of threads: each band's work is a function of its pixels only, and bands are combined in order.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from typing import TypeVar

T = TypeVar("T")

#: Bands per thread (uneven bands balance out) and the fewest pixels worth a band of its own.
_BANDS_PER_THREAD = 3
_MIN_BAND_PIXELS = 16384

_POOLS: dict[int, ThreadPoolExecutor] = {}
_PREFIX = "sdg-render"


def cpu_count() -> int:
    """Cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class Workers:
    """A pool of ``threads`` threads (shared by every backend of the process with that count)."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        if threads > 1 and threads not in _POOLS:
            _POOLS[threads] = ThreadPoolExecutor(threads, thread_name_prefix=_PREFIX)
        self._pool = _POOLS.get(threads)

    def bands(self, width: int, height: int, parallel: bool = True) -> list[slice]:
        """Flat pixel slices of whole rows covering a ``width`` x ``height`` image."""
        count = 1
        if parallel and self.threads > 1:
            count = min(self.threads * _BANDS_PER_THREAD, max(1, width * height // _MIN_BAND_PIXELS), height)
        edges = [round(k * height / count) for k in range(count + 1)]
        return [slice(a * width, b * width) for a, b in pairwise(edges) if b > a]

    def map(self, function: Callable[[slice], T], bands: Sequence[slice]) -> list[T]:
        """``function`` of every band, in band order (on the calling thread when it is a worker already,
        so that work started from a band cannot wait for the pool it occupies)."""
        if self._pool is None or len(bands) < 2 or threading.current_thread().name.startswith(_PREFIX):
            return [function(band) for band in bands]
        return list(self._pool.map(function, bands))
