"""Render the pictures of docs/labeling.md: what each instance policy writes, seen by the annotators.

    python tools/labeling_policy_images.py            # writes docs/images/labeling_instances_<policy>.png

For each policy (root, deinstance, asset) a copy of tests/data/semantics/instancing (a two-part crate
referenced four times, a point instancer of two-part bottles) is labeled by the same part rules with
``sdg-studio label --instances POLICY``, then ``sdg-studio preview`` renders its semantic segmentation
and 2D boxes with the embedded backend into one titled tile grid.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from omni.sdg_studio.cli import main

ROOT = Path(__file__).resolve().parents[1]
SCENE = ROOT / "tests" / "data" / "semantics" / "instancing"
RULES = SCENE / "parts.yaml"


def render_policy(policy: str, out: Path) -> None:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder) / "instancing"
        shutil.copytree(SCENE, work)
        scene = work / "scene.usda"
        if main(["label", str(scene), "--rules", str(RULES), "--instances", policy, "--max-rows", "0"]) != 0:
            raise SystemExit(f"labeling with instances: {policy} failed")
        labeled = scene.with_name("scene_labeled.usda")
        command = ["preview", str(labeled), "--camera", "/World/Camera", "--resolution", "320x320"]
        command += ["--annotators", "semantic_segmentation,bounding_box_2d_tight", "-o", str(out), "--overwrite"]
        if main(command) != 0:
            raise SystemExit(f"rendering instances: {policy} failed")


def run() -> int:
    images = ROOT / "docs" / "images"
    for policy in ("root", "deinstance", "asset"):
        render_policy(policy, images / f"labeling_instances_{policy}.png")
    return 0


if __name__ == "__main__":
    sys.exit(run())
