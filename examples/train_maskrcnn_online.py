"""Train torchvision's Mask R-CNN on frames rendered while it trains, then measure it on a recorded held-out set.

The training data is ``SyntheticStream`` over the sample warehouse (labeled by ``config/rules/warehouse.yaml``),
every camera, each frame varied by a scenario: by default config/scenarios/warehouse_offline.yaml (Isaac Sim's
offline-generation example on the sample warehouse), ``--scenario FILE`` for another, or ``--scenario ''`` for the
recorder's camera jitter alone (one camera randomizer of the randomization engine). The held-out
set is recorded first with ``sdg-studio record`` under another seed and read back with ``RecordedDataset``;
pycocotools gives box and mask AP of the untrained and of the trained model. Writes ``loss_curve.png`` and
``results.json`` into ``--out``.

    python3 examples/train_maskrcnn_online.py --minutes 5 --batch-size 8 --workers 14 --out runs/maskrcnn

Needs torch, torchvision and pycocotools (matplotlib for the plot, else Pillow draws it). Nothing is downloaded:
the model starts from random weights (``weights=None, weights_backbone=None``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Subset

from omni.sdg_studio.cli import main as sdg_studio
from omni.sdg_studio.core.recorder.config import CameraJitter
from omni.sdg_studio.core.recorder.randomization import camera_jitter_scenario
from omni.sdg_studio.core.targets import TargetClasses
from omni.sdg_studio.resources import CONFIG_DIR, SAMPLE_SCENE
from omni.sdg_studio.torch import RecordedDataset, SyntheticStream, detection_collate
from omni.sdg_studio.torch.evaluate import CocoEvaluator, CocoScores

RULES = CONFIG_DIR / "rules" / "warehouse.yaml"
WAREHOUSE_SCENARIO = CONFIG_DIR / "scenarios" / "warehouse_offline.yaml"
CAMERAS = ("/World/Cameras/TopCam", "/World/Cameras/DriverCam", "/World/Cameras/PalletCam")
JITTER = CameraJitter(position=0.5, rotation=5.0)
#: The scenario of ``--scenario ''``: per-frame camera offsets, bound by each DataLoader worker to its own stage.
JITTER_SCENARIO = camera_jitter_scenario(JITTER, CAMERAS)


def labeled_warehouse(folder: Path) -> Path:
    """The sample warehouse labeled by the shipped rules (``sdg-studio label``), as a stage file in ``folder``."""
    root = folder / "warehouse_labeled.usda"
    if not root.exists():
        args = ["label", str(SAMPLE_SCENE), "--rules", str(RULES), "--layer", str(folder / "warehouse_labels.usda")]
        if sdg_studio([*args, "-o", str(root)]) != 0:
            sys.exit("labeling the sample scene failed")
    return root


def record_heldout(
    stage: Path, folder: Path, images: int, size: tuple[int, int], seed: int, scenario: str | None
) -> Path:
    """Record ``images`` held-out images (every camera) with ``sdg-studio record`` under ``seed``."""
    if (folder / "sdg_manifest.json").exists():
        return folder
    width, height = size
    flags = {"rgb": True, "instance_segmentation": True, "bounding_box_2d_tight": True}
    config = {
        "num_frames": math.ceil(images / len(CAMERAS)),
        "writer_name": "BasicWriter",
        "rp_data": [[camera, width, height, camera.rsplit("/", 1)[-1]] for camera in CAMERAS],
        "basic_writer_params": flags,
        "sdg_studio": {"seed": seed},
    }
    if not scenario:  # the stream's default scenario
        config["sdg_studio"]["camera_jitter"] = {"position": JITTER.position, "rotation": JITTER.rotation}
    folder.parent.mkdir(parents=True, exist_ok=True)
    config_path = folder.parent / "heldout_config.json"
    config_path.write_text(json.dumps(config, indent=2))
    args = ["record", str(stage), "--config", str(config_path), "--out", str(folder)]
    if scenario:
        args += ["--scenario", scenario]
    if sdg_studio(args) != 0:
        sys.exit("recording the held-out set failed")
    return folder


def build_model(num_classes: int, size: tuple[int, int]) -> torch.nn.Module:
    """Mask R-CNN (ResNet-50 FPN) from random weights, at the images' own size (no resizing inside)."""
    try:
        from torchvision.models.detection import maskrcnn_resnet50_fpn  # pyright: ignore[reportMissingImports]
    except ImportError as exc:
        sys.exit(f"this example needs torchvision ({exc})")
    return maskrcnn_resnet50_fpn(
        weights=None, weights_backbone=None, num_classes=num_classes, min_size=min(size), max_size=max(size)
    )


