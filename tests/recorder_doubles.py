"""Small real implementations of the render-backend and writer contracts for the recorder tests.

``PoseBackend`` renders frames in Replicator's formats whose pixels encode the camera's world pose at
the frame's time, so moved (jittered) cameras give different frames. ``NpyWriter`` writes every
annotator of every render product as ``<rp>/<annotator>_<frame>.npy`` through a temporary name.
``AsyncBackendSession`` drives a synchronous session from an event loop, as the recorder model awaits one.
"""

from __future__ import annotations

import asyncio
import errno
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pxr import Usd, UsdGeom

from omni.sdg_studio.core.recorder.backend_session import BackendCaptureSession
from omni.sdg_studio.core.writers.base import AnnotatorRequest, FrameBatch


class PoseBackend:
    """A RenderBackend whose images are functions of the camera pose (and nothing else)."""

    def __init__(self, stage: Usd.Stage) -> None:
        self.stage = stage
        self.calls: list[tuple[str, tuple[int, int], tuple[str, ...], float | None, bool]] = []

    def pose(self, camera: str, time: float | None) -> np.ndarray:
        code = Usd.TimeCode.Default() if time is None else Usd.TimeCode(time)
        matrix = UsdGeom.Imageable(self.stage.GetPrimAtPath(camera)).ComputeLocalToWorldTransform(code)
        return np.array(matrix, dtype=np.float64).reshape(4, 4)

    def render(
        self,
        camera: str,
        resolution: tuple[int, int],
        annotators: Sequence[str],
        *,
        time: float | None = None,
        semantic_types: Sequence[str] = ("class",),
        colorize: bool = False,
    ) -> dict[str, Any]:
        self.calls.append((camera, resolution, tuple(annotators), time, colorize))
        width, height = resolution
        pose = self.pose(camera, time)
        depth = np.full((height, width), float(np.abs(pose[3, :3]).sum()), dtype=np.float32)
        depth += np.arange(width, dtype=np.float32)[None, :] * 0.01
        out: dict[str, Any] = {}
        for name in annotators:
            if name == "rgb":
                seed = int(np.abs(pose).sum() * 1e6) % 2**32
                rgb = np.random.default_rng(seed).integers(0, 255, size=(height, width, 4), dtype=np.uint8)
                rgb[..., 3] = 255
                out[name] = rgb
            elif name in ("distance_to_camera", "distance_to_image_plane"):
                out[name] = depth.copy()
            elif name == "semantic_segmentation":
                out[name] = {
                    "data": np.zeros((height, width), dtype=np.uint32),
                    "info": {"idToLabels": {"0": {"class": "BACKGROUND"}}},
                }
            else:
                raise ValueError(f"PoseBackend does not render {name}")
        return out


class NpyWriter:
    """A Writer that saves each annotator array as .npy (temporary name, then rename)."""

    name = "NpyWriter"

    def __init__(self, output_dir: Path, annotators: Sequence[str] = ("rgb", "distance_to_camera")) -> None:
        self.output_dir = Path(output_dir)
        self._annotators = tuple(AnnotatorRequest(a) for a in annotators)
        self.batches: list[int] = []
        self.finished = False

    @property
    def annotators(self) -> tuple[AnnotatorRequest, ...]:
        return self._annotators

    def save(self, path: Path, array: np.ndarray) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as handle:
            np.save(handle, array)
        os.replace(tmp, path)

    def write(self, batch: FrameBatch) -> list[Path]:
        self.batches.append(batch.index)
        files = []
        for rp_name, frame in batch.products.items():
            for request in self._annotators:
                path = self.output_dir / rp_name / f"{request.name}_{batch.index:04d}.npy"
                value = frame[request.name]
                self.save(path, value["data"] if isinstance(value, dict) else value)
                files.append(path)
        return files

    def finish(self) -> list[Path]:
        self.finished = True
        path = self.output_dir / "frames.txt"
        path.write_text(" ".join(str(i) for i in self.batches))
        return [path]


class DiskFullWriter(NpyWriter):
    """Runs out of space while writing frame ``fail_at`` (raises ENOSPC like a full disk)."""

    def __init__(self, output_dir: Path, fail_at: int, error: int = errno.ENOSPC) -> None:
        super().__init__(output_dir)
        self.fail_at = fail_at
        self.error = error

    def save(self, path: Path, array: np.ndarray) -> None:
        if self.batches[-1] == self.fail_at:
            raise OSError(self.error, os.strerror(self.error), str(path))
        super().save(path, array)


class AsyncBackendSession:
    """A :class:`BackendCaptureSession` for an event loop: each frame renders on a worker thread."""

    def __init__(self, inner: BackendCaptureSession) -> None:
        self.inner = inner

    async def open_async(self) -> None:
        self.inner.open()

    async def capture_async(self, index: int) -> list[Path]:
        return await asyncio.to_thread(self.inner.capture, index)

    def completed(self) -> dict[int, list[Path]]:
        return self.inner.completed()

    def pause(self) -> None:
        self.inner.pause()

    def resume(self) -> None:
        self.inner.resume()

    async def idle_async(self) -> None:
        await asyncio.sleep(0.05)

    async def close_async(self, ok: bool) -> list[Path]:
        return await asyncio.to_thread(self.inner.close, ok)
