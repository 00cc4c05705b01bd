"""How a writer merges shards: the folders of ``record --shard K/M`` into the dataset one run writes.

A writer that can be sharded is a :class:`ShardMergeable`: it has a class table (``classes``, grown as
labels are met; each shard's manifest records its final state) and ``merge_shards``, called on a writer
built with the recording's parameters in the (temporary) merged folder, with every shard in frame
order. :class:`ShardMerging` (a base of :class:`~.file_writer.FileWriter`) is the usual implementation:
it first grows the class table as a single run would have (:func:`adopt_shard_classes`), then places
every frame file of every shard at the same relative path (``place`` moves, hard-links or copies), a
file several shards list (BasicWriter's ``metadata.txt``) once, after checking they are identical. Two
hooks let a writer change that: :meth:`ShardMerging.merged_file` gives new contents for a frame file
that holds class ids (YOLO labels, KITTI class images), :meth:`ShardMerging.merge_end_files` writes the
dataset-level files (COCO annotations, ``data.yaml``).
"""

from __future__ import annotations

import filecmp
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Protocol, runtime_checkable

from omni.sdg_studio.core.atomic import atomic_write_bytes
from omni.sdg_studio.core.classes import ClassTable
from omni.sdg_studio.core.errors import SdgStudioError


class ShardMergeError(SdgStudioError):
    """The shards cannot be merged (e.g. a file that should be the same in every shard differs)."""


@dataclass(frozen=True)
class RecordedShard:
    """One finished shard as a writer's merge sees it (from its manifest)."""

    folder: Path
    frames: range
    #: Frame -> its files, relative to ``folder``, as the shard's manifest lists them.
    frame_files: Mapping[int, Sequence[str]]
    #: Files written at the end of the shard (dataset-level files), relative to ``folder``.
    end_files: Sequence[str]
    #: The shard writer's class table at the end: class id -> label.
    classes: Mapping[int, str] = field(default_factory=dict)


@dataclass
class MergedFiles:
    """What a writer's merge wrote into the merged folder: each frame's files, then the dataset-level files."""

    frames: dict[int, list[Path]]
    end_files: list[Path]


class FilePlacer(Protocol):
    """Puts the file ``source`` at ``target`` (by moving, hard-linking or copying it); returns ``target``."""

    def __call__(self, source: Path, target: Path) -> Path: ...


@runtime_checkable
class ShardMergeable(Protocol):
    """A writer whose shards can be merged."""

    name: str
    output_dir: Path
    classes: ClassTable

    def merge_shards(self, shards: Sequence[RecordedShard], place: FilePlacer) -> MergedFiles:
        """Assemble ``shards`` (in frame order) in ``output_dir`` as one recording would have written them."""
        ...


#: A shard's class ids -> the merged (single-run) ids.
ClassRemap = dict[int, int]


def adopt_shard_classes(table: ClassTable, shards: Sequence[RecordedShard]) -> list[ClassRemap]:
    """Grow ``table`` (the recording's initial classes) as one run would have, and map each shard's ids to it.

    A run adds a label the first time it meets it. Shards are contiguous frame ranges in order, so the
    labels a run meets first in shard ``k``'s frames are shard ``k``'s labels that no earlier shard has,
    in shard ``k``'s own order (its ids): adding them shard by shard gives the run's order exactly.
    """
    remaps = []
    for shard in shards:
        remaps.append({class_id: table.get(name).id for class_id, name in sorted(shard.classes.items())})
    return remaps


def is_identity(remap: Mapping[int, int]) -> bool:
    return all(before == after for before, after in remap.items())


class ShardMerging:
    """The usual :meth:`merge_shards`: place every shard's files; hooks for files that hold class ids."""

    name: ClassVar[str]
    output_dir: Path
    classes: ClassTable

    def merge_shards(self, shards: Sequence[RecordedShard], place: FilePlacer) -> MergedFiles:
        remaps = adopt_shard_classes(self.classes, shards)
        placed: dict[str, Path] = {}  # relative path -> the shard folder it came from
        frames: dict[int, list[Path]] = {}
        for shard, remap in zip(shards, remaps, strict=True):
            for index in sorted(shard.frame_files):
                frames[index] = [
                    self._merge_file(shard, relpath, remap, placed, place) for relpath in shard.frame_files[index]
                ]
        return MergedFiles(frames, self.merge_end_files(shards, remaps, place))

    # -- hooks ----------------------------------------------------------------------------------------
    def merged_file(self, shard: RecordedShard, relpath: str, remap: ClassRemap) -> bytes | None:
        """New contents of the frame file ``relpath`` of ``shard`` in the merged dataset (``remap`` turns the
        shard's class ids into the merged ones), or ``None`` when the shard's file is right as it is."""
        return None

    def merge_end_files(
        self, shards: Sequence[RecordedShard], remaps: Sequence[ClassRemap], place: FilePlacer
    ) -> list[Path]:
        """The dataset-level files; by default each shard's end files, which must be the same in every shard."""
        placed: dict[str, Path] = {}
        files = [
            self._merge_file(shard, relpath, {}, placed, place, rewrite=False)
            for shard in shards
            for relpath in shard.end_files
        ]
        return sorted(set(files))

    # -- internals ------------------------------------------------------------------------------------
    def _merge_file(
        self,
        shard: RecordedShard,
        relpath: str,
        remap: ClassRemap,
        placed: dict[str, Path],
        place: FilePlacer,
        *,
        rewrite: bool = True,
    ) -> Path:
        source, target = shard_file(shard, relpath), self.output_dir / relpath
        first = placed.get(relpath)
        if first is not None:  # a file several shards write (e.g. metadata.txt): identical, or a conflict
            if not filecmp.cmp(target, source, shallow=False):
                raise ShardMergeError(
                    f"{self.name}: {relpath} differs between the shards {first} and {shard.folder} "
                    "(a file the recording writes once must be the same in every shard)"
                )
            return target
        placed[relpath] = shard.folder
        contents = self.merged_file(shard, relpath, remap) if rewrite else None
        if contents is not None:
            return atomic_write_bytes(target, contents)
        target.parent.mkdir(parents=True, exist_ok=True)
        return place(source, target)


def shard_file(shard: RecordedShard, relpath: str) -> Path:
    """The file ``relpath`` of ``shard``; a path leading outside the shard folder is a :class:`ShardMergeError`."""
    path = Path(relpath)
    if path.is_absolute() or ".." in path.parts:
        raise ShardMergeError(f"{shard.folder}: its manifest lists {relpath}, which is outside the shard folder")
    source = shard.folder / path
    if not source.is_file():
        raise ShardMergeError(f"{shard.folder}: {relpath} is missing (its manifest lists it)")
    return source
