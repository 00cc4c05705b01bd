"""The recording job every front end uses: a state machine with state and per-frame progress events.

States: idle -> running <-> paused -> stopped | finished | failed. One frame is one step captured on
every render product (Isaac Sim's recorder counts frames the same way). ``stop()`` lets the frame in
flight complete, then flushes the writer and ends in ``stopped``; a full or read-only disk ends in
``failed`` with a clear message. The manifest is saved at every state change and, while running, at
most every ``manifest_interval`` seconds; a frame is marked done only once its files are on disk.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import cast

from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.recorder.manifest import Manifest, RunRecord, now_iso
from omni.sdg_studio.core.recorder.pending_files import PendingFrameFiles
from omni.sdg_studio.core.recorder.session import AsyncCaptureSession, CaptureSession, write_error_message


class JobState(str, Enum):
    """Where a recording job is."""

    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    FINISHED = "finished"
    FAILED = "failed"

    @property
    def ended(self) -> bool:
        return self in (JobState.STOPPED, JobState.FINISHED, JobState.FAILED)


class JobStateError(SdgStudioError):
    """An action that the job's current state does not allow (e.g. resume while running)."""


@dataclass(frozen=True)
class FrameProgress:
    """Sent after every captured frame."""

    index: int  # the frame just captured
    done: int  # frames captured so far, earlier (resumed) runs included
    total: int | None  # frames requested; None = until stopped
    elapsed: float  # seconds since this run started
    fps: float  # frames per second of this run
    eta: float | None  # seconds left; None when unknown

    @property
    def fraction(self) -> float | None:
        return min(1.0, self.done / self.total) if self.total else None


StateCallback = Callable[[JobState], None]
ProgressCallback = Callable[[FrameProgress], None]


