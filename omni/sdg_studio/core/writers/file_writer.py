"""Base class of the host-neutral writers: per-frame jobs on a :class:`WritePool`, atomic files.

A subclass declares its :attr:`annotators` and implements :meth:`write_frame`, scheduling each
file with :meth:`schedule_file` (bytes produced on a worker thread, written under a temporary
name and renamed). :meth:`write` returns as soon as the frame is queued; :meth:`completed_frames`
reports frames whose files are all on disk; :meth:`finish` waits for everything and writes the
end-of-run files. Arrays handed to :meth:`write` are read later by the workers: a backend must
not reuse them for the next frame.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

from omni.sdg_studio.core.annotators.formats import check_annotator_output
from omni.sdg_studio.core.atomic import atomic_write, atomic_write_bytes
from omni.sdg_studio.core.classes import ClassTable
from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.path_names import UnsafePathError, inside
from omni.sdg_studio.core.writers.base import AnnotatorRequest, FrameBatch
from omni.sdg_studio.core.writers.encode import IMAGE_FORMATS
from omni.sdg_studio.core.writers.params import WriterParamError
from omni.sdg_studio.core.writers.pool import CompletedFrame, WritePool
from omni.sdg_studio.core.writers.sharding import ShardMerging


class FrameDataError(SdgStudioError, ValueError):
    """A frame lacks an annotator the writer needs, or its data has the wrong format."""


class FileWriter(ShardMerging):
    """Writes :class:`FrameBatch` es to files under ``output_dir`` on a bounded worker pool.

    Run options (keyword-only, supplied by the recorder): ``seed`` (Replicator's global seed,
    recorded in metadata), ``classes`` (label ids and colors), ``resume`` (continue a run in the
    same folder), ``workers`` and ``max_frames_in_flight`` (pool size and memory bound). Shards of a recording
    merge through :class:`~.sharding.ShardMerging` (docs/scale_out.md).
    """

    name: ClassVar[str] = "FileWriter"
    version: ClassVar[str] = "0.0.0"
    #: Constructor parameters accepted only for Replicator compatibility (hidden by GUIs).
    compat_params: ClassVar[frozenset[str]] = frozenset()

    def __init__(
        self,
        output_dir: str | os.PathLike[str] | None,
        *,
        seed: int = 0,
        classes: ClassTable | None = None,
        resume: bool = False,
        workers: int | None = None,
        max_frames_in_flight: int = 4,
        s3_bucket: str | None = None,
    ) -> None:
        if output_dir is None or str(output_dir) == "":
            raise WriterParamError(self.name, "output_dir", "is required (the folder to write into)")
        if s3_bucket:
            raise WriterParamError(self.name, "s3_bucket", "S3 output is not supported here; write to disk")
        self.output_dir = Path(output_dir)
        self.seed = seed
        self.classes = classes if classes is not None else ClassTable()
        self.resume = resume
        self._pool = WritePool(workers, max_frames_in_flight)
        self._frame: int | None = None
        self._scheduled: list[Path] = []

    # -- the Writer protocol ------------------------------------------------------------------
    @property
    def annotators(self) -> tuple[AnnotatorRequest, ...]:
        """Annotators this writer needs from the backend."""
        raise NotImplementedError

    def write(self, batch: FrameBatch) -> list[Path]:
        """Queue one step's files; return their final paths (on disk once the frame completes)."""
        self.check_batch(batch)
        self._pool.begin_frame(batch.index)
        self._frame, self._scheduled = batch.index, []
        try:
            self.write_frame(batch)
        except BaseException:
            self._pool.abandon_frame(batch.index)
            raise
        finally:
            self._frame = None
        self._pool.end_frame(batch.index)
        return self._scheduled

    def finish(self) -> list[Path]:
        """Wait for every queued file, write end-of-run files, stop the workers; return end-of-run files."""
        try:
            self._pool.drain()
            files = self.finish_files()
            files.extend(self._pool.drain())
        finally:
            self._pool.shutdown()
        return files

    # -- for the recorder -----------------------------------------------------------------------
    def completed_frames(self) -> list[CompletedFrame]:
        """Frames whose files are all on disk since the last call (never blocks)."""
        return self._pool.take_completed()

    def flush(self) -> None:
        """Wait until every queued frame is on disk (e.g. on pause); raise the first write error."""
        self._pool.drain()

    def close(self) -> None:
        """Stop the workers without end-of-run files (after a failure); never raises job errors."""
        self._pool.shutdown()

    def __enter__(self) -> FileWriter:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.finish()
        else:
            self.close()

    # -- for subclasses -------------------------------------------------------------------------
    def write_frame(self, batch: FrameBatch) -> None:
        """Schedule the files of one step (called on the caller's thread)."""
        raise NotImplementedError

    def finish_files(self) -> list[Path]:
        """Write end-of-run files after all frames are on disk; return them."""
        return []

    def output_path(self, relpath: str) -> Path:
        """``output_dir / relpath``, checked to stay inside ``output_dir`` (every file a writer creates goes
        through here); :class:`UnsafePathError` names the writer and the path otherwise."""
        try:
            return inside(self.output_dir, relpath)
        except UnsafePathError as exc:
            raise UnsafePathError(f"{self.name}: refusing to write {exc}") from None

    def schedule_file(self, relpath: str, produce: Callable[[], bytes]) -> Path:
        """Write ``produce()`` to ``output_dir / relpath`` on a worker (atomically); return the path."""
        path = self.output_path(relpath)
        self._pool.submit(lambda: atomic_write_bytes(path, produce()), frame=self._frame)
        self._scheduled.append(path)
        return path

    def schedule_stream(self, relpath: str, fill: Callable[[BinaryIO], object]) -> Path:
        """Like :meth:`schedule_file`, for large contents ``fill(handle)`` streams into the file."""
        path = self.output_path(relpath)
        self._pool.submit(lambda: atomic_write(path, fill), frame=self._frame)
        self._scheduled.append(path)
        return path

    def schedule_job(self, job: Callable[[], Path | Iterable[Path] | None]) -> None:
        """Run ``job`` on a worker as part of the current frame (it returns the files it wrote)."""
        self._pool.submit(job, frame=self._frame)

    def check_batch(self, batch: FrameBatch) -> None:
        """Raise :class:`FrameDataError` naming frame, render product and annotator for missing/bad data."""
        if not batch.products:
            raise FrameDataError(f"{self.name}: frame {batch.index} has no render products")
        for rp_name, frame in batch.products.items():
            for request in self.annotators:
                if request.name not in frame:
                    raise FrameDataError(
                        f"{self.name}: frame {batch.index}, render product '{rp_name}': "
                        f"annotator '{request.name}' is missing (the writer needs it)"
                    )
                try:
                    check_annotator_output(request.name, frame[request.name])
                except SdgStudioError as exc:
                    raise FrameDataError(
                        f"{self.name}: frame {batch.index}, render product '{rp_name}': {exc}"
                    ) from exc


