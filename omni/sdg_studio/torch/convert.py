"""Numpy targets to torchvision's detection layout: ``(image, target)`` tensors."""

from __future__ import annotations

import numpy as np
import torch

from omni.sdg_studio.core.targets import DetectionTargets

Sample = tuple[torch.Tensor, dict[str, torch.Tensor]]


def to_tensors(targets: DetectionTargets, image_id: int) -> Sample:
    """``image`` [3, H, W] float32 in [0, 1] and torchvision's target dict.

    ``boxes`` FloatTensor[N, 4] (x1, y1, x2, y2, pixel edges), ``labels`` Int64Tensor[N], ``masks``
    UInt8Tensor[N, H, W] (when asked for), ``image_id`` Int64Tensor[] ; extras when asked for:
    ``depth`` FloatTensor[H, W], ``semantic`` Int64Tensor[H, W], ``normals`` FloatTensor[3, H, W],
    ``occlusion`` FloatTensor[N]. Every value is a tensor, so ``{k: v.to(device)}`` works on the dict.
    """
    # channels first as uint8, then to float: converting the strided view directly is several times slower
    image = torch.from_numpy(np.ascontiguousarray(targets.image)).permute(2, 0, 1).contiguous().float().div_(255.0)
    target: dict[str, torch.Tensor] = {
        "boxes": torch.from_numpy(np.ascontiguousarray(targets.boxes, np.float32)),
        "labels": torch.from_numpy(np.ascontiguousarray(targets.labels, np.int64)),
        "image_id": torch.tensor(int(image_id), dtype=torch.int64),
    }
    if targets.masks is not None:
        target["masks"] = torch.from_numpy(np.ascontiguousarray(targets.masks).view(np.uint8))
    if targets.depth is not None:
        target["depth"] = torch.from_numpy(np.ascontiguousarray(targets.depth, np.float32))
    if targets.semantic is not None:
        target["semantic"] = torch.from_numpy(np.ascontiguousarray(targets.semantic, np.int64))
    if targets.normals is not None:
        target["normals"] = torch.from_numpy(np.ascontiguousarray(targets.normals, np.float32)).permute(2, 0, 1)
    if targets.occlusion is not None:
        target["occlusion"] = torch.from_numpy(np.ascontiguousarray(targets.occlusion, np.float32))
    return image, target
