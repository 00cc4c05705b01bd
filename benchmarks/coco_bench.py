"""COCO writer statistics: ms per 1280x720 frame with about 145 instances, one pass against one mask per instance.

The frames are ``tests/coco_reference.py``'s crowded views (overlapping boxes and discs, a full-height
pole, an instance along every border; 139-143 instances visible). Both ways run in this process on the
same frames, interleaved, and must give the same annotations: the baseline builds a full-frame mask per
instance (``reference_annotations``, the writer's first algorithm), the writer finds every box and area
in one pass and encodes each RLE from its box's crop (``instance_statistics``). Medians over
``--repeat`` rounds; the ratio is baseline / one pass.

Run: ``python benchmarks/coco_bench.py [--frames 3] [--repeat 7]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from coco_reference import many_instances, reference_annotations

from omni.sdg_studio.core.writers.coco_writer import instance_statistics

KEYS = list(range(2, 151))


def per_frame_ms(function, frames) -> float:
    began = time.perf_counter()
    for ids in frames:
        function(ids, KEYS)
    return (time.perf_counter() - began) / len(frames) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    frames = [many_instances(seed=seed) for seed in range(args.frames)]
    for ids in frames:
        ours = [(s.key, s.bbox, s.area, s.segmentation) for s in instance_statistics(ids, KEYS)]
        theirs = [(a["instance_id"], a["bbox"], a["area"], a["segmentation"]) for a in reference_annotations(ids, KEYS)]
        assert ours == theirs, "the one-pass statistics differ from the reference"
    visible = [len(reference_annotations(ids, KEYS)) for ids in frames]
    baseline, one_pass = [], []
    for _ in range(args.repeat):
        baseline.append(per_frame_ms(reference_annotations, frames))
        one_pass.append(per_frame_ms(instance_statistics, frames))
    before, after = statistics.median(baseline), statistics.median(one_pass)
    print(f"frames: {args.frames} of 1280x720, visible instances {visible}, identical annotations: yes")
    print(f"one mask per instance (baseline): {before:.1f} ms/frame (median of {args.repeat})")
    print(f"one pass + RLE from box crops:    {after:.1f} ms/frame (median of {args.repeat})")
    print(f"speed-up: {before / after:.1f}x")


if __name__ == "__main__":
    main()
