"""Shards of a recording: shard ``K`` of ``M`` records one contiguous range of the frames ``0 .. N-1``.

Shard ``K`` records frames ``K * N // M`` up to (not including) ``(K + 1) * N // M`` (sizes differ by at
most one frame). Contiguous ranges, not a stride, because the writers number classes in order of first
appearance: concatenated in shard order, the shards' class tables give exactly the order a single run
meets the labels in (a stride interleaves the shards and loses it), and WebDataset samples and COCO ids
follow the frame order, which contiguous shards keep (docs/scale_out.md).

A shard's manifest holds a :class:`ShardRecord`: ``K``, ``M``, its frame range and the writer's class
table as it stands (saved with the manifest, so the finished manifest has the final table), which the
merge needs to give every label the id a single run gives it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from omni.sdg_studio.core.classes import ClassTable
from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.writers.base import Writer
from omni.sdg_studio.core.writers.sharding import ShardMergeable

_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


class ShardSpecError(SdgStudioError, ValueError):
    """A shard given as ``K/M`` is malformed or out of range."""


@dataclass(frozen=True)
class ShardSpec:
    """Shard ``index`` of ``count`` (``0 <= index < count``)."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ShardSpecError(f"--shard {self}: expected K/M with 0 <= K < M, e.g. 0/4")

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @classmethod
    def parse(cls, text: str) -> ShardSpec:
        """``"K/M"`` -> :class:`ShardSpec`."""
        match = _SPEC.match(text)
        if not match:
            raise ShardSpecError(f"--shard {text!r}: expected K/M (shard K of M, counted from 0), e.g. 0/4")
        return cls(int(match.group(1)), int(match.group(2)))

    def frames(self, total: int) -> range:
        """The frames of this shard when the recording has ``total`` frames."""
        return range(self.index * total // self.count, (self.index + 1) * total // self.count)

    def folder_name(self) -> str:
        """The folder name ``--ray`` gives this shard (sorts in shard order)."""
        return f"shard-{self.index:05d}-of-{self.count:05d}"


def shard_frames(spec: ShardSpec, total: int) -> range:
    """``spec``'s frames of a recording of ``total`` frames; every shard must get at least one."""
    if total < spec.count:
        what = "a frame count (--frames N)" if total == 0 else f"at least {spec.count} frames, not {total}"
        raise ShardSpecError(f"--shard {spec}: a recording split into {spec.count} shards needs {what}")
    return spec.frames(total)


@dataclass
class ShardRecord:
    """The ``shard`` block of a shard's manifest: which shard, its frames, and the writer's class table
    (``table``: the writer's live table while recording; ``loaded_classes``: id -> name as read back)."""

    spec: ShardSpec
    frames: range
    table: ClassTable | None = None
    loaded_classes: dict[int, str] = field(default_factory=dict)

    @property
    def classes(self) -> dict[int, str]:
        """Class id -> label, by id: the writer's table as it stands (or as it was saved)."""
        if self.table is None:
            return dict(sorted(self.loaded_classes.items()))
        return {c.id: c.name for c in sorted(self.table.classes, key=lambda c: c.id)}

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.spec.index,
            "count": self.spec.count,
            "first": self.frames.start,
            "stop": self.frames.stop,
            "classes": [[class_id, name] for class_id, name in self.classes.items()],
        }

    @classmethod
    def of_writer(cls, spec: ShardSpec, frames: range, writer: Writer) -> ShardRecord:
        """The record of a shard written by ``writer``, which must know how to merge shards."""
        if not isinstance(writer, ShardMergeable):
            raise ShardSpecError(
                f"--shard {spec}: writer {writer.name} cannot be sharded (it has no merge_shards, "
                "see omni/sdg_studio/core/writers/sharding.py)"
            )
        return cls(spec, frames, writer.classes)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ShardRecord:
        """The block as saved (``KeyError`` / ``TypeError`` / ``ValueError`` if damaged)."""
        spec = ShardSpec(int(data["index"]), int(data["count"]))
        classes = {int(class_id): str(name) for class_id, name in data["classes"]}
        return cls(spec, range(int(data["first"]), int(data["stop"])), loaded_classes=classes)
