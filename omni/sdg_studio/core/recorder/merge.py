"""``sdg-studio merge``: the shard folders of one recording assembled into the dataset a single run writes.

Before anything is written the shards are checked: each folder holds a shard manifest; they share the
stage, seed, config and everything else the recording is (:func:`recording_identity`: the whole manifest
but the fields listed in :data:`RUN_FIELDS` and :data:`CONFIG_LOCATION_FIELDS`, so fields added later,
such as a scenario, are compared too); together they are shards ``0 .. M-1`` exactly once; each
finished with every file its manifest lists. A missing or unfinished shard is named with the command
that records it. Then the writer of the recording merges the files (:mod:`..writers.sharding`) into a
temporary sibling of the output folder, per-frame record files (``*.jsonl``) are concatenated in frame
order, one manifest is written, and the folder is renamed into place: the dataset appears whole or not at
all. Files are hard-linked (default; copied where the shards are on another file system), moved or copied.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from omni.sdg_studio.core.atomic import atomic_write_bytes
from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.recorder.isaac_format import config_to_isaac
from omni.sdg_studio.core.recorder.manifest import Manifest, ManifestError
from omni.sdg_studio.core.recorder.output_policy import MANIFEST_NAME, is_empty_folder
from omni.sdg_studio.core.recorder.recording import (
    WriterFactory,
    WriterRequest,
    default_writer_factory,
    manifest_config,
)
from omni.sdg_studio.core.recorder.shards import ShardSpec
from omni.sdg_studio.core.semantics.rules_file import load_class_table
from omni.sdg_studio.core.writers.sharding import FilePlacer, RecordedShard, ShardMergeable, ShardMergeError

log = logging.getLogger(__name__)

#: Manifest fields that say how and when a run went, not what it recorded: not compared between shards.
#: The merged manifest differs from a single run's only in these (``runs`` lists every shard's runs)
#: and in :data:`CONFIG_LOCATION_FIELDS`.
RUN_FIELDS = ("state", "message", "created", "updated", "runs", "versions", "frames", "frames_done", "end_files")
#: Config keys (paths into the manifest's ``config``) that say where a run wrote: not compared.
CONFIG_LOCATION_FIELDS = (("out_working_dir",), ("out_dir",), ("backend_params",), ("sdg_studio", "policy"))
#: Software versions that decide the bytes written: shards must agree on them.
BYTE_VERSIONS = ("sdg_studio", "usd", "numpy", "pillow")
#: Per-frame record files (one JSON object per line, ``frame`` keyed): concatenated in frame order.
RECORD_SUFFIX = ".jsonl"


class MergeError(SdgStudioError):
    """The shards cannot be merged as asked; the message names the shard and how to fix it."""


class PlaceMode(str, Enum):
    """How shard files get into the merged folder."""

    LINK = "link"  # hard link (a copy where the file systems differ); the shards stay usable
    MOVE = "move"  # move (the shards are used up)
    COPY = "copy"  # copy


@dataclass
class LoadedShard:
    """A shard folder and its manifest."""

    folder: Path
    manifest: Manifest

    @property
    def spec(self) -> ShardSpec:
        assert self.manifest.shard is not None
        return self.manifest.shard.spec


def _without(data: dict[str, Any], path: tuple[str, ...]) -> None:
    node: Any = data
    for key in path[:-1]:
        node = node.get(key) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(path[-1], None)


def recording_identity(manifest: Manifest) -> dict[str, Any]:
    """What makes shards parts of one recording: the manifest without run-time and location fields,
    and of the shard block only the shard count."""
    data = json.loads(json.dumps(manifest.to_json()))
    for name in RUN_FIELDS:
        data.pop(name, None)
    for path in CONFIG_LOCATION_FIELDS:
        _without(data["config"], path)
    shard = data.pop("shard", None) or {}
    data["shard_count"] = shard.get("count")
    data["versions"] = {name: manifest.versions.get(name) for name in BYTE_VERSIONS}
    return data


def _differences(reference: Any, other: Any, path: str = "") -> list[str]:
    """Dotted paths where ``other`` differs from ``reference``."""
    if isinstance(reference, dict) and isinstance(other, dict):
        found = []
        for key in list(reference) + [k for k in other if k not in reference]:
            found += _differences(reference.get(key), other.get(key), f"{path}.{key}" if path else str(key))
        return found
    return [] if reference == other else [path or "(all)"]


def _at(data: Any, dotted: str) -> Any:
    for key in dotted.split("."):
        data = data.get(key) if isinstance(data, dict) else None
    return data


def load_shards(folders: Sequence[Path]) -> list[LoadedShard]:
    """Each folder's shard manifest, sorted by shard index."""
    if not folders:
        raise MergeError("name the shard folders to merge")
    shards = []
    for folder in folders:
        try:
            manifest = Manifest.load(folder)
        except ManifestError as exc:
            raise MergeError(f"{folder}: not a recorded shard ({exc})") from None
        if manifest.shard is None:
            raise MergeError(f"{folder}: recorded without --shard, so it is a whole recording, not a shard")
        shards.append(LoadedShard(folder, manifest))
    return sorted(shards, key=lambda s: s.spec.index)