class RecorderJob:
    """Records ``frames`` frames (0 = until stopped) through ``session``, skipping frames the manifest has done;
    ``first_frame`` > 0 records frames ``first_frame .. frames - 1`` only (one shard of a recording)."""

    def __init__(
        self,
        session: CaptureSession | AsyncCaptureSession,
        frames: int,
        manifest: Manifest | None = None,
        *,
        manifest_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        first_frame: int = 0,
    ) -> None:
        self.session = session
        self.frames = frames
        self.first_frame = first_frame
        self.manifest = manifest
        self.manifest_interval = manifest_interval
        self._clock = clock
        self._state = JobState.IDLE
        self.message = ""
        self._stop_requested = False
        self._unpaused = threading.Event()
        self._unpaused.set()
        self._state_callbacks: list[StateCallback] = []
        self._progress_callbacks: list[ProgressCallback] = []
        self._done_before = len(manifest.frames) if manifest else 0
        self._captured = 0
        self._started_at = 0.0
        self._last_manifest_save = 0.0
        self._run: RunRecord | None = None
        self._journal = PendingFrameFiles(manifest) if manifest is not None else None

    # -- observing -------------------------------------------------------------------------------
    @property
    def state(self) -> JobState:
        return self._state

    @property
    def frames_done(self) -> int:
        """Frames captured, earlier runs included."""
        return self._done_before + self._captured

    def subscribe_state(self, callback: StateCallback) -> Callable[[], None]:
        """Call ``callback(state)`` on every state change; returns the unsubscribe function."""
        self._state_callbacks.append(callback)
        return lambda: self._state_callbacks.remove(callback)

    def subscribe_progress(self, callback: ProgressCallback) -> Callable[[], None]:
        """Call ``callback(progress)`` after every frame; returns the unsubscribe function."""
        self._progress_callbacks.append(callback)
        return lambda: self._progress_callbacks.remove(callback)

    # -- controlling -----------------------------------------------------------------------------
    def pause(self) -> None:
        """Running -> paused, after the frame in flight."""
        if self._state is not JobState.RUNNING:
            raise JobStateError(f"cannot pause a {self._state.value} recording")
        self._unpaused.clear()
        self.session.pause()
        self._set_state(JobState.PAUSED)

    def resume(self) -> None:
        """Paused -> running; numbering continues where it paused."""
        if self._state is not JobState.PAUSED:
            raise JobStateError(f"cannot resume a {self._state.value} recording")
        self.session.resume()
        self._set_state(JobState.RUNNING)
        self._unpaused.set()

    def stop(self) -> None:
        """Ask the job to stop after the frame in flight (safe to call from a signal handler)."""
        if self._state is JobState.IDLE:
            self._set_state(JobState.STOPPED)
        self._stop_requested = True
        self._unpaused.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop_requested

    # -- running ---------------------------------------------------------------------------------
    def pending_frames(self) -> Iterator[int]:
        """Frame indices still to record, in order (unbounded when ``frames`` is 0); lazy, so memory does not
        depend on ``frames``."""
        done = self.manifest.done_indices() if self.manifest else set()
        index = self.first_frame
        while self.frames == 0 or index < self.frames:
            if index not in done:
                yield index
            index += 1

    def run(self) -> JobState:
        """Record synchronously until finished, stopped or failed; return the final state."""
        if isinstance(self.session, AsyncCaptureSession):
            raise TypeError("this session is asynchronous: use run_async()")
        session = cast(CaptureSession, self.session)
        self._begin()
        try:
            session.open()
            self._set_state(JobState.RUNNING)
            for index in self.pending_frames():
                while self._state is JobState.PAUSED and not self._stop_requested:
                    self._unpaused.wait(0.1)
                if self._stop_requested:
                    break
                self._frame_captured(index, session.capture(index))
            self._end(session.close(True))
        except BaseException as exc:
            cleanup_error = None
            try:
                session.close(False)
            except Exception as close_exc:
                cleanup_error = close_exc
            self._fail(exc, cleanup_error)
            if not isinstance(exc, (OSError, SdgStudioError)):
                raise
        return self._state

    async def run_async(self) -> JobState:
        """Record on the event loop until finished, stopped or failed; return the final state."""
        if not isinstance(self.session, AsyncCaptureSession):
            raise TypeError("this session is synchronous: use run()")
        session = self.session
        self._begin()
        try:
            await session.open_async()
            self._set_state(JobState.RUNNING)
            for index in self.pending_frames():
                while self._state is JobState.PAUSED and not self._stop_requested:
                    await session.idle_async()
                if self._stop_requested:
                    break
                self._frame_captured(index, await session.capture_async(index))
            self._end(await session.close_async(True))
        except BaseException as exc:
            cleanup_error = None
            try:
                await session.close_async(False)
            except Exception as close_exc:
                cleanup_error = close_exc
            self._fail(exc, cleanup_error)
            if not isinstance(exc, (OSError, SdgStudioError)):
                raise
        return self._state

    # -- internals -------------------------------------------------------------------------------
    def _set_state(self, state: JobState) -> None:
        if state is self._state:
            return
        self._state = state
        if self.manifest is not None and self._run is not None:
            self.manifest.state = state.value
            self._run.state = state.value
            self._save_manifest()
        for callback in list(self._state_callbacks):
            callback(state)

    def _begin(self) -> None:
        if self._state is not JobState.IDLE:
            raise JobStateError(f"a {self._state.value} recording cannot start again; create a new job")
        self._started_at = self._clock()
        if self.manifest is not None:
            self._run = RunRecord(started=now_iso())
            self.manifest.runs.append(self._run)
            self.manifest.message = ""

    def _collect_completed(self) -> None:
        if self.manifest is None:
            return
        for index, files in self.session.completed().items():
            self.manifest.mark_done(index, files)
        if self._run is not None:
            self._run.frames_done = self._captured

    def _frame_captured(self, index: int, files: list[Path]) -> None:
        self._captured += 1
        if self._journal is not None:
            self._journal.add(index, files)
        self._collect_completed()
        now = self._clock()
        if self.manifest is not None and now - self._last_manifest_save >= self.manifest_interval:
            self._save_manifest()
        elapsed = max(now - self._started_at, 1e-9)
        fps = self._captured / elapsed
        total = self.frames - self.first_frame if self.frames else None
        eta = (total - self.frames_done) / fps if total is not None and fps > 0 else None
        progress = FrameProgress(index, self.frames_done, total, elapsed, fps, eta)
        for callback in list(self._progress_callbacks):
            callback(progress)

    def _end(self, end_files: list[Path]) -> None:
        self._collect_completed()
        if self.manifest is not None:
            self.manifest.add_end_files(end_files)
            in_range = sum(1 for index in self.manifest.frames if self.first_frame <= index < self.frames)  # O(done)
            finished = self.frames > self.first_frame and in_range == self.frames - self.first_frame
        else:
            finished = self.frames > 0 and not self._stop_requested
        if self._run is not None:
            self._run.ended = now_iso()
        self._set_state(JobState.FINISHED if finished else JobState.STOPPED)

    def _fail(self, exc: BaseException, cleanup_error: Exception | None) -> None:
        if isinstance(exc, OSError):
            self.message = write_error_message(exc, self.manifest.output_dir if self.manifest else Path("."))
        elif isinstance(exc, KeyboardInterrupt):
            self.message = "interrupted"
        elif isinstance(exc, SdgStudioError):
            self.message = str(exc)
        else:
            self.message = f"{type(exc).__name__}: {exc}"
        if cleanup_error is not None:
            self.message += f" (then, while cleaning up: {cleanup_error})"
        if self.manifest is not None:
            self._collect_completed()
            self.manifest.verify()
            self.manifest.message = self.message
            if self._run is not None:
                self._run.ended = now_iso()
                self._run.message = self.message
        self._set_state(JobState.STOPPED if isinstance(exc, KeyboardInterrupt) else JobState.FAILED)

    def _save_manifest(self) -> None:
        assert self.manifest is not None
        self._last_manifest_save = self._clock()
        try:
            self.manifest.save()
            if self._journal is not None:
                self._journal.listed()
        except OSError as exc:
            if self._state is not JobState.FAILED and self._state is not JobState.STOPPED:
                raise
            note = f"the manifest could not be updated ({exc.strerror or exc}) and keeps its last saved state"
            self.message = f"{self.message}; {note}" if self.message else note
