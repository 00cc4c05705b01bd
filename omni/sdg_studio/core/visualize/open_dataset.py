"""Open a folder with the reader its files call for (COCO, KITTI or BasicWriter)."""

from __future__ import annotations

from pathlib import Path

from omni.sdg_studio.core.visualize.dataset import Dataset, DatasetError
from omni.sdg_studio.core.visualize.dataset_basic import BasicWriterDataset
from omni.sdg_studio.core.visualize.dataset_coco import CocoDataset
from omni.sdg_studio.core.visualize.dataset_kitti import KittiDataset


def open_dataset(path: Path) -> Dataset:
    """Open ``path`` as a BasicWriter, KITTI or COCO dataset (detected from its files)."""
    if not path.exists():
        raise DatasetError(f"{path}: no such folder")
    if not path.is_dir():
        raise DatasetError(f"{path}: not a folder (give the writer's output folder)")
    for reader in (CocoDataset, KittiDataset, BasicWriterDataset):
        dataset = reader.detect(path)
        if dataset is not None:
            return dataset
    raise DatasetError(
        f"{path}: not a dataset: no BasicWriter files (rgb_0000.png, ...), KITTI folders (rgb/, object_detection/) "
        "or COCO annotations (coco_annotations_*.json) found"
    )
