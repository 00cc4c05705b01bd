"""The Mask R-CNN example's pieces that run without torchvision: held-out recording, training loop, loss plot.

The example itself (torchvision's Mask R-CNN) runs on the GPU machine only; here its loop trains a small
real model (a linear object counter) so the data path, the stopping rule and the timings are exercised.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch
from PIL import Image
from torch.utils.data import DataLoader

from omni.sdg_studio.core.targets import TargetClasses
from omni.sdg_studio.torch import RecordedDataset, SyntheticStream, detection_collate

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "train_maskrcnn_online.py"


def load_example():
    spec = importlib.util.spec_from_file_location("train_maskrcnn_online", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class ObjectCounter(torch.nn.Module):
    """Predicts how many objects an image holds from its mean color; its loss is the squared error."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(3, 1)

    def forward(self, images, targets):
        features = torch.stack([image.mean(dim=(1, 2)) for image in images])
        counts = torch.tensor([float(len(t["labels"])) for t in targets])
        return {"count": ((self.linear(features).squeeze(1) - counts) ** 2).mean()}


def test_heldout_recording_stream_training_loop_and_plot(tmp_path):
    example = load_example()
    flags = ["--minutes", "0", "--iterations", "3", "--batch-size", "2", "--resolution", "64x48", "--log-every", "1"]
    args = example.parse_args(flags)
    assert args.size == (64, 48)
    stage = example.labeled_warehouse(tmp_path / "scene")
    classes = TargetClasses.of_rules(example.RULES)
    folder = example.record_heldout(stage, tmp_path / "heldout", 4, args.size, seed=5, scenario=None)
    heldout = RecordedDataset(folder, classes=classes)
    assert len(heldout) == 6 and heldout.cameras == ("TopCam", "DriverCam", "PalletCam")  # 2 frames x 3 cameras
    assert heldout.image_ids == list(range(6))

    stream = SyntheticStream(stage, scenario=example.JITTER_SCENARIO, cameras=example.CAMERAS, resolution=args.size,
                             classes=classes)
    loader = DataLoader(stream, batch_size=2, num_workers=2, collate_fn=detection_collate)
    model = ObjectCounter()
    losses, timing = example.train(model, loader, torch.device("cpu"), args)
    assert len(losses) == 3 and all(loss > 0 for loss in losses)
    assert timing["images"] == 6 and 0 < timing["model_busy"] <= 1 and timing["images_per_s"] > 0

    example.plot_loss(losses, tmp_path / "loss.png")
    with Image.open(tmp_path / "loss.png") as image:
        assert image.size[0] >= 800
