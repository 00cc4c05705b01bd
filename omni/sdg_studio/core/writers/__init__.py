"""Host-neutral writers that turn annotator outputs into Replicator-compatible files.

``create_writer(name, output_dir, params, seed=..., classes=..., resume=...)`` builds a writer;
``writer.write(FrameBatch)`` queues a step's files on the writer's thread pool;
``writer.completed_frames()`` reports frames whose files are on disk; ``writer.finish()`` drains
and writes end-of-run files. See docs/writers.md.
"""

from omni.sdg_studio.core.atomic import WriteError, atomic_write_bytes, atomic_write_text, sweep_temp_files
from omni.sdg_studio.core.writers.base import AnnotatorRequest, FrameBatch, Writer
from omni.sdg_studio.core.writers.basic_writer import BasicWriter
from omni.sdg_studio.core.writers.coco_writer import CocoWriter
from omni.sdg_studio.core.writers.file_writer import FileWriter, FrameDataError
from omni.sdg_studio.core.writers.kitti_writer import KittiWriter
from omni.sdg_studio.core.writers.params import WriterParam, WriterParamError
from omni.sdg_studio.core.writers.pool import CompletedFrame, WritePool
from omni.sdg_studio.core.writers.registry import (
    WRITERS,
    UnknownWriterError,
    WriterEntry,
    WriterRegistry,
    create_writer,
    get_writer,
)

__all__ = [
    "WRITERS",
    "AnnotatorRequest",
    "BasicWriter",
    "CocoWriter",
    "CompletedFrame",
    "FileWriter",
    "FrameBatch",
    "FrameDataError",
    "KittiWriter",
    "UnknownWriterError",
    "WriteError",
    "WritePool",
    "Writer",
    "WriterEntry",
    "WriterParam",
    "WriterParamError",
    "WriterRegistry",
    "atomic_write_bytes",
    "atomic_write_text",
    "create_writer",
    "get_writer",
    "sweep_temp_files",
]
