"""``spawn``: add ``count`` references to assets drawn from a list, label them, place them.

Spawned prims are ``<parent>/Spawned_000``, ``Spawned_001``, ... (each an ``Xform`` referencing the
asset's default prim), exist for the frame only and are labelled with ``LabelsAPI`` from templates
(``{asset_stem}``, ``{asset_name}``, ``{index}``). Their ``placement`` is a pose or a scatter.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pxr import Sdf, Usd

from omni.sdg_studio.core.randomize.context import Applied, Binding, FrameContext, PrimGroup, Randomizer, Read
from omni.sdg_studio.core.randomize.geometry import prim_box
from omni.sdg_studio.core.randomize.placement import PoseRandomizer, ScatterRandomizer
from omni.sdg_studio.core.randomize.scenario import PoseSpec, SpawnSpec
from omni.sdg_studio.core.semantics.names import NameNormalizer
from omni.sdg_studio.core.semantics.schema import labels_api_token, labels_attr_name

SLOT_NAME = "Spawned_{:03d}"


def default_parent(stage: Usd.Stage, index: int) -> str:
    """``<default prim>/Spawned_<index>`` (``/Spawned_<index>`` on a stage without a default prim)."""
    root = stage.GetDefaultPrim()
    base = str(root.GetPath()) if root else ""
    return f"{base}/Spawned_{index}"


class SpawnRandomizer(Randomizer[SpawnSpec]):
    """``type: spawn``."""

    def __init__(self, spec: SpawnSpec, binding: Binding) -> None:
        self.spec = spec
        for asset in spec.assets:
            layer = Sdf.Layer.FindOrOpen(asset)
            if layer is None:
                raise binding.error((*spec.at, "assets"), f"asset {asset} cannot be read as a USD layer")
            if not layer.defaultPrim:
                raise binding.error((*spec.at, "assets"), f"asset {asset} has no defaultPrim to reference")
        self.parent = Sdf.Path(spec.parent or default_parent(binding.stage, spec.index))
        if binding.stage.GetPrimAtPath(self.parent) and spec.parent is None:
            raise binding.error(spec.at, f"{self.parent} already exists; give the spawn a 'parent' of its own")
        placement = spec.placement or PoseSpec(index=spec.index, at=spec.at)
        self.placer = (
            PoseRandomizer(placement, binding, prims=PrimGroup.of([]))
            if isinstance(placement, PoseSpec)
            else ScatterRandomizer(placement, binding, prims=PrimGroup.of([]))
        )
        self.normalizer = NameNormalizer()

    def reads(self) -> list[Read]:
        return self.placer.reads()

    def writes(self) -> list[Sdf.Path]:
        return [self.parent]

    def spawn_roots(self) -> list[Sdf.Path]:
        return [self.parent]

    def apply(self, ctx: FrameContext, rng: np.random.Generator, step: int) -> Applied:
        spec = self.spec
        assert spec.count is not None
        count = max(int(spec.count.sample(rng, 1, step)[0]), 0)
        picks = rng.integers(len(spec.assets), size=count)
        slots = [self.parent.AppendChild(SLOT_NAME.format(i)) for i in range(count)]
        token_array = Sdf.ValueTypeNames.TokenArray
        with ctx.layer.batch():
            ctx.layer.define(self.parent, "Xform", transient=False)
            for i, (slot, pick) in enumerate(zip(slots, picks.tolist(), strict=True)):
                asset = spec.assets[pick]
                ctx.layer.define(slot, "Xform", reference=asset, transient=True)
                fields = {"asset_stem": Path(asset).stem, "asset_name": Path(asset).name, "index": str(i)}
                for taxonomy, template in spec.labels:
                    label = template.render(fields.__getitem__, self.normalizer)
                    ctx.layer.prepend_api_schema(slot, labels_api_token(taxonomy))
                    ctx.layer.set_attribute(slot, labels_attr_name(taxonomy), token_array, [label])
        ctx.geometry.forget(self.parent)
        ctx.refresh()
        prims = PrimGroup.of([ctx.stage.GetPrimAtPath(slot) for slot in slots])
        boxes = [prim_box(p, ctx.xforms(), ctx.time) for p in prims.prims]
        placed = self.placer.place(ctx, rng, step, prims, boxes) if len(prims) else Applied([], {})
        values = {"asset": np.array([spec.assets[p] for p in picks.tolist()], dtype=object), **placed.values}
        return Applied([str(s) for s in slots], values, placed.notes)
