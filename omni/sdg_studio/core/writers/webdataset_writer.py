"""A WebDataset writer: tar shards of training samples, one sample per frame and render product.

Each sample is a group of tar members sharing a key (``<frame>`` or ``<frame>_<render product>``):
``<key>.png`` (or ``.jpg``, RGB), ``<key>.json`` (frame, render product, camera, image size, ``boxes``
as pixel-edge ``[x1, y1, x2, y2]``, class ``labels`` and ``class_names``, ``prim_paths``),
``<key>.masks.npz`` (``masks``: uint8 (N, H, W), compressed) and, with ``depth``,
``<key>.depth.npy`` (float32 (H, W)). Targets come from :func:`frame_targets`. A shard
(``<shard_prefix>-000000.tar``, ...) takes samples in recording order until
``max_samples_per_shard`` or ``max_shard_bytes`` would be exceeded; it is written under a temporary
name and renamed when closed, so every ``.tar`` on disk is complete.

``shards.json`` (the dataset index: shards with their sample counts and frames, the class table,
a brace pattern for ``webdataset.WebDataset``) is rewritten before each shard is renamed into place,
and a frame counts as written only once every sample of it is in a closed shard. On resume, index
entries whose shard is missing are dropped (their frames were never reported written, so the
recorder records them again) and numbering continues after the last shard.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tarfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal

import numpy as np

from omni.sdg_studio.core.atomic import atomic_path, atomic_write_bytes, sweep_temp_files
from omni.sdg_studio.core.classes import ClassTable
from omni.sdg_studio.core.path_names import name_problem
from omni.sdg_studio.core.targets import TargetClasses, frame_targets
from omni.sdg_studio.core.writers.base import AnnotatorRequest, FrameBatch
from omni.sdg_studio.core.writers.encode import image_bytes, json_bytes
from omni.sdg_studio.core.writers.file_writer import FileWriter, FrameDataError
from omni.sdg_studio.core.writers.params import WriterParamError
from omni.sdg_studio.core.writers.pool import CompletedFrame
from omni.sdg_studio.core.writers.sharding import (
    ClassRemap,
    FilePlacer,
    MergedFiles,
    RecordedShard,
    ShardMergeError,
    adopt_shard_classes,
    is_identity,
    shard_file,
)

ImageFormat = Literal["png", "jpg"]
INDEX_NAME = "shards.json"
_TAR_BLOCK = 512


@dataclass
class _Sample:
    key: str
    frame: int
    members: list[tuple[str, bytes]]

    @property
    def size(self) -> int:
        """Bytes the sample takes in a tar (header block plus padded data per member)."""
        return sum(_TAR_BLOCK + -(-len(data) // _TAR_BLOCK) * _TAR_BLOCK for _, data in self.members)


@dataclass
class _OpenShard:
    name: str
    context: contextlib.AbstractContextManager[Path]
    handle: BinaryIO
    tar: tarfile.TarFile
    samples: int = 0
    size: int = 0
    frames: list[int] = field(default_factory=list)


def sample_frame(key: str) -> int:
    """The frame of a sample key (``<frame>`` or ``<frame>_<render product>``)."""
    return int(key.split("_", 1)[0])


def tar_samples(path: Path) -> Iterator[tuple[str, list[tuple[str, bytes]]]]:
    """The samples of a shard file in order: (key, members), members as (name, bytes)."""
    with tarfile.open(path, "r:") as tar:
        key, members = "", []
        for info in tar:
            data = tar.extractfile(info)
            name = info.name
            if members and name.split(".", 1)[0] != key:
                yield key, members
                members = []
            key = name.split(".", 1)[0]
            members.append((name, data.read() if data is not None else b""))
        if members:
            yield key, members


def masks_npz(masks: np.ndarray) -> bytes:
    """A compressed ``.npz`` holding ``masks`` as uint8 (N, H, W)."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, masks=np.ascontiguousarray(masks).view(np.uint8))
    return buffer.getvalue()


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