@torch.no_grad()
def evaluate(
    model: torch.nn.Module, dataset: Dataset, classes: TargetClasses, device: torch.device, workers: int
) -> CocoScores:
    """Box and mask AP of ``model`` on ``dataset``."""
    model.eval()
    evaluator = CocoEvaluator(classes.names)
    loader = DataLoader(dataset, batch_size=4, num_workers=workers, collate_fn=detection_collate)
    for images, targets in loader:
        outputs = model([image.to(device) for image in images])
        for image, target, output in zip(images, targets, outputs, strict=True):
            evaluator.add(target, output, image.shape[-2:])
    return evaluator.scores()


def train(
    model: torch.nn.Module, loader: DataLoader, device: torch.device, args: argparse.Namespace
) -> tuple[list[float], dict[str, float]]:
    """SGD with a linear warm-up until ``args.minutes`` or ``args.iterations``; the loss of every iteration."""
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    lr = args.lr * args.batch_size / 16
    optimizer = torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=1e-4)
    warmup = 200
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda i: min(1.0, (i + 1) / warmup))
    losses: list[float] = []
    waited = stepped = 0.0
    images = 0
    start = time.perf_counter()
    deadline = start + args.minutes * 60 if args.minutes else math.inf
    ready = time.perf_counter()
    for iteration, (batch, targets) in enumerate(loader):
        fetched = time.perf_counter()
        waited += fetched - ready
        batch = [image.to(device, non_blocking=True) for image in batch]
        targets = [{k: v.to(device, non_blocking=True) for k, v in t.items()} for t in targets]
        loss_parts = model(batch, targets)
        loss = torch.stack(list(loss_parts.values())).sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 10.0)
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
        if device.type == "cuda":
            torch.cuda.synchronize()
        ready = time.perf_counter()
        stepped += ready - fetched
        images += len(batch)
        if iteration % args.log_every == 0:
            rate = images / (ready - start)
            busy = stepped / (ready - start)
            print(f"iter {iteration:5d}  loss {losses[-1]:.3f}  {rate:.1f} images/s  model busy {busy:.0%}")
        if len(losses) >= args.iterations or ready >= deadline:
            break
    elapsed = time.perf_counter() - start
    timing = {"seconds": elapsed, "images": images, "images_per_s": images / elapsed, "waiting_s": waited}
    timing["model_busy"] = stepped / elapsed
    return losses, timing


