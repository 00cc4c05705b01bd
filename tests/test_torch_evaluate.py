"""CocoEvaluator: box and mask AP of synthetic detections against known targets."""

from __future__ import annotations

import pytest
import torch

from omni.sdg_studio.torch.evaluate import STAT_NAMES, CocoEvaluator, EvaluationError

CLASSES = {1: "crate", 2: "pallet"}
HEIGHT, WIDTH = 60, 80


def target(image_id: int) -> dict[str, torch.Tensor]:
    """Two objects: a crate square and a pallet bar (pixel-edge boxes, masks filling them)."""
    boxes = torch.tensor([[10.0, 10.0, 30.0, 30.0], [40.0, 20.0, 70.0, 50.0]])
    masks = torch.zeros((2, HEIGHT, WIDTH), dtype=torch.uint8)
    for k, (x1, y1, x2, y2) in enumerate(boxes.int().tolist()):
        masks[k, y1:y2, x1:x2] = 1
    return {"boxes": boxes, "labels": torch.tensor([1, 2]), "masks": masks, "image_id": torch.tensor(image_id)}


def as_output(truth: dict[str, torch.Tensor], shift: float = 0.0, labels=None) -> dict[str, torch.Tensor]:
    """The targets as a model's output: scores 0.9, masks as [N, 1, H, W] probabilities, boxes moved by ``shift``."""
    boxes = truth["boxes"] + torch.tensor([shift, 0.0, shift, 0.0])
    masks = torch.roll(truth["masks"].float(), shifts=int(shift), dims=2).unsqueeze(1) * 0.8
    return {
        "boxes": boxes,
        "labels": truth["labels"] if labels is None else torch.tensor(labels),
        "scores": torch.full((len(boxes),), 0.9),
        "masks": masks,
    }


def scores_of(outputs) -> object:
    evaluator = CocoEvaluator(CLASSES)
    for image_id, output in enumerate(outputs):
        evaluator.add(target(image_id), output(target(image_id)), (HEIGHT, WIDTH))
    return evaluator.scores()


def test_perfect_detections_score_one_and_shifted_ones_less():
    perfect = scores_of([as_output] * 3)
    assert perfect.box["AP"] == pytest.approx(1.0) and perfect.mask["AP"] == pytest.approx(1.0)
    assert perfect.images == 3 and perfect.objects == 6
    shifted = scores_of([lambda t: as_output(t, shift=4.0)] * 3)
    assert 0.0 < shifted.box["AP"] < 0.9 and shifted.box["AP50"] == pytest.approx(1.0)
    assert 0.0 < shifted.mask["AP"] < 0.9
    wrong = scores_of([lambda t: as_output(t, labels=[2, 1])] * 3)
    assert wrong.box["AP"] == 0.0 and wrong.mask["AP"] == 0.0
    half = scores_of([as_output, lambda t: as_output(t, labels=[2, 1])])
    assert 0.2 < half.box["AP"] < 0.8


def test_no_detections_score_zero_and_the_table_lists_every_number():
    empty = {"boxes": torch.zeros((0, 4)), "labels": torch.zeros(0, dtype=torch.int64), "scores": torch.zeros(0)}
    scores = scores_of([lambda t: empty])
    assert scores.box == dict.fromkeys(STAT_NAMES, 0.0) and scores.mask is None  # outputs without masks
    table = scores.table()
    assert table.splitlines()[0] == "| | AP | AP50 | AP75 | APs | APm | APl |" and "| box | 0.000" in table
    with pytest.raises(EvaluationError, match="no images"):
        CocoEvaluator(CLASSES).scores()