def checked_image_format(writer: str, image_output_format: str) -> str:
    """``image_output_format`` lower-cased, or a :class:`WriterParamError` if pillow cannot write it here."""
    if image_output_format.lower() not in IMAGE_FORMATS:
        raise WriterParamError(writer, "image_output_format", f"unsupported format {image_output_format!r}")
    return image_output_format.lower()


def checked_frame_padding(writer: str, frame_padding: int) -> int:
    """``frame_padding`` if it is an integer >= 0, else a :class:`WriterParamError`."""
    if isinstance(frame_padding, bool) or not isinstance(frame_padding, int) or frame_padding < 0:
        raise WriterParamError(writer, "frame_padding", f"must be an integer >= 0, got {frame_padding!r}")
    return frame_padding


def resolve_semantic_types(
    writer: str, semantic_types: Iterable[str] | None, semantic_filter_predicate: str | None
) -> tuple[str, ...]:
    """Semantic types to read labels of, from Replicator's two mutually exclusive parameters.

    ``semantic_filter_predicate`` is accepted in its ``type:*`` form (``"class:*; coco:*"``);
    label-level predicates (``class:car & !truck``) need Replicator's filter and are refused.
    """
    if semantic_types is not None and semantic_filter_predicate is not None:
        raise WriterParamError(
            writer, "semantic_filter_predicate", "cannot be combined with semantic_types; choose one"
        )
    if semantic_types is not None:
        types_ = tuple(semantic_types)
        if not types_:
            raise WriterParamError(writer, "semantic_types", "must name at least one semantic type")
        return types_
    if semantic_filter_predicate is None:
        return ("class",)
    found: list[str] = []
    for term in semantic_filter_predicate.replace(";", "|").split("|"):
        semantic_type, _, label = (part.strip() for part in term.partition(":"))
        if not semantic_type or label != "*" or semantic_type == "*":
            raise WriterParamError(
                writer,
                "semantic_filter_predicate",
                f"term {term.strip()!r} is not supported; use 'type:*' terms such as 'class:*; coco:*'",
            )
        found.append(semantic_type)
    return tuple(dict.fromkeys(found))