class WebDatasetWriter(FileWriter):
    """WebDataset tar shards with one training sample per frame and render product (image, masks, boxes).

    Args:
        masks: Store each sample's instance masks (``masks.npz``).
        depth: Store each sample's distance to the image plane (``depth.npy``).
        max_samples_per_shard: A shard closes when it holds this many samples.
        max_shard_bytes: A shard closes before its samples would pass this many bytes (a larger sample gets a shard
            alone; tar's end blocks add up to 10 KiB).
        shard_prefix: File name prefix of the shards.
        semantic_types: Semantic types whose labels name classes (first one present wins; default class).
        image_output_format: File format of the images.
        min_pixels: Objects with fewer visible pixels are left out.
        frame_padding: Digits of the zero-padded frame number in sample keys.
    """

    name = "WebDatasetWriter"
    version = "0.0.1"

    def __init__(
        self,
        output_dir: str | os.PathLike[str] | None = None,
        masks: bool = True,
        depth: bool = False,
        max_samples_per_shard: int = 1000,
        max_shard_bytes: int = 1_000_000_000,
        shard_prefix: str = "shard",
        semantic_types: list[str] | None = None,
        image_output_format: ImageFormat = "png",
        min_pixels: int = 1,
        frame_padding: int = 6,
        *,
        seed: int = 0,
        classes: ClassTable | None = None,
        resume: bool = False,
        workers: int | None = None,
        max_frames_in_flight: int = 4,
    ) -> None:
        super().__init__(
            output_dir,
            seed=seed,
            classes=classes,
            resume=resume,
            workers=workers,
            max_frames_in_flight=max_frames_in_flight,
        )
        if max_samples_per_shard < 1:
            raise WriterParamError(self.name, "max_samples_per_shard", "must be >= 1")
        if max_shard_bytes < _TAR_BLOCK * 4:
            raise WriterParamError(self.name, "max_shard_bytes", f"must be >= {_TAR_BLOCK * 4}")
        if name_problem(shard_prefix) is not None or any(c in shard_prefix for c in ".{}"):
            raise WriterParamError(self.name, "shard_prefix", f"{shard_prefix!r} cannot start a shard file name")
        if image_output_format not in ImageFormat.__args__:  # type: ignore[attr-defined]
            raise WriterParamError(self.name, "image_output_format", f"must be png or jpg, got {image_output_format!r}")
        if isinstance(frame_padding, bool) or not isinstance(frame_padding, int) or frame_padding < 0:
            raise WriterParamError(self.name, "frame_padding", f"must be an integer >= 0, got {frame_padding!r}")
        if semantic_types is not None and not semantic_types:
            raise WriterParamError(self.name, "semantic_types", "must name at least one semantic type")
        self.masks = masks
        self.depth = depth
        self.max_samples = max_samples_per_shard
        self.max_bytes = max_shard_bytes
        self.shard_prefix = shard_prefix
        self.image_output_format = image_output_format
        self.min_pixels = max(1, int(min_pixels))
        self.frame_padding = frame_padding
        self.target_classes = TargetClasses(self.classes, tuple(semantic_types or ("class",)), grow=True)
        names = ["rgb", "instance_segmentation", *(["distance_to_image_plane"] if depth else [])]
        self._requests = tuple(AnnotatorRequest(n, semantic_types=self.target_classes.semantic_types) for n in names)
        self._lock = threading.Lock()
        self._shards: list[dict[str, Any]] = []  # closed shards, as listed in the index
        self._open: _OpenShard | None = None
        self._sequence = 0  # samples handed to workers
        self._appended = 0  # samples written into shards, in sequence order
        self._ready: dict[int, _Sample] = {}
        self._pending: dict[int, int] = {}  # frame -> samples not yet in a closed shard
        self._frame_files: dict[int, set[Path]] = {}
        self._done: list[CompletedFrame] = []
        self._carried: list[_Sample] | None = None  # samples of the earlier run's last shard, to write again
        self._reopened: dict[str, Any] | None = None  # index entry of the earlier run's shard being extended
        self._started = False

    @property
    def annotators(self) -> tuple[AnnotatorRequest, ...]:
        return self._requests

    @property
    def index_path(self) -> Path:
        return self.output_path(INDEX_NAME)

    # -- per frame ---------------------------------------------------------------------------------------
    def write_frame(self, batch: FrameBatch) -> None:
        if not self._started:
            self._start()
        several = len(batch.products) > 1
        kinds = ("boxes", *(["masks"] if self.masks else []), *(["depth"] if self.depth else []))
        with self._lock:  # before any of its samples can land in a shard
            self._pending[batch.index] = len(batch.products)
        for rp_name, frame in batch.products.items():
            self.target_classes.add_labels_of(frame["instance_segmentation"])
            key = f"{batch.index:0{self.frame_padding}d}"
            if several:
                key += "_" + "".join(c if c.isalnum() or c in "-_" else "-" for c in rp_name)
            product = batch.render_products.get(rp_name)
            meta = {"frame": batch.index, "render_product": rp_name, "camera": product.camera if product else rp_name}
            sequence = self._sequence
            self._sequence += 1

            def job(frame=frame, key=key, meta=meta, sequence=sequence, index=batch.index) -> None:
                sample = self._encode(frame, key, meta, kinds, index)
                self._append(sequence, sample)

            self.schedule_job(job)

    def _encode(
        self, frame: Mapping[str, Any], key: str, meta: dict[str, Any], kinds: tuple[str, ...], index: int
    ) -> _Sample:
        """A worker: the sample's tar members."""
        targets = frame_targets(frame, self.target_classes, kinds, min_pixels=self.min_pixels)
        width, height = targets.size
        document = {
            **meta,
            "width": width,
            "height": height,
            "boxes": targets.boxes.tolist(),
            "labels": targets.labels.tolist(),
            "class_names": list(targets.class_names),
            "prim_paths": list(targets.prim_paths),
        }
        members = [
            (f"{key}.{self.image_output_format}", image_bytes(targets.image, self.image_output_format)),
            (f"{key}.json", json_bytes(document)),
        ]
        if targets.masks is not None:
            members.append((f"{key}.masks.npz", masks_npz(targets.masks)))
        if targets.depth is not None:
            members.append((f"{key}.depth.npy", npy_bytes(targets.depth)))
        return _Sample(key, index, members)

    def _append(self, sequence: int, sample: _Sample) -> None:
        """Put ``sample`` into the shards in recording order (whichever worker holds the next one writes it)."""
        with self._lock:
            self._ready[sequence] = sample
            while self._appended in self._ready:
                self._add_to_shard(self._ready.pop(self._appended))
                self._appended += 1

    def _add_to_shard(self, sample: _Sample) -> None:  # with the lock held
        if self._carried is not None:
            self._open_reopened_shard(sample.frame)
        shard = self._open
        if shard is not None and (
            shard.samples >= self.max_samples or (shard.samples and shard.size + sample.size > self.max_bytes)
        ):
            self._close_shard()
            shard = None
        if shard is None:
            shard = self._open_shard()
        self._add_members(shard, sample)
        shard.frames.append(sample.frame)

    @staticmethod
    def _add_members(shard: _OpenShard, sample: _Sample) -> None:
        for name, data in sample.members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            shard.tar.addfile(info, io.BytesIO(data))
        shard.samples += 1
        shard.size += sample.size

    def _open_shard(self, name: str | None = None) -> _OpenShard:
        if name is None:
            number = int(self._shards[-1]["url"].rsplit("-", 1)[1].split(".")[0]) + 1 if self._shards else 0
            name = f"{self.shard_prefix}-{number:06d}.tar"
        context = atomic_path(self.output_path(name))
        temporary = context.__enter__()
        handle = open(temporary, "wb")  # noqa: SIM115 (closed in _close_shard)
        tar = tarfile.TarFile(fileobj=handle, mode="w", format=tarfile.USTAR_FORMAT)
        self._open = _OpenShard(name, context, handle, tar)
        return self._open

    def _close_shard(self) -> None:  # with the lock held
        shard = self._open
        if shard is None:
            return
        self._open = None
        shard.tar.close()
        shard.handle.close()
        entry = {
            "url": shard.name,
            "samples": shard.samples,
            "bytes": os.path.getsize(shard.handle.name),
            "frames": sorted(set(shard.frames)),
        }
        if self._reopened is not None:  # the last shard of the earlier run, with more samples
            self._shards[self._shards.index(self._reopened)] = entry
            self._reopened = None
        else:
            self._shards.append(entry)
        self._write_index()  # first: an index may list a shard not yet renamed, never the reverse
        shard.context.__exit__(None, None, None)
        path = self.output_dir / shard.name
        for frame in shard.frames:
            if frame not in self._pending:  # written by the earlier run, already reported
                continue
            self._frame_files.setdefault(frame, set()).add(path)
            self._pending[frame] -= 1
            if self._pending[frame] == 0:
                del self._pending[frame]
                self._done.append(CompletedFrame(frame, sorted(self._frame_files.pop(frame))))

    # -- dataset index -----------------------------------------------------------------------------------
    def index_document(self) -> dict[str, Any]:
        """``shards.json``: the shards, the classes and how to open them."""
        count = len(self._shards)
        pattern = f"{self.shard_prefix}-{{000000..{count - 1:06d}}}.tar" if count > 1 else (
            self._shards[0]["url"] if count else ""
        )
        return {
            "format": "webdataset",
            "writer": self.name,
            "version": self.version,
            "urls": pattern,
            "samples": sum(s["samples"] for s in self._shards),
            "shards": self._shards,
            "classes": {str(c.id): c.name for c in sorted(self.classes.classes, key=lambda c: c.id)},
        }

    def _write_index(self) -> None:
        atomic_write_bytes(self.index_path, json_bytes(self.index_document(), indent=2), durable=True)

    def _start(self) -> None:
        """On resume: drop temporary files, keep the index entries whose shard exists, take back the classes
        and reopen the last shard if it has room (so shards fill as in a run that was never stopped)."""
        self._started = True
        if not self.resume:
            return
        sweep_temp_files(self.output_dir)
        if not self.index_path.is_file():
            return
        try:
            document = json.loads(self.index_path.read_text(encoding="utf-8"))
            shards = [dict(s) for s in document["shards"]]
            classes = {int(i): str(n) for i, n in document.get("classes", {}).items()}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise FrameDataError(f"{self.index_path}: cannot resume from it ({exc})") from exc
        self._shards = [s for s in shards if (self.output_dir / str(s.get("url", ""))).is_file()]
        for class_id in sorted(classes):
            if classes[class_id] not in self.classes:
                self.classes.get(classes[class_id])
        self._write_index()
        if self._shards and int(self._shards[-1].get("samples", 0)) < self.max_samples:
            self._reopen_last_shard()

    def _reopen_last_shard(self) -> None:
        """Take the last shard's samples back, to be written again into a shard of the same name before this
        run's samples; it replaces the old one when it closes (until then the old one and its entry stay)."""
        path = self.output_path(str(self._shards[-1]["url"]))
        samples: dict[str, _Sample] = {}
        try:
            with tarfile.open(path, mode="r:") as old:
                for member in old:
                    handle = old.extractfile(member)
                    if handle is None:
                        raise FrameDataError(f"{path}: member {member.name!r} is not a file")
                    key = member.name.split(".", 1)[0]
                    sample = samples.setdefault(key, _Sample(key, int(key.split("_", 1)[0]), []))
                    sample.members.append((member.name, handle.read()))
        except (OSError, ValueError, tarfile.TarError) as exc:
            raise FrameDataError(f"{path}: cannot resume from it ({exc})") from exc
        self._carried = list(samples.values())

    def _open_reopened_shard(self, first_new_frame: int) -> None:  # with the lock held
        """Open the earlier run's last shard again with its samples of frames before ``first_new_frame`` (a
        frame recorded again, e.g. after a kill between the shard's rename and the manifest's update, replaces
        its old samples)."""
        carried, self._carried = self._carried or [], None
        self._reopened = self._shards[-1]
        shard = self._open_shard(str(self._reopened["url"]))
        for sample in carried:
            if sample.frame < first_new_frame:
                self._add_members(shard, sample)
                shard.frames.append(sample.frame)

    # -- merging shards (docs/scale_out.md) ----------------------------------------------------------------
    def merge_shards(self, shards: Sequence[RecordedShard], place: FilePlacer) -> MergedFiles:
        """The shards' samples in frame order, packed into shards as one run packs them, class ids made the run's."""
        remaps = adopt_shard_classes(self.classes, shards)
        self._started = True
        for shard, remap in zip(shards, remaps, strict=True):
            files = self._shard_tars(shard)
            with self._lock:
                for path in files:  # every frame's sample count first: a frame is done when all are packed
                    for key, _ in tar_samples(path):
                        self._pending[sample_frame(key)] = self._pending.get(sample_frame(key), 0) + 1
                for path in files:
                    for key, members in tar_samples(path):
                        if not is_identity(remap):
                            members = [self._remapped(name, data, remap) for name, data in members]
                        self._add_to_shard(_Sample(key, sample_frame(key), members))
        with self._lock:
            self._close_shard()
            self._write_index()
            done, self._done = self._done, []
        return MergedFiles({frame.index: frame.files for frame in done}, [self.index_path])

    def _shard_tars(self, shard: RecordedShard) -> list[Path]:
        """The shard files of a recorded shard, in order (from its index)."""
        path = shard_file(shard, INDEX_NAME)
        try:
            return [shard_file(shard, str(s["url"])) for s in json.loads(path.read_text(encoding="utf-8"))["shards"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ShardMergeError(f"{path}: cannot read the shard index ({exc})") from exc

    @staticmethod
    def _remapped(name: str, data: bytes, remap: ClassRemap) -> tuple[str, bytes]:
        """A sample's JSON member with its class ids made the merged ones (other members unchanged)."""
        if not name.endswith(".json"):
            return name, data
        document = json.loads(data)
        document["labels"] = [remap[int(label)] for label in document["labels"]]
        return name, json_bytes(document)

    # -- the recorder's view -----------------------------------------------------------------------------
    def completed_frames(self) -> list[CompletedFrame]:
        """Frames whose samples are all in closed shards (others are still in the open shard)."""
        super().completed_frames()  # frames encoded: not on disk until their shard closes
        with self._lock:
            done, self._done = self._done, []
        return done

    def finish_files(self) -> list[Path]:
        if not self._started:
            self._start()
        with self._lock:
            self._carried = None  # nothing was added to the earlier run's last shard: it stays as it is
            self._close_shard()
            self._write_index()
        return [self.index_path]

    def close(self) -> None:
        """Stop after a failure: the open shard is discarded (its frames were never reported written)."""
        super().close()
        with self._lock:
            shard, self._open = self._open, None
        if shard is not None:
            with contextlib.suppress(Exception):
                shard.tar.close()
                shard.handle.close()
            with contextlib.suppress(Exception):
                shard.context.__exit__(RuntimeError, RuntimeError("aborted"), None)
