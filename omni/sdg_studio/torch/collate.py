"""Batches of detection samples: images differ in size and targets in length, so nothing is stacked."""

from __future__ import annotations

from collections.abc import Sequence

import torch

Sample = tuple[torch.Tensor, dict[str, torch.Tensor]]


def detection_collate(batch: Sequence[Sample]) -> tuple[list[torch.Tensor], list[dict[str, torch.Tensor]]]:
    """``(images, targets)`` as two lists, the form torchvision's detection models take in training."""
    images = [image for image, _ in batch]
    targets = [target for _, target in batch]
    return images, targets
