"""``SyntheticStream`` as a Ray Dataset: frames rendered by Ray actors, one row per sample.

>>> stream = SyntheticStream("warehouse_labeled.usda", resolution=(512, 512), frames=1000)
>>> dataset = synthetic_dataset(stream, workers=8)
>>> for batch in dataset.iter_batches(batch_size=8, batch_format="numpy"): ...

The frame indices flat-mapped by ``workers`` actors, each holding its own copy of the stream (its own
stage and renderer, opened on its first frame, as a DataLoader worker does): frame ``i`` gives one row per
camera, ``image`` (float32 [3, H, W]) and the target's arrays (``boxes``, ``labels``, ``image_id``, ``masks``
and whatever else the stream's ``targets`` ask for), as numpy arrays. Rows come in no fixed order (Ray Data's
default); ``image_id`` (``frame * cameras + camera``) says which sample a row is. A Ray Dataset is finite, so the
stream needs ``frames``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import ray
import ray.data

if TYPE_CHECKING:  # torch is imported by the stream itself, only when one is made
    from omni.sdg_studio.torch.stream import SyntheticStream


class _FrameRows:
    """A Ray actor's callable: a frame index row -> the rows of its samples."""

    def __init__(self, stream: SyntheticStream) -> None:
        self.stream = stream

    def __call__(self, row: dict[str, Any]) -> list[dict[str, np.ndarray]]:
        rows = []
        for image, target in self.stream.frame(int(row["id"])):
            rows.append({"image": image.numpy(), **{name: value.numpy() for name, value in target.items()}})
        return rows


def synthetic_dataset(stream: SyntheticStream, *, workers: int) -> ray.data.Dataset:
    """``stream``'s frames as a Ray Dataset rendered by ``workers`` actors (``stream`` must have ``frames``)."""
    if stream.frames is None:
        from omni.sdg_studio.torch.stream import StreamError

        raise StreamError("a Ray Dataset is finite: give the SyntheticStream frames=N")
    # The frame indices are made here, not by read tasks: those would wait for a CPU the renderers hold.
    frames = ray.data.from_items([{"id": index} for index in range(stream.frames)])
    return frames.flat_map(_FrameRows, fn_constructor_args=(stream,), concurrency=workers)
