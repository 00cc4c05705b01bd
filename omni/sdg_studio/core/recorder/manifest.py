"""``sdg_manifest.json``: the config as run, seed, versions and per-frame status of a recording.

The config as run holds the scenario's resolved content (``sdg_studio.randomization``), and
``randomization`` names the scenario file, the per-frame record file and the randomization version (a
manifest without it was written before the randomization engine drew the camera jitter).

The manifest is replaced atomically (temporary file, then rename), so it is valid whatever moment a
run stops at; if a write fails (full or read-only disk) the previous one stays. A frame is listed as
``done`` only once all its files are on disk under their final names (hidden bookkeeping files of
the writers are not listed); :meth:`Manifest.verify` drops
frames whose files went missing, so ``--resume`` re-records exactly the frames that are not complete.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from omni.sdg_studio import __version__
from omni.sdg_studio.core.atomic import atomic_write_text
from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.recorder.backend_session import render_product_names
from omni.sdg_studio.core.recorder.config import RecorderConfig
from omni.sdg_studio.core.recorder.frame_records import RECORDS_NAME
from omni.sdg_studio.core.recorder.isaac_format import config_to_isaac
from omni.sdg_studio.core.recorder.output_policy import MANIFEST_NAME, OutputFolderError
from omni.sdg_studio.core.recorder.randomization import RANDOMIZATION_VERSION
from omni.sdg_studio.core.recorder.session import write_error_message
from omni.sdg_studio.core.recorder.shards import ShardRecord

FORMAT = "sdg_studio.recording"
FORMAT_VERSION = 1


class ManifestError(SdgStudioError):
    """A manifest cannot be read or does not fit the recording; the message names the file."""


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def software_versions() -> dict[str, str]:
    """Versions that decide what a run writes: SDG Studio, Python, USD, numpy, Pillow, platform."""
    import numpy
    import PIL
    from pxr import Usd

    return {
        "sdg_studio": __version__,
        "python": platform.python_version(),
        "usd": ".".join(str(part) for part in Usd.GetVersion()),
        "numpy": numpy.__version__,
        "pillow": PIL.__version__,
        "platform": f"{sys.platform}-{platform.machine()}",
    }


@dataclass
class RunRecord:
    """One session of a recording (the first run and each resume)."""

    started: str
    state: str = "running"
    ended: str | None = None
    frames_done: int = 0
    message: str = ""


@dataclass
class RandomizationInfo:
    """How a recording's frames were randomized: the version of the drawing, the scenario file (its content is
    the config's ``sdg_studio.randomization``) and the per-frame record file (relative to the output folder)."""

    version: int = RANDOMIZATION_VERSION
    scenario: str | None = None
    records: str | None = None

    @classmethod
    def of(cls, config: RecorderConfig) -> RandomizationInfo:
        source = config.randomization
        scenario = str(source.path) if source is not None and source.path is not None else None
        return cls(scenario=scenario, records=RECORDS_NAME if config.randomized else None)