def record_command(reference: LoadedShard, spec: ShardSpec) -> str:
    """The command that records shard ``spec`` of ``reference``'s recording into a new folder next to it."""
    folder = reference.folder.parent / spec.folder_name()
    stage = reference.manifest.stage
    return f"sdg-studio record {stage} --config {reference.folder / MANIFEST_NAME} --shard {spec} --out {folder}"


def _shard_folder(reference: LoadedShard, spec: ShardSpec) -> Path | None:
    """The folder :func:`record_command` suggests for ``spec``, if it holds that shard already."""
    folder = reference.folder.parent / spec.folder_name()
    try:
        shard = Manifest.load(folder).shard
    except ManifestError:
        return None
    return folder if shard is not None and shard.spec == spec else None


def resume_command(shard: LoadedShard) -> str:
    return f"sdg-studio record {shard.manifest.stage} --out {shard.folder} --resume"


def check_shards(shards: Sequence[LoadedShard]) -> None:
    """Raise :class:`MergeError` unless ``shards`` are all of one recording, each once, each finished."""
    reference = shards[0]
    identity = recording_identity(reference.manifest)
    for shard in shards[1:]:
        other = recording_identity(shard.manifest)
        changed = _differences(identity, other)
        if changed:
            first = changed[0]
            raise MergeError(
                f"{shard.folder}: not a shard of the recording in {reference.folder}: "
                f"{', '.join(changed)} differ{'s' if len(changed) == 1 else ''} "
                f"({first} is {_at(other, first)!r} there, {_at(identity, first)!r} in {reference.folder})"
            )
    count = reference.spec.count
    seen: dict[int, LoadedShard] = {}
    for shard in shards:
        if shard.spec.index in seen:
            twice = f"{seen[shard.spec.index].folder} and {shard.folder}"
            raise MergeError(f"shard {shard.spec} is given twice ({twice}); name each once")
        seen[shard.spec.index] = shard
    missing = [ShardSpec(i, count) for i in range(count) if i not in seen]
    if missing:
        found = [f"{spec} is in {_shard_folder(reference, spec)}" for spec in missing if _shard_folder(reference, spec)]
        if found:
            raise MergeError(f"not every shard is named: {'; '.join(found)}; name it too")
        commands = "; ".join(record_command(reference, spec) for spec in missing)
        names = ", ".join(str(spec) for spec in missing)
        raise MergeError(f"shard{'s' if len(missing) > 1 else ''} {names} missing; record with: {commands}")
    unfinished = [s for s in shards if not _finished(s)]
    if unfinished:
        parts = []
        for shard in unfinished:
            why = shard.manifest.message or shard.manifest.state
            parts.append(
                f"shard {shard.spec} in {shard.folder} is not finished ({why}); resume: {resume_command(shard)}"
            )
        raise MergeError("; ".join(parts))


def _finished(shard: LoadedShard) -> bool:
    """Finished, with every frame of its range done and every listed file present."""
    record = shard.manifest.shard
    assert record is not None
    if shard.manifest.state != "finished" or shard.manifest.verify():
        return False
    if any(not (shard.folder / f).is_file() for f in shard.manifest.end_files):
        return False
    return set(record.frames) <= shard.manifest.done_indices()


# -- placing files -----------------------------------------------------------------------------------------
@dataclass
class Placer:
    """Places shard files (:class:`FilePlacer`), remembering moves so a failed merge can put them back."""

    mode: PlaceMode
    moved: list[tuple[Path, Path]] = field(default_factory=list)
    copied_across_devices: int = 0

    def __call__(self, source: Path, target: Path) -> Path:
        if self.mode is PlaceMode.MOVE:
            shutil.move(source, target)
            self.moved.append((source, target))
        elif self.mode is PlaceMode.LINK:
            try:
                os.link(source, target)
            except OSError as exc:
                if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK):
                    raise
                shutil.copyfile(source, target)
                self.copied_across_devices += 1
        else:
            shutil.copyfile(source, target)
        return target

    def undo(self) -> None:
        """Move every moved file back where it was."""
        for source, target in reversed(self.moved):
            with contextlib.suppress(OSError):
                shutil.move(target, source)
        self.moved.clear()


def _record_files(shard: LoadedShard) -> set[str]:
    """The shard's per-frame record files: listed ``*.jsonl`` files and any at the top of the folder."""
    listed = {f for files in shard.manifest.frames.values() for f in files} | set(shard.manifest.end_files)
    found = {p.name for p in shard.folder.glob(f"*{RECORD_SUFFIX}") if p.is_file() and not p.name.startswith(".")}
    return {f for f in listed if f.endswith(RECORD_SUFFIX)} | found


