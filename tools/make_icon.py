"""Draw data/icon.png (256x256): four label-colored tiles, the way a segmentation grid looks."""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image, ImageDraw

from omni.sdg_studio.core.classes import stable_color

ROOT = Path(__file__).resolve().parents[1]


def draw_icon(size: int = 256) -> Image.Image:
    """Rounded dark square holding a 2x2 grid of tiles in the stable colors of four sample labels."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, size - 1, size - 1), radius=size // 6, fill=(32, 36, 44, 255))
    pad, gap = size // 8, size // 16
    cell = (size - 2 * pad - gap) // 2
    for index, label in enumerate(("pallet", "cardbox", "forklift", "traffic_cone")):
        x = pad + (index % 2) * (cell + gap)
        y = pad + (index // 2) * (cell + gap)
        draw.rounded_rectangle((x, y, x + cell, y + cell), radius=size // 24, fill=stable_color(label))
    return image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("output", nargs="?", type=Path, default=ROOT / "data" / "icon.png")
    args = parser.parse_args()
    draw_icon().save(args.output)


if __name__ == "__main__":
    main()