@dataclass
class Manifest:
    """What was recorded into ``output_dir`` and how."""

    output_dir: Path
    stage: str
    config: dict[str, Any]
    seed: int
    backend: str
    render_products: list[dict[str, Any]]
    frames_requested: int
    versions: dict[str, str] = field(default_factory=software_versions)
    state: str = "idle"
    message: str = ""
    created: str = field(default_factory=now_iso)
    updated: str = field(default_factory=now_iso)
    runs: list[RunRecord] = field(default_factory=list)
    frames: dict[int, list[str]] = field(default_factory=dict)  # done frame -> files relative to output_dir
    end_files: list[str] = field(default_factory=list)
    randomization: RandomizationInfo | None = field(default_factory=RandomizationInfo)  # None: before the engine
    shard: ShardRecord | None = None  # set when this is one shard of a recording (``record --shard K/M``)
    _owner: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def start(
        cls, output_dir: Path, stage: str, config: RecorderConfig, seed: int, shard: ShardRecord | None = None
    ) -> Manifest:
        """The manifest of a new recording of ``stage`` with ``config`` (run with ``seed``), saved in ``output_dir``.

        A failed save is an :class:`OutputFolderError` saying why (full disk, read-only, ...)."""
        names = render_product_names(config.render_products)
        manifest = cls(
            output_dir=output_dir,
            stage=stage,
            config=config_to_isaac(config, inline_scenario=True),
            seed=seed,
            backend=config.backend,
            render_products=[
                {"name": n, "camera": p.camera, "width": p.width, "height": p.height}
                for n, p in zip(names, config.render_products, strict=True)
            ],
            frames_requested=config.frames,
            randomization=RandomizationInfo.of(config),
            shard=shard,
        )
        try:
            manifest.save()
        except OSError as exc:
            raise OutputFolderError(write_error_message(exc, output_dir)) from None
        return manifest

    @property
    def path(self) -> Path:
        return self.output_dir / MANIFEST_NAME

    def done_indices(self) -> set[int]:
        return set(self.frames)

    def relative(self, files: list[Path]) -> list[str]:
        """``files`` as POSIX paths relative to the output folder (absolute if outside it), without the
        writers' own bookkeeping files (hidden names, e.g. a COCO journal consolidated at the end)."""
        out = []
        root = Path(os.path.abspath(self.output_dir))
        for file in files:
            try:
                rel = Path(os.path.abspath(file)).relative_to(root)
            except ValueError:
                out.append(str(file))
                continue
            if not any(part.startswith(".") for part in rel.parts):
                out.append(rel.as_posix())
        return sorted(out)

    def mark_done(self, index: int, files: list[Path]) -> None:
        """Record frame ``index`` as done; a file an earlier frame listed (e.g. ``metadata.txt``) stays there."""
        if len(self._owner) != sum(len(fs) for fs in self.frames.values()):
            self._owner = {f: i for i, fs in self.frames.items() for f in fs}
        kept = [f for f in self.relative(files) if self._owner.setdefault(f, index) == index]
        self.frames[index] = kept

    def add_end_files(self, files: list[Path]) -> None:
        self.end_files = sorted(set(self.end_files) | set(self.relative(files)))

    def verify(self) -> list[int]:
        """Drop done frames with a missing file; return their indices."""
        missing = [i for i, files in self.frames.items() if any(not (self.output_dir / f).is_file() for f in files)]
        for index in missing:
            del self.frames[index]
        return sorted(missing)

    def to_json(self) -> dict[str, Any]:
        shard = {"shard": self.shard.to_json()} if self.shard is not None else {}
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "state": self.state,
            "message": self.message,
            "stage": self.stage,
            "seed": self.seed,
            "backend": self.backend,
            "frames_requested": self.frames_requested,
            "frames_done": len(self.frames),
            "render_products": self.render_products,
            "versions": self.versions,
            "created": self.created,
            "updated": self.updated,
            "config": self.config,
            "randomization": vars(self.randomization) if self.randomization is not None else None,
            "runs": [vars(run) for run in self.runs],
            "frames": [{"index": i, "status": "done", "files": self.frames[i]} for i in sorted(self.frames)],
            "end_files": self.end_files,
            **shard,
        }

    def save(self) -> None:
        """Replace the manifest on disk atomically (an OSError leaves the previous one in place)."""
        self.updated = now_iso()
        atomic_write_text(self.path, json.dumps(self.to_json(), indent=2) + "\n", durable=True)

    @classmethod
    def load(cls, output_dir: Path) -> Manifest:
        """Read ``output_dir/sdg_manifest.json``; a missing or damaged file is a :class:`ManifestError`."""
        path = output_dir / MANIFEST_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ManifestError(f"{path}: no manifest, so there is no recording to resume here") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ManifestError(f"{path}: cannot read the manifest: {exc}") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ManifestError(f"{path}: not an SDG Studio recording manifest")
        if data.get("format_version") != FORMAT_VERSION:
            raise ManifestError(f"{path}: manifest version {data.get('format_version')} is not supported")
        try:
            return cls(
                output_dir=output_dir,
                stage=str(data["stage"]),
                config=dict(data["config"]),
                seed=int(data["seed"]),
                backend=str(data["backend"]),
                render_products=list(data["render_products"]),
                frames_requested=int(data["frames_requested"]),
                versions=dict(data["versions"]),
                state=str(data["state"]),
                message=str(data.get("message", "")),
                created=str(data["created"]),
                updated=str(data["updated"]),
                runs=[RunRecord(**run) for run in data["runs"]],
                frames={int(f["index"]): [str(p) for p in f["files"]] for f in data["frames"]},
                end_files=[str(p) for p in data.get("end_files", [])],
                randomization=RandomizationInfo(**data["randomization"]) if data.get("randomization") else None,
                shard=ShardRecord.from_json(data["shard"]) if "shard" in data else None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ManifestError(f"{path}: damaged manifest ({exc!r})") from None
