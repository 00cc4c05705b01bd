"""Visualizer speed: colorize and compose rgb, depth, semantic and a 2D-box overlay of one 1024² frame.

The frame is the sample warehouse rendered once by the embedded backend (TopCam, 1024x1024). Each
step is timed as the median of repeated runs in this process; the floor is a bare numpy lookup-table
gather of the same pixels (one uint32 gather per tile, 4 x 1024² pixels), measured in the same run.
Target: the four tiles colorized and composed in <= 15 ms on one core (numpy's element-wise ops and
pillow's drawing used here run on one thread; the render uses one engine thread).

Run: ``python benchmarks/visualize_bench.py [--repeat N]``
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

from omni.sdg_studio.backends.embedded import EmbeddedBackend
from omni.sdg_studio.core.stage_io import open_stage
from omni.sdg_studio.core.visualize.layout import compose, plan_layout
from omni.sdg_studio.core.visualize.tiles import ViewOptions, render_tiles
from omni.sdg_studio.resources import SAMPLE_SCENE

SIZE = 1024
TILES = ["rgb", "distance_to_image_plane", "semantic_segmentation", "bounding_box_2d_tight"]


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm caches (fonts, title strips)
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    print(f"rendering the sample scene at {SIZE}x{SIZE} once (embedded backend)...")
    backend = EmbeddedBackend(open_stage(SAMPLE_SCENE), threads=1)
    frame = backend.render("/World/Cameras/TopCam", (SIZE, SIZE), TILES)
    backend.close()
    options = ViewOptions()

    ids = frame["semantic_segmentation"]["data"]
    lut = np.random.default_rng(0).integers(0, 1 << 32, int(ids.max()) + 1, dtype=np.uint32)
    floor_one = median_ms(lambda: lut[ids], args.repeat)
    floor = 4 * floor_one

    per_tile = {name: median_ms(lambda n=name: render_tiles(frame, [n], options), args.repeat) for name in TILES}
    tiles = render_tiles(frame, TILES, options)
    layout = plan_layout(tiles, max_tile=SIZE)
    compose_ms = median_ms(lambda: compose(tiles, layout), args.repeat)
    total = median_ms(lambda: compose(render_tiles(frame, TILES, options), layout), args.repeat)

    print(f"\nframe {SIZE}x{SIZE}, {len(frame['bounding_box_2d_tight']['data'])} boxes, median of {args.repeat} runs")
    print(f"floor: numpy LUT gather of 4 x {SIZE}² px        {floor:7.2f} ms  (one tile {floor_one:.2f} ms)")
    for name, ms in per_tile.items():
        print(f"  tile {name:<28}              {ms:7.2f} ms  ({ms / floor_one:5.1f}x one gather)")
    print(f"  compose 2x2 grid ({layout.size[0]}x{layout.size[1]})            {compose_ms:7.2f} ms")
    verdict = "meets" if total <= 15.0 else "misses"
    print(f"four tiles colorized + composed                {total:7.2f} ms  ({total / floor:4.1f}x the floor)")
    print(f"target <= 15 ms on one core: {verdict}")


if __name__ == "__main__":
    main()
