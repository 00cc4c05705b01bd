"""PyTorch datasets of SDG Studio (the optional ``[torch]`` extra; the only package that imports torch).

- :class:`SyntheticStream`: rendered, labeled frames straight into training (an ``IterableDataset``).
- :class:`RecordedDataset`: a recorded folder (BasicWriter, COCO, KITTI) with the same targets.
- :func:`detection_collate`: batches as ``(images, targets)`` lists for torchvision's detection models.
"""

from omni.sdg_studio.torch.collate import detection_collate
from omni.sdg_studio.torch.convert import to_tensors
from omni.sdg_studio.torch.recorded import RecordedDataset, RecordedDatasetError
from omni.sdg_studio.torch.stream import StreamError, SyntheticStream, resolve_classes

__all__ = [
    "RecordedDataset",
    "RecordedDatasetError",
    "StreamError",
    "SyntheticStream",
    "detection_collate",
    "resolve_classes",
    "to_tensors",
]