def plot_loss(losses: list[float], path: Path) -> None:
    """The loss curve (and a moving average) as a PNG: matplotlib if present, else drawn with Pillow."""
    window = max(1, len(losses) // 50)
    sums = np.cumsum([0.0, *losses])
    smooth = [(sums[i + 1] - sums[max(0, i + 1 - window)]) / min(window, i + 1) for i in range(len(losses))]
    try:
        import matplotlib  # pyright: ignore[reportMissingImports]

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # pyright: ignore[reportMissingImports]
    except ImportError:
        from PIL import Image, ImageDraw

        image = Image.new("RGB", (800, 400), "white")
        draw = ImageDraw.Draw(image)
        top = max(losses)
        scale = lambda i, v: (40 + 740 * i / max(1, len(losses) - 1), 380 - 340 * v / top)  # noqa: E731
        draw.line([scale(i, v) for i, v in enumerate(losses)], fill=(170, 190, 230))
        draw.line([scale(i, v) for i, v in enumerate(smooth)], fill=(20, 60, 160), width=2)
        draw.text((40, 10), f"Mask R-CNN training loss ({len(losses)} iterations, max {top:.2f})", fill="black")
        image.save(path)
        return
    figure, axes = plt.subplots(figsize=(8, 4))
    axes.plot(losses, color="#aabbe6", linewidth=0.8, label="loss")
    axes.plot(smooth, color="#143ca0", linewidth=1.8, label=f"mean of {window}")
    axes.set_xlabel("iteration")
    axes.set_ylabel("total loss")
    axes.set_title("Mask R-CNN on SyntheticStream (sample warehouse)")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Train Mask R-CNN on SyntheticStream, evaluate on a recorded set.")
    parser.add_argument("--stage", type=Path, help="labeled USD stage (default: the sample warehouse, labeled here)")
    parser.add_argument(
        "--scenario",
        default=str(WAREHOUSE_SCENARIO),
        help="scenario file varying every frame (default: the warehouse offline-generation scenario; '' for the "
        "camera jitter alone)",
    )
    parser.add_argument("--minutes", type=float, default=5.0, help="training time (0 = until --iterations)")
    parser.add_argument("--iterations", type=int, default=100_000, help="training iterations at most")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) - 2), help="DataLoader workers")
    parser.add_argument("--resolution", default="512x512", help="WxH of every image")
    parser.add_argument("--lr", type=float, default=0.02, help="learning rate at batch size 16 (scaled linearly)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the training stream")
    parser.add_argument("--eval-seed", type=int, default=1000, help="seed of the held-out recording")
    parser.add_argument("--eval-images", type=int, default=200, help="held-out images")
    parser.add_argument("--min-pixels", type=int, default=16, help="objects with fewer visible pixels are ignored")
    parser.add_argument("--log-every", type=int, default=20)
    parser.add_argument("--out", type=Path, default=Path("runs/maskrcnn_online"))
    args = parser.parse_args(argv)
    width, _, height = args.resolution.partition("x")
    args.size = (int(width), int(height))
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    stage = args.stage or labeled_warehouse(args.out / "scene")
    classes = TargetClasses.of_rules(RULES)

    started = time.perf_counter()
    folder = record_heldout(stage, args.out / "heldout", args.eval_images, args.size, args.eval_seed, args.scenario)
    recorded = RecordedDataset(folder, classes=classes, min_pixels=args.min_pixels)
    heldout = Subset(recorded, range(min(args.eval_images, len(recorded))))
    print(f"held-out set: {len(heldout)} images recorded in {time.perf_counter() - started:.0f} s ({folder})")

    stream = SyntheticStream(
        stage,
        scenario=args.scenario or JITTER_SCENARIO,
        cameras=CAMERAS,
        resolution=args.size,
        seed=args.seed,
        classes=classes,
        min_pixels=args.min_pixels,
    )
    loader = DataLoader(
        stream,
        batch_size=args.batch_size,
        num_workers=args.workers,
        collate_fn=detection_collate,
        pin_memory=device.type == "cuda",
        prefetch_factor=2 if args.workers else None,  # batches of masks wait in /dev/shm: keep few
        persistent_workers=args.workers > 0,
    )
    model = build_model(classes.num_classes, args.size).to(device)
    untrained = evaluate(model, heldout, classes, device, min(4, args.workers))
    print("untrained:\n" + untrained.table())

    losses, timing = train(model, loader, device, args)
    print(
        f"trained {len(losses)} iterations in {timing['seconds']:.0f} s: {timing['images_per_s']:.1f} images/s, "
        f"model busy {timing['model_busy']:.0%} of the time"
    )
    trained = evaluate(model, heldout, classes, device, min(4, args.workers))
    print("trained:\n" + trained.table())

    plot_loss(losses, args.out / "loss_curve.png")
    results = {
        "command": " ".join(sys.argv),
        "device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
        "classes": classes.names,
        "iterations": len(losses),
        "timing": timing,
        "loss_first_last_50": [sum(losses[:50]) / len(losses[:50]), sum(losses[-50:]) / len(losses[-50:])],
        "losses": losses,
        "untrained": {"box": untrained.box, "mask": untrained.mask},
        "trained": {"box": trained.box, "mask": trained.mask},
        "heldout_images": len(heldout),
    }
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    print(f"wrote {args.out / 'loss_curve.png'} and {args.out / 'results.json'}")


if __name__ == "__main__":
    main()
