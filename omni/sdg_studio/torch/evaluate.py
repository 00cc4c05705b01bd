"""COCO box and mask AP of detection outputs against the datasets' targets (pycocotools).

>>> evaluator = CocoEvaluator(classes.names)
>>> for images, targets in loader:
...     for image, target, output in zip(images, targets, model(images)):
...         evaluator.add(target, output, image.shape[-2:])
>>> evaluator.scores().box["AP"]

Targets are the datasets' dicts (``boxes`` in pixel-edge ``x1, y1, x2, y2``, ``labels``, optional ``masks``,
``image_id``); outputs are torchvision's (``boxes``, ``labels``, ``scores``, optional ``masks`` [N, 1, H, W]
probabilities, binarized at ``mask_threshold``).
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch

from omni.sdg_studio.core.errors import SdgStudioError

logger = logging.getLogger(__name__)

#: Names of pycocotools' first six summary numbers (``COCOeval.stats``).
STAT_NAMES = ("AP", "AP50", "AP75", "APs", "APm", "APl")


class EvaluationError(SdgStudioError):
    """pycocotools is missing, or there is nothing to evaluate."""


@dataclass(frozen=True)
class CocoScores:
    """AP numbers (0 to 1; -1 where COCO has no object of that size) for boxes and, with masks, for masks."""

    box: dict[str, float]
    mask: dict[str, float] | None
    images: int
    objects: int

    def table(self) -> str:
        """A Markdown table of the scores."""
        header = "| | " + " | ".join(STAT_NAMES) + " |\n|---|" + "---|" * len(STAT_NAMES) + "\n"
        rows = [("box", self.box)] + ([("mask", self.mask)] if self.mask is not None else [])
        return header + "".join(
            f"| {name} | " + " | ".join(f"{values[k]:.3f}" for k in STAT_NAMES) + " |\n" for name, values in rows
        )


def _rle(mask: np.ndarray) -> dict[str, Any]:
    from pycocotools import mask as mask_util

    encoded = mask_util.encode(np.asfortranarray(mask.astype(np.uint8)))
    counts = encoded["counts"]
    return {"size": list(encoded["size"]), "counts": counts.decode("ascii") if isinstance(counts, bytes) else counts}


class CocoEvaluator:
    """Collects targets and model outputs image by image, then runs COCO's evaluation once."""

    def __init__(self, classes: Mapping[int, str], mask_threshold: float = 0.5) -> None:
        try:
            import pycocotools.cocoeval  # noqa: F401
        except ImportError as exc:
            raise EvaluationError(f"COCO evaluation needs pycocotools ({exc}); pip install pycocotools") from None
        self.classes = dict(classes)
        self.mask_threshold = mask_threshold
        self._images: list[dict[str, Any]] = []
        self._truth: list[dict[str, Any]] = []
        self._found: list[dict[str, Any]] = []
        self._masks = True

    def add(self, target: Mapping[str, torch.Tensor], output: Mapping[str, torch.Tensor], size: Sequence[int]) -> None:
        """One image: its ``target``, the model's ``output`` and the image ``size`` (height, width)."""
        image_id = int(target["image_id"])
        height, width = int(size[0]), int(size[1])
        self._images.append({"id": image_id, "height": height, "width": width})
        self._masks = self._masks and "masks" in target and "masks" in output
        truth_masks = target["masks"].cpu().numpy().astype(bool) if "masks" in target else None
        for k, (box, label) in enumerate(zip(target["boxes"].tolist(), target["labels"].tolist(), strict=True)):
            x1, y1, x2, y2 = box
            entry = {
                "id": len(self._truth) + 1,
                "image_id": image_id,
                "category_id": int(label),
                "bbox": [x1, y1, x2 - x1, y2 - y1],
                "area": float(truth_masks[k].sum()) if truth_masks is not None else (x2 - x1) * (y2 - y1),
                "iscrowd": 0,
            }
            if truth_masks is not None:
                entry["segmentation"] = _rle(truth_masks[k])
            self._truth.append(entry)
        found_masks = None
        if "masks" in output:
            found_masks = (output["masks"].detach().float().cpu().numpy()[:, 0] >= self.mask_threshold)
        boxes, labels, scores = (output[k].detach().cpu().tolist() for k in ("boxes", "labels", "scores"))
        for k, (box, label, score) in enumerate(zip(boxes, labels, scores, strict=True)):
            x1, y1, x2, y2 = box
            entry = {"image_id": image_id, "category_id": int(label), "score": score}
            entry["bbox"] = [x1, y1, x2 - x1, y2 - y1]
            if found_masks is not None:
                entry["segmentation"] = _rle(found_masks[k])
            self._found.append(entry)

    def scores(self) -> CocoScores:
        """COCO AP of everything added so far (box, and mask when targets and outputs both had masks)."""
        from pycocotools.coco import COCO

        if not self._images:
            raise EvaluationError("no images were added to the evaluation")
        truth: Any = COCO()  # filled in memory; pycocotools' stubs do not declare ``dataset``
        truth.dataset = {
            "images": self._images,
            "annotations": self._truth,
            "categories": [{"id": i, "name": n} for i, n in sorted(self.classes.items())],
        }
        with contextlib.redirect_stdout(io.StringIO()):
            truth.createIndex()
        box = self._evaluate(truth, "bbox")
        mask = self._evaluate(truth, "segm") if self._masks else None
        return CocoScores(box, mask, len(self._images), len(self._truth))

    def _evaluate(self, truth: Any, kind: Literal["bbox", "segm"]) -> dict[str, float]:
        from pycocotools.cocoeval import COCOeval

        if not self._found or not self._truth:
            return dict.fromkeys(STAT_NAMES, 0.0)
        found: list[dict[str, Any]]
        if kind == "bbox":
            found = [{k: v for k, v in d.items() if k != "segmentation"} for d in self._found]
        else:  # without a bbox, pycocotools takes area and box from the mask (as torchvision's references do)
            found = [{k: v for k, v in d.items() if k != "bbox"} for d in self._found if "segmentation" in d]
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            detections = truth.loadRes(found)
            evaluation = COCOeval(truth, detections, kind)
            evaluation.evaluate()
            evaluation.accumulate()
            evaluation.summarize()
        logger.debug("pycocotools %s:\n%s", kind, printed.getvalue())
        return {name: float(value) for name, value in zip(STAT_NAMES, evaluation.stats[:6], strict=True)}
