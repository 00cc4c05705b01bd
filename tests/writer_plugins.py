"""A custom writer as a user would write one, for the registry tests."""

from __future__ import annotations

import os
from typing import Literal

from omni.sdg_studio.core.writers.base import AnnotatorRequest, FrameBatch
from omni.sdg_studio.core.writers.encode import json_bytes
from omni.sdg_studio.core.writers.file_writer import FileWriter


class BoxCountWriter(FileWriter):
    """Writes the number of tight boxes per render product and frame.

    Args:
        prefix: File name prefix.
        min_height: Boxes lower than this are not counted.
        mode: How counts are written.
    """

    name = "BoxCountWriter"

    def __init__(
        self,
        output_dir: str | os.PathLike[str],
        prefix: str = "boxes",
        min_height: int = 0,
        mode: Literal["json", "text"] = "json",
        *,
        seed: int = 0,
    ) -> None:
        super().__init__(output_dir, seed=seed)
        self.prefix, self.min_height, self.mode = prefix, min_height, mode

    @property
    def annotators(self) -> tuple[AnnotatorRequest, ...]:
        return (AnnotatorRequest("bounding_box_2d_tight"),)

    def write_frame(self, batch: FrameBatch) -> None:
        for rp_name, frame in batch.products.items():
            rows = frame["bounding_box_2d_tight"]["data"]
            count = int(((rows["y_max"] - rows["y_min"]) >= self.min_height).sum())
            self.schedule_file(f"{rp_name}/{self.prefix}_{batch.index}.json", lambda c=count: json_bytes({"count": c}))


class Untyped:
    """Not usable: its parameter has no annotation."""

    def __init__(self, output_dir, flag=False):
        self.output_dir = output_dir

    annotators = ()

    def write(self, batch):
        return []

    def finish(self):
        return []
