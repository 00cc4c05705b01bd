"""The labeled sample warehouse for the online-generation tests (targets, stream, recorded datasets, writers)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENE = ROOT / "data" / "scenes" / "warehouse.usda"
RULES = ROOT / "config" / "rules" / "warehouse.yaml"
TOP, DRIVER, PALLET = "/World/Cameras/TopCam", "/World/Cameras/DriverCam", "/World/Cameras/PalletCam"
CAMERAS = (TOP, DRIVER, PALLET)


def label_warehouse(folder: Path) -> Path:
    """Label the sample scene by the shipped rules (``sdg-studio label``) into ``folder``; the labeled root."""
    from omni.sdg_studio.cli import main

    root = folder / "warehouse_labeled.usda"
    layer = folder / "warehouse_labels.usda"
    assert main(["label", str(SCENE), "--rules", str(RULES), "--layer", str(layer), "-o", str(root)]) == 0
    return root


def record(stage: Path, out: Path, config: dict, tmp: Path) -> Path:
    """``sdg-studio record STAGE --config <config as JSON> --out OUT``; the output folder."""
    import json

    from omni.sdg_studio.cli import main

    path = tmp / f"{out.name}_config.json"
    path.write_text(json.dumps(config))
    assert main(["record", str(stage), "--config", str(path), "--out", str(out)]) == 0
    return out