def _concatenate_records(shards: Sequence[LoadedShard], relpath: str, target: Path) -> Path:
    """``relpath`` of every shard, one after the other; each line's ``frame`` must be in its shard's range."""
    chunks = []
    for shard in shards:
        path = shard.folder / relpath
        if not path.is_file():
            continue
        data = path.read_bytes()
        record = shard.manifest.shard
        assert record is not None
        for number, line in enumerate(data.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise MergeError(f"{path}:{number}: not a JSON line ({exc.msg})") from None
            frame = item.get("frame") if isinstance(item, dict) else None
            if isinstance(frame, int) and frame not in record.frames:
                raise MergeError(
                    f"{path}:{number}: frame {frame} is outside shard {record.spec}'s frames "
                    f"{record.frames.start}..{record.frames.stop - 1}"
                )
        chunks.append(data if data.endswith(b"\n") or not data else data + b"\n")
    return atomic_write_bytes(target, b"".join(chunks))


# -- the merge ---------------------------------------------------------------------------------------------
@contextlib.contextmanager
def _assembly_folder(output: Path) -> Iterator[Path]:
    """A temporary sibling of ``output`` (removed unless the caller renamed it)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f".{output.name}.merging-", dir=output.parent))
    try:
        yield folder
    finally:
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)


def merged_writer(reference: Manifest, folder: Path, writer_factory: WriterFactory) -> ShardMergeable:
    """The recording's writer, with its parameters, seed and classes, writing into ``folder``."""
    config = manifest_config(reference)
    classes = load_class_table(config.classes) if config.classes else None
    params = config.effective_writer_params()
    writer = writer_factory(WriterRequest(config.writer_name, folder, params, reference.seed, False, classes))
    if not isinstance(writer, ShardMergeable):
        raise MergeError(f"writer {config.writer_name} cannot merge shards (it has no merge_shards)")
    return writer


def _merged_config(reference: Manifest, output: Path) -> dict[str, Any]:
    """The reference shard's config as run, with the merged folder as its output location."""
    config = manifest_config(reference)
    config.output.working_dir, config.output.folder = "", str(output)
    located = config_to_isaac(config)
    data = json.loads(json.dumps(reference.config))
    for path in CONFIG_LOCATION_FIELDS[:3]:
        if path[0] in located:
            data[path[0]] = located[path[0]]
        else:
            data.pop(path[0], None)
    return data


def _merged_manifest(reference: Manifest, shards: Sequence[LoadedShard], folder: Path, output: Path) -> Manifest:
    return Manifest(
        output_dir=folder,
        stage=reference.stage,
        config=_merged_config(reference, output),
        seed=reference.seed,
        backend=reference.backend,
        render_products=reference.render_products,
        frames_requested=reference.frames_requested,
        versions=dict(reference.versions),
        randomization=reference.randomization,
        state="finished",
        created=min(s.manifest.created for s in shards),
        runs=[run for s in shards for run in s.manifest.runs],
    )


def merge_shards(
    folders: Sequence[Path],
    output: Path,
    *,
    mode: PlaceMode = PlaceMode.LINK,
    writer_factory: WriterFactory = default_writer_factory,
    on_shard: Callable[[LoadedShard], None] | None = None,
) -> Manifest:
    """Check the shard ``folders`` and assemble them into ``output`` (which must not exist or be empty)."""
    shards = load_shards(folders)
    check_shards(shards)
    if not is_empty_folder(output):
        raise MergeError(f"{output}: folder is not empty; merge into a new folder")
    reference = shards[0].manifest
    placer = Placer(mode)
    with _assembly_folder(output) as folder:
        try:
            manifest = _assemble(shards, reference, folder, output, placer, writer_factory, on_shard)
            if output.is_dir():
                output.rmdir()
            os.rename(folder, output)
        except BaseException:
            placer.undo()
            raise
    if placer.copied_across_devices:
        log.info(
            "%d files were copied: the shards are on another file system than %s", placer.copied_across_devices, output
        )
    manifest.output_dir = output
    return manifest


def _assemble(
    shards: Sequence[LoadedShard],
    reference: Manifest,
    folder: Path,
    output: Path,
    place: FilePlacer,
    writer_factory: WriterFactory,
    on_shard: Callable[[LoadedShard], None] | None,
) -> Manifest:
    records = sorted(set().union(*(_record_files(s) for s in shards)))
    recorded = []
    for shard in shards:
        record = shard.manifest.shard
        assert record is not None
        recorded.append(
            RecordedShard(
                shard.folder,
                record.frames,
                {i: [f for f in files if f not in records] for i, files in shard.manifest.frames.items()},
                [f for f in shard.manifest.end_files if f not in records],
                record.classes,
            )
        )
        if on_shard is not None:
            on_shard(shard)
    writer = merged_writer(reference, folder, writer_factory)
    try:
        merged = writer.merge_shards(recorded, place)
    except ShardMergeError as exc:
        raise MergeError(str(exc)) from None
    finally:
        close = getattr(writer, "close", None)
        if close is not None:
            close()
    for relpath in records:
        target = _concatenate_records(shards, relpath, folder / relpath)
        for shard in shards:
            for index, files in shard.manifest.frames.items():
                if relpath in files:
                    merged.frames.setdefault(index, []).append(target)
            if relpath in shard.manifest.end_files:
                merged.end_files.append(target)
    manifest = _merged_manifest(reference, shards, folder, output)
    for index in sorted(merged.frames):
        manifest.mark_done(index, merged.frames[index])
    manifest.add_end_files(merged.end_files)
    manifest.save()
    return manifest
